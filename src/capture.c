/* capture.c — the capture's public lifecycle: configuration, validation, open,
 * start, stop, close, and the facts and counters callers ask for. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define WAC__MIN_RATE 8000
#define WAC__MAX_RATE 192000
#define WAC__MAX_CHANNELS 8
#define WAC__MAX_RING_MS 60000
#define WAC__MAX_LATENCY_MS 10000
#define WAC__DEFAULT_PERIOD_NS 50000000

/* The first released layout of wac_capture_config ends at userdata. */
#define WAC__CONFIG_V1_SIZE (offsetof(wac_capture_config, userdata) + sizeof(void *))

void wac_capture_config_init(wac_capture_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->size = sizeof *config;
    config->target.kind = WAC_TARGET_SYSTEM;
    config->target.include_tree = true;
    config->format.rate = 48000;
    config->format.channels = 2;
    config->format.sample = WAC_SAMPLE_F32;
    config->ring_ms = 2000;
    config->fill_silence = true;
}

static uint32_t frame_bytes_of(const wac_format *format)
{
    return format->channels * (format->sample == WAC_SAMPLE_S16 ? 2u : 4u);
}

/* Everything a backend may rely on, checked once here. */
static int validate(wac_context *ctx, const wac_capture_config *c)
{
    const wac_target *t = &c->target;
    switch (t->kind) {
    case WAC_TARGET_PID:
        if (t->pid == 0)
            return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "target pid 0 is not a process");
        if (!wac__process_exists(t->pid))
            return wac__context_fail(ctx, WAC_ERR_TARGET_NOT_FOUND, "pid %u: no such process", t->pid);
        break;
    case WAC_TARGET_NAME:
        if (!t->name || !t->name[0])
            return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "target name is empty");
        if (strlen(t->name) > 255 || strchr(t->name, '/'))
            return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT,
                                     "target name must be an executable's basename (no '/', at most 255 bytes)");
        break;
    case WAC_TARGET_SYSTEM:
        if (t->exclude)
            return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "exclude needs a pid or name target, not system");
        break;
    case WAC_TARGET_DEVICE:
        if (t->exclude)
            return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "exclude needs a pid or name target, not a device");
        if (t->name && strlen(t->name) > 511)
            return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "device name longer than 511 bytes");
        break;
    default:
        return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "unknown target kind %d", (int)t->kind);
    }
    const wac_format *f = &c->format;
    if (f->rate < WAC__MIN_RATE || f->rate > WAC__MAX_RATE)
        return wac__context_fail(ctx, WAC_ERR_FORMAT_UNSUPPORTED, "rate %u Hz: supported rates are %u..%u Hz",
                                 f->rate, WAC__MIN_RATE, WAC__MAX_RATE);
    if (f->channels < 1 || f->channels > WAC__MAX_CHANNELS)
        return wac__context_fail(ctx, WAC_ERR_FORMAT_UNSUPPORTED, "%u channels: supported are 1..%u", f->channels,
                                 WAC__MAX_CHANNELS);
    if (f->sample != WAC_SAMPLE_F32 && f->sample != WAC_SAMPLE_S16)
        return wac__context_fail(ctx, WAC_ERR_FORMAT_UNSUPPORTED, "unknown sample type %d", (int)f->sample);
    if (c->ring_ms == 0 || c->ring_ms > WAC__MAX_RING_MS)
        return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "ring of %u ms: must be 1..%u ms", c->ring_ms,
                                 WAC__MAX_RING_MS);
    uint64_t ring_frames = ((uint64_t)c->ring_ms * f->rate + 999) / 1000;
    uint32_t chunk = c->chunk_frames ? c->chunk_frames : f->rate / 10;
    if (ring_frames < chunk)
        return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT,
                                 "ring of %u ms (%llu frames) is smaller than one chunk (%u frames)", c->ring_ms,
                                 (unsigned long long)ring_frames, chunk);
    if (c->latency_ms > WAC__MAX_LATENCY_MS)
        return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "latency of %u ms: at most %u ms", c->latency_ms,
                                 WAC__MAX_LATENCY_MS);
    if (c->on_event && !c->on_audio)
        return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT,
                                 "on_event needs on_audio; read-style consumers pull events with wac_capture_next_event");
    return 0;
}

static int init_sync(wac_capture *cap)
{
    if (wac__mutex_init(&cap->control_lock))
        return WAC_ERR_SYSTEM;
    if (wac__mutex_init(&cap->events_lock)) {
        wac__mutex_destroy(&cap->control_lock);
        return WAC_ERR_SYSTEM;
    }
    if (wac__cond_init(&cap->reader_left)) {
        wac__mutex_destroy(&cap->events_lock);
        wac__mutex_destroy(&cap->control_lock);
        return WAC_ERR_SYSTEM;
    }
    return 0;
}

static void destroy_sync(wac_capture *cap)
{
    wac__cond_destroy(&cap->reader_left);
    wac__mutex_destroy(&cap->events_lock);
    wac__mutex_destroy(&cap->control_lock);
}

/* Buffers and the backend's part: everything but the handle itself. */
void wac__capture_release(wac_capture *cap)
{
    if (cap->backend_data) {
        cap->backend->capture_close(cap->backend_data);
        cap->backend_data = NULL;
    }
    if (cap->s) {
        wac__ring_free(&cap->s->ring);
        wac__free(cap->s);
        cap->s = NULL;
    }
    wac__wake_close(&cap->wake);
    wac__free(cap->chunk_buffer);
    cap->chunk_buffer = NULL;
    wac__free(cap->ctl_events);
    cap->ctl_events = NULL;
    cap->ctl_count = cap->ctl_capacity = 0;
    wac__free(cap->target_name);
    cap->target_name = NULL;
}

/* Free a handle for good (context close). */
void wac__capture_free(wac_capture *cap)
{
    wac__capture_release(cap); /* nothing left after close, except on the paths that failed early */
    destroy_sync(cap);
    wac__free(cap);
}

int wac_capture_open(wac_context *ctx, const wac_capture_config *config, wac_capture **out)
{
    if (out)
        *out = NULL;
    if (!ctx)
        return WAC_ERR_INVALID_ARGUMENT;
    if (!config || !out)
        return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "config and out must not be NULL");
    if (config->size < WAC__CONFIG_V1_SIZE || config->size > sizeof *config)
        return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT,
                                 "config->size is %zu: initialise the config with wac_capture_config_init()",
                                 config->size);
    wac_capture_config c;
    wac_capture_config_init(&c);
    memcpy(&c, config, config->size);
    int rc = validate(ctx, &c);
    if (rc)
        return rc;

    wac_capture *cap = wac__calloc(1, sizeof *cap);
    if (cap) {
        cap->s = wac__calloc(1, sizeof *cap->s);
        if (!cap->s) {
            wac__free(cap);
            cap = NULL;
        }
    }
    if (!cap)
        return wac__context_fail(ctx, WAC_ERR_NO_MEMORY, "no memory for a capture");
    cap->ctx = ctx;
    cap->id = wac__handle_id();
    cap->backend = ctx->backend;
    wac__wake_init_none(&cap->wake);
    cap->s->config = c;
    cap->callback = c.on_audio != NULL;
    if (c.target.name) {
        cap->target_name = wac__strdup(c.target.name);
        if (!cap->target_name) {
            wac__free(cap->s);
            wac__free(cap);
            return wac__context_fail(ctx, WAC_ERR_NO_MEMORY, "no memory for a capture");
        }
        cap->s->config.target.name = cap->target_name;
    }
    cap->format = c.format;
    atomic_store(&cap->period_ns, WAC__DEFAULT_PERIOD_NS);
    rc = init_sync(cap);
    if (rc) {
        wac__free(cap->target_name);
        wac__free(cap->s);
        wac__free(cap);
        return wac__context_fail(ctx, rc, "cannot create a capture's locks");
    }

    /* The backend may narrow the format, so buffers come after it. */
    rc = ctx->backend->capture_open(ctx->backend_data, cap, &cap->backend_data);
    if (rc)
        goto fail;
    cap->frame_bytes = frame_bytes_of(&cap->format);
    cap->chunk_frames = c.chunk_frames ? c.chunk_frames : cap->format.rate / 10;
    uint32_t capacity = wac__ring_round_capacity(((uint64_t)c.ring_ms * cap->format.rate + 999) / 1000);
    if (capacity < cap->chunk_frames) {
        rc = wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "ring smaller than one chunk at the negotiated rate");
        goto fail;
    }
    rc = wac__ring_init(&cap->s->ring, capacity, cap->frame_bytes);
    if (rc == 0)
        rc = wac__wake_init(&cap->wake);
    if (rc == 0) {
        /* Reserved now, so that the events every capture posts (STARTED, its
         * target attached, ENDED) are never dropped for want of memory later:
         * a start that succeeded without its STARTED event would be a lie. */
        cap->ctl_events = wac__calloc(WAC__CTL_EVENTS, sizeof *cap->ctl_events);
        cap->ctl_capacity = cap->ctl_events ? WAC__CTL_EVENTS : 0;
        if (!cap->ctl_events)
            rc = WAC_ERR_NO_MEMORY;
    }
    if (rc == 0 && c.on_audio) {
        cap->chunk_buffer = wac__malloc((size_t)cap->chunk_frames * cap->frame_bytes);
        if (!cap->chunk_buffer)
            rc = WAC_ERR_NO_MEMORY;
    }
    if (rc) {
        wac__context_fail(ctx, rc, "cannot allocate the capture's buffers (%u frames)", capacity);
        goto fail;
    }
    wac__stream_reset(cap, wac__now_ns());
    atomic_store(&cap->state, WAC_STATE_OPEN);

    wac__mutex_lock(&ctx->lock);
    cap->next = ctx->captures;
    ctx->captures = cap;
    wac__mutex_unlock(&ctx->lock);
    if (c.on_audio) {
        rc = wac__dispatch_add(ctx, cap);
        if (rc) {
            wac_capture_close(cap); /* stays in the list as a closed handle */
            return wac__context_fail(ctx, rc, "cannot start the dispatch thread");
        }
    }
    *out = cap;
    return 0;

fail:
    wac__capture_release(cap);
    destroy_sync(cap);
    wac__free(cap);
    return rc;
}

int wac_capture_start(wac_capture *cap)
{
    if (!cap)
        return WAC_ERR_INVALID_ARGUMENT;
    wac__mutex_lock(&cap->control_lock);
    int rc = 0;
    int state = atomic_load(&cap->state);
    if (atomic_load(&cap->closed)) {
        rc = WAC_ERR_CLOSED;
    } else if (state != WAC_STATE_OPEN) {
        rc = wac__capture_fail(cap, WAC_ERR_STATE, state == WAC_STATE_RUNNING ? "capture already started"
                                                                               : "capture has ended; open a new one");
    } else {
        wac__stream_reset(cap, wac__now_ns());
        wac__stream_post(cap, WAC_EVENT_STARTED, 0, 0, 0, NULL);
        atomic_store(&cap->state, WAC_STATE_RUNNING);
        rc = cap->backend->capture_start(cap->backend_data);
        if (rc) {
            cap->backend->capture_stop(cap->backend_data);
            wac__stream_end(cap, rc, wac__detail_of(cap->id));
        }
    }
    wac__mutex_unlock(&cap->control_lock);
    return rc;
}

int wac_capture_stop(wac_capture *cap)
{
    if (!cap)
        return WAC_ERR_INVALID_ARGUMENT;
    wac__mutex_lock(&cap->control_lock);
    int rc = 0;
    if (atomic_load(&cap->closed)) {
        rc = WAC_ERR_CLOSED;
    } else if (atomic_load(&cap->state) == WAC_STATE_OPEN) {
        rc = wac__capture_fail(cap, WAC_ERR_STATE, "capture not started");
    } else if (cap->user_stopped) {
        rc = wac__capture_fail(cap, WAC_ERR_STATE, "capture already stopped");
    } else {
        cap->user_stopped = true;
        cap->backend->capture_stop(cap->backend_data);
        wac__stream_end(cap, 0, NULL); /* no-op if it had ended by itself */
    }
    wac__mutex_unlock(&cap->control_lock);
    return rc;
}

int wac_capture_close(wac_capture *cap)
{
    if (!cap)
        return 0;
    wac_context *ctx = cap->ctx;
    wac__mutex_lock(&cap->control_lock);
    if (atomic_load(&cap->closed)) {
        wac__mutex_unlock(&cap->control_lock);
        return WAC_ERR_CLOSED;
    }
    atomic_store(&cap->closed, true);
    if (atomic_load(&cap->state) == WAC_STATE_RUNNING || atomic_load(&cap->state) == WAC_STATE_ENDED)
        cap->backend->capture_stop(cap->backend_data);
    atomic_store(&cap->state, WAC_STATE_CLOSED);
    if (cap->in_poller)
        wac__dispatch_remove(ctx, cap);
    if (ctx->dispatch_running && wac__thread_is_current(ctx->dispatch_thread) &&
        atomic_load(&ctx->dispatching) == cap) {
        /* Closed from its own callback: the dispatch thread frees it after the
         * callback returns. */
        cap->release_deferred = true;
    } else {
        wac__wake_signal(&cap->wake); /* a blocked reader returns WAC_ERR_CLOSED */
        while (atomic_load(&cap->reader_active))
            wac__cond_wait(&cap->reader_left, &cap->control_lock);
        wac__capture_release(cap);
    }
    wac__mutex_unlock(&cap->control_lock);
    return 0;
}

wac_capture_state wac_capture_get_state(const wac_capture *cap)
{
    if (!cap)
        return WAC_STATE_CLOSED;
    return (wac_capture_state)atomic_load(&cap->state);
}

int wac_capture_get_format(const wac_capture *cap, wac_format *format, uint32_t *chunk_frames)
{
    if (!cap)
        return WAC_ERR_INVALID_ARGUMENT;
    if (atomic_load(&cap->closed))
        return WAC_ERR_CLOSED;
    if (format)
        *format = cap->format;
    if (chunk_frames)
        *chunk_frames = cap->chunk_frames;
    return 0;
}

/* fd / event-handle style: arm the wake-up object (control_lock held). */
static int arm_wake(wac_capture *cap)
{
    if (atomic_load(&cap->closed))
        return WAC_ERR_CLOSED;
    if (cap->callback)
        return wac__capture_fail(cap, WAC_ERR_STATE, "this capture delivers audio to its on_audio callback");
    if (!atomic_exchange(&cap->fd_mode, true)) {
        atomic_store(&cap->wanted, cap->chunk_frames);
        /* Readable at once; a consumer that finds nothing re-arms it. */
        wac__stream_signal(cap);
    }
    return 0;
}

int wac_capture_fd(wac_capture *cap)
{
    if (!cap)
        return WAC_ERR_INVALID_ARGUMENT;
#ifdef _WIN32
    if (atomic_load(&cap->closed))
        return WAC_ERR_CLOSED;
    return wac__capture_fail(cap, WAC_ERR_NOT_SUPPORTED, "no descriptor on Windows: use wac_capture_event_handle()");
#else
    wac__mutex_lock(&cap->control_lock);
    int rc = arm_wake(cap);
    if (rc == 0)
        rc = wac__wake_fd(&cap->wake);
    wac__mutex_unlock(&cap->control_lock);
    return rc;
#endif
}

int wac_capture_event_handle(wac_capture *cap, void **handle)
{
    if (!cap || !handle)
        return WAC_ERR_INVALID_ARGUMENT;
#ifdef _WIN32
    wac__mutex_lock(&cap->control_lock);
    int rc = arm_wake(cap);
    if (rc == 0)
        *handle = wac__wake_handle(&cap->wake);
    wac__mutex_unlock(&cap->control_lock);
    return rc;
#else
    if (atomic_load(&cap->closed))
        return WAC_ERR_CLOSED;
    return wac__capture_fail(cap, WAC_ERR_NOT_SUPPORTED, "event handles are Windows-only: use wac_capture_fd()");
#endif
}

int wac_capture_get_stats(const wac_capture *cap, wac_capture_stats *stats, size_t size)
{
    if (!cap || !stats || size == 0)
        return WAC_ERR_INVALID_ARGUMENT;
    /* The lock keeps close from freeing the ring while we look at it. */
    wac_capture *locked = (wac_capture *)cap;
    wac__mutex_lock(&locked->control_lock);
    if (atomic_load(&cap->closed)) {
        wac__mutex_unlock(&locked->control_lock);
        return WAC_ERR_CLOSED;
    }
    wac_capture_stats s;
    memset(&s, 0, sizeof s);
    s.frames_delivered = atomic_load(&cap->frames_delivered);
    s.frames_lost = atomic_load(&cap->frames_lost);
    s.frames_silence = atomic_load(&cap->frames_silence);
    s.frames_skipped = atomic_load(&cap->frames_skipped);
    s.overruns = atomic_load(&cap->overruns);
    s.discontinuities = atomic_load(&cap->discontinuities);
    s.ring_fill = wac__ring_fill(&cap->s->ring);
    s.ring_capacity = cap->s->ring.capacity;
    s.streams = atomic_load(&cap->streams);
    s.events_dropped = atomic_load(&cap->events_dropped);
    s.frames_discarded = atomic_load(&cap->frames_discarded);
    s.timestamps_rejected = atomic_load(&cap->timestamps_rejected);
    wac__mutex_unlock(&locked->control_lock);
    memcpy(stats, &s, size < sizeof s ? size : sizeof s);
    return 0;
}

int wac_dummy_inject(wac_capture *cap, wac_dummy_fault fault, uint32_t amount)
{
    if (!cap)
        return WAC_ERR_INVALID_ARGUMENT;
    wac__mutex_lock(&cap->control_lock);
    int rc;
    if (atomic_load(&cap->closed))
        rc = WAC_ERR_CLOSED;
    else if (!cap->backend->inject)
        rc = wac__capture_fail(cap, WAC_ERR_NOT_SUPPORTED, "fault injection needs the dummy backend, not %s",
                               cap->backend->name);
    else if (atomic_load(&cap->state) != WAC_STATE_RUNNING)
        rc = wac__capture_fail(cap, WAC_ERR_STATE, "capture not running");
    else
        rc = cap->backend->inject(cap->backend_data, fault, amount);
    wac__mutex_unlock(&cap->control_lock);
    return rc;
}

/* ---- for backends ---- */

const wac_capture_config *wac__capture_config(const wac_capture *cap)
{
    return &cap->s->config;
}

const wac_format *wac__capture_format(const wac_capture *cap)
{
    return &cap->format;
}

uint32_t wac__capture_frame_bytes(const wac_capture *cap)
{
    return frame_bytes_of(&cap->format);
}

void wac__capture_set_format(wac_capture *cap, const wac_format *format)
{
    cap->format = *format;
}

void wac__capture_set_period(wac_capture *cap, int64_t period_ns)
{
    if (period_ns > 0)
        atomic_store_explicit(&cap->period_ns, period_ns, memory_order_relaxed);
}

void wac__capture_set_heard_after(wac_capture *cap, int64_t delay_ns)
{
    atomic_store_explicit(&cap->heard_after_ns, delay_ns, memory_order_relaxed);
}

void wac__capture_streams_changed(wac_capture *cap, int delta)
{
    atomic_fetch_add(&cap->streams, (uint32_t)delta);
}
