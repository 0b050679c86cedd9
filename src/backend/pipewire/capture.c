/* capture.c (PipeWire) — one capture on PipeWire: its pw_stream, the links from
 * the target's streams into it, and the process callback.
 *
 * Node arrangement. Each capture is one pw_stream of WAC's own (media.type
 * Audio, media.category Capture, node.autoconnect=false and no AUTOCONNECT
 * flag, so the session manager links nothing into it). The backend links the
 * target's Stream/Output/Audio nodes straight into that stream's input ports
 * through the link-factory, one link per channel (object.linger=false: the
 * links die with our connection, and with the player). PipeWire mixes
 * several linked streams on the input ports and its converter delivers the
 * rate and sample type asked for in EnumFormat. The stream sets
 * node.always-process=true: its process callback then runs every graph cycle
 * even while nothing is linked (driven by the Dummy-Driver) or the target is
 * silent or gone, which gives WAC its continuous clock. Measured alternative
 * not taken: a private null sink plus its monitor (obs-pipewire-audio-capture)
 * adds a node, a second visible recording stream and server CPU.
 *
 * Downmix rule. PipeWire sums links that meet on one port (stereo into
 * input_MONO doubles a centred source, +6 dB) and its channel mixer applies a
 * -3 dB law; WAC's rule is the average. So a mono capture asks PipeWire for
 * F32 stereo (ports input_FL/input_FR, each fed by the matching source channel
 * or by a mono source's only port) and averages the two in the process
 * callback, converting to S16 there if asked. Captures of 2..8 channels get
 * exactly the format requested, with source ports linked to the input port of
 * the same audio.channel (a mono source feeds every input port; source
 * channels without a matching input port, e.g. the LFE of a 5.1 source into a
 * stereo capture, are not linked; a source whose channel names match none is
 * linked by index).
 *
 * Devices. A DEVICE target links a device node the same way: an Audio/Source
 * from its output ports, an Audio/Sink from its monitor ports ("SINK.monitor").
 * The default input is the "default" metadata's default.audio.source, read
 * again at every pass: when the user picks another, the old device's links go
 * and the new one's are made. The capture's node then joins the device's
 * driver, so an application and a device captured together run on one clock.
 *
 * Time stamps. A chunk is dated when its audio is heard or recorded, so that
 * captures of one graph line up: the sink that drives the graph consumes at
 * the start of a cycle what the applications produced in the cycle before,
 * and its monitor delivers it then. An application's output (linked straight
 * from its node) is therefore dated one cycle after the cycle that carried
 * it; a sink's monitor and a source as they arrive. Measured with clicks in
 * an application and its sink's monitor: 42.7 ms apart at a 2048-frame
 * quantum, 5.3 ms at 256 frames, before this; within a sample after.
 *
 * Threads: everything here runs on the pw_thread_loop thread or under its
 * lock, except on_process(), which runs on the data thread and only copies
 * into the ring. It listens to the server mirror (mirror.h) and holds the
 * backend's table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spa/param/audio/format-utils.h>
#include <spa/param/props.h>
#include <spa/pod/builder.h>
#include <spa/utils/result.h>

#include "attach/convert.h"
#include "alloc.h"
#include "attach/attach.h"
#include "attach/target-match.h"
#include "backend/pipewire/mirror.h"
#include "os/os.h"

#define SCRATCH_FRAMES 1024

/* A target node attached to a capture: the block of its attach entry, whose
 * key is the node's object.serial (the events' stream_id). */
struct wac__pipewire_links {
    uint32_t node_id;
    bool device;  /* a device node, not an application stream */
    bool monitor; /* a sink: link its monitor ports */
    bool linked;
    uint32_t n_links;
    struct pw_proxy *links[WAC__PIPEWIRE_MAX_CHANNELS];
};

struct wac__pipewire_capture {
    struct wac__pipewire_mirror *b;
    struct spa_hook mirror_listener;
    wac_capture *cap;
    struct wac__target_match match; /* which pids the target covers */
    struct wac__attach attach;      /* the nodes attached, their events, a deferred failure */

    wac_format format;    /* delivered */
    uint32_t pw_channels; /* asked of PipeWire */
    uint32_t pw_stride;   /* bytes per frame from PipeWire */
    bool direct;          /* PipeWire delivers the format itself: no downmix */
    uint8_t *scratch;     /* delivered frames, for the downmix */

    struct pw_stream *stream;
    struct spa_hook stream_listener;
    enum pw_stream_state state;
    uint32_t node_id;
    bool running;        /* between start and stop (under the loop lock) */
    bool device_ended;   /* a named device went: end at the next deferred work */
    bool played_next_cycle; /* application streams: heard a cycle after they run */
    _Atomic bool active; /* process() may push */
};

/* ---- links ---- */

static void unlink_entry(struct wac__pipewire_links *e)
{
    for (uint32_t i = 0; i < e->n_links; i++)
        if (e->links[i])
            pw_proxy_destroy(e->links[i]);
    e->n_links = 0;
    e->linked = false;
}

/* The attach layer lets an entry go (gone, stop, end): its links go with it. */
static void release_entry(void *user, struct wac__attach_entry *ae)
{
    (void)user;
    unlink_entry(ae->data);
}

/* A port went away (reconfigured, or its node is going): links that used it
 * are made again. */
static void on_port_removed(void *data, const struct wac__pipewire_port *p)
{
    struct wac__pipewire_capture *pc = data;
    uint32_t node_id = p->node_id;
    size_t i = 0;
    for (struct wac__attach_entry *ae; (ae = wac__attach_next(&pc->attach, &i));) {
        struct wac__pipewire_links *e = ae->data;
        if (node_id == pc->node_id || node_id == e->node_id)
            unlink_entry(e);
    }
}

static struct pw_proxy *make_link(struct wac__pipewire_mirror *b, uint32_t out_node, uint32_t out_port, uint32_t in_node,
                                  uint32_t in_port)
{
    struct pw_properties *p = pw_properties_new(PW_KEY_OBJECT_LINGER, "false", NULL);
    if (!p)
        return NULL;
    pw_properties_setf(p, PW_KEY_LINK_OUTPUT_NODE, "%u", out_node);
    pw_properties_setf(p, PW_KEY_LINK_OUTPUT_PORT, "%u", out_port);
    pw_properties_setf(p, PW_KEY_LINK_INPUT_NODE, "%u", in_node);
    pw_properties_setf(p, PW_KEY_LINK_INPUT_PORT, "%u", in_port);
    struct pw_proxy *proxy =
        pw_core_create_object(b->core, "link-factory", PW_TYPE_INTERFACE_Link, PW_VERSION_LINK, &p->dict, 0);
    pw_properties_free(p);
    return proxy;
}

static struct wac__pipewire_device *find_device_by_id(struct wac__pipewire_mirror *b, uint32_t id)
{
    struct wac__pipewire_device *d;
    spa_list_for_each(d, &b->devices, link) if (d->id == id) return d;
    return NULL;
}

/* Link a target node into the capture once both sides have all their ports:
 * the capture's input ports appear one at a time, and linking early once
 * produced an FR->FL link. */
static void try_link(struct wac__pipewire_capture *pc, struct wac__attach_entry *ae)
{
    struct wac__pipewire_mirror *b = pc->b;
    struct wac__pipewire_links *e = ae->data;
    if (!pc->node_id || e->linked)
        return;
    uint32_t n_output_ports = 0;
    const char *label = "";
    if (e->device) {
        struct wac__pipewire_device *d = find_device_by_id(b, e->node_id);
        if (!d || !d->have_info)
            return;
        n_output_ports = d->n_output_ports;
        label = d->name;
    } else {
        struct wac__pipewire_node *n = wac__pipewire_mirror_find_node(b, e->node_id);
        if (!n || !n->have_info)
            return;
        n_output_ports = n->n_output_ports;
        label = n->app_name;
    }
    if (n_output_ports == 0)
        return;
    struct wac__pipewire_port *in[WAC__PIPEWIRE_MAX_CHANNELS], *out[64];
    uint32_t n_in = 0, n_out = 0;
    struct wac__pipewire_port *p;
    spa_list_for_each(p, &b->ports, link)
    {
        if (p->node_id == pc->node_id && !p->output && n_in < WAC__PIPEWIRE_MAX_CHANNELS)
            in[n_in++] = p;
        else if (p->node_id == e->node_id && p->output && p->monitor == e->monitor && n_out < 64)
            out[n_out++] = p;
    }
    /* A sink's output ports are its monitor ports; a source's are not. */
    if (n_in != pc->pw_channels || n_out != n_output_ports)
        return;
    /* Map by channel name; a mono source feeds every input; else by index. */
    struct wac__pipewire_port *src[WAC__PIPEWIRE_MAX_CHANNELS] = {0};
    bool any_named = false;
    for (uint32_t i = 0; i < n_in; i++)
        for (uint32_t j = 0; j < n_out; j++)
            if (in[i]->channel[0] && strcmp(in[i]->channel, out[j]->channel) == 0) {
                src[i] = out[j];
                any_named = true;
            }
    for (uint32_t i = 0; i < n_in; i++) {
        if (n_out == 1)
            src[i] = out[0];
        else if (!any_named)
            src[i] = out[i % n_out];
    }
    for (uint32_t i = 0; i < n_in; i++) {
        if (!src[i])
            continue;
        struct pw_proxy *l = make_link(b, e->node_id, src[i]->id, pc->node_id, in[i]->id);
        if (l)
            e->links[e->n_links++] = l;
    }
    e->linked = true;
    if (!ae->live) {
        char why[WAC__PIPEWIRE_NAME_SIZE + 32];
        snprintf(why, sizeof why, "%s%s: %u link(s)", label, e->monitor ? ".monitor" : "", e->n_links);
        wac__attach_live(&pc->attach, ae, why);
    }
}

/* A DEVICE target: the device it names now (the default may have moved):
 * entries of any other device go, the named one is attached. */
static void offer_device(struct wac__pipewire_capture *pc)
{
    struct wac__pipewire_mirror *b = pc->b;
    struct wac__pipewire_device *d = wac__pipewire_mirror_find_device(b, wac__capture_config(pc->cap)->target.name);
    uint64_t stale[4];
    size_t n_stale = 0, i = 0;
    for (struct wac__attach_entry *ae; (ae = wac__attach_next(&pc->attach, &i));)
        if ((!d || ae->key != d->serial) && n_stale < 4)
            stale[n_stale++] = ae->key;
    for (size_t k = 0; k < n_stale; k++)
        wac__attach_gone(&pc->attach, stale[k]);
    if (!d || wac__attach_known(&pc->attach, d->serial))
        return;
    struct wac__attach_entry *ae = wac__attach_add(&pc->attach, d->serial, 0);
    if (!ae)
        return;
    struct wac__pipewire_links *e = ae->data;
    e->node_id = d->id;
    e->device = true;
    e->monitor = d->sink;
}

/* Attach the graph's nodes that the target wants and that are not known yet. */
static void offer_nodes(struct wac__pipewire_capture *pc)
{
    struct wac__pipewire_mirror *b = pc->b;
    if (wac__capture_config(pc->cap)->target.kind == WAC_TARGET_DEVICE) {
        offer_device(pc);
        return;
    }
    struct wac__pipewire_node *n;
    spa_list_for_each(n, &b->nodes, link)
    {
        if (wac__attach_known(&pc->attach, n->serial))
            continue;
        uint32_t pid;
        if (!wac__pipewire_mirror_node_owner(b, n, &pid))
            continue; /* its client's properties are not known yet */
        if (wac__pipewire_mirror_node_is_own(b, n) || !wac__target_match_wants(&pc->match, pid)) {
            wac__attach_reject(&pc->attach, n->serial);
            continue;
        }
        struct wac__attach_entry *ae = wac__attach_add(&pc->attach, n->serial, pid);
        if (ae)
            ((struct wac__pipewire_links *)ae->data)->node_id = n->id;
    }
}

static void link_entries(struct wac__pipewire_capture *pc)
{
    size_t i = 0;
    for (struct wac__attach_entry *ae; (ae = wac__attach_next(&pc->attach, &i));)
        try_link(pc, ae);
}

static void reconcile(struct wac__pipewire_capture *pc)
{
    if (!pc->running || pc->b->lost)
        return;
    wac__attach_engine_missed(&pc->attach, pc->b->missed);
    offer_nodes(pc);
    link_entries(pc);
}

/* ---- capture stream teardown ---- */

static void destroy_stream(struct wac__pipewire_capture *pc)
{
    if (pc->stream) {
        /* Disconnecting removes the node from the data loop synchronously. */
        pw_stream_disconnect(pc->stream);
        spa_hook_remove(&pc->stream_listener);
        pw_stream_destroy(pc->stream);
        pc->stream = NULL;
    }
    pc->node_id = 0;
}

static void stop_locked(struct wac__pipewire_capture *pc)
{
    pc->running = false;
    atomic_store(&pc->active, false);
    wac__attach_stop(&pc->attach);
    destroy_stream(pc);
}

static void check_target(struct wac__pipewire_capture *pc)
{
    char why[160];
    if (!pc->running)
        return;
    if (!wac__target_match_alive(&pc->match, why, sizeof why) &&
        wac__attach_exited(&pc->attach, wac__capture_config(pc->cap)->target.pid, why)) {
        /* Nothing of the target is left to capture: finish the stream. */
        stop_locked(pc);
        wac__attach_end(&pc->attach, WAC_ERR_TARGET_EXITED, why);
        return;
    }
    wac__attach_check_names(&pc->attach, wac__proc_alive);
}

/* ---- the capture stream ---- */

static void on_process(void *data)
{
    struct wac__pipewire_capture *pc = data;
    struct pw_buffer *pb = pw_stream_dequeue_buffer(pc->stream);
    if (!pb)
        return;
    struct spa_buffer *buf = pb->buffer;
    if (atomic_load_explicit(&pc->active, memory_order_acquire) && buf->n_datas > 0 && buf->datas[0].data &&
        buf->datas[0].chunk) {
        struct spa_data *d = &buf->datas[0];
        uint32_t offset = SPA_MIN(d->chunk->offset, d->maxsize);
        uint32_t size = SPA_MIN(d->chunk->size, d->maxsize - offset);
        uint32_t frames = size / pc->pw_stride;
        const uint8_t *src = SPA_PTROFF(d->data, offset, const uint8_t);
        /* The quantum can change while we run (drivers come and go): the
         * core's gap detection follows it. An atomic store: RT-safe. */
        int64_t cycle_ns = (int64_t)frames * 1000000000 / pc->format.rate;
        if (frames)
            wac__capture_set_period(pc->cap, cycle_ns);
        /* Heard a cycle later (see "Time stamps" above); the quantum can
         * change, so this is said apart from the stream's clock. */
        if (frames && pc->played_next_cycle)
            wac__capture_set_heard_after(pc->cap, cycle_ns);
        int64_t t0 = wac__now_ns() - cycle_ns;
        if (frames && pc->direct) {
            wac__stream_push(pc->cap, src, frames, t0);
        } else if (frames) {
            /* PipeWire's channels into the delivered mono frames, by WAC's rule. */
            const float *in = (const float *)(const void *)src;
            uint32_t done = 0;
            while (done < frames) {
                uint32_t n = SPA_MIN(frames - done, (uint32_t)SCRATCH_FRAMES);
                wac__convert_frames(in, pc->pw_channels, n, pc->scratch, 1, pc->format.sample);
                in += (size_t)n * pc->pw_channels;
                wac__stream_push(pc->cap, pc->scratch, n,
                                 t0 + (int64_t)done * 1000000000 / pc->format.rate);
                done += n;
            }
        }
    }
    pw_stream_queue_buffer(pc->stream, pb);
}

static void on_state_changed(void *data, enum pw_stream_state old, enum pw_stream_state state, const char *error)
{
    struct wac__pipewire_capture *pc = data;
    struct wac__pipewire_mirror *b = pc->b;
    pc->state = state;
    if (state == PW_STREAM_STATE_PAUSED || state == PW_STREAM_STATE_STREAMING) {
        uint32_t id = pw_stream_get_node_id(pc->stream);
        if (id != SPA_ID_INVALID && id != pc->node_id) {
            pc->node_id = id;
            wac__pipewire_mirror_schedule(b);
        }
    }
    if (state == PW_STREAM_STATE_ERROR && pc->running &&
        wac__attach_fail_later(&pc->attach, b->lost ? WAC_ERR_SERVER_LOST : WAC_ERR_BACKEND,
                               "PipeWire capture stream failed: %s", error ? error : "unknown error"))
        wac__pipewire_mirror_schedule(b);
    pw_thread_loop_signal(b->loop, false);
}

static void on_param_changed(void *data, uint32_t id, const struct spa_pod *param)
{
    struct wac__pipewire_capture *pc = data;
    if (id != SPA_PARAM_Format || !param)
        return;
    uint32_t media_type, media_subtype;
    struct spa_audio_info_raw info;
    spa_zero(info);
    bool ok = spa_format_parse(param, &media_type, &media_subtype) >= 0 && media_type == SPA_MEDIA_TYPE_audio &&
              media_subtype == SPA_MEDIA_SUBTYPE_raw && spa_format_audio_raw_parse(param, &info) >= 0;
    uint32_t want_fmt =
        pc->direct && pc->format.sample == WAC_SAMPLE_S16 ? SPA_AUDIO_FORMAT_S16 : SPA_AUDIO_FORMAT_F32;
    if (ok && info.format == want_fmt && info.rate == pc->format.rate && info.channels == pc->pw_channels)
        return;
    if (pc->running &&
        wac__attach_fail_later(
            &pc->attach, WAC_ERR_FORMAT_UNSUPPORTED,
            "PipeWire negotiated %u Hz, %u channels, format %u instead of %u Hz, %u channels, format %u",
            info.rate, info.channels, info.format, pc->format.rate, pc->pw_channels, want_fmt))
        wac__pipewire_mirror_schedule(pc->b);
}

/* WirePlumber restores a stream's volume by application.name: a volume a user
 * once gave some capture would scale ours. Put it back to unity. */
static void on_control_info(void *data, uint32_t id, const struct pw_stream_control *control)
{
    struct wac__pipewire_capture *pc = data;
    if (!pc->stream || !control || control->n_values == 0)
        return;
    float values[SPA_AUDIO_MAX_CHANNELS];
    uint32_t n = SPA_MIN(control->n_values, (uint32_t)SPA_AUDIO_MAX_CHANNELS);
    bool reset = false;
    float unity = id == SPA_PROP_mute ? 0.0f : 1.0f;
    if (id != SPA_PROP_volume && id != SPA_PROP_mute && id != SPA_PROP_channelVolumes)
        return;
    for (uint32_t i = 0; i < n; i++) {
        reset |= control->values[i] != unity;
        values[i] = unity;
    }
    if (reset)
        pw_stream_set_control(pc->stream, id, n, values, 0);
}

static const struct pw_stream_events stream_events = {
    PW_VERSION_STREAM_EVENTS,
    .state_changed = on_state_changed,
    .param_changed = on_param_changed,
    .control_info = on_control_info,
    .process = on_process,
};

/* ---- what the mirror tells a capture (loop thread) ---- */

/* A failure a stream callback recorded ends the capture here. */
static void handle_failure(struct wac__pipewire_capture *pc)
{
    int error;
    char detail[160];
    if (!pc->running || !wac__attach_take_failure(&pc->attach, &error, detail, sizeof detail))
        return;
    stop_locked(pc);
    wac__stream_end(pc->cap, error, detail);
}

static int make_stream(struct wac__pipewire_capture *pc);

static void on_lost(void *data)
{
    struct wac__pipewire_capture *pc = data;
    if (!pc->running)
        return;
    if (!atomic_load(&pc->b->reconnect)) {
        stop_locked(pc);
        /* Takes only the capture's leaf event lock: safe on this thread. */
        wac__stream_end(pc->cap, WAC_ERR_SERVER_LOST, pc->b->lost_detail);
        return;
    }
    /* Reconnecting: the stream and the links go with the core (before the
     * mirror lets go of it), silence runs on (on_tick) until on_restored. */
    atomic_store(&pc->active, false);
    destroy_stream(pc);
    wac__stream_post(pc->cap, WAC_EVENT_SERVER_LOST, 0, 0, WAC_ERR_SERVER_LOST, pc->b->lost_detail);
    wac__attach_all_gone(&pc->attach);
}

/* Connected again: a new stream; its node and the target's are linked by
 * the deferred work that follows, as they appear. */
static void on_restored(void *data)
{
    struct wac__pipewire_capture *pc = data;
    if (!pc->running)
        return;
    wac__stream_post(pc->cap, WAC_EVENT_SERVER_RESTORED, 0, 0, 0, "the PipeWire server is back");
    int rc = make_stream(pc);
    if (rc < 0) {
        stop_locked(pc);
        wac__stream_end(pc->cap, rc, "cannot create the capture stream again after the server came back");
        return;
    }
    atomic_store(&pc->active, true);
}

/* A named device that went ends the capture, after its events. */
static void end_if_device_gone(struct wac__pipewire_capture *pc)
{
    if (!pc->device_ended || !pc->running)
        return;
    pc->device_ended = false;
    char why[WAC__PIPEWIRE_NAME_SIZE + 32];
    snprintf(why, sizeof why, "device %s was removed", wac__capture_config(pc->cap)->target.name);
    stop_locked(pc);
    wac__attach_end(&pc->attach, WAC_ERR_TARGET_EXITED, why);
}

static void on_changed(void *data)
{
    struct wac__pipewire_capture *pc = data;
    handle_failure(pc);
    end_if_device_gone(pc);
    reconcile(pc);
}

static void on_tick(void *data)
{
    struct wac__pipewire_capture *pc = data;
    handle_failure(pc);
    end_if_device_gone(pc);
    if (!pc->running)
        return;
    if (!pc->stream)
        wac__stream_tick(pc->cap, wac__now_ns()); /* no server: no graph drives us */
    check_target(pc);
    reconcile(pc);
}

static void on_node_removed(void *data, const struct wac__pipewire_node *n)
{
    struct wac__pipewire_capture *pc = data;
    wac__attach_gone(&pc->attach, n->serial);
}

static void on_device_removed(void *data, const struct wac__pipewire_device *d)
{
    struct wac__pipewire_capture *pc = data;
    if (!wac__attach_find(&pc->attach, d->serial))
        return;
    /* Teardown waits for the deferred work: this runs inside the registry's
     * event. */
    if (wac__attach_device_gone(&pc->attach, d->serial, NULL))
        pc->device_ended = true;
    wac__pipewire_mirror_schedule(pc->b);
}

static const struct wac__pipewire_mirror_events mirror_events = {
    .version = WAC__PIPEWIRE_MIRROR_EVENTS,
    .lost = on_lost,
    .changed = on_changed,
    .tick = on_tick,
    .node_removed = on_node_removed,
    .port_removed = on_port_removed,
    .device_removed = on_device_removed,
    .restored = on_restored,
};

static void fill_positions(uint32_t channels, uint32_t *pos)
{
    static const uint32_t layouts[WAC__PIPEWIRE_MAX_CHANNELS][WAC__PIPEWIRE_MAX_CHANNELS] = {
        {SPA_AUDIO_CHANNEL_MONO},
        {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR},
        {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR, SPA_AUDIO_CHANNEL_FC},
        {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR, SPA_AUDIO_CHANNEL_RL, SPA_AUDIO_CHANNEL_RR},
        {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR, SPA_AUDIO_CHANNEL_FC, SPA_AUDIO_CHANNEL_RL,
         SPA_AUDIO_CHANNEL_RR},
        {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR, SPA_AUDIO_CHANNEL_FC, SPA_AUDIO_CHANNEL_LFE,
         SPA_AUDIO_CHANNEL_RL, SPA_AUDIO_CHANNEL_RR},
        {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR, SPA_AUDIO_CHANNEL_FC, SPA_AUDIO_CHANNEL_LFE,
         SPA_AUDIO_CHANNEL_RC, SPA_AUDIO_CHANNEL_SL, SPA_AUDIO_CHANNEL_SR},
        {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR, SPA_AUDIO_CHANNEL_FC, SPA_AUDIO_CHANNEL_LFE,
         SPA_AUDIO_CHANNEL_RL, SPA_AUDIO_CHANNEL_RR, SPA_AUDIO_CHANNEL_SL, SPA_AUDIO_CHANNEL_SR},
    };
    memcpy(pos, layouts[channels - 1], channels * sizeof *pos);
}

static int capture_open(void *data, wac_capture *cap, void **cap_data)
{
    struct wac__pipewire_mirror *b = data;
    const wac_capture_config *c = wac__capture_config(cap);
    pw_thread_loop_lock(b->loop);
    bool lost = b->lost;
    pw_thread_loop_unlock(b->loop);
    if (lost)
        return wac__capture_error(cap, WAC_ERR_SERVER_LOST, "%s", b->lost_detail);

    if (c->target.kind == WAC_TARGET_DEVICE && !wac__pipewire_device_name_is_default(c->target.name) &&
        strcmp(c->target.name, "default.monitor") != 0) {
        pw_thread_loop_lock(b->loop);
        bool found = wac__pipewire_mirror_find_device(b, c->target.name) != NULL;
        pw_thread_loop_unlock(b->loop);
        if (!found)
            return wac__capture_error(cap, WAC_ERR_TARGET_NOT_FOUND,
                                      "no input device or monitor named \"%s\" (wac list --devices shows them)",
                                      c->target.name);
    }
    struct wac__pipewire_capture *pc = wac__calloc(1, sizeof *pc);
    if (!pc)
        return wac__capture_error(cap, WAC_ERR_NO_MEMORY, "no memory");
    pc->b = b;
    pc->cap = cap;
    if (wac__target_match_init(&pc->match, &c->target)) {
        wac__free(pc);
        return wac__capture_error(cap, WAC_ERR_NO_MEMORY, "no memory");
    }
    pc->format = c->format;
    pc->played_next_cycle = c->target.kind != WAC_TARGET_DEVICE;
    pc->direct = c->format.channels > 1;
    pc->pw_channels = pc->direct ? c->format.channels : 2;
    pc->pw_stride = pc->pw_channels * (pc->direct && c->format.sample == WAC_SAMPLE_S16 ? 2u : 4u);
    struct wac__attach_config attach = {.data_size = sizeof(struct wac__pipewire_links), .release = release_entry};
    wac__attach_init(&pc->attach, cap, &attach);
    if (!pc->direct) {
        pc->scratch = wac__malloc((size_t)SCRATCH_FRAMES * wac__capture_frame_bytes(cap));
        if (!pc->scratch) {
            wac__target_match_free(&pc->match);
            wac__free(pc);
            return wac__capture_error(cap, WAC_ERR_NO_MEMORY, "no memory");
        }
    }
    /* The graph's quantum is not known yet: assume the largest usual one. */
    wac__capture_set_period(cap, (int64_t)8192 * 1000000000 / 48000);
    pw_thread_loop_lock(b->loop);
    wac__pipewire_mirror_add_listener(b, &pc->mirror_listener, &mirror_events, pc);
    pw_thread_loop_unlock(b->loop);
    *cap_data = pc;
    return 0;
}

/* The capture's stream, created and connected (not waited for). */
static int make_stream(struct wac__pipewire_capture *pc)
{
    struct wac__pipewire_mirror *b = pc->b;
    const wac_capture_config *c = wac__capture_config(pc->cap);
    struct pw_properties *props =
        pw_properties_new(PW_KEY_MEDIA_TYPE, "Audio", PW_KEY_MEDIA_CATEGORY, "Capture", PW_KEY_MEDIA_NAME,
                          "WAC capture", PW_KEY_NODE_NAME, "wac-capture", PW_KEY_NODE_AUTOCONNECT, "false",
                          "node.always-process", "true", NULL);
    if (!props)
        return wac__capture_error(pc->cap, WAC_ERR_NO_MEMORY, "no memory");
    if (c->latency_ms > 0)
        pw_properties_setf(props, PW_KEY_NODE_LATENCY, "%u/%u",
                           SPA_MAX(1u, (uint32_t)((uint64_t)c->latency_ms * pc->format.rate / 1000)),
                           pc->format.rate);
    pc->stream = pw_stream_new(b->core, "wac-capture", props); /* takes props */
    if (!pc->stream)
        return wac__capture_error(pc->cap, WAC_ERR_BACKEND, "cannot create a PipeWire stream: %s", strerror(errno));
    pw_stream_add_listener(pc->stream, &pc->stream_listener, &stream_events, pc);

    uint8_t buffer[1024];
    struct spa_pod_builder builder = SPA_POD_BUILDER_INIT(buffer, sizeof buffer);
    struct spa_audio_info_raw info;
    spa_zero(info);
    info.format = pc->direct && pc->format.sample == WAC_SAMPLE_S16 ? SPA_AUDIO_FORMAT_S16 : SPA_AUDIO_FORMAT_F32;
    info.rate = pc->format.rate;
    info.channels = pc->pw_channels;
    fill_positions(pc->pw_channels, info.position);
    const struct spa_pod *params[1];
    params[0] = spa_format_audio_raw_build(&builder, SPA_PARAM_EnumFormat, &info);
    /* Connecting may start PipeWire's data thread. */
    wac__signal_mask saved;
    wac__signals_block(&saved);
    int r = pw_stream_connect(pc->stream, PW_DIRECTION_INPUT, PW_ID_ANY,
                              PW_STREAM_FLAG_MAP_BUFFERS | PW_STREAM_FLAG_RT_PROCESS, params, 1);
    wac__signals_restore(&saved);
    if (r < 0)
        return wac__capture_error(pc->cap, WAC_ERR_BACKEND, "cannot connect the PipeWire stream: %s",
                                  spa_strerror(r));
    return 0;
}

static int start_locked(struct wac__pipewire_capture *pc)
{
    struct wac__pipewire_mirror *b = pc->b;
    if (b->lost)
        return wac__capture_error(pc->cap, WAC_ERR_SERVER_LOST, "%s", b->lost_detail);
    pc->running = true;
    wac__attach_start(&pc->attach);
    atomic_store(&pc->active, true);
    int r = make_stream(pc);
    if (r < 0)
        return r;
    /* Wait for the node to exist on the server: then its id is known. */
    struct timespec abstime;
    pw_thread_loop_get_time(b->loop, &abstime, WAC__PIPEWIRE_WAIT_S * SPA_NSEC_PER_SEC);
    while (!pc->node_id && pc->state != PW_STREAM_STATE_ERROR && !b->lost) {
        if (pw_thread_loop_timed_wait_full(b->loop, &abstime) == -ETIMEDOUT)
            return wac__capture_error(pc->cap, WAC_ERR_BACKEND,
                                      "the PipeWire capture stream did not come up within %d s", WAC__PIPEWIRE_WAIT_S);
    }
    if (b->lost)
        return wac__capture_error(pc->cap, WAC_ERR_SERVER_LOST, "%s", b->lost_detail);
    if (pc->state == PW_STREAM_STATE_ERROR) {
        const char *why = wac__attach_failure(&pc->attach, NULL);
        return wac__capture_error(pc->cap, WAC_ERR_BACKEND, "%s", why ? why : "PipeWire capture stream failed");
    }
    /* The target's streams as the graph has them now, then the target's
     * attach event saying how many, then the links. */
    offer_nodes(pc);
    wac__attach_started(&pc->attach);
    link_entries(pc);
    return 0;
}

static int capture_start(void *cap_data)
{
    struct wac__pipewire_capture *pc = cap_data;
    pw_thread_loop_lock(pc->b->loop);
    int rc = start_locked(pc);
    pw_thread_loop_unlock(pc->b->loop);
    return rc;
}

static void capture_stop(void *cap_data)
{
    struct wac__pipewire_capture *pc = cap_data;
    pw_thread_loop_lock(pc->b->loop);
    stop_locked(pc);
    pw_thread_loop_unlock(pc->b->loop);
}

static void capture_close(void *cap_data)
{
    struct wac__pipewire_capture *pc = cap_data;
    pw_thread_loop_lock(pc->b->loop);
    stop_locked(pc);
    spa_hook_remove(&pc->mirror_listener);
    wac__attach_free(&pc->attach);
    pw_thread_loop_unlock(pc->b->loop);
    wac__target_match_free(&pc->match);
    wac__free(pc->scratch);
    wac__free(pc);
}

const struct wac__backend wac__backend_pipewire = {
    .name = "pipewire",
    .automatic = true,
    .connect = wac__pipewire_mirror_connect,
    .disconnect = wac__pipewire_mirror_disconnect,
    .capture_open = capture_open,
    .capture_start = capture_start,
    .capture_stop = capture_stop,
    .capture_close = capture_close,
    .list_sessions = wac__pipewire_mirror_list_sessions,
    .list_devices = wac__pipewire_mirror_list_devices,
    .set_reconnect = wac__pipewire_mirror_set_reconnect,
    .get_volume = wac__pipewire_get_volume,
    .set_volume = wac__pipewire_set_volume,
    .inject = NULL,
};
