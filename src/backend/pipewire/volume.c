/* volume.c — application volume on PipeWire: the Props of the target's
 * output stream nodes (channelVolumes, volume, mute), which the mirror keeps
 * up to date by subscribing to them. Any client may set another client's
 * stream Props in a default session; the change applies before the node's
 * output ports, so the sink and a link-based capture both get it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <spa/param/props.h>
#include <spa/pod/builder.h>

#include "attach/volume-pick.h"
#include "alloc.h"
#include "backend/pipewire/mirror.h"

/* The application output streams, as of now (not WAC's own). */
static int snapshot(struct wac__pipewire_mirror *b, struct wac__volume_stream **out, size_t *count, char *detail,
                    size_t detail_size)
{
    *out = NULL;
    *count = 0;
    pw_thread_loop_lock(b->loop);
    if (b->lost) {
        snprintf(detail, detail_size, "%s", b->lost_detail);
        pw_thread_loop_unlock(b->loop);
        return WAC_ERR_SERVER_LOST;
    }
    size_t n_nodes = 0;
    struct wac__pipewire_node *n;
    spa_list_for_each(n, &b->nodes, link) n_nodes++;
    struct wac__volume_stream *streams = wac__calloc(n_nodes ? n_nodes : 1, sizeof *streams);
    if (!streams) {
        pw_thread_loop_unlock(b->loop);
        snprintf(detail, detail_size, "no memory for %zu streams", n_nodes);
        return WAC_ERR_NO_MEMORY;
    }
    size_t i = 0;
    spa_list_for_each(n, &b->nodes, link)
    {
        uint32_t pid = 0;
        if (wac__pipewire_mirror_node_is_own(b, n) || !wac__pipewire_mirror_node_owner(b, n, &pid) || !pid)
            continue;
        streams[i++] = (struct wac__volume_stream){.key = n->serial, .pid = pid};
    }
    pw_thread_loop_unlock(b->loop);
    *out = streams;
    *count = i;
    return 0;
}

/* Lock held. Fill the picked streams' levels from their nodes, after a round
 * trip when a node's Props have not arrived yet; drop streams gone since. */
static int refresh(struct wac__pipewire_mirror *b, struct wac__volume_stream *streams, size_t *count, char *detail,
                   size_t detail_size)
{
    for (int pass = 0; pass < 2; pass++) {
        bool missing = false;
        size_t kept = 0;
        for (size_t i = 0; i < *count; i++) {
            struct wac__pipewire_node *n = wac__pipewire_mirror_find_serial(b, streams[i].key);
            if (!n)
                continue;
            missing |= !n->have_props;
            streams[i].level = wac__pipewire_node_level(n);
            streams[i].muted = n->mute;
            streams[i].channels = n->n_channel_volumes;
            streams[kept++] = streams[i];
        }
        *count = kept;
        if (!missing || pass == 1)
            break;
        int r = wac__pipewire_mirror_roundtrip(b);
        if (r < 0) {
            snprintf(detail, detail_size, "%s", r == -EPIPE ? b->lost_detail : "PipeWire did not answer in time");
            return r == -EPIPE ? WAC_ERR_SERVER_LOST : WAC_ERR_BACKEND;
        }
    }
    return 0;
}

/* Snapshot, pick the target's streams, lock and refresh them. On success the
 * loop is locked and *streams is the caller's to free. */
static int pick_locked(struct wac__pipewire_mirror *b, const wac_target *target, struct wac__volume_stream **streams,
                       size_t *count, char *detail, size_t detail_size)
{
    int rc = snapshot(b, streams, count, detail, detail_size);
    if (rc == 0)
        rc = wac__volume_pick(target, *streams, count, detail, detail_size);
    if (rc == 0) {
        pw_thread_loop_lock(b->loop);
        rc = refresh(b, *streams, count, detail, detail_size);
        if (rc == 0 && *count == 0)
            rc = wac__volume_pick(target, *streams, count, detail, detail_size); /* all gone: say why */
        if (rc)
            pw_thread_loop_unlock(b->loop);
    }
    if (rc) {
        wac__free(*streams);
        *streams = NULL;
    }
    return rc;
}

int wac__pipewire_get_volume(void *data, const wac_target *target, wac_volume *out, char *detail, size_t detail_size)
{
    struct wac__pipewire_mirror *b = data;
    struct wac__volume_stream *streams;
    size_t count;
    int rc = pick_locked(b, target, &streams, &count, detail, detail_size);
    if (rc)
        return rc;
    pw_thread_loop_unlock(b->loop);
    wac__volume_total(streams, count, out);
    wac__free(streams);
    return 0;
}

static void set_props(struct wac__pipewire_node *n, const float *level, const bool *muted)
{
    uint8_t buffer[512];
    struct spa_pod_builder builder = SPA_POD_BUILDER_INIT(buffer, sizeof buffer);
    struct spa_pod_frame frame;
    spa_pod_builder_push_object(&builder, &frame, SPA_TYPE_OBJECT_Props, SPA_PARAM_Props);
    if (level) {
        /* channelVolumes is what volume controls set; the node's master
         * volume multiplies it, so it goes to 1 for the product to be level. */
        float v[WAC__PIPEWIRE_MAX_CHANNELS];
        uint32_t channels = n->n_channel_volumes ? n->n_channel_volumes : 2;
        if (channels > WAC__PIPEWIRE_MAX_CHANNELS)
            channels = WAC__PIPEWIRE_MAX_CHANNELS;
        for (uint32_t i = 0; i < channels; i++)
            v[i] = *level;
        spa_pod_builder_prop(&builder, SPA_PROP_volume, 0);
        spa_pod_builder_float(&builder, 1.0f);
        spa_pod_builder_prop(&builder, SPA_PROP_channelVolumes, 0);
        spa_pod_builder_array(&builder, sizeof(float), SPA_TYPE_Float, channels, v);
        n->volume = 1.0f;
        n->channel_max = *level;
        n->n_channel_volumes = channels;
    }
    if (muted) {
        spa_pod_builder_prop(&builder, SPA_PROP_mute, 0);
        spa_pod_builder_bool(&builder, *muted);
        n->mute = *muted;
    }
    const struct spa_pod *pod = spa_pod_builder_pop(&builder, &frame);
    pw_node_set_param((struct pw_node *)n->proxy, SPA_PARAM_Props, 0, pod);
}

int wac__pipewire_set_volume(void *data, const wac_target *target, const float *level, const bool *muted, char *detail,
                             size_t detail_size)
{
    struct wac__pipewire_mirror *b = data;
    struct wac__volume_stream *streams;
    size_t count;
    int rc = pick_locked(b, target, &streams, &count, detail, detail_size);
    if (rc)
        return rc;
    for (size_t i = 0; i < count; i++) {
        struct wac__pipewire_node *n = wac__pipewire_mirror_find_serial(b, streams[i].key);
        if (n)
            set_props(n, level, muted);
    }
    /* The server has the change when the round trip returns. */
    int r = wac__pipewire_mirror_roundtrip(b);
    if (r < 0) {
        snprintf(detail, detail_size, "%s", r == -EPIPE ? b->lost_detail : "PipeWire did not answer in time");
        rc = r == -EPIPE ? WAC_ERR_SERVER_LOST : WAC_ERR_BACKEND;
    }
    pw_thread_loop_unlock(b->loop);
    wac__free(streams);
    return rc;
}
