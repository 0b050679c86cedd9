/* level.h — how loud a chunk of audio is, in dBFS. */
#ifndef WAC_TOOL_LEVEL_H
#define WAC_TOOL_LEVEL_H

#include <stdint.h>

#include <wac.h>

/* Below this everything is shown as silence ("-inf"). */
#define LEVEL_FLOOR_DBFS (-96.0)

typedef struct level {
    double peak_dbfs; /* largest sample magnitude, LEVEL_FLOOR_DBFS for digital silence */
    double rms_dbfs;  /* root mean square over all samples of all channels */
} level;

/* Measure @p n_frames interleaved frames in @p format. Full scale is 1.0 for
 * f32 and 32768 for s16. */
level level_measure(const void *frames, uint32_t n_frames, const wac_format *format);

#endif
