/* gstwacsrc.c — wacsrc: the audio one application plays, as a live GStreamer
 * source, through libwac's public API only (wac.h).
 *
 * Design, and why:
 * - Caps come from downstream and go to WAC unchanged: whatever rate,
 *   channels and sample type (F32 or S16, native endian) downstream fixates
 *   is what wac_capture_open() asks the audio engine for, so a 16 kHz mono
 *   pipeline is resampled once, by the engine, never again here. A format
 *   change reopens the capture (a WAC capture runs once, in one format).
 * - The capture is opened when caps are set (the streaming thread, so a
 *   failure's detail, which is per thread, is read where it happened) and
 *   started by the first create(), which basesrc calls only in PLAYING: audio
 *   from before the pipeline's base time would only be clipped.
 * - Timestamps: WAC stamps every chunk with CLOCK_MONOTONIC (Windows:
 *   QueryPerformanceCounter) time of its first frame. GstSystemClock with
 *   clock-type MONOTONIC reads the same clocks, so the element provides such
 *   a clock; when the pipeline uses it (or any monotonic system clock: the
 *   default pipeline clock), running time = time_ns - base_time exactly.
 *   Under another clock the offset between it and the monotonic clock is
 *   sampled per buffer. Frames stamped before running time 0 are dropped.
 * - PLAYING -> PAUSED: a capture cannot pause, and what it would buffer
 *   meanwhile belongs to no running time, so the next create() opens a new
 *   capture (events "started" again, positions from 0, DISCONT).
 * - Waiting: create() reads with timeout 0 and sleeps in a GstPoll on
 *   wac_capture_fd(), so unlock() wakes it at once through the poll's
 *   control socket (no timeout loop). Where WAC has no descriptor
 *   (Windows), it reads with a 50 ms timeout and checks the flushing flag
 *   between reads, which bounds how late unlock() takes effect.
 * - Events become bus messages ("wac-event") as they are pulled, in order
 *   with the audio: WAC makes an event available once the audio before it
 *   has been read. The end of a pid target (TARGET_EXITED) is EOS; any other
 *   end with an error is GST_ELEMENT_ERROR with WAC's detail.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <gst/audio/audio.h>
#include <gst/base/gstpushsrc.h>
#include <gst/gst.h>

#include <wac.h>

GST_DEBUG_CATEGORY_STATIC(wac_src_debug);
#define GST_CAT_DEFAULT wac_src_debug

#define GST_TYPE_WAC_SRC (gst_wac_src_get_type())
G_DECLARE_FINAL_TYPE(GstWacSrc, gst_wac_src, GST, WAC_SRC, GstPushSrc)

/* One buffer: short enough for live use, long enough that a wake-up per
 * buffer costs nothing (the engines deliver 10...43 ms periods anyway). */
#define WAC_SRC_BUFFER_MS 20
/* Without wac_capture_fd (Windows), the longest unlock() may wait. */
#define WAC_SRC_READ_SLICE_MS 50
/* What the engine adds before a frame reaches the ring when latency-ms is
 * 0: a PipeWire graph's default quantum (2048 frames at 48 kHz) rounded
 * up; PulseAudio's 25 ms fragments fit in it. Only the latency query uses it. */
#define WAC_SRC_ENGINE_LATENCY_MS 50

#define DEFAULT_BACKEND "auto"
#define DEFAULT_RING_MS 2000
#define DEFAULT_LATENCY_MS 0

enum {
    PROP_0,
    PROP_PID,
    PROP_EXECUTABLE,
    PROP_SYSTEM,
    PROP_EXCLUDE,
    PROP_TREE,
    PROP_DEVICE,
    PROP_BACKEND,
    PROP_RING_MS,
    PROP_LATENCY_MS,
};

struct _GstWacSrc {
    GstPushSrc parent;

    /* Properties: written under the object lock, read at start. */
    guint pid;
    gchar *executable;
    gboolean system;
    gboolean exclude;
    gboolean tree;
    gchar *device;
    gchar *backend;
    guint ring_ms;
    guint latency_ms;

    /* The target, fixed at start() so a property set later cannot half-apply. */
    wac_target target;
    gchar *target_name;

    /* Streaming state: the streaming thread's, except where noted. */
    wac_context *ctx;
    wac_capture *cap;
    wac_format format;
    guint chunk_frames;
    guint bpf;
    gboolean started;
    gboolean discont;
    /* Set on PLAYING -> PAUSED (another thread): the next create() starts a
     * new capture, as a capture cannot pause and what it buffered meanwhile
     * belongs to no running time. */
    gint reopen;
    /* A new capture's first frames stamped before this running time are
     * dropped: before the pipeline started (0), or, after a resume, before
     * the end of the last buffer (basesrc pushes one made before the pause).
     * Within a capture stamps only wobble by a fraction of a period. */
    gint64 trim_before;
    gboolean trimming;
    gint64 last_end;
    int end_error;
    gchar end_detail[sizeof(((wac_event *)0)->detail)];
    /* Gaps (overruns, skips) drain_events() saw since the last read. */
    struct wac_src_gap {
        uint64_t position;
        int64_t time_ns;
        uint64_t frames;
    } gaps[16];
    guint n_gaps;
    /* The parts of a chunk split at a gap, waiting for the next create(). */
    GQueue pending;

    /* unlock() runs on another thread: the poll and the flag are its way in. */
    GstPoll *poll;
    GstPollFD pfd;
    gboolean have_fd;
    gint flushing;

    GstClock *mono;
};

G_DEFINE_TYPE(GstWacSrc, gst_wac_src, GST_TYPE_PUSH_SRC)

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("audio/x-raw, "
                    "format = (string) { " GST_AUDIO_NE(F32) ", " GST_AUDIO_NE(S16) " }, "
                    "layout = (string) interleaved, "
                    "rate = (int) [ 8000, 192000 ], "
                    "channels = (int) [ 1, 8 ]"));

/* ---- properties -------------------------------------------------------- */

static void gst_wac_src_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
    GstWacSrc *src = GST_WAC_SRC(object);
    GST_OBJECT_LOCK(src);
    switch (prop_id) {
    case PROP_PID:
        src->pid = g_value_get_uint(value);
        break;
    case PROP_EXECUTABLE:
        g_free(src->executable);
        src->executable = g_value_dup_string(value);
        break;
    case PROP_SYSTEM:
        src->system = g_value_get_boolean(value);
        break;
    case PROP_EXCLUDE:
        src->exclude = g_value_get_boolean(value);
        break;
    case PROP_TREE:
        src->tree = g_value_get_boolean(value);
        break;
    case PROP_DEVICE:
        g_free(src->device);
        src->device = g_value_dup_string(value);
        break;
    case PROP_BACKEND:
        g_free(src->backend);
        src->backend = g_value_dup_string(value);
        break;
    case PROP_RING_MS:
        src->ring_ms = g_value_get_uint(value);
        break;
    case PROP_LATENCY_MS:
        src->latency_ms = g_value_get_uint(value);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    GST_OBJECT_UNLOCK(src);
}

static void gst_wac_src_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
    GstWacSrc *src = GST_WAC_SRC(object);
    GST_OBJECT_LOCK(src);
    switch (prop_id) {
    case PROP_PID:
        g_value_set_uint(value, src->pid);
        break;
    case PROP_EXECUTABLE:
        g_value_set_string(value, src->executable);
        break;
    case PROP_SYSTEM:
        g_value_set_boolean(value, src->system);
        break;
    case PROP_EXCLUDE:
        g_value_set_boolean(value, src->exclude);
        break;
    case PROP_TREE:
        g_value_set_boolean(value, src->tree);
        break;
    case PROP_DEVICE:
        g_value_set_string(value, src->device);
        break;
    case PROP_BACKEND:
        g_value_set_string(value, src->backend);
        break;
    case PROP_RING_MS:
        g_value_set_uint(value, src->ring_ms);
        break;
    case PROP_LATENCY_MS:
        g_value_set_uint(value, src->latency_ms);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    GST_OBJECT_UNLOCK(src);
}

/* ---- bus messages ------------------------------------------------------- */

static void post_event(GstWacSrc *src, const wac_event *ev)
{
    GstStructure *s = gst_structure_new("wac-event",
        "type", G_TYPE_STRING, wac_event_name(ev->type),
        "position", G_TYPE_UINT64, (guint64)ev->position,
        "time-ns", G_TYPE_INT64, (gint64)ev->time_ns,
        "frames", G_TYPE_UINT64, (guint64)ev->frames,
        "pid", G_TYPE_UINT, (guint)ev->pid,
        "stream-id", G_TYPE_UINT, (guint)ev->stream_id,
        "error", G_TYPE_STRING, wac_error_name(ev->error),
        "detail", G_TYPE_STRING, ev->detail,
        NULL);
    /* What the engine was asked for and delivers, so an application (and the
     * tests) can see that the negotiated caps reached WAC unconverted. */
    wac_format f;
    uint32_t chunk;
    if (ev->type == WAC_EVENT_STARTED && wac_capture_get_format(src->cap, &f, &chunk) == 0)
        gst_structure_set(s, "rate", G_TYPE_UINT, (guint)f.rate, "channels", G_TYPE_UINT, (guint)f.channels,
            "sample", G_TYPE_STRING, f.sample == WAC_SAMPLE_F32 ? "F32" : "S16",
            "chunk-frames", G_TYPE_UINT, (guint)chunk, NULL);
    GST_DEBUG_OBJECT(src, "event %" GST_PTR_FORMAT, s);
    gst_element_post_message(GST_ELEMENT(src), gst_message_new_element(GST_OBJECT(src), s));
}

/* Post every event WAC has made available; remember how the stream ended.
 * Returns how many there were. */
static int drain_events(GstWacSrc *src)
{
    wac_event ev;
    int n = 0;
    while (wac_capture_next_event(src->cap, &ev, sizeof ev) == 1) {
        post_event(src, &ev);
        if ((ev.type == WAC_EVENT_OVERRUN || ev.type == WAC_EVENT_DISCONTINUITY) && ev.frames > 0 &&
            src->n_gaps < G_N_ELEMENTS(src->gaps)) {
            src->gaps[src->n_gaps].position = ev.position;
            src->gaps[src->n_gaps].time_ns = ev.time_ns;
            src->gaps[src->n_gaps].frames = ev.frames;
            src->n_gaps++;
        }
        if (ev.type == WAC_EVENT_ERROR || ev.type == WAC_EVENT_SERVER_LOST ||
            (ev.type == WAC_EVENT_ENDED && ev.error != 0)) {
            /* ENDED's own detail may be empty; the ERROR before it says more. */
            if (ev.detail[0] || src->end_error == 0)
                g_strlcpy(src->end_detail, ev.detail, sizeof src->end_detail);
            src->end_error = ev.error;
        }
        n++;
    }
    return n;
}

/* ---- start, stop: the context ------------------------------------------- */

static gboolean open_capture(GstWacSrc *src, const wac_format *want);

static gboolean gst_wac_src_start(GstBaseSrc *bsrc)
{
    GstWacSrc *src = GST_WAC_SRC(bsrc);

    GST_OBJECT_LOCK(src);
    memset(&src->target, 0, sizeof src->target);
    g_clear_pointer(&src->target_name, g_free);
    int targets = (src->pid != 0) + (src->executable && src->executable[0]) + (src->device != NULL) + !!src->system;
    if (src->pid != 0) {
        src->target.kind = WAC_TARGET_PID;
        src->target.pid = src->pid;
    } else if (src->executable && src->executable[0]) {
        src->target.kind = WAC_TARGET_NAME;
        src->target_name = g_strdup(src->executable);
    } else if (src->device) {
        src->target.kind = WAC_TARGET_DEVICE;
        src->target_name = g_strdup(src->device);
    } else {
        src->target.kind = WAC_TARGET_SYSTEM;
    }
    src->target.name = src->target_name;
    src->target.include_tree = src->tree;
    src->target.exclude = src->exclude;
    gchar *backend = g_strdup(src->backend);
    GST_OBJECT_UNLOCK(src);

    /* Capturing everything because nothing was set would be a surprise. */
    if (targets != 1) {
        GST_ELEMENT_ERROR(src, RESOURCE, SETTINGS,
            ("wacsrc needs exactly one target: pid, executable, device or system=true (%d set)", targets),
            (NULL));
        g_free(backend);
        return FALSE;
    }

    char detail[256] = "";
    int rc = wac_context_open(backend, &src->ctx, detail, sizeof detail);
    if (rc < 0) {
        GST_ELEMENT_ERROR(src, RESOURCE, OPEN_READ,
            ("wac: cannot open backend \"%s\": %s: %s", backend ? backend : "auto", wac_strerror(rc), detail),
            ("wac_context_open: %s", wac_error_name(rc)));
        g_free(backend);
        return FALSE;
    }
    GST_INFO_OBJECT(src, "backend %s", wac_context_backend(src->ctx));
    g_free(backend);
    src->end_error = 0;
    src->end_detail[0] = '\0';
    g_atomic_int_set(&src->reopen, 0);
    /* Opening checks the target (a pid must exist), so a wrong one fails
     * the state change itself, not the first buffer. */
    wac_capture_config defaults;
    wac_capture_config_init(&defaults);
    if (!open_capture(src, &defaults.format)) {
        wac_context_close(src->ctx);
        src->ctx = NULL;
        return FALSE;
    }
    return TRUE;
}

static void close_capture(GstWacSrc *src)
{
    g_queue_clear_full(&src->pending, (GDestroyNotify)gst_buffer_unref);
    src->n_gaps = 0;
    if (src->have_fd) {
        gst_poll_remove_fd(src->poll, &src->pfd);
        src->have_fd = FALSE;
    }
    if (src->cap) {
        wac_capture_close(src->cap);
        src->cap = NULL;
    }
    src->started = FALSE;
}

static gboolean gst_wac_src_stop(GstBaseSrc *bsrc)
{
    GstWacSrc *src = GST_WAC_SRC(bsrc);
    close_capture(src);
    /* Frees the handles close_capture() left valid, too. */
    wac_context_close(src->ctx);
    src->ctx = NULL;
    return TRUE;
}

/* ---- caps: what downstream wants is what WAC asks the engine for -------- */

static GstCaps *gst_wac_src_fixate(GstBaseSrc *bsrc, GstCaps *caps)
{
    /* The first structure is downstream's preference; within it, WAC's own
     * defaults (48 kHz, stereo, float) where downstream leaves a choice. */
    caps = gst_caps_make_writable(gst_caps_truncate(caps));
    GstStructure *s = gst_caps_get_structure(caps, 0);
    gst_structure_fixate_field_nearest_int(s, "rate", 48000);
    gst_structure_fixate_field_nearest_int(s, "channels", 2);
    gst_structure_fixate_field_string(s, "format", GST_AUDIO_NE(F32));
    int channels = 0;
    /* WAC delivers more than two channels in the engine's default order,
     * which for these counts is the WAVE order GStreamer's fallback names. */
    if (gst_structure_get_int(s, "channels", &channels) && channels > 2 && !gst_structure_has_field(s, "channel-mask"))
        gst_structure_set(s, "channel-mask", GST_TYPE_BITMASK, gst_audio_channel_get_fallback_mask(channels), NULL);
    return GST_BASE_SRC_CLASS(gst_wac_src_parent_class)->fixate(bsrc, caps);
}

/* Open the capture in @want; errors are posted with WAC's detail (this
 * thread's: the caller's). */
static gboolean open_capture(GstWacSrc *src, const wac_format *want)
{
    wac_capture_config cfg;
    wac_capture_config_init(&cfg);
    GST_OBJECT_LOCK(src);
    cfg.ring_ms = src->ring_ms;
    cfg.latency_ms = src->latency_ms;
    GST_OBJECT_UNLOCK(src);
    cfg.target = src->target;
    cfg.format = *want;
    cfg.chunk_frames = want->rate * WAC_SRC_BUFFER_MS / 1000;
    int rc = wac_capture_open(src->ctx, &cfg, &src->cap);
    if (rc < 0) {
        GST_ELEMENT_ERROR(src, RESOURCE, OPEN_READ, ("wac: %s: %s", wac_strerror(rc), wac_context_last_error(src->ctx)),
            ("wac_capture_open(%" PRIu32 " Hz, %" PRIu32 " channels): %s", want->rate, want->channels,
             wac_error_name(rc)));
        src->cap = NULL;
        return FALSE;
    }
    uint32_t chunk = 0;
    if (wac_capture_get_format(src->cap, &src->format, &chunk) < 0 || src->format.rate != want->rate ||
        src->format.channels != want->channels || src->format.sample != want->sample) {
        GST_ELEMENT_ERROR(src, CORE, NEGOTIATION,
            ("wac delivers another format than asked (%" PRIu32 " Hz, %" PRIu32 " channels)", want->rate,
             want->channels),
            (NULL));
        close_capture(src);
        return FALSE;
    }
    src->chunk_frames = chunk;
    src->bpf = src->format.channels * (src->format.sample == WAC_SAMPLE_F32 ? 4 : 2);

    int fd = wac_capture_fd(src->cap);
    if (fd >= 0) {
        gst_poll_fd_init(&src->pfd);
        src->pfd.fd = fd;
        gst_poll_add_fd(src->poll, &src->pfd);
        gst_poll_fd_ctl_read(src->poll, &src->pfd, TRUE);
        src->have_fd = TRUE;
    }
    src->discont = TRUE;
    src->trimming = TRUE;
    src->trim_before = 0;
    GST_INFO_OBJECT(src, "capture open: %u Hz, %u channels, %s, %u-frame buffers%s", src->format.rate,
        src->format.channels, src->format.sample == WAC_SAMPLE_F32 ? "F32" : "S16", src->chunk_frames,
        src->have_fd ? "" : " (timed reads)");
    return TRUE;
}

static gboolean gst_wac_src_set_caps(GstBaseSrc *bsrc, GstCaps *caps)
{
    GstWacSrc *src = GST_WAC_SRC(bsrc);
    GstAudioInfo info;
    if (!gst_audio_info_from_caps(&info, caps))
        return FALSE;
    wac_format want = {
        .rate = (uint32_t)GST_AUDIO_INFO_RATE(&info),
        .channels = (uint32_t)GST_AUDIO_INFO_CHANNELS(&info),
        .sample = GST_AUDIO_INFO_FORMAT(&info) == GST_AUDIO_FORMAT_S16 ? WAC_SAMPLE_S16 : WAC_SAMPLE_F32,
    };
    /* start() opened it in WAC's default format, which is also the one
     * fixate() prefers: most pipelines open the capture once. */
    if (src->cap && !src->started && want.rate == src->format.rate && want.channels == src->format.channels &&
        want.sample == src->format.sample)
        return TRUE;
    close_capture(src);
    if (!open_capture(src, &want))
        return FALSE;
    /* The buffer length is part of the latency: let the pipeline ask again. */
    gst_element_post_message(GST_ELEMENT(src), gst_message_new_latency(GST_OBJECT(src)));
    return TRUE;
}

/* ---- latency ---------------------------------------------------------- */

static gboolean gst_wac_src_query(GstBaseSrc *bsrc, GstQuery *query)
{
    GstWacSrc *src = GST_WAC_SRC(bsrc);
    if (GST_QUERY_TYPE(query) != GST_QUERY_LATENCY)
        return GST_BASE_SRC_CLASS(gst_wac_src_parent_class)->query(bsrc, query);
    if (!src->cap)
        return FALSE;
    GST_OBJECT_LOCK(src);
    guint engine_ms = src->latency_ms ? src->latency_ms : WAC_SRC_ENGINE_LATENCY_MS;
    guint ring_ms = src->ring_ms;
    GST_OBJECT_UNLOCK(src);
    /* A buffer leaves when its last frame has arrived: one buffer plus the
     * engine's period after its first frame was heard. The ring holds the
     * rest: beyond it, frames are lost (and counted). */
    GstClockTime min = gst_util_uint64_scale_int(src->chunk_frames, GST_SECOND, (gint)src->format.rate) +
                       engine_ms * GST_MSECOND;
    GstClockTime max = MAX(min, (GstClockTime)ring_ms * GST_MSECOND);
    gst_query_set_latency(query, TRUE, min, max);
    return TRUE;
}

/* ---- unlock: wake a create() that waits for audio ------------------------ */

static gboolean gst_wac_src_unlock(GstBaseSrc *bsrc)
{
    GstWacSrc *src = GST_WAC_SRC(bsrc);
    g_atomic_int_set(&src->flushing, 1);
    gst_poll_set_flushing(src->poll, TRUE);
    return TRUE;
}

static gboolean gst_wac_src_unlock_stop(GstBaseSrc *bsrc)
{
    GstWacSrc *src = GST_WAC_SRC(bsrc);
    g_atomic_int_set(&src->flushing, 0);
    gst_poll_set_flushing(src->poll, FALSE);
    return TRUE;
}

/* ---- timestamps --------------------------------------------------------- */

static gboolean is_monotonic(GstWacSrc *src, GstClock *clock)
{
    if (clock == src->mono)
        return TRUE;
    if (!GST_IS_SYSTEM_CLOCK(clock))
        return FALSE;
    GstClockType type = GST_CLOCK_TYPE_REALTIME;
    g_object_get(clock, "clock-type", &type, NULL);
    return type == GST_CLOCK_TYPE_MONOTONIC;
}

/* The running time of a monotonic instant, in ns (negative before the
 * pipeline's base time); FALSE when the element has no clock. */
static gboolean running_time_of(GstWacSrc *src, int64_t time_ns, gint64 *out)
{
    GstClock *clock = gst_element_get_clock(GST_ELEMENT(src));
    if (!clock)
        return FALSE;
    gint64 clock_time = time_ns;
    if (!is_monotonic(src, clock))
        clock_time += (gint64)gst_clock_get_time(clock) - (gint64)gst_clock_get_time(src->mono);
    *out = clock_time - (gint64)gst_element_get_base_time(GST_ELEMENT(src));
    gst_object_unref(clock);
    return TRUE;
}

/* ---- create: one buffer ------------------------------------------------- */

static GstFlowReturn read_error(GstWacSrc *src, int rc, const char *what)
{
    GST_ELEMENT_ERROR(src, RESOURCE, READ, ("wac: %s: %s", wac_strerror(rc), wac_capture_last_error(src->cap)),
        ("%s: %s", what, wac_error_name(rc)));
    return GST_FLOW_ERROR;
}

static GstFlowReturn stream_ended(GstWacSrc *src)
{
    drain_events(src);
    /* A pid target whose tree has exited, or a device that went away, ends
     * the stream normally: that is EOS, not an error. */
    if (src->end_error == 0 || src->end_error == WAC_ERR_TARGET_EXITED) {
        GST_INFO_OBJECT(src, "stream ended (%s): EOS", wac_error_name(src->end_error));
        return GST_FLOW_EOS;
    }
    GST_ELEMENT_ERROR(src, RESOURCE, READ, ("wac: %s: %s", wac_strerror(src->end_error), src->end_detail),
        ("capture ended: %s", wac_error_name(src->end_error)));
    return GST_FLOW_ERROR;
}

/* Wait until the capture's descriptor is readable or unlock() is called.
 * Returns FALSE when flushing. */
static gboolean wait_readable(GstWacSrc *src)
{
    if (g_atomic_int_get(&src->flushing))
        return FALSE;
    if (!src->have_fd)
        return TRUE; /* the next read waits itself */
    int r = gst_poll_wait(src->poll, GST_CLOCK_TIME_NONE);
    if (r < 0 && errno == EBUSY)
        return FALSE;
    return TRUE;
}

/* Queue frames [first, first + frames) of @chunk as one buffer: stream
 * position @position, heard at @time_ns. A capture's first frames before
 * trim_before are dropped. */
static void queue_part(GstWacSrc *src, GstBuffer *chunk, guint first, guint frames, uint64_t position,
                       int64_t time_ns, gboolean discont)
{
    gint64 running = 0;
    gboolean have_time = running_time_of(src, time_ns, &running);
    if (have_time && src->trimming && running < src->trim_before) {
        guint64 early = gst_util_uint64_scale_int_ceil((guint64)(src->trim_before - running), (gint)src->format.rate,
                                                       GST_SECOND);
        if (early >= frames) {
            src->discont = TRUE;
            return;
        }
        first += (guint)early;
        frames -= (guint)early;
        position += early;
        running += (gint64)gst_util_uint64_scale_int(early, GST_SECOND, (gint)src->format.rate);
    }
    GstBuffer *buf = gst_buffer_copy_region(chunk, GST_BUFFER_COPY_MEMORY, (gsize)first * src->bpf,
                                            (gsize)frames * src->bpf);
    GST_BUFFER_PTS(buf) = have_time ? (GstClockTime)running : GST_CLOCK_TIME_NONE;
    GST_BUFFER_DURATION(buf) = gst_util_uint64_scale_int(frames, GST_SECOND, (gint)src->format.rate);
    GST_BUFFER_OFFSET(buf) = position;
    GST_BUFFER_OFFSET_END(buf) = position + frames;
    if (discont || src->discont) {
        GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
        src->discont = FALSE;
    }
    src->trimming = FALSE;
    if (have_time)
        src->last_end = running + (gint64)GST_BUFFER_DURATION(buf);
    g_queue_push_tail(&src->pending, buf);
}

/* Split a chunk at the gaps inside it. WAC reads a chunk contiguously from
 * its ring, so a gap (an overrun, a skip) can fall inside one; its event
 * (available once the audio before it was read) says where, and GStreamer's
 * DISCONT and timestamps must start at that frame, not the chunk's first. */
static void queue_chunk(GstWacSrc *src, GstBuffer *chunk, guint n, const wac_chunk_info *info)
{
    guint first = 0;
    uint64_t position = info->position;
    int64_t time_ns = info->time_ns;
    guint inside = 0;
    gboolean discont = FALSE;
    for (guint i = 0; i < src->n_gaps; i++) {
        const struct wac_src_gap *g = &src->gaps[i];
        if (g->position <= position || g->position - position >= n - first)
            continue;
        guint part = (guint)(g->position - position);
        queue_part(src, chunk, first, part, position, time_ns, discont);
        first += part;
        position = g->position + g->frames;
        time_ns = g->time_ns + (int64_t)gst_util_uint64_scale_int(g->frames, GST_SECOND, (gint)src->format.rate);
        discont = TRUE;
        inside++;
    }
    src->n_gaps = 0;
    /* The flag also covers a gap before the first frame (its event came
     * with the previous chunk); with gaps inside only, the first part
     * continues the previous buffer. */
    if (inside == 0 && (info->flags & WAC_CHUNK_DISCONTINUOUS))
        discont = TRUE;
    queue_part(src, chunk, first, n - first, position, time_ns, discont);
}

static GstFlowReturn gst_wac_src_create(GstPushSrc *psrc, GstBuffer **out)
{
    GstWacSrc *src = GST_WAC_SRC(psrc);
    if (g_atomic_int_compare_and_exchange(&src->reopen, 1, 0) && src->started) {
        wac_format format = src->format;
        close_capture(src);
        if (!open_capture(src, &format))
            return GST_FLOW_ERROR;
        src->trim_before = src->last_end;
    }
    if (!src->cap)
        return GST_FLOW_NOT_NEGOTIATED;
    if (!src->started) {
        int rc = wac_capture_start(src->cap);
        if (rc < 0)
            return read_error(src, rc, "wac_capture_start");
        src->started = TRUE;
    }

    const int timeout = src->have_fd ? 0 : WAC_SRC_READ_SLICE_MS;
    while (g_queue_is_empty(&src->pending)) {
        GstBuffer *chunk = gst_buffer_new_allocate(NULL, (gsize)src->chunk_frames * src->bpf, NULL);
        GstMapInfo map;
        if (!gst_buffer_map(chunk, &map, GST_MAP_WRITE)) {
            gst_buffer_unref(chunk);
            return GST_FLOW_ERROR;
        }
        wac_chunk_info info;
        int n = wac_capture_read(src->cap, map.data, src->chunk_frames, timeout, &info);
        gst_buffer_unmap(chunk, &map);
        if (n > 0) {
            drain_events(src);
            queue_chunk(src, chunk, (guint)n, &info);
            gst_buffer_unref(chunk);
            continue;
        }
        gst_buffer_unref(chunk);
        if (n == WAC_ERR_TIMEOUT || n == WAC_ERR_INTERRUPTED) {
            if (drain_events(src) > 0)
                continue; /* an event may have been what woke us */
            if (!wait_readable(src))
                return GST_FLOW_FLUSHING;
            continue;
        }
        if (n == WAC_ERR_ENDED)
            return stream_ended(src);
        return read_error(src, n, "wac_capture_read");
    }
    *out = g_queue_pop_head(&src->pending);
    return GST_FLOW_OK;
}

static GstStateChangeReturn gst_wac_src_change_state(GstElement *element, GstStateChange transition)
{
    GstStateChangeReturn ret = GST_ELEMENT_CLASS(gst_wac_src_parent_class)->change_state(element, transition);
    if (transition == GST_STATE_CHANGE_PLAYING_TO_PAUSED)
        g_atomic_int_set(&GST_WAC_SRC(element)->reopen, 1);
    return ret;
}

/* ---- clock -------------------------------------------------------------- */

static GstClock *gst_wac_src_provide_clock(GstElement *element)
{
    return gst_object_ref(GST_WAC_SRC(element)->mono);
}

/* ---- object ------------------------------------------------------------- */

static void gst_wac_src_finalize(GObject *object)
{
    GstWacSrc *src = GST_WAC_SRC(object);
    g_free(src->executable);
    g_free(src->device);
    g_free(src->backend);
    g_free(src->target_name);
    gst_poll_free(src->poll);
    gst_object_unref(src->mono);
    G_OBJECT_CLASS(gst_wac_src_parent_class)->finalize(object);
}

static void gst_wac_src_init(GstWacSrc *src)
{
    src->tree = TRUE;
    src->backend = g_strdup(DEFAULT_BACKEND);
    src->ring_ms = DEFAULT_RING_MS;
    src->latency_ms = DEFAULT_LATENCY_MS;
    src->poll = gst_poll_new(TRUE);
    src->mono = g_object_new(GST_TYPE_SYSTEM_CLOCK, "name", "WacMonotonicClock", "clock-type",
                             GST_CLOCK_TYPE_MONOTONIC, NULL);
    gst_object_ref_sink(src->mono);
    gst_base_src_set_live(GST_BASE_SRC(src), TRUE);
    gst_base_src_set_format(GST_BASE_SRC(src), GST_FORMAT_TIME);
    GST_OBJECT_FLAG_SET(src, GST_ELEMENT_FLAG_PROVIDE_CLOCK);
}

static void gst_wac_src_class_init(GstWacSrcClass *klass)
{
    GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS(klass);
    GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS(klass);

    gobject_class->set_property = gst_wac_src_set_property;
    gobject_class->get_property = gst_wac_src_get_property;
    gobject_class->finalize = gst_wac_src_finalize;

    const GParamFlags flags = (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
    g_object_class_install_property(gobject_class, PROP_PID,
        g_param_spec_uint("pid", "Process id",
            "Capture this process (and, with tree=true, its descendants); the stream ends (EOS) when they have all "
            "exited. 0: not a pid target",
            0, G_MAXUINT32, 0, flags));
    g_object_class_install_property(gobject_class, PROP_EXECUTABLE,
        g_param_spec_string("executable", "Executable name",
            "Capture every process with this executable basename (e.g. \"firefox\"); it may start later and "
            "restart, silence in between. (\"name\" is every element's own name in GStreamer)",
            NULL, flags));
    g_object_class_install_property(gobject_class, PROP_SYSTEM,
        g_param_spec_boolean("system", "Whole system", "Capture everything applications play", FALSE, flags));
    g_object_class_install_property(gobject_class, PROP_EXCLUDE,
        g_param_spec_boolean("exclude", "Exclude the target",
            "Capture every application except the pid or executable target", FALSE, flags));
    g_object_class_install_property(gobject_class, PROP_TREE,
        g_param_spec_boolean("tree", "Process tree",
            "With pid: also capture the process's descendants (WASAPI: always)", TRUE, flags));
    g_object_class_install_property(gobject_class, PROP_DEVICE,
        g_param_spec_string("device", "Device",
            "Capture an input device or a sink's monitor (\"SINK.monitor\"), as `wac list --devices` names "
            "them; \"default\" follows the default input",
            NULL, flags));
    g_object_class_install_property(gobject_class, PROP_BACKEND,
        g_param_spec_string("backend", "Backend",
            "libwac backend: auto, pipewire, pulse, wasapi (or dummy, for tests)", DEFAULT_BACKEND, flags));
    g_object_class_install_property(gobject_class, PROP_RING_MS,
        g_param_spec_uint("ring-ms", "Ring (ms)",
            "How much audio WAC holds while downstream is slow; beyond it frames are dropped, counted, and "
            "posted as a wac-event \"overrun\" message",
            1, 60000, DEFAULT_RING_MS, flags));
    g_object_class_install_property(gobject_class, PROP_LATENCY_MS,
        g_param_spec_uint("latency-ms", "Engine latency (ms)",
            "Latency to ask the audio engine for; 0: the engine's default", 0, 10000, DEFAULT_LATENCY_MS, flags));

    gst_element_class_add_static_pad_template(element_class, &src_template);
    gst_element_class_set_static_metadata(element_class, "WAC application audio source", "Source/Audio",
        "Captures the audio one application (a process tree or an executable name), every application but "
        "one, the whole system or a device plays, through libwac. Events are posted as \"wac-event\" element "
        "messages",
        "WAC");
    element_class->provide_clock = GST_DEBUG_FUNCPTR(gst_wac_src_provide_clock);
    element_class->change_state = GST_DEBUG_FUNCPTR(gst_wac_src_change_state);

    basesrc_class->start = GST_DEBUG_FUNCPTR(gst_wac_src_start);
    basesrc_class->stop = GST_DEBUG_FUNCPTR(gst_wac_src_stop);
    basesrc_class->fixate = GST_DEBUG_FUNCPTR(gst_wac_src_fixate);
    basesrc_class->set_caps = GST_DEBUG_FUNCPTR(gst_wac_src_set_caps);
    basesrc_class->query = GST_DEBUG_FUNCPTR(gst_wac_src_query);
    basesrc_class->unlock = GST_DEBUG_FUNCPTR(gst_wac_src_unlock);
    basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR(gst_wac_src_unlock_stop);
    pushsrc_class->create = GST_DEBUG_FUNCPTR(gst_wac_src_create);

    GST_DEBUG_CATEGORY_INIT(wac_src_debug, "wacsrc", 0, "WAC application audio source");
}

/* ---- plugin ------------------------------------------------------------- */

static gboolean plugin_init(GstPlugin *plugin)
{
    return gst_element_register(plugin, "wacsrc", GST_RANK_NONE, GST_TYPE_WAC_SRC);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, wac, "WAC: capture the audio one application plays",
    plugin_init, WAC_GST_VERSION, "MIT/X11", "WAC", "the WAC source tree")
