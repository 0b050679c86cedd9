/* test-convert.c — the WASAPI backend's fallback converter (channels, rate,
 * sample type), platform-independent, so it runs on Linux and under Wine:
 * levels and frequencies of tones survive, what lies above the new Nyquist
 * frequency does not, chunking changes nothing, and the rate is exact. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attach/convert.h"
#include "tap.h"
#include "wac.h"

static const double pi = 3.14159265358979323846;

/* Amplitude of frequency `hz` in x (Goertzel over a whole number of samples). */
static double amplitude_at(const float *x, size_t n, size_t stride, double hz, double rate)
{
    double w = 2 * pi * hz / rate, coeff = 2 * cos(w), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s = x[i * stride] + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    return 2 * sqrt(power > 0 ? power : 0) / (double)n;
}

static float *tone(uint32_t frames, uint32_t channels, double hz, double rate, const double *amp)
{
    float *x = malloc((size_t)frames * channels * sizeof(float));
    ASSERT(x);
    for (uint32_t i = 0; i < frames; i++)
        for (uint32_t c = 0; c < channels; c++)
            x[(size_t)i * channels + c] = (float)(amp[c] * sin(2 * pi * hz * i / rate));
    return x;
}

/* Run x through a converter in chunks of `chunk` frames (0: pseudo-random
 * sizes); returns the output and its frame count. */
static void *run(struct wac__convert *c, const float *x, uint32_t frames, uint32_t chunk, uint32_t *out_frames)
{
    size_t fb = (size_t)c->out.channels * (c->out.sample == WAC_SAMPLE_F32 ? 4 : 2);
    size_t cap = (size_t)frames * c->out.rate / c->in_rate + 64;
    uint8_t *out = malloc(cap * fb);
    ASSERT(out);
    uint32_t done = 0, total = 0, seed = 12345;
    while (done < frames) {
        uint32_t n = chunk;
        if (!n) {
            seed = seed * 1103515245 + 12345;
            n = 1 + (seed >> 16) % c->max_in;
        }
        if (n > frames - done)
            n = frames - done;
        double offset;
        uint32_t got = wac__convert_process(c, x + (size_t)done * c->in_channels, n, out + (size_t)total * fb, &offset);
        ASSERT_CMP(got, <=, wac__convert_max_out(c));
        if (got && c->resample) {
            /* The first frame's input time, from the output count: exact. */
            double expect = (double)total * c->in_rate / c->out.rate - done;
            if (fabs(offset - expect) > 1e-6)
                FAIL("offset %f, expected %f (total %u, done %u)", offset, expect, total, done);
        }
        total += got;
        ASSERT_CMP(total, <=, cap);
        done += n;
    }
    *out_frames = total;
    return out;
}

static void downsample_stereo_to_speech(void)
{
    struct wac__convert c;
    wac_format f = {16000, 1, WAC_SAMPLE_F32};
    ASSERT_OK(wac__convert_init(&c, 48000, 2, &f, 480));
    double amp[2] = {0.4, 0.4};
    float *x = tone(48000, 2, 1000, 48000, amp);
    uint32_t n;
    float *y = run(&c, x, 48000, 480, &n);
    /* One second in, one second out, less the kernel's delay. */
    ASSERT_CMP(n, >=, 16000 - c.half / 3 - 2);
    ASSERT_CMP(n, <=, 16000);
    double a = amplitude_at(y + 1600, 12800, 1, 1000, 16000);
    printf("# 1 kHz at 0.4 -> %.5f (half-width %u input frames)\n", a, c.half);
    ASSERT_CMP(fabs(a - 0.4) * 1e4, <, 40); /* within 0.1 dB */
    ASSERT_CMP(amplitude_at(y + 1600, 12800, 1, 3000, 16000) * 1e6, <, 100); /* no spurious tones */
    free(x);
    free(y);
    wac__convert_free(&c);
}

static void downmix_is_the_average(void)
{
    struct wac__convert c;
    wac_format f = {48000, 1, WAC_SAMPLE_F32};
    ASSERT_OK(wac__convert_init(&c, 48000, 2, &f, 256));
    double amp[2] = {0.6, 0.0};
    float *x = tone(4800, 2, 440, 48000, amp);
    uint32_t n;
    float *y = run(&c, x, 4800, 256, &n);
    ASSERT_EQ(n, 4800);
    for (uint32_t i = 0; i < n; i++)
        ASSERT(fabsf(y[i] - x[2 * i] / 2) < 1e-7f);
    free(x);
    free(y);
    wac__convert_free(&c);
    /* Mono up to stereo: copied to both. */
    f.channels = 2;
    ASSERT_OK(wac__convert_init(&c, 48000, 1, &f, 256));
    double one[1] = {0.5};
    x = tone(1000, 1, 440, 48000, one);
    y = run(&c, x, 1000, 100, &n);
    for (uint32_t i = 0; i < n; i++)
        ASSERT(y[2 * i] == x[i] && y[2 * i + 1] == x[i]);
    free(x);
    free(y);
    wac__convert_free(&c);
}

static void above_nyquist_is_removed(void)
{
    struct wac__convert c;
    wac_format f = {16000, 1, WAC_SAMPLE_F32};
    ASSERT_OK(wac__convert_init(&c, 48000, 1, &f, 1024));
    double amp[1] = {0.8};
    float *x = tone(48000, 1, 11000, 48000, amp); /* would alias to 5 kHz */
    uint32_t n;
    float *y = run(&c, x, 48000, 1024, &n);
    double alias = amplitude_at(y + 1600, 12800, 1, 5000, 16000);
    printf("# 11 kHz at 0.8 -> alias at 5 kHz %.2g (%.1f dB)\n", alias, 20 * log10(alias / 0.8 + 1e-30));
    ASSERT_CMP(alias * 1e4, <, 8); /* below -60 dB */
    free(x);
    free(y);
    wac__convert_free(&c);
}

static void chunking_changes_nothing(void)
{
    struct wac__convert a, b;
    wac_format f = {44100, 2, WAC_SAMPLE_F32};
    ASSERT_OK(wac__convert_init(&a, 48000, 2, &f, 700));
    ASSERT_OK(wac__convert_init(&b, 48000, 2, &f, 700));
    double amp[2] = {0.3, 0.5};
    float *x = tone(30000, 2, 997, 48000, amp);
    uint32_t na, nb;
    float *ya = run(&a, x, 30000, 700, &na);
    float *yb = run(&b, x, 30000, 0, &nb);
    ASSERT_EQ(na, nb);
    ASSERT(memcmp(ya, yb, (size_t)na * 2 * sizeof(float)) == 0);
    ASSERT_CMP(fabs(amplitude_at(ya + 4410, 22050, 2, 997, 44100) - 0.3) * 1e4, <, 40);
    ASSERT_CMP(fabs(amplitude_at(ya + 4411, 22050, 2, 997, 44100) - 0.5) * 1e4, <, 60);
    free(x);
    free(ya);
    free(yb);
    wac__convert_free(&a);
    wac__convert_free(&b);
}

static void upsample_and_s16(void)
{
    struct wac__convert c;
    wac_format f = {48000, 1, WAC_SAMPLE_S16};
    ASSERT_OK(wac__convert_init(&c, 44100, 1, &f, 441));
    double amp[1] = {1.2}; /* clips */
    float *x = tone(44100, 1, 500, 44100, amp);
    uint32_t n;
    int16_t *y = run(&c, x, 44100, 441, &n);
    ASSERT_CMP(n, >=, 47900);
    int16_t lo = 0, hi = 0;
    for (uint32_t i = 0; i < n; i++) {
        lo = y[i] < lo ? y[i] : lo;
        hi = y[i] > hi ? y[i] : hi;
    }
    ASSERT_EQ(hi, 32767);
    ASSERT_EQ(lo, -32768);
    free(x);
    free(y);
    wac__convert_free(&c);
}

static void silence_and_reset(void)
{
    struct wac__convert c;
    wac_format f = {16000, 1, WAC_SAMPLE_F32};
    ASSERT_OK(wac__convert_init(&c, 48000, 2, &f, 480));
    float out[512];
    uint32_t total = 0;
    for (int i = 0; i < 10; i++) {
        uint32_t n = wac__convert_process(&c, NULL, 480, out, NULL);
        for (uint32_t j = 0; j < n; j++)
            ASSERT(out[j] == 0.0f);
        total += n;
    }
    wac__convert_reset(&c);
    uint32_t after = wac__convert_process(&c, NULL, 480, out, NULL);
    ASSERT_CMP(after, <, 160); /* the delay again */
    ASSERT_CMP(total, >, 1500);
    wac__convert_free(&c);
    ASSERT_RC(wac__convert_init(&c, 0, 2, &f, 480), WAC_ERR_INVALID_ARGUMENT);
}

/* One rule whatever the path: the frame converter (PipeWire's and the mix's
 * delivered format) and the resampling converter without a rate change give
 * the same samples, NaN becomes 0 in float and in s16, s16 rounds to nearest
 * and saturates, and channels average. */
static void one_rule_for_every_path(void)
{
    const float nan = NAN;
    float in[6 * 4] = {
        0.5f, 0.25f, 0.0f, 0.0f, 1.0f, -1.0f, /* 5.1: FL FR FC LFE RL RR */
        nan,  0.5f,  0.0f, 0.0f, 0.0f, 0.0f,  /* a NaN in FL */
        2.0f, 2.0f,  2.0f, 2.0f, 2.0f, 2.0f,  /* above full scale */
        -0.00002f, 0.00002f, 0.1f, 0.1f, 0.1f, 0.1f,
    };
    float mono[4], stereo[8];
    wac__convert_frames(in, 6, 4, mono, 1, WAC_SAMPLE_F32);
    ASSERT(fabsf(mono[0] - 0.75f / 6) < 1e-6f);
    ASSERT(fabsf(mono[1] - 0.5f / 6) < 1e-6f); /* the NaN counted as 0 */
    ASSERT(fabsf(mono[2] - 2.0f) < 1e-6f);    /* float is not clipped */
    wac__convert_frames(in, 6, 4, stereo, 2, WAC_SAMPLE_F32);
    /* Left averages FL, FC, RL (channels 0, 2, 4); right FR, LFE, RR. */
    ASSERT(fabsf(stereo[0] - 0.5f) < 1e-6f);
    ASSERT(fabsf(stereo[1] - (0.25f - 1.0f) / 3) < 1e-6f);
    ASSERT(stereo[2] == 0.0f);
    int16_t s16[8];
    wac__convert_frames(in, 6, 4, s16, 2, WAC_SAMPLE_S16);
    ASSERT_EQ(s16[0], 16384); /* 0.5 * 32767 = 16383.5, to nearest even */
    ASSERT_EQ(s16[4], 32767); /* saturated */
    float nan_only[2] = {nan, nan};
    float f_out[2];
    wac__convert_frames(nan_only, 2, 1, f_out, 2, WAC_SAMPLE_F32);
    ASSERT(f_out[0] == 0.0f && f_out[1] == 0.0f);
    wac__convert_samples(nan_only, 2, WAC_SAMPLE_S16, s16);
    ASSERT(s16[0] == 0 && s16[1] == 0);

    /* The resampling converter at the same rate: the same samples. */
    wac_format fmt = {48000, 2, WAC_SAMPLE_S16};
    struct wac__convert c;
    ASSERT_OK(wac__convert_init(&c, 48000, 6, &fmt, 16));
    int16_t via[8];
    ASSERT_EQ(wac__convert_process(&c, in, 4, via, NULL), 4);
    wac__convert_frames(in, 6, 4, s16, 2, WAC_SAMPLE_S16);
    for (int i = 0; i < 8; i++)
        ASSERT_EQ(via[i], s16[i]);
    wac__convert_free(&c);
}

int main(void)
{
    RUN(downsample_stereo_to_speech);
    RUN(downmix_is_the_average);
    RUN(above_nyquist_is_removed);
    RUN(chunking_changes_nothing);
    RUN(upsample_and_s16);
    RUN(silence_and_reset);
    RUN(one_rule_for_every_path);
    return tap_done();
}
