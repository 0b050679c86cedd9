/* level.c — peak and RMS of a chunk, in dBFS. */
#include "level.h"

#include <math.h>

static double to_dbfs(double magnitude)
{
    if (magnitude <= 0.0)
        return LEVEL_FLOOR_DBFS;
    double db = 20.0 * log10(magnitude);
    return db < LEVEL_FLOOR_DBFS ? LEVEL_FLOOR_DBFS : db;
}

level level_measure(const void *frames, uint32_t n_frames, const wac_format *format)
{
    size_t n_samples = (size_t)n_frames * format->channels;
    double peak = 0.0, sum_of_squares = 0.0;
    for (size_t i = 0; i < n_samples; i++) {
        double value = format->sample == WAC_SAMPLE_F32 ? (double)((const float *)frames)[i]
                                                        : ((const int16_t *)frames)[i] / 32768.0;
        double magnitude = fabs(value);
        if (magnitude > peak)
            peak = magnitude;
        sum_of_squares += value * value;
    }
    level result = {to_dbfs(peak), LEVEL_FLOOR_DBFS};
    if (n_samples > 0)
        result.rms_dbfs = to_dbfs(sqrt(sum_of_squares / (double)n_samples));
    return result;
}
