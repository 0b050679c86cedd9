/* consumer.c — the consumer side of a capture's stream: collecting events in
 * order with the audio, reading frames with their positions and times,
 * waiting with timeouts, and keeping the descriptor's readiness true.
 *
 * One consumer at a time (reader_active): a reading thread, an fd-style
 * caller, or the dispatch thread. */
#include <string.h>

#include "internal.h"

/* ---- entering and leaving ------------------------------------------------- */

int wac__consumer_enter(wac_capture *cap)
{
    if (atomic_load(&cap->closed))
        return WAC_ERR_CLOSED;
    if (atomic_exchange(&cap->reader_active, 1))
        return WAC_ERR_BUSY;
    /* close() stores `closed` then checks reader_active; we store reader_active
     * then check `closed`: one of us sees the other. */
    if (atomic_load(&cap->closed)) {
        wac__consumer_leave(cap);
        return WAC_ERR_CLOSED;
    }
    return 0;
}

void wac__consumer_leave(wac_capture *cap)
{
    atomic_store(&cap->reader_active, 0);
    if (atomic_load(&cap->closed)) {
        wac__mutex_lock(&cap->control_lock);
        wac__cond_broadcast(&cap->reader_left);
        wac__mutex_unlock(&cap->control_lock);
    }
}

/* ---- events ------------------------------------------------------------------ */

static struct wac__queued_event *pending_at(wac_capture *cap, uint32_t i)
{
    return &cap->s->pending[(cap->pending_head + i) % WAC__PENDING_EVENTS];
}

static bool is_jump(const wac_event *ev)
{
    return ev->type == WAC_EVENT_OVERRUN || ev->type == WAC_EVENT_DISCONTINUITY;
}

static uint64_t read_index(wac_capture *cap)
{
    return wac__index_load_relaxed(&cap->s->ring.read_index);
}

/* Count the head event's gap into the read position's timeline offset. */
static void apply_head(wac_capture *cap)
{
    struct wac__queued_event *q = pending_at(cap, cap->pending_applied);
    if (is_jump(&q->event)) {
        cap->read_offset += q->event.frames;
        cap->last_jump_index = q->index + 1;
    }
    cap->pending_applied++;
}

static void apply_upto(wac_capture *cap, uint64_t index)
{
    while (cap->pending_applied < cap->pending_count && pending_at(cap, cap->pending_applied)->index <= index)
        apply_head(cap);
}

static void drop_head(wac_capture *cap)
{
    if (cap->pending_applied == 0)
        apply_head(cap);
    cap->pending_applied--;
    cap->pending_head = (cap->pending_head + 1) % WAC__PENDING_EVENTS;
    cap->pending_count--;
}

/* Room for one more event; false when every pending event is still ahead of
 * the reader (they carry gaps the reader has not reached: never drop those). */
static bool make_room(wac_capture *cap)
{
    if (cap->pending_count < WAC__PENDING_EVENTS)
        return true;
    if (pending_at(cap, 0)->index > read_index(cap))
        return false;
    drop_head(cap);
    atomic_fetch_add_explicit(&cap->events_dropped, 1, memory_order_relaxed);
    return true;
}

static void enqueue(wac_capture *cap, uint64_t index, const wac_event *ev)
{
    struct wac__queued_event *q = pending_at(cap, cap->pending_count++);
    q->index = index;
    q->event = *ev;
    q->event.position = index + cap->collect_offset;
    q->event.time_ns = wac__stream_time_of(cap, q->event.position);
    if (is_jump(ev))
        cap->collect_offset += ev->frames;
}

void wac__consumer_collect(wac_capture *cap)
{
    uint64_t rt_r = wac__index_load_relaxed(&cap->rt_read);
    uint64_t rt_w = wac__index_load_acquire(&cap->rt_write);
    bool ctl = atomic_load_explicit(&cap->ctl_pending, memory_order_acquire) > 0;
    if (rt_r == rt_w && !ctl)
        return;
    if (ctl)
        wac__mutex_lock(&cap->events_lock);
    size_t ctl_taken = 0, ctl_count = ctl ? cap->ctl_count : 0;
    /* Merge the two sources, each already in index order. */
    while ((rt_r != rt_w || ctl_taken < ctl_count) && make_room(cap)) {
        const struct wac__rt_event *rt = rt_r != rt_w ? &cap->s->rt_events[rt_r % WAC__RT_EVENTS] : NULL;
        const struct wac__queued_event *c = ctl_taken < ctl_count ? &cap->ctl_events[ctl_taken] : NULL;
        if (rt && (!c || rt->index <= c->index)) {
            wac_event ev;
            memset(&ev, 0, sizeof ev);
            ev.type = rt->type;
            ev.frames = rt->frames;
            enqueue(cap, rt->index, &ev);
            rt_r++;
        } else {
            enqueue(cap, c->index, &c->event);
            ctl_taken++;
        }
    }
    wac__index_store_release(&cap->rt_read, rt_r);
    if (ctl) {
        memmove(cap->ctl_events, cap->ctl_events + ctl_taken, (cap->ctl_count - ctl_taken) * sizeof *cap->ctl_events);
        cap->ctl_count -= ctl_taken;
        atomic_fetch_sub_explicit(&cap->ctl_pending, ctl_taken, memory_order_relaxed);
        wac__mutex_unlock(&cap->events_lock);
    }
}

static bool event_ready(wac_capture *cap)
{
    return cap->pending_count > 0 && pending_at(cap, 0)->index <= read_index(cap);
}

bool wac__consumer_pop_event(wac_capture *cap, wac_event *out)
{
    if (!event_ready(cap))
        return false;
    *out = pending_at(cap, 0)->event;
    drop_head(cap);
    return true;
}

/* ---- audio ------------------------------------------------------------------- */

/* A chunk of `frames` at the read index is about to be taken: its flags and
 * position into info (may be NULL), the events before it applied. */
static uint64_t begin_chunk(wac_capture *cap, uint32_t frames, wac_chunk_info *info)
{
    uint64_t r = read_index(cap);
    uint32_t flags = 0;
    /* Gaps just before this chunk, or inside it. */
    for (uint32_t i = cap->pending_applied; i < cap->pending_count; i++) {
        struct wac__queued_event *q = pending_at(cap, i);
        if (q->index >= r + frames)
            break;
        if (is_jump(&q->event))
            flags |= WAC_CHUNK_DISCONTINUOUS;
    }
    apply_upto(cap, r);
    if (cap->last_jump_index == r + 1)
        flags |= WAC_CHUNK_DISCONTINUOUS;
    uint64_t position = r + cap->read_offset;
    if (info) {
        info->position = position;
        info->time_ns = wac__stream_time_of(cap, position);
        info->flags = flags;
    }
    return r;
}

/* The n frames from r are taken. */
static void end_chunk(wac_capture *cap, uint64_t r, uint32_t n)
{
    /* Gaps inside this chunk are behind us now: count them before the next
     * chunk, which must not be flagged for them again. */
    if (n)
        apply_upto(cap, r + n - 1);
    atomic_fetch_add_explicit(&cap->frames_delivered, n, memory_order_relaxed);
}

uint32_t wac__consumer_read_frames(wac_capture *cap, void *dst, uint32_t frames, wac_chunk_info *info)
{
    uint64_t r = begin_chunk(cap, frames, info);
    uint32_t n = wac__ring_read(&cap->s->ring, dst, frames);
    end_chunk(cap, r, n);
    return n;
}

const void *wac__consumer_peek_frames(wac_capture *cap, uint32_t frames, wac_chunk_info *info)
{
    struct wac__ring_vec vec;
    uint32_t fill = wac__ring_read_vec(&cap->s->ring, &vec);
    if (fill < frames || vec.frames[0] < frames)
        return NULL;
    begin_chunk(cap, frames, info);
    return vec.ptr[0];
}

void wac__consumer_commit_frames(wac_capture *cap, uint32_t frames)
{
    uint64_t r = read_index(cap);
    wac__ring_read_commit(&cap->s->ring, frames);
    end_chunk(cap, r, frames);
}

/* ---- readiness ------------------------------------------------------------ */

bool wac__consumer_ready_chunk_or_event(wac_capture *cap)
{
    return wac__ring_fill(&cap->s->ring) >= cap->chunk_frames || event_ready(cap) ||
           atomic_load(&cap->end_posted);
}

void wac__consumer_rearm(wac_capture *cap)
{
    if (atomic_load(&cap->pending_signal)) {
        wac__consumer_collect(cap);
        if (wac__consumer_ready_chunk_or_event(cap))
            return;
        /* Drain first, then clear: a producer in between sees the flag still set
         * and skips its write, and the check below catches its data. */
        wac__wake_drain(&cap->wake);
        atomic_store(&cap->pending_signal, 0);
    }
    atomic_thread_fence(memory_order_seq_cst);
    wac__consumer_collect(cap);
    if (wac__consumer_ready_chunk_or_event(cap))
        wac__stream_signal(cap);
}

/* ---- the public consumer calls -------------------------------------------- */

static bool delivers_by_callback(const wac_capture *cap)
{
    return cap->callback;
}

/* Sleep until `frames` are there, the stream ends, the capture closes, a
 * signal arrives, or the deadline (0: none) passes. */
static int wait_for(wac_capture *cap, uint32_t frames, int64_t deadline_ns)
{
    atomic_store(&cap->wanted, frames);
    atomic_thread_fence(memory_order_seq_cst);
    int r = 1;
    if (wac__ring_fill(&cap->s->ring) < frames && !atomic_load(&cap->end_posted) && !atomic_load(&cap->closed)) {
        int timeout_ms = -1;
        if (deadline_ns) {
            int64_t left = deadline_ns - wac__now_ns();
            timeout_ms = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
        }
        r = wac__wake_wait(&cap->wake, timeout_ms);
        if (r == 1) {
            wac__wake_drain(&cap->wake);
            atomic_store(&cap->pending_signal, 0);
        }
    }
    atomic_store(&cap->wanted, cap->fd_mode ? cap->chunk_frames : 0);
    if (atomic_load(&cap->closed))
        return WAC_ERR_CLOSED;
    return r < 0 ? r : 0;
}

int wac_capture_read(wac_capture *cap, void *buffer, uint32_t frames, int timeout_ms, wac_chunk_info *info)
{
    if (!cap)
        return WAC_ERR_INVALID_ARGUMENT;
    /* A callback capture is consumed by the dispatch thread: say so, not BUSY. */
    if (delivers_by_callback(cap) && !atomic_load(&cap->closed))
        return wac__capture_fail(cap, WAC_ERR_STATE, "this capture delivers audio to its on_audio callback");
    int rc = wac__consumer_enter(cap);
    if (rc)
        return rc;
    if (!buffer || frames == 0 || frames > cap->s->ring.capacity) {
        rc = wac__capture_fail(cap, WAC_ERR_INVALID_ARGUMENT, "read of %u frames: need a buffer and 1..%u frames",
                               frames, cap->s->ring.capacity);
        goto out;
    }
    if (atomic_load(&cap->state) == WAC_STATE_OPEN) {
        rc = wac__capture_fail(cap, WAC_ERR_STATE, "capture not started");
        goto out;
    }
    int64_t deadline = timeout_ms > 0 ? wac__now_ns() + (int64_t)timeout_ms * 1000000 : 0;
    uint32_t n = frames;
    bool last = false;
    for (;;) {
        wac__consumer_collect(cap);
        bool ended = atomic_load(&cap->end_posted); /* before the fill: then the fill is final */
        uint32_t fill = wac__ring_fill(&cap->s->ring);
        if (fill >= frames)
            break;
        if (ended) {
            if (fill == 0) {
                rc = WAC_ERR_ENDED;
                goto out;
            }
            n = fill;
            last = true;
            break;
        }
        if (timeout_ms == 0 || (deadline && wac__now_ns() >= deadline)) {
            rc = WAC_ERR_TIMEOUT;
            goto out;
        }
        rc = wait_for(cap, frames, deadline);
        if (rc)
            goto out;
    }
    wac__consumer_collect(cap);
    rc = (int)wac__consumer_read_frames(cap, buffer, n, info);
    if (last && info)
        info->flags |= WAC_CHUNK_LAST;
out:
    if (cap->fd_mode && rc != WAC_ERR_CLOSED)
        wac__consumer_rearm(cap);
    wac__consumer_leave(cap);
    return rc;
}

int wac_capture_next_event(wac_capture *cap, wac_event *event, size_t size)
{
    if (!cap)
        return WAC_ERR_INVALID_ARGUMENT;
    if (delivers_by_callback(cap) && !atomic_load(&cap->closed))
        return wac__capture_fail(cap, WAC_ERR_STATE, "this capture delivers events to its on_event callback");
    int rc = wac__consumer_enter(cap);
    if (rc)
        return rc;
    if (!event || size == 0) {
        rc = wac__capture_fail(cap, WAC_ERR_INVALID_ARGUMENT, "no event buffer");
    } else {
        wac_event ev;
        wac__consumer_collect(cap);
        if (wac__consumer_pop_event(cap, &ev)) {
            memcpy(event, &ev, size < sizeof ev ? size : sizeof ev);
            rc = 1;
        }
        if (cap->fd_mode)
            wac__consumer_rearm(cap);
    }
    wac__consumer_leave(cap);
    return rc;
}

uint32_t wac_capture_available(const wac_capture *cap)
{
    if (!cap || delivers_by_callback(cap))
        return 0;
    /* The lock keeps close from freeing the ring while we look at it. */
    wac_capture *locked = (wac_capture *)cap;
    wac__mutex_lock(&locked->control_lock);
    uint32_t fill = atomic_load(&cap->closed) ? 0 : wac__ring_fill(&cap->s->ring);
    wac__mutex_unlock(&locked->control_lock);
    return fill;
}
