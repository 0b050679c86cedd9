/* tone-player.c — one process that plays several sine tones at once, each on
 * its own output stream: "an application with two streams" for the
 * integration tests, e.g. a browser playing two tabs.
 *
 *   tone-player SECONDS FREQ[:AMP[:SECS]] [FREQ[:AMP[:SECS]]...]
 *
 * Each tone is a 48 kHz stereo float stream (amplitude AMP, default 0.2;
 * SECS, default SECONDS: how long this stream plays before it closes) of
 * its own, on a connection and a libpulse loop thread of its own, so it plays
 * on PulseAudio and on PipeWire (through pipewire-pulse) alike. The stream's
 * media.name is "wac-tone-FREQ". Exits 0 after SECONDS, 1 when a stream
 * cannot be opened or written.
 *
 * Underflows. A player that is not scheduled in time leaves a gap in what the
 * server plays, and a capture of it records that gap faithfully: a test of
 * continuity cannot tell it from a loss of its own. The server says so (the
 * UNDERFLOW message); each one before the tone's last sample is written to
 * stderr and, with WAC_TONE_UNDERFLOWS=FILE, appended to FILE as a line, for
 * the test to read. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pulse/pulseaudio.h>

#define RATE 48000
#define CHANNELS 2
#define MAX_TONES 40 /* more than the PulseAudio backend's 32 mixed streams */

struct tone {
    double freq, amp, seconds;
    uint64_t frame, total;
    pa_threaded_mainloop *loop;
    pa_context *context;
    pa_stream *stream;
    char name[64];
    int done, failed;
};

static int underflow_fd = -1;

static void report_underflow(struct tone *t)
{
    char line[128];
    int n = snprintf(line, sizeof line, "underflow %s at %.3f s\n", t->name, (double)t->frame / RATE);
    fprintf(stderr, "tone-player: %s", line);
    if (underflow_fd >= 0 && n > 0)
        (void)!write(underflow_fd, line, (size_t)n);
}

static void finish(struct tone *t, int failed)
{
    t->failed |= failed;
    t->done = 1;
    pa_threaded_mainloop_signal(t->loop, 0);
}

static void on_context_state(pa_context *c, void *data)
{
    struct tone *t = data;
    pa_context_state_t s = pa_context_get_state(c);
    if (s == PA_CONTEXT_READY || s == PA_CONTEXT_FAILED || s == PA_CONTEXT_TERMINATED)
        pa_threaded_mainloop_signal(t->loop, 0);
}

static void on_drained(pa_stream *s, int success, void *data)
{
    (void)s;
    (void)success;
    finish(data, 0);
}

/* Samples from the frame count, not an accumulated phase: no drift. */
static void on_write(pa_stream *s, size_t bytes, void *data)
{
    struct tone *t = data;
    const size_t stride = CHANNELS * sizeof(float);
    while (bytes >= stride && t->frame < t->total) {
        size_t want = bytes, frames;
        float *buf;
        if (pa_stream_begin_write(s, (void **)&buf, &want) < 0 || want < stride) {
            fprintf(stderr, "tone-player: %s: %s\n", t->name, pa_strerror(pa_context_errno(t->context)));
            finish(t, 1);
            return;
        }
        frames = want / stride;
        if (frames > t->total - t->frame)
            frames = (size_t)(t->total - t->frame);
        double step = 2 * M_PI * t->freq / RATE;
        for (size_t i = 0; i < frames; i++) {
            float v = (float)(t->amp * sin(step * (double)(t->frame + i)));
            for (int c = 0; c < CHANNELS; c++)
                buf[i * CHANNELS + c] = v;
        }
        if (pa_stream_write(s, buf, frames * stride, NULL, 0, PA_SEEK_RELATIVE) < 0) {
            fprintf(stderr, "tone-player: %s: %s\n", t->name, pa_strerror(pa_context_errno(t->context)));
            finish(t, 1);
            return;
        }
        t->frame += frames;
        bytes -= frames * stride;
    }
    if (t->frame >= t->total) {
        pa_stream_set_write_callback(s, NULL, NULL);
        pa_operation *o = pa_stream_drain(s, on_drained, t);
        if (o)
            pa_operation_unref(o);
        else
            finish(t, 0);
    }
}

static void on_underflow(pa_stream *s, void *data)
{
    (void)s;
    struct tone *t = data;
    if (t->frame < t->total)
        report_underflow(t);
}

static void on_stream_state(pa_stream *s, void *data)
{
    struct tone *t = data;
    pa_stream_state_t st = pa_stream_get_state(s);
    if (st == PA_STREAM_FAILED || st == PA_STREAM_TERMINATED) {
        fprintf(stderr, "tone-player: %s: %s\n", t->name, pa_strerror(pa_context_errno(t->context)));
        finish(t, 1);
    }
}

/* Connects the tone's stream and starts it; returns 0 when it plays. */
static int start_tone(struct tone *t)
{
    snprintf(t->name, sizeof t->name, "wac-tone-%.0f", t->freq);
    t->total = (uint64_t)(t->seconds * RATE);
    t->loop = pa_threaded_mainloop_new();
    if (!t->loop || pa_threaded_mainloop_start(t->loop) < 0)
        return -1;
    pa_threaded_mainloop_lock(t->loop);
    t->context = pa_context_new(pa_threaded_mainloop_get_api(t->loop), "tone-player");
    int rc = -1;
    if (!t->context)
        goto out;
    pa_context_set_state_callback(t->context, on_context_state, t);
    if (pa_context_connect(t->context, NULL, PA_CONTEXT_NOFLAGS, NULL) < 0)
        goto out;
    pa_context_state_t cs;
    while ((cs = pa_context_get_state(t->context)) != PA_CONTEXT_READY) {
        if (!PA_CONTEXT_IS_GOOD(cs))
            goto out;
        pa_threaded_mainloop_wait(t->loop);
    }
    pa_sample_spec spec = {.format = PA_SAMPLE_FLOAT32NE, .rate = RATE, .channels = CHANNELS};
    /* Small buffers, as desktop applications ask: the tone starts at once and
     * stops when the process does. The flags are those of libpulse's simple
     * API, which the player used before it reported underflows. */
    pa_buffer_attr attr = {.maxlength = (uint32_t)-1, .tlength = (uint32_t)pa_usec_to_bytes(100000, &spec),
                           .prebuf = (uint32_t)-1, .minreq = (uint32_t)-1, .fragsize = (uint32_t)-1};
    t->stream = pa_stream_new(t->context, t->name, &spec, NULL);
    if (!t->stream)
        goto out;
    pa_stream_set_state_callback(t->stream, on_stream_state, t);
    pa_stream_set_write_callback(t->stream, on_write, t);
    pa_stream_set_underflow_callback(t->stream, on_underflow, t);
    pa_stream_flags_t flags = PA_STREAM_INTERPOLATE_TIMING | PA_STREAM_ADJUST_LATENCY | PA_STREAM_AUTO_TIMING_UPDATE;
    if (pa_stream_connect_playback(t->stream, NULL, &attr, flags, NULL, NULL) < 0)
        goto out;
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "tone-player: %s: %s\n", t->name,
                t->context ? pa_strerror(pa_context_errno(t->context)) : "cannot start libpulse");
    pa_threaded_mainloop_unlock(t->loop);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc - 2 > MAX_TONES) {
        fprintf(stderr, "usage: tone-player SECONDS FREQ[:AMP[:SECS]] [FREQ[:AMP[:SECS]]...] (at most %d tones)\n",
                MAX_TONES);
        return 2;
    }
    double seconds = atof(argv[1]);
    static struct tone tones[MAX_TONES];
    int n = argc - 2;
    for (int i = 0; i < n; i++) {
        char *colon = strchr(argv[i + 2], ':');
        tones[i].freq = atof(argv[i + 2]);
        tones[i].amp = colon ? atof(colon + 1) : 0.2;
        char *second_colon = colon ? strchr(colon + 1, ':') : NULL;
        tones[i].seconds = second_colon ? atof(second_colon + 1) : seconds;
        if (tones[i].freq <= 0 || tones[i].freq >= RATE / 2.0 || tones[i].seconds <= 0) {
            fprintf(stderr, "tone-player: bad tone '%s' or duration\n", argv[i + 2]);
            return 2;
        }
    }
    const char *log = getenv("WAC_TONE_UNDERFLOWS");
    if (log && *log)
        underflow_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    /* Connections one at a time (start_tone waits for each): the server's
     * listening socket has a small backlog, and 34 simultaneous connections
     * were refused. */
    for (int i = 0; i < n; i++)
        if (start_tone(&tones[i]) < 0)
            return 1;
    int failed = 0;
    for (int i = 0; i < n; i++) {
        pa_threaded_mainloop_lock(tones[i].loop);
        while (!tones[i].done)
            pa_threaded_mainloop_wait(tones[i].loop);
        failed |= tones[i].failed;
        pa_threaded_mainloop_unlock(tones[i].loop);
    }
    return failed;
}
