/* volume.c — `wac volume`, `wac mute`, `wac unmute`: read or set the volume
 * and mute flag of one application's output streams. */
#include <stdio.h>

#include "backend.h"
#include "commands.h"
#include "report.h"

static const char *describe(const wac_target *target, char *buf, size_t size)
{
    if (target->kind == WAC_TARGET_PID)
        snprintf(buf, size, "pid %u", (unsigned)target->pid);
    else
        snprintf(buf, size, "'%s'", target->name);
    return buf;
}

int volume_run(const volume_options *options)
{
    wac_context *ctx = NULL;
    int exit_code = backend_open(options->backend, &ctx);
    if (exit_code)
        return exit_code;
    int rc;
    wac_volume volume = {0};
    const char *doing = "reading the volume of";
    switch (options->action) {
    case VOLUME_SET:
        rc = wac_context_set_volume(ctx, &options->target, options->level);
        doing = "setting the volume of";
        break;
    case VOLUME_MUTE:
        rc = wac_context_set_mute(ctx, &options->target, true);
        doing = "muting";
        break;
    case VOLUME_UNMUTE:
        rc = wac_context_set_mute(ctx, &options->target, false);
        doing = "unmuting";
        break;
    default: rc = wac_context_get_volume(ctx, &options->target, &volume); break;
    }
    if (rc < 0) {
        char what[300];
        report_wac_error(rc, wac_context_last_error(ctx), "%s %s", doing,
                         describe(&options->target, what, sizeof what));
        exit_code = report_exit_code_for(rc);
    } else if (options->action == VOLUME_SHOW) {
        printf("%.2f%s\n", (double)volume.level, volume.muted ? " muted" : "");
        if (fflush(stdout) != 0 || ferror(stdout)) {
            report_error("writing to stdout failed");
            exit_code = WAC_EXIT_OUTPUT;
        }
    }
    wac_context_close(ctx);
    return exit_code;
}
