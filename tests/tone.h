/* tone.h — the amplitude of one frequency in a block of mono samples (the
 * Goertzel algorithm), for the tests that check a tone from the audio. */
#ifndef WAC_TEST_TONE_H
#define WAC_TEST_TONE_H

#include <math.h>
#include <stddef.h>

static inline double amplitude_at(const float *x, size_t n, double hz, double rate)
{
    double w = 2 * 3.14159265358979323846 * hz / rate, coeff = 2 * cos(w), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s = x[i] + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    return 2 * sqrt(power > 0 ? power : 0) / (double)n;
}

#endif
