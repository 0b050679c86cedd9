/* mix.h — mixing several streams of one target into one stream, for the
 * PulseAudio backend (PulseAudio gives one record stream per sink-input; it
 * does not mix them for us as PipeWire does). A pure module: no server, no
 * clock of its own (times are passed in), so the unit tests drive it alone.
 *
 * The mix rule. The mixed frame is the plain sum of the lanes' frames at the
 * same mix position, in float, so it matches what PipeWire's backend delivers
 * (PipeWire sums links that meet on a port). Nothing clips in float (a sum
 * above 1.0 stays above 1.0: the consumer decides); the delivered format
 * follows from the mix by WAC's one conversion rule (attach/convert.h).
 *
 * Where a lane's frames go (alignment). Every lane has its own FIFO and a mix
 * position for its first queued frame. The mix has a clock: a mapping from
 * monotonic time to mix position, re-based on every write to the frames just
 * written, so it follows the audio's own clock and never drifts from it.
 *  - A lane's first write, or its first after a stall (no write for stall_ns:
 *    a corked sink-input, a recreated stream), is placed by time: at the mix
 *    position the clock gives for the time of its first frame. The time comes
 *    from the server's timing info, so this is as exact as that (a few ms).
 *  - Every later write is placed right after the lane's previous frames:
 *    sample-contiguous, whatever the jitter of deliveries. Only when the
 *    clock disagrees by more than resync_frames for WAC__MIX_RESYNC_WRITES
 *    writes in a row (a lane on another device whose clock drifts, a gap the
 *    server did not report) is the lane placed by time again, and the
 *    disagreement counted in resyncs. One estimate off by that much is
 *    jitter (pipewire-pulse: a lane re-placed on one such estimate got
 *    62 ms of zeros inside continuous audio), and it does not move the
 *    clock either.
 *  - Frames for positions already emitted, or already queued in the lane,
 *    are dropped and counted (frames_late): the mix never goes back.
 *
 * When frames leave (the mix head). The mix emits positions up to the point
 * every live lane has reached: a lane is live while it wrote within its stall
 * threshold (so a corked or ended stream holds nothing back for longer than
 * that), and nothing is held back more than max_hold_frames (or a live
 * lane's threshold, when longer) behind the most advanced lane.
 *
 * Stall thresholds are each lane's own. They start at stall_ns and grow to
 * twice the longest gap between the lane's writes, up to stall_max_ns: a
 * server that delivers a stream in bursts (pipewire-pulse: up to 341 ms
 * apart with 50 ms fragments on a loaded machine, FINDINGS section 7) is
 * waited for, while a lane that delivers evenly is given up on as soon as
 * before. A write after a stall whose time continues where the lane left off
 * was a burst, not a stall (counted in bursts): the lane is kept contiguous,
 * and its threshold learns the gap. With one lane, frames leave as they are written. A stretch where no
 * lane has data is emitted as zeros when it is short (at most
 * max_hold_frames) and skipped when longer: the emit time then jumps, and the
 * core turns the jump into silence (or a discontinuity) by its own rules.
 *
 * Emit times. The consumer's stream fills a gap with silence where the time
 * of frames is later than the end of the frames before them (by a period and
 * a little). The mix's clock is re-based on every write of any lane, and two
 * lanes' timings disagree by up to resync_frames (a sink-input's latency
 * estimate under pipewire-pulse wanders by tens of ms), so clock times would
 * make contiguous output look torn: that inserted silence into a two-stream
 * mix. Output that continues the previous output is therefore timed right
 * after it, and moved toward the clock by at most 2 ms per emit, which
 * follows any real drift (well under 1 ms per second) and no jitter. After a
 * jump (a long pause skipped, or nothing queued) the clock's time is used.
 *
 * Real-time rules: wac__mix_write(), wac__mix_pull(), wac__mix_pending() and
 * the emit callback never allocate, lock or log. Lanes are allocated by
 * wac__mix_lane_add() and freed by wac__mix_collect() (control path). Not
 * thread-safe: one thread uses a mix. */
#ifndef WAC_PULSE_MIX_H
#define WAC_PULSE_MIX_H

#include <stdbool.h>
#include <stdint.h>

#include "wac.h"

#define WAC__MIX_MAX_LANES 32
#define WAC__MIX_RESYNC_WRITES 3

/* Called with frames of the mix, interleaved floats: n frames whose first is
 * at monotonic time time_ns. Real-time context. */
typedef void (*wac__mix_emit_fn)(void *user, const float *frames, uint32_t n, int64_t time_ns);

struct wac__mix_config {
    uint32_t channels;        /* 1 ... 8 */
    uint32_t rate;            /* frames per second */
    uint32_t lane_frames;     /* FIFO capacity of a lane; more than max_hold_frames */
    uint32_t max_hold_frames; /* the most a slow lane may hold the mix back */
    uint32_t resync_frames;   /* clock disagreement that re-places a lane by time */
    int64_t stall_ns;         /* a lane that has not written for this long is not waited for */
    int64_t stall_max_ns;     /* ... unless its own gaps taught it longer, up to this (0: stall_ns) */
    wac__mix_emit_fn emit;
    void *user;
};

struct wac__mix_lane {
    float *fifo; /* lane_frames * channels; NULL: the slot is free */
    bool removed;  /* no more writes; freed once drained */
    bool placed;   /* has written at least once */
    uint64_t start; /* mix position of the first queued frame */
    uint32_t first, count; /* FIFO index of that frame, and frames queued */
    int64_t last_write_ns; /* or the time it was added, before its first write */
    int64_t added_ns;
    int64_t skew; /* frames it sits later than its clock position (see mix.c) */
    uint32_t disagreements; /* consecutive writes off the clock by more than resync_frames */
    int64_t stall_ns; /* this lane's stall threshold: cfg.stall_ns, or twice its longest gap */
};

struct wac__mix {
    struct wac__mix_config cfg;
    struct wac__mix_lane lanes[WAC__MIX_MAX_LANES];
    uint64_t head; /* mix position of the next frame to emit */
    bool clock_set;
    uint64_t clock_position; /* the clock: this mix position ... */
    int64_t clock_ns;        /* ... was at this monotonic time */
    bool emit_continues;     /* the next emit follows the previous one */
    int64_t emit_next_ns;    /* when it does, the time right after it */
    float *out;              /* emit buffer */
    uint32_t out_frames;
    /* counters, for tests and diagnostics */
    uint64_t frames_late;   /* dropped: their positions were queued already */
    uint64_t frames_filled; /* zeros the mix made up: holes between lanes' data, gaps a lane was re-placed over */
    uint64_t resyncs;
    uint64_t frames_forced; /* frames emitted early because a lane's FIFO was full */
    uint64_t stalls;        /* writes after a lane had stalled */
    uint64_t bursts;        /* writes after a stall that continued where the lane had left off */
    uint64_t frames_unheld; /* frames emitted past a lagging live lane (max_hold_frames) */
    int64_t max_write_gap_ns; /* the longest time between two writes of a lane */
};

/* 0, or WAC_ERR_NO_MEMORY / WAC_ERR_INVALID_ARGUMENT. */
int wac__mix_init(struct wac__mix *m, const struct wac__mix_config *cfg);
void wac__mix_free(struct wac__mix *m);

/* A new lane (control path: allocates its FIFO), added at now_ns: until it
 * first writes, for up to stall_ns, it holds the head at that moment. Returns
 * its id >= 0, or WAC_ERR_NO_MEMORY, or WAC_ERR_BUSY when all
 * WAC__MIX_MAX_LANES are used. */
int wac__mix_lane_add(struct wac__mix *m, int64_t now_ns);
/* The lane writes no more. What it queued is still mixed; the slot is freed
 * by wac__mix_collect() once it has drained. */
void wac__mix_lane_remove(struct wac__mix *m, int lane);
/* Free the slots of removed lanes that have drained (control path). */
void wac__mix_collect(struct wac__mix *m);

/* Write n frames (interleaved floats; NULL: n frames of silence, e.g. a hole
 * the server reported) to a lane. time_ns: monotonic time of the first frame;
 * now_ns: the time of the write (for stall detection). Emits what is ready. */
void wac__mix_write(struct wac__mix *m, int lane, const float *frames, uint32_t n, int64_t time_ns,
                    int64_t now_ns);
/* Emit what is ready at now_ns (lanes stall as time passes). With flush_all,
 * emit everything queued, waiting for nobody (the stream is ending). */
void wac__mix_pull(struct wac__mix *m, int64_t now_ns, bool flush_all);
/* Is any lane live or holding frames at now_ns? When not, the audio has
 * stopped and the core's silence fill may take over. */
bool wac__mix_pending(const struct wac__mix *m, int64_t now_ns);

/* The earliest time after now_ns at which a live lane stops being live (then
 * the mix may release what that lane held back, or stop being pending), or
 * INT64_MAX when no lane is live. */
int64_t wac__mix_next_change(const struct wac__mix *m, int64_t now_ns);

#endif
