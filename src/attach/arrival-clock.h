/* arrival-clock.h — dating a contiguous stream of frames by when they arrive,
 * for a server whose own timing reports cannot be trusted (pipewire-pulse:
 * its record latency for a stream was off by 20-85 ms either way, for
 * seconds at a time; bench/FINDINGS.md section 10).
 *
 * The frames a stream has delivered up to some position were all recorded
 * by the moment they are in our hands, so every read bounds the time of the
 * stream's first frame from above: t0 <= now - (frames before the read and
 * held now) / rate. Late wake-ups, bursts and a server's buffering only make
 * a bound looser; the least bound seen is the estimate, and every frame is
 * dated t0 + position / rate. Two streams of one server that deliver the
 * same way are then dated alike, whatever the server says of either.
 *
 * Two things move the true t0 later, which a least bound never follows by
 * itself: a stream clock slower than the nominal rate (a sound card's drift,
 * within about 100 ppm) and frames the server dropped. When no bound came
 * within TIGHT_NS of the estimate for RISE_NS, the estimate rises to the
 * least bound of that time: drift is followed in steps of a millisecond or
 * two (well below the gap the core fills), a drop once that time has passed.
 * Nothing lets the estimate creep up between tight bounds: at a 1024-frame
 * graph cycle and 25 ms fragments a tight bound came only every 0.1 to 3 s,
 * and a creep of 500 ppm left stamps up to 2 ms late in between.
 *
 * Pure computation: no allocation, lock or system call (real-time path). */
#ifndef WAC_ARRIVAL_CLOCK_H
#define WAC_ARRIVAL_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct wac__arrival_clock {
    uint32_t rate;
    bool dated;
    int64_t t0_ns;       /* the estimate of the first frame's time */
    int64_t tight_ns;    /* when a bound last came within TIGHT_NS of it */
    int64_t loose_min_ns; /* the least bound since then */
    uint64_t frames;     /* frames dated so far */
    uint64_t rises;      /* for tests and diagnostics */
};

void wac__arrival_clock_init(struct wac__arrival_clock *c, uint32_t rate);
/* `frames` frames were read at now_ns, with `held` frames in hand at that
 * moment, these included (what the client library had queued behind them).
 * Returns the time of their first frame. */
int64_t wac__arrival_clock_date(struct wac__arrival_clock *c, uint32_t frames, uint64_t held, int64_t now_ns);

#endif
