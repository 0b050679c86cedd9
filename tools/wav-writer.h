/* wav-writer.h — where one capture's audio goes: a WAV or FLAC file (by the
 * file name's extension, written with libsndfile) or, for the name "-", raw
 * interleaved samples on stdout for pipelines.
 *
 *   .wav / .wave   f32 -> 32-bit float WAV, s16 -> 16-bit PCM WAV
 *   .flac          s16 -> 16-bit FLAC; f32 -> 24-bit FLAC (FLAC has no float
 *                  samples: libsndfile scales [-1, 1] to 24 bits and clips
 *                  what lies beyond instead of wrapping around)
 *   -              raw samples in the capture's format, native endian */
#ifndef WAC_TOOL_WAV_WRITER_H
#define WAC_TOOL_WAV_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wac.h>

typedef struct wav_writer wav_writer;

/* True if the tool knows how to write @p path (a known extension, or "-"). */
bool wav_writer_supports(const char *path);

/* Create (truncate) @p path for audio in @p format. Returns 0, or -1 with the
 * reason in @p why. */
int wav_writer_open(const char *path, const wac_format *format, wav_writer **out, char *why, size_t why_size);

/* Append @p frames interleaved frames. Returns 0, or -1 with the reason in
 * @p why; *reader_gone is set when the output is a pipe whose reader has
 * exited (EPIPE), which is how a pipeline asks a producer to stop. */
int wav_writer_write(wav_writer *writer, const void *frames, uint32_t n_frames, bool *reader_gone, char *why,
                     size_t why_size);

/* Finish the file (headers with the final length) and free the writer.
 * Returns 0, or -1 with the reason in @p why. NULL does nothing. */
int wav_writer_close(wav_writer *writer, char *why, size_t why_size);

/* The name to show for this output ("stdout" for "-"). */
const char *wav_writer_name(const wav_writer *writer);

#endif
