/* tone.h — the amplitude of one frequency in a block of mono samples (the
 * Goertzel algorithm), and its phase, for the tests that check a tone from
 * the audio. */
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

/* The amplitude and phase (radians) of the tone hz in x[0, n), where x[0] is
 * frame `first` of a recording: the phase is against a tone that started at
 * that recording's frame 0, so lost or repeated frames turn it. */
static inline void tone_phasor(const float *x, size_t n, double hz, double rate, size_t first, double *amp,
                               double *phase)
{
    double re = 0, im = 0;
    for (size_t i = 0; i < n; i++) {
        double w = 2 * 3.14159265358979323846 * hz * (double)(first + i) / rate;
        re += x[i] * cos(w);
        im -= x[i] * sin(w);
    }
    *amp = 2 * sqrt(re * re + im * im) / (double)n;
    *phase = atan2(im, re);
}

#endif
