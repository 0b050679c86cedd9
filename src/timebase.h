/* timebase.h — frames and nanoseconds at a sample rate: the one conversion
 * every part of WAC uses (the core's clock and gap detection, the mixer's
 * placement), rounded to nearest in both directions and exact for signed
 * durations of any length a capture can reach (no overflow below ~290 years
 * at 192 kHz). Leaf header: depends on nothing of WAC's. */
#ifndef WAC_TIMEBASE_H
#define WAC_TIMEBASE_H

#include <stdint.h>

#define WAC__NS_PER_S 1000000000LL

/* Frames in a (signed) duration at rate, rounded to nearest. */
static inline int64_t wac__ns_to_frames(int64_t ns, uint32_t rate)
{
    int64_t a = ns < 0 ? -ns : ns;
    int64_t f = a / WAC__NS_PER_S * (int64_t)rate + ((a % WAC__NS_PER_S) * (int64_t)rate + WAC__NS_PER_S / 2) /
                                                       WAC__NS_PER_S;
    return ns < 0 ? -f : f;
}

/* The (signed) duration of frames at rate, in ns, rounded to nearest. */
static inline int64_t wac__frames_to_ns(int64_t frames, uint32_t rate)
{
    int64_t a = frames < 0 ? -frames : frames;
    int64_t ns = a / rate * WAC__NS_PER_S + ((a % rate) * WAC__NS_PER_S + rate / 2) / rate;
    return frames < 0 ? -ns : ns;
}

#endif
