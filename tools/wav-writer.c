/* wav-writer.c — capture output through libsndfile, or raw to stdout. */
#include "wav-writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sndfile.h>

struct wav_writer {
    SNDFILE *file;  /* NULL for raw stdout */
    int raw_fd;
    const char *name;
    wac_sample_type sample;
    uint32_t frame_bytes;
};

static bool is_stdout(const char *path)
{
    return strcmp(path, "-") == 0;
}

static bool has_extension(const char *path, const char *extension)
{
    const char *dot = strrchr(path, '.');
    return dot && !strchr(dot, '/') && strcasecmp(dot + 1, extension) == 0;
}

/* The libsndfile container and sample encoding for @p path, or 0. */
static int sndfile_format_for(const char *path, wac_sample_type sample)
{
    if (has_extension(path, "wav") || has_extension(path, "wave"))
        return SF_FORMAT_WAV | (sample == WAC_SAMPLE_F32 ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16);
    if (has_extension(path, "flac"))
        return SF_FORMAT_FLAC | (sample == WAC_SAMPLE_F32 ? SF_FORMAT_PCM_24 : SF_FORMAT_PCM_16);
    return 0;
}

bool wav_writer_supports(const char *path)
{
    return is_stdout(path) || sndfile_format_for(path, WAC_SAMPLE_F32) != 0;
}

int wav_writer_open(const char *path, const wac_format *format, wav_writer **out, char *why, size_t why_size)
{
    *out = NULL;
    wav_writer *writer = calloc(1, sizeof *writer);
    if (!writer) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    writer->raw_fd = -1;
    writer->sample = format->sample;
    writer->frame_bytes = format->channels * (format->sample == WAC_SAMPLE_F32 ? 4u : 2u);

    if (is_stdout(path)) {
        /* Binary samples would garble a terminal and help nobody. */
        if (isatty(STDOUT_FILENO)) {
            snprintf(why, why_size, "refusing to write raw audio to a terminal; redirect stdout or use a file name");
            goto fail;
        }
        writer->raw_fd = STDOUT_FILENO;
        writer->name = "stdout";
        *out = writer;
        return 0;
    }

    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = (int)format->rate;
    info.channels = (int)format->channels;
    info.format = sndfile_format_for(path, format->sample);
    if (!info.format) {
        snprintf(why, why_size, "unknown file type; use a name ending in .wav or .flac, or - for raw stdout");
        goto fail;
    }
    if (!sf_format_check(&info)) {
        snprintf(why, why_size, "libsndfile cannot write this format (%u Hz, %u channels)", format->rate,
                 format->channels);
        goto fail;
    }
    writer->file = sf_open(path, SFM_WRITE, &info);
    if (!writer->file) {
        snprintf(why, why_size, "%s", sf_strerror(NULL));
        goto fail;
    }
    /* Float to integer (f32 into FLAC): clip overs instead of wrapping them. */
    sf_command(writer->file, SFC_SET_CLIPPING, NULL, SF_TRUE);
    writer->name = path;
    *out = writer;
    return 0;

fail:
    free(writer);
    return -1;
}

static int write_all(int fd, const uint8_t *bytes, size_t size, bool *reader_gone, char *why, size_t why_size)
{
    while (size > 0) {
        ssize_t written = write(fd, bytes, size);
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0) {
            *reader_gone = errno == EPIPE;
            snprintf(why, why_size, "%s", strerror(errno));
            return -1;
        }
        bytes += written;
        size -= (size_t)written;
    }
    return 0;
}

int wav_writer_write(wav_writer *writer, const void *frames, uint32_t n_frames, bool *reader_gone, char *why,
                     size_t why_size)
{
    *reader_gone = false;
    if (writer->raw_fd >= 0)
        return write_all(writer->raw_fd, frames, (size_t)n_frames * writer->frame_bytes, reader_gone, why, why_size);
    sf_count_t written = writer->sample == WAC_SAMPLE_F32 ? sf_writef_float(writer->file, frames, n_frames)
                                                          : sf_writef_short(writer->file, frames, n_frames);
    if (written != (sf_count_t)n_frames) {
        snprintf(why, why_size, "%s", sf_strerror(writer->file));
        return -1;
    }
    return 0;
}

int wav_writer_close(wav_writer *writer, char *why, size_t why_size)
{
    if (!writer)
        return 0;
    int rc = 0;
    if (writer->file) {
        int sf_rc = sf_close(writer->file);
        if (sf_rc != 0) {
            snprintf(why, why_size, "%s", sf_error_number(sf_rc));
            rc = -1;
        }
    }
    free(writer);
    return rc;
}

const char *wav_writer_name(const wav_writer *writer)
{
    return writer->name;
}
