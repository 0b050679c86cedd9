/* convert.h — WAC's one format conversion, for every backend: the rule for
 * channels and for sample types, and, for when the Windows audio engine
 * refuses the format a caller asked for, a converter with a resampler: float
 * frames at the engine's rate and channel count in, the caller's format out.
 *
 * The rules (wac.h promises them, whichever engine delivered the audio):
 * - channels, fewer: output channel j is the average of source channels j,
 *   j + oc, j + 2 oc, ... (mono: of all of them); averaging never clips.
 *   More: mono is copied to every channel, otherwise extra channels are
 *   silent;
 * - sample type: float stays float (not clipped: the consumer decides); 16-bit
 *   is round-to-nearest of v * 32767, saturated to [-32768, 32767];
 * - a NaN becomes 0 (it would poison every later sum and resampler tap).
 * The converter's steps, in this order: channels, rate (a windowed-sinc
 * polyphase resampler, see convert.c), sample type.
 *
 * Everything is allocated by wac__convert_init(); nothing else here
 * allocates, locks or blocks (it runs on capture threads). Plain C11, no
 * platform code: unit-tested on every platform (tests/test-convert.c). */
#ifndef WAC_CONVERT_H
#define WAC_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wac.h"

#define WAC__MAX_CHANNELS 8

/* Interleaved float frames to another channel count (the channel rule). in
 * NULL: silence. in and out must not overlap. */
void wac__convert_channels(const float *in, uint32_t in_channels, float *out, uint32_t out_channels,
                           uint32_t frames);
/* Float samples to the sample type (the sample rule; NaN -> 0). */
void wac__convert_samples(const float *in, size_t samples, wac_sample_type type, void *out);
/* Both, frame by frame: in_channels float frames to out_channels (1 ... 8)
 * frames of type. */
void wac__convert_frames(const float *in, uint32_t in_channels, uint32_t frames, void *out,
                         uint32_t out_channels, wac_sample_type type);

struct wac__convert {
    uint32_t in_rate, in_channels;
    wac_format out;
    uint32_t max_in;   /* most input frames per process() call */
    uint32_t max_out;  /* most output frames one call can produce */
    bool resample;

    /* Rate: output frame n sits at input time n * step_num / step_den. */
    uint32_t step_num, step_den; /* in_rate / out_rate, reduced */
    uint32_t half;               /* kernel half-width, in input frames */
    uint32_t oversample;         /* table points per input frame */
    float *table;                /* kernel from 0 to `half` input frames */
    uint32_t table_len;

    float *mixed;        /* input after the channel step: (half*2 + max_in) frames */
    uint32_t hist_count; /* frames in `mixed` */
    uint64_t ipos;       /* input frame (index into `mixed`) at or before the next output's time */
    uint32_t frac;       /* and the fraction past it, in 1/step_den */
    float *resampled;    /* output frames before the sample-type step */
};

/* Set up a converter. Returns 0 or WAC_ERR_NO_MEMORY / WAC_ERR_INVALID_ARGUMENT. */
int wac__convert_init(struct wac__convert *c, uint32_t in_rate, uint32_t in_channels, const wac_format *out,
                      uint32_t max_in_frames);
void wac__convert_free(struct wac__convert *c);
/* Forget the history (after a discontinuity): the next output starts afresh. */
void wac__convert_reset(struct wac__convert *c);
/* The most frames one wac__convert_process() call writes. */
uint32_t wac__convert_max_out(const struct wac__convert *c);
/* Convert n_in (<= max_in_frames) interleaved float frames; `in` NULL means
 * silence. Writes up to wac__convert_max_out() frames to `out` in the output
 * format and returns their count. *first_offset receives the input time of the
 * first frame written, in input frames relative to in[0] (negative: it lies
 * in an earlier call's input, the resampler's delay); for timestamps. RT-safe. */
uint32_t wac__convert_process(struct wac__convert *c, const float *in, uint32_t n_in, void *out,
                              double *first_offset);

#endif
