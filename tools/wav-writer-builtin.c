/* wav-writer-builtin.c — capture output without libsndfile, for the Windows
 * build (Debian has no mingw-w64 libsndfile): WAV files written here, or raw
 * samples on stdout. FLAC is not available in this build.
 *
 *   .wav / .wave   f32 -> 32-bit float WAV (WAVE_FORMAT_IEEE_FLOAT, with a
 *                  fact chunk), s16 -> 16-bit PCM WAV; more than 2 channels
 *                  or a sample size above 16 bits uses WAVE_FORMAT_EXTENSIBLE
 *                  as the WAV specification asks
 *   -              raw samples in the capture's format, native endian
 * The header is written first with zero lengths and patched on close; a WAV
 * holds at most 4 GiB of data (the writer stops with an error before that). */
#include "wav-writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#define strcasecmp _stricmp
#else
#include <strings.h>
#include <unistd.h>
#endif

#define MAX_DATA_BYTES 0xFFFFFF00u

struct wav_writer {
    FILE *file;
    bool raw; /* stdout */
    const char *name;
    uint32_t frame_bytes;
    bool extensible, is_float;
    uint64_t data_bytes;
    long data_size_at, riff_size_at, fact_at;
};

static bool is_stdout(const char *path)
{
    return strcmp(path, "-") == 0;
}

static bool has_extension(const char *path, const char *extension)
{
    const char *dot = strrchr(path, '.');
    return dot && !strchr(dot, '/') && !strchr(dot, '\\') && strcasecmp(dot + 1, extension) == 0;
}

bool wav_writer_supports(const char *path)
{
    return is_stdout(path) || has_extension(path, "wav") || has_extension(path, "wave");
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v & 0xFFFF);
    put16(p + 2, v >> 16);
}

/* The header for `data_bytes` of audio; returns its size. */
static size_t make_header(const wav_writer *w, uint32_t rate, uint32_t channels, uint32_t data_bytes, uint8_t *h,
                          long *riff_at, long *fact_at, long *data_at)
{
    uint32_t bits = w->is_float ? 32 : 16;
    uint32_t fmt_size = w->extensible ? 40 : (w->is_float ? 18 : 16);
    size_t n = 0;
    memcpy(h + n, "RIFF", 4);
    *riff_at = (long)(n + 4);
    n += 8;
    memcpy(h + n, "WAVE", 4);
    n += 4;
    memcpy(h + n, "fmt ", 4);
    put32(h + n + 4, fmt_size);
    n += 8;
    put16(h + n, w->extensible ? 0xFFFE : (w->is_float ? 3 : 1));
    put16(h + n + 2, channels);
    put32(h + n + 4, rate);
    put32(h + n + 8, rate * w->frame_bytes);
    put16(h + n + 12, w->frame_bytes);
    put16(h + n + 14, bits);
    if (fmt_size >= 18)
        put16(h + n + 16, fmt_size - 18); /* cbSize */
    if (w->extensible) {
        static const uint32_t masks[9] = {0, 0x4, 0x3, 0x7, 0x33, 0x37, 0x3f, 0x13f, 0x63f};
        put16(h + n + 18, bits);
        put32(h + n + 20, channels <= 8 ? masks[channels] : 0);
        /* KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT: {0000000X-0000-0010-8000-00AA00389B71} */
        static const uint8_t guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                              0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
        put16(h + n + 24, w->is_float ? 3 : 1);
        memcpy(h + n + 26, guid_tail, sizeof guid_tail);
    }
    n += fmt_size;
    *fact_at = -1;
    if (w->is_float) {
        /* Non-PCM WAV files carry the frame count in a fact chunk. */
        memcpy(h + n, "fact", 4);
        put32(h + n + 4, 4);
        *fact_at = (long)(n + 8);
        put32(h + n + 8, data_bytes / w->frame_bytes);
        n += 12;
    }
    memcpy(h + n, "data", 4);
    *data_at = (long)(n + 4);
    put32(h + n + 4, data_bytes);
    n += 8;
    put32(h + *riff_at, (uint32_t)(n - 8) + data_bytes);
    return n;
}

int wav_writer_open(const char *path, const wac_format *format, wav_writer **out, char *why, size_t why_size)
{
    *out = NULL;
    wav_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    w->is_float = format->sample == WAC_SAMPLE_F32;
    w->frame_bytes = format->channels * (w->is_float ? 4u : 2u);
    w->extensible = format->channels > 2;
    if (is_stdout(path)) {
#ifdef _WIN32
        if (_isatty(_fileno(stdout))) {
#else
        if (isatty(STDOUT_FILENO)) {
#endif
            snprintf(why, why_size, "refusing to write raw audio to a terminal; redirect stdout or use a file name");
            free(w);
            return -1;
        }
#ifdef _WIN32
        _setmode(_fileno(stdout), _O_BINARY); /* no CR/LF translation of samples */
#endif
        w->file = stdout;
        w->raw = true;
        w->name = "stdout";
        *out = w;
        return 0;
    }
    if (!wav_writer_supports(path)) {
        snprintf(why, why_size, "unknown file type; use a name ending in .wav, or - for raw stdout "
                                "(this build has no FLAC)");
        free(w);
        return -1;
    }
    w->file = fopen(path, "wb");
    if (!w->file) {
        snprintf(why, why_size, "%s", strerror(errno));
        free(w);
        return -1;
    }
    uint8_t header[80];
    size_t n = make_header(w, format->rate, format->channels, 0, header, &w->riff_size_at, &w->fact_at,
                           &w->data_size_at);
    if (fwrite(header, 1, n, w->file) != n) {
        snprintf(why, why_size, "%s", strerror(errno));
        fclose(w->file);
        free(w);
        return -1;
    }
    w->name = path;
    *out = w;
    return 0;
}

int wav_writer_write(wav_writer *w, const void *frames, uint32_t n_frames, bool *reader_gone, char *why,
                     size_t why_size)
{
    *reader_gone = false;
    size_t bytes = (size_t)n_frames * w->frame_bytes;
    if (!w->raw && w->data_bytes + bytes > MAX_DATA_BYTES) {
        snprintf(why, why_size, "a WAV file holds at most 4 GiB");
        return -1;
    }
    if (fwrite(frames, 1, bytes, w->file) != bytes || (w->raw && fflush(w->file) != 0)) {
        *reader_gone = w->raw && errno == EPIPE;
#ifdef _WIN32
        /* Windows reports a closed pipe as EINVAL from the CRT. */
        *reader_gone = w->raw && (errno == EPIPE || errno == EINVAL);
#endif
        snprintf(why, why_size, "%s", strerror(errno));
        return -1;
    }
    w->data_bytes += bytes;
    return 0;
}

static bool patch32(FILE *f, long at, uint32_t v)
{
    uint8_t b[4];
    put32(b, v);
    return fseek(f, at, SEEK_SET) == 0 && fwrite(b, 1, 4, f) == 4;
}

int wav_writer_close(wav_writer *w, char *why, size_t why_size)
{
    if (!w)
        return 0;
    int rc = 0;
    if (w->raw) {
        fflush(w->file);
    } else {
        uint32_t data = (uint32_t)w->data_bytes;
        bool ok = patch32(w->file, w->data_size_at, data) &&
                  patch32(w->file, w->riff_size_at, (uint32_t)(w->data_size_at + 4 - 8) + data) &&
                  (w->fact_at < 0 || patch32(w->file, w->fact_at, data / w->frame_bytes));
        if (fclose(w->file) != 0)
            ok = false;
        if (!ok) {
            snprintf(why, why_size, "%s", strerror(errno));
            rc = -1;
        }
    }
    free(w);
    return rc;
}

const char *wav_writer_name(const wav_writer *w)
{
    return w->name;
}
