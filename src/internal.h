/* internal.h — the core's private structures: contexts, captures, and the
 * functions the core files share. Backends see only src/backend/backend.h. */
#ifndef WAC_INTERNAL_H
#define WAC_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>

#include "alloc.h"
#include "backend/backend.h"
#include "os/os.h"
#include "ring.h"
#include "wac.h"

#define WAC__DETAIL_SIZE 256
#define WAC__RT_EVENTS 64      /* per capture, from the producer thread */
#define WAC__PENDING_EVENTS 256 /* per capture, waiting for the consumer */
#define WAC__CTL_EVENTS 8       /* per capture, control events reserved at open */

/* An event as the producer records it: lock-free, small. */
struct wac__rt_event {
    wac_event_type type; /* OVERRUN or DISCONTINUITY */
    uint64_t index;      /* ring index of the first frame after the gap */
    uint64_t frames;
};

/* An event on its way to the consumer: where it sits in the ring, and the event. */
struct wac__queued_event {
    uint64_t index;
    wac_event event;
};

/* State only the producer thread touches (the backend's real-time thread). */
struct wac__producer {
    uint64_t position;      /* timeline position of the next frame */
    int64_t base_ns;        /* the clock: position base_position was at base_ns */
    uint64_t base_position;
    uint64_t lost_pending;  /* dropped, not yet reported (no room in the ring or event queue) */
    uint64_t skip_pending;  /* skipped, not yet reported */
};

/* What a capture needs only while it is open, apart from the handle: freed
 * at close, so that a closed handle, which stays valid until its context
 * closes, keeps a few hundred bytes rather than its event queues. */
struct wac__capture_stream {
    wac_capture_config config; /* copy; config.target.name points to the handle's target_name */
    struct wac__ring ring;
    struct wac__producer prod;
    struct wac__rt_event rt_events[WAC__RT_EVENTS];            /* producer -> consumer */
    struct wac__queued_event pending[WAC__PENDING_EVENTS];     /* consumer: ordered by index */
};

struct wac_capture {
    wac_context *ctx;
    wac_capture *next; /* in ctx->captures; handles live until the context closes */

    /* Open captures only: NULL once closed. Read it only where close cannot
     * free it meanwhile: under control_lock, as the consumer (between
     * wac__consumer_enter and _leave), or as the producer (before the
     * backend's capture_stop returns). */
    struct wac__capture_stream *s;
    bool callback; /* config.on_audio is set: kept for calls on a closed handle */
    char *target_name;
    wac_format format; /* delivered format (negotiated) */
    uint32_t chunk_frames;
    uint32_t frame_bytes;
    _Atomic int64_t period_ns; /* the backend's delivery period; may change while running */
    _Atomic int64_t heard_after_ns; /* added to the times handed out: see wac__capture_set_heard_after */
    const struct wac__backend *backend;
    void *backend_data;

    _Atomic int state; /* wac_capture_state */
    uint64_t id;       /* names this handle in a thread's failure detail (errors.c) */

    /* ---- producer -> consumer (the ring and queues are in s) ---- */
    wac__atomic_index rt_write, rt_read;
    /* The producer's clock, published by seqlock for the consumer's timestamps. */
    _Atomic uint32_t clock_seq;
    _Atomic uint64_t clock_position;
    _Atomic int64_t clock_ns;
    _Atomic uint64_t producer_position;
    _Atomic bool end_posted; /* ENDED is queued: readers must not wait any more */
    _Atomic bool finished;   /* the stream's end has been decided (stop or backend) */

    /* Control events (any non-RT thread). Leaf lock: held only to append/take. */
    wac__mutex events_lock;
    struct wac__queued_event *ctl_events;
    size_t ctl_count, ctl_capacity;
    _Atomic size_t ctl_pending;

    /* ---- consumer ---- */
    uint32_t pending_head, pending_count, pending_applied;  /* applied: prefix whose jumps are counted */
    uint64_t read_offset;    /* timeline position - ring index at the read position */
    uint64_t collect_offset; /* the same at the last collected event */
    uint64_t last_jump_index; /* ring index + 1 of the last gap counted into read_offset */
    bool end_delivered;      /* callback style: ENDED handed to on_event */
    uint8_t *chunk_buffer;   /* callback style: one chunk */

    /* ---- wake-ups ---- */
    wac__wake wake;
    _Atomic uint32_t wanted; /* frames a waiting consumer needs; 0 = nobody waits */
    _Atomic int pending_signal;
    _Atomic bool fd_mode;    /* wac_capture_fd() was called: the descriptor is armed */
    bool in_poller;          /* registered with the dispatch thread */

    /* ---- lifetime ---- */
    wac__mutex control_lock; /* serialises start/stop/close */
    wac__cond reader_left;
    _Atomic int reader_active; /* a thread is consuming (read, next_event, dispatch) */
    _Atomic bool closed;
    bool release_deferred; /* closed from its own callback: the dispatch thread frees it */
    bool user_stopped;     /* wac_capture_stop() succeeded once */

    /* ---- counters ---- */
    _Atomic uint64_t frames_delivered, frames_lost, frames_silence, frames_skipped, frames_discarded, events_dropped;
    _Atomic uint64_t timestamps_rejected;
    _Atomic uint32_t overruns, discontinuities, streams;
};

struct wac_context {
    const struct wac__backend *backend;
    void *backend_data;
    uint64_t id; /* names this handle in a thread's failure detail (errors.c) */

    wac__mutex lock; /* the capture list and the dispatch thread's existence */
    wac_capture *captures;

    /* The dispatch thread: started with the first callback capture. */
    bool dispatch_running;
    wac__thread dispatch_thread;
    wac__poller *poller;
    wac__wake dispatch_wake; /* tells the thread to quit */
    _Atomic bool dispatch_quit;
    wac_capture *_Atomic dispatching; /* capture whose callbacks run now */
};

/* errors.c. A failure's detail is kept by the thread whose call failed, with
 * the id of the handle it concerns: other threads' failures never touch it, so
 * it needs no lock and reads never race (wac.h, "Errors"). */
uint64_t wac__handle_id(void);
/* The calling thread's last detail if that failure was on handle `id`, else NULL. */
const char *wac__detail_of(uint64_t id);
int wac__context_fail(wac_context *ctx, int error, const char *fmt, ...) WAC__PRINTF(3, 4);
int wac__capture_fail(wac_capture *cap, int error, const char *fmt, ...) WAC__PRINTF(3, 4);

/* stream.c: producer side and stream end */
/* A measurement hook for the benchmarks, never set by the library: when
 * non-NULL, every push calls it on the producer thread, before the consumer is
 * woken, with the timeline position just past the pushed frames and the
 * monotonic time at which the backend handed them over. It must be RT-safe.
 * Set it before the first context opens. */
typedef void (*wac__probe_push_fn)(wac_capture *cap, uint64_t end_position, int64_t received_ns);
extern wac__probe_push_fn _Atomic wac__probe_push;
void wac__stream_reset(wac_capture *cap, int64_t start_ns);
void wac__stream_signal(wac_capture *cap);
int64_t wac__stream_time_of(wac_capture *cap, uint64_t position);

/* consumer.c */
int wac__consumer_enter(wac_capture *cap);
void wac__consumer_leave(wac_capture *cap);
void wac__consumer_collect(wac_capture *cap);
bool wac__consumer_ready_chunk_or_event(wac_capture *cap);
uint32_t wac__consumer_read_frames(wac_capture *cap, void *dst, uint32_t frames, wac_chunk_info *info);
/* The next `frames` frames where they lie in the ring, when they lie in one
 * piece (else NULL, nothing taken): the dispatch thread hands them to the
 * callback without copying, then commits them. Until the commit the
 * producer cannot write over them (they are unread). */
const void *wac__consumer_peek_frames(wac_capture *cap, uint32_t frames, wac_chunk_info *info);
void wac__consumer_commit_frames(wac_capture *cap, uint32_t frames);
bool wac__consumer_pop_event(wac_capture *cap, wac_event *out);
void wac__consumer_rearm(wac_capture *cap);

/* dispatch.c */
int wac__dispatch_add(wac_context *ctx, wac_capture *cap);
void wac__dispatch_remove(wac_context *ctx, wac_capture *cap);
void wac__dispatch_stop(wac_context *ctx);

/* capture.c */
void wac__capture_release(wac_capture *cap);
void wac__capture_free(wac_capture *cap);

#endif
