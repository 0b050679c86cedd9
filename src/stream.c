/* stream.c — the producer side of a capture's stream: what the backend's
 * real-time thread calls (push, tick, skip), the stream clock, and the end of
 * the stream.
 *
 * The real-time functions only copy into the ring, count, and signal: no
 * allocation, no lock, no log, no user code, at most one write(2) when a
 * consumer sleeps and what it waits for is there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "timebase.h"

/* ---- the clock ------------------------------------------------------------- */

/* Seqlock writer: the producer is the only writer, so it never waits. */
static void clock_publish(wac_capture *cap, uint64_t position, int64_t ns)
{
    cap->s->prod.base_position = position;
    cap->s->prod.base_ns = ns;
    uint32_t seq = atomic_load_explicit(&cap->clock_seq, memory_order_relaxed);
    atomic_store_explicit(&cap->clock_seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&cap->clock_position, position, memory_order_relaxed);
    atomic_store_explicit(&cap->clock_ns, ns, memory_order_relaxed);
    atomic_store_explicit(&cap->clock_seq, seq + 2, memory_order_release);
}

int64_t wac__stream_time_of(wac_capture *cap, uint64_t position)
{
    uint32_t s1, s2;
    uint64_t base_position;
    int64_t base_ns;
    do {
        s1 = atomic_load_explicit(&cap->clock_seq, memory_order_acquire);
        base_position = atomic_load_explicit(&cap->clock_position, memory_order_relaxed);
        base_ns = atomic_load_explicit(&cap->clock_ns, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        s2 = atomic_load_explicit(&cap->clock_seq, memory_order_relaxed);
    } while ((s1 & 1) || s1 != s2);
    return base_ns + wac__frames_to_ns((int64_t)(position - base_position), cap->format.rate) +
           atomic_load_explicit(&cap->heard_after_ns, memory_order_relaxed);
}

void wac__stream_reset(wac_capture *cap, int64_t start_ns)
{
    memset(&cap->s->prod, 0, sizeof cap->s->prod);
    clock_publish(cap, 0, start_ns);
}

/* ---- waking the consumer -------------------------------------------------- */

void wac__stream_signal(wac_capture *cap)
{
    /* Only the 0->1 edge reaches the kernel; the consumer clears it. */
    if (!atomic_exchange_explicit(&cap->pending_signal, 1, memory_order_acq_rel))
        wac__wake_signal(&cap->wake);
}

static void signal_if_ready(wac_capture *cap)
{
    /* Pairs with the consumer's fence between storing `wanted` and checking the
     * ring: either it sees our frames or we see it waiting. */
    atomic_thread_fence(memory_order_seq_cst);
    uint32_t wanted = atomic_load_explicit(&cap->wanted, memory_order_relaxed);
    if (wanted && wac__ring_fill(&cap->s->ring) >= wanted)
        wac__stream_signal(cap);
}

/* ---- writing ---------------------------------------------------------------- */

static bool rt_event_push(wac_capture *cap, wac_event_type type, uint64_t frames)
{
    uint64_t w = wac__index_load_relaxed(&cap->rt_write);
    uint64_t r = wac__index_load_acquire(&cap->rt_read);
    if (w - r >= WAC__RT_EVENTS)
        return false;
    struct wac__rt_event *ev = &cap->s->rt_events[w % WAC__RT_EVENTS];
    ev->type = type;
    ev->index = wac__index_load_relaxed(&cap->s->ring.write_index);
    ev->frames = frames;
    wac__index_store_release(&cap->rt_write, w + 1);
    return true;
}

/* Report gaps before the next frame is written. False if an event could not be
 * queued: then nothing may be written, or the gap would land in the wrong place. */
static bool flush_gaps(wac_capture *cap)
{
    struct wac__producer *p = &cap->s->prod;
    if (p->skip_pending) {
        if (!rt_event_push(cap, WAC_EVENT_DISCONTINUITY, p->skip_pending))
            return false;
        atomic_fetch_add_explicit(&cap->discontinuities, 1, memory_order_relaxed);
        p->skip_pending = 0;
    }
    if (p->lost_pending) {
        if (!rt_event_push(cap, WAC_EVENT_OVERRUN, p->lost_pending))
            return false;
        atomic_fetch_add_explicit(&cap->overruns, 1, memory_order_relaxed);
        p->lost_pending = 0;
    }
    return true;
}

static void lose(wac_capture *cap, uint64_t frames)
{
    cap->s->prod.lost_pending += frames;
    atomic_fetch_add_explicit(&cap->frames_lost, frames, memory_order_relaxed);
}

/* Append frames (NULL: silence) to the timeline. What does not fit is lost,
 * counted, and reported where it was missing. */
static void write_frames(wac_capture *cap, const uint8_t *src, uint64_t frames)
{
    struct wac__producer *p = &cap->s->prod;
    uint64_t left = frames;
    /* While the ring stays full, losses accumulate into one overrun. */
    bool gap_open = p->lost_pending || p->skip_pending;
    if (!gap_open || (wac__ring_fill(&cap->s->ring) < cap->s->ring.capacity && flush_gaps(cap))) {
        while (left) {
            uint32_t n = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
            uint32_t written = wac__ring_write(&cap->s->ring, src, n);
            left -= written;
            if (src)
                src += (size_t)written * cap->frame_bytes;
            if (written < n)
                break;
        }
    }
    if (left)
        lose(cap, left);
    p->position += frames;
    atomic_store_explicit(&cap->producer_position, p->position, memory_order_relaxed);
}

static void skip_frames(wac_capture *cap, uint64_t frames)
{
    cap->s->prod.skip_pending += frames;
    cap->s->prod.position += frames;
    atomic_fetch_add_explicit(&cap->frames_skipped, frames, memory_order_relaxed);
    atomic_store_explicit(&cap->producer_position, cap->s->prod.position, memory_order_relaxed);
}

/* A gap in the timeline: fill it with silence or skip it. Ticks fill long
 * silences a little at a time; a gap that arrives whole and is longer than the
 * ring (a clock jump, a backend that does not tick) could only overflow the
 * ring as silence, so it is skipped and reported instead. */
static void cover_gap(wac_capture *cap, int64_t gap_ns)
{
    uint64_t frames = (uint64_t)wac__ns_to_frames(gap_ns, cap->format.rate);
    if (!frames)
        return;
    if (cap->s->config.fill_silence && frames <= cap->s->ring.capacity) {
        write_frames(cap, NULL, frames);
        atomic_fetch_add_explicit(&cap->frames_silence, frames, memory_order_relaxed);
    } else {
        skip_frames(cap, frames);
    }
}

/* Data whose timestamp is later than the stream's clock by more than this
 * leaves a gap: timestamps jitter by a fraction of a period. */
static int64_t push_gap_threshold(wac_capture *cap)
{
    return atomic_load_explicit(&cap->period_ns, memory_order_relaxed) + 10000000;
}

/* With no data for this long, silence starts: deliveries come a period apart
 * and may be late by another. */
static int64_t tick_gap_threshold(wac_capture *cap)
{
    return 2 * atomic_load_explicit(&cap->period_ns, memory_order_relaxed) + 20000000;
}

static int64_t expected_ns(const wac_capture *cap)
{
    const struct wac__producer *p = &cap->s->prod;
    return p->base_ns + wac__frames_to_ns((int64_t)(p->position - p->base_position), cap->format.rate);
}

/* A chunk's engine time this far off is no clock of this machine's:
 * trusted, a stamp hours before the stream's timeline would have the ticks
 * skip those hours, and one in the future would open a gap as long. An
 * engine delivers audio at most a graph cycle before it is heard. Audio it
 * held back (a frozen server, a stopped process) continues the timeline, so
 * the lower bound is the timeline, not now: a backlog older than any bound
 * still lands where it belongs (wac.h: timestamps_rejected). */
#define STAMP_AHEAD_MAX_NS WAC__NS_PER_S
#define STAMP_BEHIND_MAX_NS (600 * WAC__NS_PER_S)

static bool stamp_is_plausible(const wac_capture *cap, int64_t time_ns, int64_t now_ns)
{
    return time_ns <= now_ns + STAMP_AHEAD_MAX_NS && time_ns >= expected_ns(cap) - STAMP_BEHIND_MAX_NS;
}

/* The benchmarks' latency probe (bench/wac-bench.c): NULL in normal use. */
wac__probe_push_fn _Atomic wac__probe_push;

void wac__stream_push(wac_capture *cap, const void *frames, uint32_t n_frames, int64_t time_ns)
{
    if (!n_frames || atomic_load_explicit(&cap->finished, memory_order_relaxed))
        return;
    wac__probe_push_fn probe = atomic_load_explicit(&wac__probe_push, memory_order_relaxed);
    int64_t now_ns = wac__now_ns();
    if (time_ns != 0 && !stamp_is_plausible(cap, time_ns, now_ns)) {
        atomic_fetch_add_explicit(&cap->timestamps_rejected, 1, memory_order_relaxed);
        time_ns = 0;
    }
    /* A chunk without a usable time is dated by its arrival, which carries
     * how late the delivery was: that is a gap only past what the tick
     * allows a late delivery (under Wine, whose stamps wrap after 25.6 h of
     * uptime, 20 ms of thread jitter put silence into continuous audio). */
    bool by_arrival = time_ns == 0;
    if (by_arrival)
        time_ns = now_ns - wac__frames_to_ns(n_frames, cap->format.rate);
    int64_t gap_ns = time_ns - expected_ns(cap);
    if (gap_ns > (by_arrival ? tick_gap_threshold(cap) : push_gap_threshold(cap)))
        cover_gap(cap, gap_ns);
    uint64_t first = cap->s->prod.position;
    write_frames(cap, frames, n_frames);
    /* Follow the engine's clock: drift never accumulates into false gaps. */
    clock_publish(cap, first, time_ns);
    if (probe)
        probe(cap, cap->s->prod.position, now_ns);
    signal_if_ready(cap);
}

void wac__stream_tick(wac_capture *cap, int64_t now_ns)
{
    if (!cap->s->config.fill_silence || atomic_load_explicit(&cap->finished, memory_order_relaxed))
        return;
    int64_t behind_ns = now_ns - expected_ns(cap);
    int64_t threshold = tick_gap_threshold(cap);
    if (behind_ns <= threshold)
        return;
    /* Stay half a threshold behind real time, so data arriving late after a
     * silence overlaps it by little. */
    cover_gap(cap, behind_ns - threshold / 2);
    signal_if_ready(cap);
}

void wac__stream_count_mixed(wac_capture *cap, uint64_t silence, uint64_t discarded)
{
    if (silence)
        atomic_fetch_add_explicit(&cap->frames_silence, silence, memory_order_relaxed);
    if (discarded)
        atomic_fetch_add_explicit(&cap->frames_discarded, discarded, memory_order_relaxed);
}

void wac__stream_skip(wac_capture *cap, uint64_t frames)
{
    if (!frames || atomic_load_explicit(&cap->finished, memory_order_relaxed))
        return;
    skip_frames(cap, frames);
}

/* ---- control side ----------------------------------------------------------- */

static void post_locked_event(wac_capture *cap, const wac_event *ev)
{
    if (cap->ctl_count == cap->ctl_capacity) {
        size_t capacity = cap->ctl_capacity ? cap->ctl_capacity * 2 : WAC__CTL_EVENTS;
        struct wac__queued_event *grown = wac__realloc(cap->ctl_events, capacity * sizeof *grown);
        if (!grown) {
            /* Nowhere to put it: count it rather than fail silently. */
            atomic_fetch_add_explicit(&cap->events_dropped, 1, memory_order_relaxed);
            return;
        }
        cap->ctl_events = grown;
        cap->ctl_capacity = capacity;
    }
    struct wac__queued_event *q = &cap->ctl_events[cap->ctl_count++];
    /* Read under the lock, so control events are queued in index order. */
    q->index = wac__index_load_acquire(&cap->s->ring.write_index);
    q->event = *ev;
    atomic_fetch_add_explicit(&cap->ctl_pending, 1, memory_order_release);
}

static void post(wac_capture *cap, const wac_event *ev)
{
    wac__mutex_lock(&cap->events_lock);
    post_locked_event(cap, ev);
    wac__mutex_unlock(&cap->events_lock);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&cap->wanted, memory_order_relaxed))
        wac__stream_signal(cap);
}

static void make_event(wac_event *ev, wac_event_type type, uint32_t pid, uint32_t stream_id, int error,
                       const char *detail)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->pid = pid;
    ev->stream_id = stream_id;
    ev->error = error;
    if (detail)
        snprintf(ev->detail, sizeof ev->detail, "%s", detail);
}

void wac__stream_post(wac_capture *cap, wac_event_type type, uint32_t pid, uint32_t stream_id, int error,
                      const char *detail)
{
    wac_event ev;
    make_event(&ev, type, pid, stream_id, error, detail);
    post(cap, &ev);
}

void wac__stream_end(wac_capture *cap, int error, const char *detail)
{
    if (atomic_exchange(&cap->finished, true))
        return;
    /* The producer is quiescent: report what it could not. */
    wac_event ev;
    if (cap->s->prod.skip_pending) {
        make_event(&ev, WAC_EVENT_DISCONTINUITY, 0, 0, 0, NULL);
        ev.frames = cap->s->prod.skip_pending;
        atomic_fetch_add(&cap->discontinuities, 1);
        cap->s->prod.skip_pending = 0;
        post(cap, &ev);
    }
    if (cap->s->prod.lost_pending) {
        make_event(&ev, WAC_EVENT_OVERRUN, 0, 0, 0, NULL);
        ev.frames = cap->s->prod.lost_pending;
        atomic_fetch_add(&cap->overruns, 1);
        cap->s->prod.lost_pending = 0;
        post(cap, &ev);
    }
    /* A target that exited is a normal end (TARGET_DETACHED said so), not an error. */
    if (error && error != WAC_ERR_TARGET_EXITED) {
        make_event(&ev, error == WAC_ERR_SERVER_LOST ? WAC_EVENT_SERVER_LOST : WAC_EVENT_ERROR, 0, 0, error,
                   detail);
        post(cap, &ev);
    }
    make_event(&ev, WAC_EVENT_ENDED, 0, 0, error, detail);
    wac__mutex_lock(&cap->events_lock);
    post_locked_event(cap, &ev);
    atomic_store(&cap->end_posted, true);
    wac__mutex_unlock(&cap->events_lock);
    int expected = WAC_STATE_RUNNING;
    atomic_compare_exchange_strong(&cap->state, &expected, WAC_STATE_ENDED);
    /* Whoever waits, for whatever amount, must see the end. */
    wac__stream_signal(cap);
}

