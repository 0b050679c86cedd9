/* volume-pick.c — see volume-pick.h. */
#include "attach/volume-pick.h"

#include <stdio.h>

#include "attach/target-match.h"
#include "os/os.h"

int wac__volume_pick(const wac_target *target, struct wac__volume_stream *streams, size_t *count, char *detail,
                     size_t detail_size)
{
    struct wac__target_match m;
    if (wac__target_match_init(&m, target))
        return WAC_ERR_NO_MEMORY;
    size_t kept = 0;
    for (size_t i = 0; i < *count; i++)
        if (streams[i].pid && wac__target_match_wants(&m, streams[i].pid))
            streams[kept++] = streams[i];
    wac__target_match_free(&m);
    *count = kept;
    if (kept)
        return 0;
    if (target->kind == WAC_TARGET_PID && !wac__process_exists(target->pid))
        snprintf(detail, detail_size, "pid %u: no such process", (unsigned)target->pid);
    else if (target->kind == WAC_TARGET_PID)
        snprintf(detail, detail_size, "pid %u%s plays no audio through the server now", (unsigned)target->pid,
                 target->include_tree ? " (with its process tree)" : "");
    else
        snprintf(detail, detail_size, "no process named \"%s\" plays audio through the server now", target->name);
    return WAC_ERR_TARGET_NOT_FOUND;
}

void wac__volume_total(const struct wac__volume_stream *streams, size_t count, wac_volume *out)
{
    *out = (wac_volume){.level = 0.0f, .muted = count > 0, .streams = (uint32_t)count};
    for (size_t i = 0; i < count; i++) {
        if (streams[i].level > out->level)
            out->level = streams[i].level;
        out->muted = out->muted && streams[i].muted;
    }
}
