/* volume.c — application volume on PulseAudio: the target's sink-inputs'
 * volume and mute. The mirror keeps both from the server's sink-input info;
 * a change goes through pa_context_set_sink_input_volume / _mute and is
 * waited for. PulseAudio's volumes are on a cubic scale: pa_sw_volume_to_linear
 * and _from_linear convert to and from the amplitude factor WAC speaks. */
#include <stdio.h>
#include <stdlib.h>

#include "attach/volume-pick.h"
#include "alloc.h"
#include "backend/pulse/mirror.h"

static int snapshot(struct wac__pulse_mirror *b, struct wac__volume_stream **out, size_t *count, char *detail,
                    size_t detail_size)
{
    *out = NULL;
    *count = 0;
    pa_threaded_mainloop_lock(b->ml);
    if (b->lost) {
        snprintf(detail, detail_size, "%s", b->lost_detail);
        pa_threaded_mainloop_unlock(b->ml);
        return WAC_ERR_SERVER_LOST;
    }
    size_t n_inputs = 0;
    for (struct wac__pulse_input *in = b->inputs; in; in = in->next)
        n_inputs++;
    struct wac__volume_stream *streams = wac__calloc(n_inputs ? n_inputs : 1, sizeof *streams);
    if (!streams) {
        pa_threaded_mainloop_unlock(b->ml);
        snprintf(detail, detail_size, "no memory for %zu streams", n_inputs);
        return WAC_ERR_NO_MEMORY;
    }
    size_t i = 0;
    for (struct wac__pulse_input *in = b->inputs; in; in = in->next) {
        uint32_t pid = 0;
        if (!wac__pulse_mirror_input_owner(b, in, &pid) || !pid)
            continue;
        streams[i++] = (struct wac__volume_stream){
            .key = in->index, .pid = pid, .channels = in->channels, .level = in->level, .muted = in->mute};
    }
    pa_threaded_mainloop_unlock(b->ml);
    *out = streams;
    *count = i;
    return 0;
}

int wac__pulse_get_volume(void *data, const wac_target *target, wac_volume *out, char *detail, size_t detail_size)
{
    struct wac__volume_stream *streams;
    size_t count;
    int rc = snapshot(data, &streams, &count, detail, detail_size);
    if (rc == 0)
        rc = wac__volume_pick(target, streams, &count, detail, detail_size);
    if (rc == 0)
        wac__volume_total(streams, count, out);
    wac__free(streams);
    return rc;
}

struct set_result {
    struct wac__pulse_mirror *b;
    int success;
};

static void set_done(pa_context *c, int success, void *userdata)
{
    struct set_result *r = userdata;
    r->success = success;
    pa_threaded_mainloop_signal(r->b->ml, 0);
}

/* Lock held. 0, or a wac_error with the reason in detail. */
static int set_input(struct wac__pulse_mirror *b, const struct wac__volume_stream *s, const float *level,
                     const bool *muted, char *detail, size_t detail_size)
{
    struct set_result r = {b, 0};
    if (level) {
        pa_cvolume volume;
        pa_cvolume_set(&volume, s->channels ? s->channels : 2, pa_sw_volume_from_linear(*level));
        r.success = 0;
        if (!wac__pulse_mirror_complete(b, pa_context_set_sink_input_volume(b->pa, (uint32_t)s->key, &volume,
                                                                            set_done, &r)) ||
            !r.success)
            goto refused;
    }
    if (muted) {
        r.success = 0;
        if (!wac__pulse_mirror_complete(b,
                                        pa_context_set_sink_input_mute(b->pa, (uint32_t)s->key, *muted, set_done, &r)) ||
            !r.success)
            goto refused;
    }
    return 0;
refused:
    if (b->lost) {
        snprintf(detail, detail_size, "%s", b->lost_detail);
        return WAC_ERR_SERVER_LOST;
    }
    snprintf(detail, detail_size, "sink-input %u of pid %u: PulseAudio refused the %s: %s", (unsigned)s->key,
             (unsigned)s->pid, level ? "volume" : "mute", pa_strerror(pa_context_errno(b->pa)));
    return WAC_ERR_BACKEND;
}

int wac__pulse_set_volume(void *data, const wac_target *target, const float *level, const bool *muted, char *detail,
                          size_t detail_size)
{
    struct wac__pulse_mirror *b = data;
    struct wac__volume_stream *streams;
    size_t count;
    int rc = snapshot(b, &streams, &count, detail, detail_size);
    if (rc == 0)
        rc = wac__volume_pick(target, streams, &count, detail, detail_size);
    if (rc) {
        wac__free(streams);
        return rc;
    }
    pa_threaded_mainloop_lock(b->ml);
    for (size_t i = 0; i < count; i++) {
        /* A stream that went away meanwhile is not an error: it plays no more. */
        if (!wac__pulse_mirror_find_input(b, (uint32_t)streams[i].key))
            continue;
        int r = set_input(b, &streams[i], level, muted, detail, detail_size);
        if (r && !rc)
            rc = r;
        if (r == WAC_ERR_SERVER_LOST)
            break;
    }
    /* The mirror learns the new values from the server's change events; keep
     * it right for a read that follows at once. */
    for (size_t i = 0; i < count && rc == 0; i++) {
        struct wac__pulse_input *in = wac__pulse_mirror_find_input(b, (uint32_t)streams[i].key);
        if (in && level)
            in->level = *level;
        if (in && muted)
            in->mute = *muted;
    }
    pa_threaded_mainloop_unlock(b->ml);
    wac__free(streams);
    return rc;
}
