/* dummy.c — a deterministic, clock-driven fake audio engine for testing the
 * core. Never chosen by "auto".
 *
 * One thread per context plays the engine's real-time thread: every period it
 * produces, for each running capture, the frames its clock says are due. Every
 * sample encodes the number of frames produced so far (see wac.h,
 * wac_dummy_inject), so a test can tell exactly which frames arrived, which
 * were lost and where silence was inserted. Faults are injected from any
 * thread and applied by the engine thread at its next period. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach/attach.h"
#include "alloc.h"
#include "os/os.h"
#include "backend/backend.h"
#include "backend/test-hooks.h"

#define DUMMY_MIC "dummy-mic"

struct dummy;

struct dummy_capture {
    struct dummy *d;
    wac_capture *cap;
    struct dummy_capture *next; /* in d->running */
    bool running;
    struct wac__attach attach; /* one stream, key 1, owned by pid */
    uint32_t pid;
    wac_format format;
    uint32_t frame_bytes;
    uint8_t *scratch;
    uint32_t scratch_frames;

    int64_t start_ns;
    uint64_t clock_frames; /* source clock: frames accounted for (produced or passed over) */
    uint64_t produced;     /* frames produced: the counter in the samples */

    /* Faults (guarded by d->lock). */
    int64_t stall_until, burst_until, skip_until;
    uint32_t overrun_extra;
    uint32_t loss_ms;
    int64_t late_ns; /* added to every time stamp */
    uint32_t exits_requested; /* each is one exit, on a tick of its own */
    uint32_t reattach_after_ms;
    bool detached;
    int64_t reattach_at;
};

struct dummy {
    wac__mutex lock;
    wac__thread thread;
    bool thread_running;
    _Atomic bool quit;
    bool server_lost;
    int64_t period_ns;
    struct dummy_capture *running;
    /* The player's volume, applied to what it plays. */
    _Atomic float volume;
    _Atomic bool muted;
};

static void encode(const struct dummy_capture *dc, uint8_t *dst, uint64_t counter, uint32_t frames)
{
    uint32_t ch = dc->format.channels;
    float gain = atomic_load(&dc->d->muted) ? 0.0f : atomic_load(&dc->d->volume);
    if (dc->format.sample == WAC_SAMPLE_F32) {
        float *out = (float *)(void *)dst;
        for (uint32_t i = 0; i < frames; i++) {
            float v = gain * (float)((counter + i) % ((1u << 24) - 1) + 1) / (float)(1u << 24);
            for (uint32_t c = 0; c < ch; c++)
                *out++ = v;
        }
    } else {
        int16_t *out = (int16_t *)(void *)dst;
        for (uint32_t i = 0; i < frames; i++) {
            int16_t v = (int16_t)(gain * (float)((counter + i) % 32767 + 1));
            for (uint32_t c = 0; c < ch; c++)
                *out++ = v;
        }
    }
}

static int64_t clock_time(const struct dummy_capture *dc, uint64_t frames)
{
    return dc->start_ns + (int64_t)(frames * 1000000000 / dc->format.rate);
}

/* Produce `frames` frames whose first belongs at monotonic time `first_ns`. */
static void produce(struct dummy_capture *dc, uint64_t frames, int64_t first_ns)
{
    uint64_t done = 0;
    while (done < frames) {
        uint32_t n = frames - done > dc->scratch_frames ? dc->scratch_frames : (uint32_t)(frames - done);
        encode(dc, dc->scratch, dc->produced, n);
        int64_t ts = first_ns + (int64_t)(done * 1000000000 / dc->format.rate) + dc->late_ns;
        wac__stream_push(dc->cap, dc->scratch, n, ts);
        dc->produced += n;
        done += n;
    }
}

static void unlink_running(struct dummy *d, struct dummy_capture *dc)
{
    for (struct dummy_capture **p = &d->running; *p; p = &(*p)->next)
        if (*p == dc) {
            *p = dc->next;
            break;
        }
    dc->running = false;
    dc->next = NULL;
}

/* One period of one capture. Returns false when its stream ended. */
static bool tick_capture(struct dummy *d, struct dummy_capture *dc, int64_t now)
{
    uint64_t due = (uint64_t)((now - dc->start_ns) / 1000) * dc->format.rate / 1000000;
    if (d->server_lost) {
        unlink_running(d, dc);
        wac__attach_end(&dc->attach, WAC_ERR_SERVER_LOST, "dummy: connection to the server lost (injected)");
        return false;
    }
    if (dc->exits_requested && !dc->detached) {
        /* The player's stream goes, then its process. A PID target never
         * comes back; anything else plays again after reattach_after_ms. */
        dc->exits_requested--;
        wac__attach_gone(&dc->attach, 1);
        if (wac__attach_exited(&dc->attach, dc->pid, NULL)) {
            char why[64];
            snprintf(why, sizeof why, "pid %u exited (injected)", dc->pid);
            unlink_running(d, dc);
            wac__attach_end(&dc->attach, WAC_ERR_TARGET_EXITED, why);
            return false;
        }
        dc->detached = true;
        dc->reattach_at = now + (int64_t)dc->reattach_after_ms * 1000000;
    }
    if (dc->detached && now >= dc->reattach_at) {
        struct wac__attach_entry *e = wac__attach_add(&dc->attach, 1, dc->pid);
        if (e) {
            dc->detached = false;
            wac__attach_live(&dc->attach, e, NULL);
        }
    }
    if (dc->detached || now < dc->stall_until) {
        dc->clock_frames = due; /* the source's time passes with nothing to deliver */
        wac__stream_tick(dc->cap, now);
        return true;
    }
    if (now < dc->skip_until) {
        dc->clock_frames = due; /* no ticks either: the gap shows in the next timestamps */
        return true;
    }
    if (now < dc->burst_until)
        return true; /* hold the data; it goes out with its own timestamps later */
    if (due > dc->clock_frames) {
        produce(dc, due - dc->clock_frames, clock_time(dc, dc->clock_frames));
        dc->clock_frames = due;
    }
    if (dc->loss_ms) {
        /* The next loss_ms of audio never arrive, and the engine says so. */
        uint64_t lost = (uint64_t)dc->loss_ms * dc->format.rate / 1000;
        dc->loss_ms = 0;
        dc->clock_frames += lost;
        wac__stream_skip(dc->cap, lost);
    }
    if (dc->overrun_extra) {
        /* Extra frames beyond the clock, as if the engine had buffered them. */
        produce(dc, dc->overrun_extra, now - (int64_t)((uint64_t)dc->overrun_extra * 1000000000 / dc->format.rate));
        dc->overrun_extra = 0;
    }
    return true;
}

static void *engine_main(void *arg)
{
    struct dummy *d = arg;
    int64_t next = wac__now_ns();
    while (!atomic_load(&d->quit)) {
        next += d->period_ns;
        wac__sleep_until(next);
        int64_t now = wac__now_ns();
        if (now - next > 10 * d->period_ns)
            next = now; /* we were suspended: don't race to catch up */
        wac__mutex_lock(&d->lock);
        struct dummy_capture *dc = d->running;
        while (dc) {
            struct dummy_capture *following = dc->next;
            tick_capture(d, dc, now);
            dc = following;
        }
        wac__mutex_unlock(&d->lock);
    }
    return NULL;
}

static int dummy_connect(wac_context *ctx, void **data, char *detail, size_t detail_size)
{
    (void)ctx;
    struct wac__test_hooks hooks = wac__test_hooks();
    if (hooks.dummy_unavailable) {
        snprintf(detail, detail_size, "dummy server not running (WAC_DUMMY_UNAVAILABLE is set)");
        return WAC_ERR_BACKEND_UNAVAILABLE;
    }
    struct dummy *d = wac__calloc(1, sizeof *d);
    if (!d || wac__mutex_init(&d->lock)) {
        wac__free(d);
        snprintf(detail, detail_size, "no memory");
        return WAC_ERR_NO_MEMORY;
    }
    d->period_ns = (int64_t)(hooks.dummy_period_ms ? hooks.dummy_period_ms : 10) * 1000000;
    atomic_init(&d->volume, 1.0f);
    atomic_init(&d->muted, false);
    *data = d;
    return 0;
}

static void dummy_disconnect(void *data)
{
    struct dummy *d = data;
    if (d->thread_running) {
        atomic_store(&d->quit, true);
        wac__thread_join(d->thread);
    }
    wac__mutex_destroy(&d->lock);
    wac__free(d);
}

static int dummy_capture_open(void *data, wac_capture *cap, void **cap_data)
{
    struct dummy *d = data;
    const wac_capture_config *c = wac__capture_config(cap);
    wac__mutex_lock(&d->lock);
    bool lost = d->server_lost;
    wac__mutex_unlock(&d->lock);
    if (lost)
        return wac__capture_error(cap, WAC_ERR_SERVER_LOST, "dummy: the server connection was lost");
    /* Its one input device plays what the player plays. */
    if (c->target.kind == WAC_TARGET_DEVICE && c->target.name && c->target.name[0] &&
        strcmp(c->target.name, "default") != 0 && strcmp(c->target.name, DUMMY_MIC) != 0)
        return wac__capture_error(cap, WAC_ERR_TARGET_NOT_FOUND, "dummy: no input device named \"%s\" (only %s)",
                                  c->target.name, DUMMY_MIC);
    struct dummy_capture *dc = wac__calloc(1, sizeof *dc);
    if (!dc)
        return wac__capture_error(cap, WAC_ERR_NO_MEMORY, "no memory");
    dc->d = d;
    dc->cap = cap;
    wac__attach_init(&dc->attach, cap, NULL);
    /* The fake player: the target pid itself; for a NAME target, this process
     * (as the session listing says); no one in particular otherwise. */
    if (c->target.kind == WAC_TARGET_PID && !c->target.exclude)
        dc->pid = c->target.pid;
    else if (c->target.kind == WAC_TARGET_NAME && !c->target.exclude)
        dc->pid = wac__process_self();
    dc->format = c->format;
    dc->frame_bytes = wac__capture_frame_bytes(cap);
    dc->scratch_frames = 4096;
    dc->scratch = wac__malloc((size_t)dc->scratch_frames * dc->frame_bytes);
    if (!dc->scratch) {
        wac__attach_free(&dc->attach);
        wac__free(dc);
        return wac__capture_error(cap, WAC_ERR_NO_MEMORY, "no memory");
    }
    wac__capture_set_period(cap, d->period_ns);
    *cap_data = dc;
    return 0;
}

static int dummy_capture_start(void *cap_data)
{
    struct dummy_capture *dc = cap_data;
    struct dummy *d = dc->d;
    wac__mutex_lock(&d->lock);
    int rc = 0;
    if (d->server_lost) {
        rc = wac__capture_error(dc->cap, WAC_ERR_SERVER_LOST, "dummy: the server connection was lost");
    } else if (!d->thread_running) {
        rc = wac__thread_start(&d->thread, engine_main, d);
        d->thread_running = rc == 0;
        if (rc)
            wac__capture_error(dc->cap, rc, "dummy: cannot start the engine thread");
    }
    if (rc == 0) {
        dc->start_ns = wac__now_ns();
        dc->detached = false;
        wac__attach_start(&dc->attach);
        struct wac__attach_entry *e = wac__attach_add(&dc->attach, 1, dc->pid);
        wac__attach_started(&dc->attach);
        if (e)
            wac__attach_live(&dc->attach, e, NULL);
        else
            dc->detached = true; /* no memory: plays again at the next tick */
        dc->next = d->running;
        d->running = dc;
        dc->running = true;
    }
    wac__mutex_unlock(&d->lock);
    return rc;
}

static void dummy_capture_stop(void *cap_data)
{
    struct dummy_capture *dc = cap_data;
    wac__mutex_lock(&dc->d->lock);
    if (dc->running)
        unlink_running(dc->d, dc);
    wac__attach_stop(&dc->attach);
    wac__mutex_unlock(&dc->d->lock);
}

static void dummy_capture_close(void *cap_data)
{
    struct dummy_capture *dc = cap_data;
    dummy_capture_stop(dc);
    wac__attach_free(&dc->attach);
    wac__free(dc->scratch);
    wac__free(dc);
}

static int dummy_list_sessions(void *data, struct wac__session_list_builder *list)
{
    struct dummy *d = data;
    uint32_t streams = 0;
    wac__mutex_lock(&d->lock);
    for (struct dummy_capture *dc = d->running; dc; dc = dc->next)
        streams += dc->detached ? 0 : 1;
    wac__mutex_unlock(&d->lock);
    /* The dummy's "player" is the calling process, one stream per running capture. */
    return wac__session_list_add(list, wac__process_self(), "wac-dummy-player", "WAC dummy player", NULL, streams,
                                 streams > 0, atomic_load(&d->volume), atomic_load(&d->muted));
}

static int dummy_list_devices(void *data, struct wac__device_list_builder *list)
{
    (void)data;
    return wac__device_list_add(list, DUMMY_MIC, "WAC dummy microphone", false, true, 48000, 2);
}

/* The player answers to the calling process's pid and to its own name. */
static bool is_player(const wac_target *target, char *detail, size_t detail_size)
{
    if (target->kind == WAC_TARGET_PID && target->pid == wac__process_self())
        return true;
    if (target->kind == WAC_TARGET_NAME && strcmp(target->name, "wac-dummy-player") == 0)
        return true;
    if (target->kind == WAC_TARGET_PID)
        snprintf(detail, detail_size, "dummy: pid %u plays nothing (its player is pid %u)", (unsigned)target->pid,
                 (unsigned)wac__process_self());
    else
        snprintf(detail, detail_size, "dummy: no process named \"%s\" (its player is wac-dummy-player)",
                 target->name);
    return false;
}

static int dummy_get_volume(void *data, const wac_target *target, wac_volume *out, char *detail, size_t detail_size)
{
    struct dummy *d = data;
    if (!is_player(target, detail, detail_size))
        return WAC_ERR_TARGET_NOT_FOUND;
    *out = (wac_volume){.level = atomic_load(&d->volume), .muted = atomic_load(&d->muted), .streams = 1};
    return 0;
}

static int dummy_set_volume(void *data, const wac_target *target, const float *level, const bool *muted, char *detail,
                            size_t detail_size)
{
    struct dummy *d = data;
    if (!is_player(target, detail, detail_size))
        return WAC_ERR_TARGET_NOT_FOUND;
    if (level)
        atomic_store(&d->volume, *level);
    if (muted)
        atomic_store(&d->muted, *muted);
    return 0;
}

static int dummy_inject(void *cap_data, wac_dummy_fault fault, uint32_t amount)
{
    struct dummy_capture *dc = cap_data;
    struct dummy *d = dc->d;
    int64_t until = wac__now_ns() + (int64_t)amount * 1000000;
    int rc = 0;
    wac__mutex_lock(&d->lock);
    if (!dc->running) {
        rc = wac__capture_error(dc->cap, WAC_ERR_STATE, "dummy: capture not running");
    } else {
        switch (fault) {
        case WAC_DUMMY_STALL: dc->stall_until = until; break;
        case WAC_DUMMY_BURST: dc->burst_until = until; break;
        case WAC_DUMMY_SKIP: dc->skip_until = until; break;
        case WAC_DUMMY_LOSS: dc->loss_ms += amount; break;
        case WAC_DUMMY_LATE_STAMPS: dc->late_ns = (int64_t)amount * 1000000; break;
        case WAC_DUMMY_EARLY_STAMPS: dc->late_ns = -(int64_t)amount * 1000000; break;
        case WAC_DUMMY_OVERRUN: dc->overrun_extra += amount; break;
        case WAC_DUMMY_DISCONNECT: d->server_lost = true; break;
        case WAC_DUMMY_TARGET_EXIT:
            dc->exits_requested++;
            dc->reattach_after_ms = amount;
            break;
        default: rc = wac__capture_error(dc->cap, WAC_ERR_INVALID_ARGUMENT, "unknown dummy fault %d", (int)fault);
        }
    }
    wac__mutex_unlock(&d->lock);
    return rc;
}

const struct wac__backend wac__backend_dummy = {
    .name = "dummy",
    .automatic = false,
    .connect = dummy_connect,
    .disconnect = dummy_disconnect,
    .capture_open = dummy_capture_open,
    .capture_start = dummy_capture_start,
    .capture_stop = dummy_capture_stop,
    .capture_close = dummy_capture_close,
    .list_sessions = dummy_list_sessions,
    .list_devices = dummy_list_devices,
    .get_volume = dummy_get_volume,
    .set_volume = dummy_set_volume,
    .inject = dummy_inject,
};
