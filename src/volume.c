/* volume.c — application volume and mute: the public calls check their
 * arguments and hand the target to the backend (wac.h says what each backend
 * does). */
#include <math.h>

#include "internal.h"

static int check_target(wac_context *ctx, const wac_target *target)
{
    if (!target)
        return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "target must not be NULL");
    if (target->exclude)
        return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT,
                                 "an exclude target names no application: give a pid or a name");
    switch (target->kind) {
    case WAC_TARGET_PID:
        if (target->pid == 0)
            return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "pid 0 is not a process");
        return 0;
    case WAC_TARGET_NAME:
        if (!target->name || !target->name[0])
            return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "the name of a NAME target must not be empty");
        return 0;
    case WAC_TARGET_SYSTEM:
        return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT,
                                 "the volume of the whole system is the output device's, not an application's: "
                                 "give a pid or a name");
    default:
        return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "unknown target kind %d", (int)target->kind);
    }
}

static int unsupported(wac_context *ctx)
{
    return wac__context_fail(ctx, WAC_ERR_NOT_SUPPORTED, "the %s backend cannot read or set an application's volume",
                             ctx->backend->name);
}

int wac_context_get_volume(wac_context *ctx, const wac_target *target, wac_volume *out)
{
    if (!ctx)
        return WAC_ERR_INVALID_ARGUMENT;
    if (!out)
        return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "out must not be NULL");
    *out = (wac_volume){0};
    int rc = check_target(ctx, target);
    if (rc)
        return rc;
    if (!ctx->backend->get_volume)
        return unsupported(ctx);
    char detail[256] = "";
    rc = ctx->backend->get_volume(ctx->backend_data, target, out, detail, sizeof detail);
    if (rc) {
        *out = (wac_volume){0};
        return wac__context_fail(ctx, rc, "%s", detail[0] ? detail : wac_strerror(rc));
    }
    return 0;
}

static int set(wac_context *ctx, const wac_target *target, const float *level, const bool *muted)
{
    int rc = check_target(ctx, target);
    if (rc)
        return rc;
    if (!ctx->backend->set_volume)
        return unsupported(ctx);
    char detail[256] = "";
    rc = ctx->backend->set_volume(ctx->backend_data, target, level, muted, detail, sizeof detail);
    if (rc)
        return wac__context_fail(ctx, rc, "%s", detail[0] ? detail : wac_strerror(rc));
    return 0;
}

int wac_context_set_volume(wac_context *ctx, const wac_target *target, float level)
{
    if (!ctx)
        return WAC_ERR_INVALID_ARGUMENT;
    /* NaN fails both comparisons. */
    if (!(level >= 0.0f && level <= 1.0f))
        return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "volume level %g is outside 0...1", (double)level);
    return set(ctx, target, &level, NULL);
}

int wac_context_set_mute(wac_context *ctx, const wac_target *target, bool muted)
{
    if (!ctx)
        return WAC_ERR_INVALID_ARGUMENT;
    return set(ctx, target, NULL, &muted);
}
