/* convert.c — see convert.h.
 *
 * The resampler: a windowed-sinc low-pass evaluated at the exact time of each
 * output frame. Output frame n lies at input time n * in_rate / out_rate, kept
 * as an integer frame index plus a fraction in units of 1 / (out_rate / gcd):
 * exact rational arithmetic, so the rate never drifts however long the stream.
 * The kernel is a Kaiser-windowed sinc (beta 8.6: stopband about -90 dB) with
 * its cutoff at 92% of the lower of the two Nyquist frequencies and 24 zero
 * crossings on each side; it is tabulated at init, 512 points per input frame,
 * and read with linear interpolation. Delay: `half` input frames (1.6 ms from
 * 48 kHz to 16 kHz), which the timestamps account for (first_offset).
 *
 * Why our own and not the Media Foundation resampler DSP: it runs without
 * COM, allocation or locks on the real-time thread, it is the same code on
 * every platform so it is unit-tested on Linux and Windows alike, and Wine
 * (where CI runs the Windows build) has no such DSP without GStreamer. The
 * fallback is rare: the engine converts (AUTOCONVERTPCM) whenever it can. */
#include "attach/convert.h"
#include "alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ZERO_CROSSINGS 24
#define OVERSAMPLE 512
#define KAISER_BETA 8.6
#define CUTOFF 0.92

static const double pi = 3.14159265358979323846;

static uint32_t gcd(uint32_t a, uint32_t b)
{
    while (b) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Modified Bessel function of the first kind, order 0 (power series). */
static double bessel_i0(double x)
{
    double sum = 1, term = 1, q = x * x / 4;
    for (int k = 1; k < 64; k++) {
        term *= q / ((double)k * k);
        sum += term;
        if (term < sum * 1e-17)
            break;
    }
    return sum;
}

void wac__convert_free(struct wac__convert *c)
{
    wac__free(c->table);
    wac__free(c->mixed);
    wac__free(c->resampled);
    memset(c, 0, sizeof *c);
}

void wac__convert_reset(struct wac__convert *c)
{
    if (!c->resample)
        return;
    /* `half` frames of silence before the first input frame, which sits at
     * time 0 = mixed[half]. */
    c->hist_count = c->half;
    memset(c->mixed, 0, (size_t)c->half * c->out.channels * sizeof(float));
    c->ipos = c->half;
    c->frac = 0;
}

int wac__convert_init(struct wac__convert *c, uint32_t in_rate, uint32_t in_channels, const wac_format *out,
                      uint32_t max_in_frames)
{
    memset(c, 0, sizeof *c);
    if (!in_rate || !in_channels || !out->rate || !out->channels || !max_in_frames)
        return WAC_ERR_INVALID_ARGUMENT;
    c->in_rate = in_rate;
    c->in_channels = in_channels;
    c->out = *out;
    c->max_in = max_in_frames;
    c->resample = in_rate != out->rate;
    uint32_t ch = out->channels;
    if (!c->resample) {
        c->max_out = max_in_frames;
        c->mixed = wac__malloc((size_t)max_in_frames * ch * sizeof(float));
        return c->mixed ? 0 : WAC_ERR_NO_MEMORY;
    }
    uint32_t g = gcd(in_rate, out->rate);
    c->step_num = in_rate / g;
    c->step_den = out->rate / g;
    /* Cutoff in cycles per input frame, and the kernel's reach. */
    double ratio = out->rate < in_rate ? (double)out->rate / in_rate : 1.0;
    double fc = 0.5 * CUTOFF * ratio;
    c->half = (uint32_t)ceil(ZERO_CROSSINGS / (2 * fc));
    c->oversample = OVERSAMPLE;
    c->table_len = c->half * c->oversample + 2;
    c->table = wac__malloc((size_t)c->table_len * sizeof(float));
    c->max_out = (uint32_t)((uint64_t)max_in_frames * out->rate / in_rate) + 8;
    size_t hist_frames = (size_t)c->half * 2 + c->step_num / c->step_den + 64 + max_in_frames;
    c->mixed = wac__malloc(hist_frames * ch * sizeof(float));
    c->resampled = wac__malloc((size_t)c->max_out * ch * sizeof(float));
    if (!c->table || !c->mixed || !c->resampled) {
        wac__convert_free(c);
        return WAC_ERR_NO_MEMORY;
    }
    double i0_beta = bessel_i0(KAISER_BETA);
    for (uint32_t i = 0; i < c->table_len; i++) {
        double x = (double)i / c->oversample; /* input frames from the centre */
        double u = x / c->half;
        double v = 0;
        if (u < 1) {
            double arg = 2 * fc * x;
            double sinc = x == 0 ? 1 : sin(pi * arg) / (pi * arg);
            v = 2 * fc * sinc * bessel_i0(KAISER_BETA * sqrt(1 - u * u)) / i0_beta;
        }
        c->table[i] = (float)v;
    }
    wac__convert_reset(c);
    return 0;
}

uint32_t wac__convert_max_out(const struct wac__convert *c)
{
    return c->max_out;
}

static float sample_rule(float v)
{
    return v == v ? v : 0.0f; /* NaN -> 0 */
}

static int16_t s16_rule(float v)
{
    float s = sample_rule(v) * 32767.0f;
    return s >= 32767.0f ? 32767 : s <= -32768.0f ? -32768 : (int16_t)lrintf(s);
}

static void channels_of_frame(const float *in, uint32_t ic, float *out, uint32_t oc)
{
    if (oc < ic) {
        /* Output channel j averages source channels j, j + oc, j + 2 oc, ...
         * (for mono: all of them). Averaging never clips. */
        for (uint32_t j = 0; j < oc; j++) {
            float sum = 0;
            uint32_t count = 0;
            for (uint32_t k = j; k < ic; k += oc, count++)
                sum += sample_rule(in[k]);
            out[j] = sum / (float)count;
        }
    } else {
        for (uint32_t j = 0; j < oc; j++)
            out[j] = sample_rule(j < ic ? in[j] : (ic == 1 ? in[0] : 0.0f));
    }
}

void wac__convert_channels(const float *in, uint32_t in_channels, float *out, uint32_t out_channels,
                           uint32_t frames)
{
    if (!in) {
        memset(out, 0, (size_t)frames * out_channels * sizeof(float));
        return;
    }
    for (uint32_t i = 0; i < frames; i++, in += in_channels, out += out_channels)
        channels_of_frame(in, in_channels, out, out_channels);
}

void wac__convert_samples(const float *in, size_t samples, wac_sample_type type, void *out)
{
    if (type == WAC_SAMPLE_S16) {
        int16_t *o = out;
        for (size_t i = 0; i < samples; i++)
            o[i] = s16_rule(in[i]);
    } else {
        float *o = out;
        for (size_t i = 0; i < samples; i++)
            o[i] = sample_rule(in[i]);
    }
}

void wac__convert_frames(const float *in, uint32_t in_channels, uint32_t frames, void *out,
                         uint32_t out_channels, wac_sample_type type)
{
    float frame[WAC__MAX_CHANNELS];
    float *out_f = out;
    int16_t *out_s = out;
    for (uint32_t i = 0; i < frames; i++, in += in_channels) {
        channels_of_frame(in, in_channels, frame, out_channels);
        for (uint32_t j = 0; j < out_channels; j++) {
            if (type == WAC_SAMPLE_S16)
                *out_s++ = s16_rule(frame[j]);
            else
                *out_f++ = frame[j];
        }
    }
}

static inline float kernel(const struct wac__convert *c, double x)
{
    double p = fabs(x) * c->oversample;
    uint32_t i = (uint32_t)p;
    if (i + 1 >= c->table_len)
        return 0;
    float f = (float)(p - i);
    return c->table[i] + f * (c->table[i + 1] - c->table[i]);
}

/* Rate step: consume what is in `mixed`, write to `resampled`. */
static uint32_t resample(struct wac__convert *c, uint32_t block_start, double *first_offset)
{
    uint32_t ch = c->out.channels;
    uint32_t produced = 0;
    *first_offset = (double)((int64_t)c->ipos - (int64_t)block_start) + (double)c->frac / c->step_den;
    while (c->ipos + c->half < c->hist_count && produced < c->max_out) {
        double f = (double)c->frac / c->step_den;
        float *o = c->resampled + (size_t)produced * ch;
        for (uint32_t j = 0; j < ch; j++)
            o[j] = 0;
        /* Taps k = ipos - half + 1 ... ipos + half, at distance (ipos - k) + f. */
        const float *x = c->mixed + (c->ipos - c->half + 1) * ch;
        for (uint32_t t = 0; t < 2 * c->half; t++, x += ch) {
            float w = kernel(c, (double)((int32_t)c->half - 1 - (int32_t)t) + f);
            for (uint32_t j = 0; j < ch; j++)
                o[j] += w * x[j];
        }
        produced++;
        c->frac += c->step_num;
        c->ipos += c->frac / c->step_den;
        c->frac %= c->step_den;
    }
    /* Keep only what the next output frame reaches back to. */
    uint64_t oldest = c->ipos + 1 > c->half ? c->ipos + 1 - c->half : 0;
    uint32_t drop = oldest > c->hist_count ? c->hist_count : (uint32_t)oldest;
    if (drop) {
        memmove(c->mixed, c->mixed + (size_t)drop * ch, (size_t)(c->hist_count - drop) * ch * sizeof(float));
        c->hist_count -= drop;
        c->ipos -= drop;
    }
    return produced;
}

uint32_t wac__convert_process(struct wac__convert *c, const float *in, uint32_t n_in, void *out,
                              double *first_offset)
{
    if (n_in > c->max_in)
        n_in = c->max_in;
    uint32_t ch = c->out.channels;
    const float *src;
    uint32_t n;
    double offset = 0;
    if (c->resample) {
        uint32_t block_start = c->hist_count;
        wac__convert_channels(in, c->in_channels, c->mixed + (size_t)block_start * ch, ch, n_in);
        c->hist_count += n_in;
        n = resample(c, block_start, &offset);
        src = c->resampled;
    } else {
        wac__convert_channels(in, c->in_channels, c->mixed, ch, n_in);
        n = n_in;
        src = c->mixed;
    }
    if (first_offset)
        *first_offset = offset;
    wac__convert_samples(src, (size_t)n * ch, c->out.sample, out);
    return n;
}
