/* switch-player.c — a player whose tone changes at a moment it can name, for
 * the latency test: it plays FREQ1, switches to FREQ2 (phase-continuous, same
 * amplitude) at frame SWITCH_S * 48000, and writes to OUTFILE the
 * CLOCK_MONOTONIC time, in ns, at which the server says that frame plays.
 *
 *   switch-player SINK|- SECONDS SWITCH_S FREQ1 FREQ2 OUTFILE [TLENGTH_MS]
 *
 * It behaves like paplay: no PA_STREAM_ADJUST_LATENCY and the server's
 * default buffer attributes, except the target length when TLENGTH_MS is
 * given: a player that buffers a lot (as power-saving music players do)
 * lets a null sink it plays on alone run at that sink's full default
 * latency, 2 s, where the server's default target length (~250 ms here)
 * would bring it down to ~200 ms. (libpulse-simple cannot do this: it
 * always sets ADJUST_LATENCY.)
 *
 * When the frame plays: right after the write that contains it, the stream's
 * latency L (pa_stream_get_latency: the time until the last frame written so
 * far is played, from the server's own timing) gives
 *   play(K) = now + L - (frames written after K) / rate.
 * This is the player's own view of the playback clock, independent of WAC's
 * record streams; the test compares where WAC places frame K in time with
 * it. 48 kHz stereo float, amplitude 0.4; SINK "-" is the default sink.
 * Exits 0 after SECONDS of audio have been written and drained. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pulse/pulseaudio.h>

#define RATE 48000
#define CHANNELS 2
#define BLOCK 480 /* 10 ms */
#define AMPLITUDE 0.4

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_signal(pa_stream *s, size_t nbytes, void *userdata)
{
    pa_threaded_mainloop_signal(userdata, 0);
}

static void on_state(pa_context *c, void *userdata)
{
    pa_threaded_mainloop_signal(userdata, 0);
}

static void on_stream_state(pa_stream *s, void *userdata)
{
    pa_threaded_mainloop_signal(userdata, 0);
}

static void on_drained(pa_stream *s, int success, void *userdata)
{
    pa_threaded_mainloop_signal(userdata, 0);
}

int main(int argc, char **argv)
{
    if (argc != 7 && argc != 8) {
        fprintf(stderr, "usage: switch-player SINK|- SECONDS SWITCH_S FREQ1 FREQ2 OUTFILE [TLENGTH_MS]\n");
        return 2;
    }
    const char *sink = strcmp(argv[1], "-") == 0 ? NULL : argv[1];
    double seconds = atof(argv[2]), switch_s = atof(argv[3]), f1 = atof(argv[4]), f2 = atof(argv[5]);
    const char *outfile = argv[6];
    double tlength_ms = argc == 8 ? atof(argv[7]) : 0;
    if (seconds <= 0 || switch_s <= 0 || switch_s >= seconds || f1 <= 0 || f2 <= 0 || f1 >= RATE / 2.0 ||
        f2 >= RATE / 2.0) {
        fprintf(stderr, "switch-player: bad arguments\n");
        return 2;
    }
    pa_threaded_mainloop *ml = pa_threaded_mainloop_new();
    pa_context *ctx = ml ? pa_context_new(pa_threaded_mainloop_get_api(ml), "switch-player") : NULL;
    if (!ctx) {
        fprintf(stderr, "switch-player: no main loop or context\n");
        return 1;
    }
    pa_context_set_state_callback(ctx, on_state, ml);
    pa_threaded_mainloop_lock(ml);
    if (pa_threaded_mainloop_start(ml) < 0 || pa_context_connect(ctx, NULL, PA_CONTEXT_NOAUTOSPAWN, NULL) < 0) {
        fprintf(stderr, "switch-player: cannot connect\n");
        return 1;
    }
    while (pa_context_get_state(ctx) != PA_CONTEXT_READY) {
        if (!PA_CONTEXT_IS_GOOD(pa_context_get_state(ctx))) {
            fprintf(stderr, "switch-player: %s\n", pa_strerror(pa_context_errno(ctx)));
            return 1;
        }
        pa_threaded_mainloop_wait(ml);
    }
    pa_sample_spec spec = {.format = PA_SAMPLE_FLOAT32NE, .rate = RATE, .channels = CHANNELS};
    pa_stream *s = pa_stream_new(ctx, "wac-switch", &spec, NULL);
    pa_stream_set_state_callback(s, on_stream_state, ml);
    pa_stream_set_write_callback(s, on_signal, ml);
    /* No latency request: like paplay. */
    pa_buffer_attr attr;
    memset(&attr, 0xff, sizeof attr); /* (uint32_t)-1: the server's default */
    if (tlength_ms > 0)
        attr.tlength = (uint32_t)pa_usec_to_bytes((pa_usec_t)(tlength_ms * 1000), &spec);
    if (pa_stream_connect_playback(s, sink, &attr, PA_STREAM_AUTO_TIMING_UPDATE | PA_STREAM_INTERPOLATE_TIMING, NULL,
                                   NULL) < 0) {
        fprintf(stderr, "switch-player: %s\n", pa_strerror(pa_context_errno(ctx)));
        return 1;
    }
    while (pa_stream_get_state(s) != PA_STREAM_READY) {
        if (!PA_STREAM_IS_GOOD(pa_stream_get_state(s))) {
            fprintf(stderr, "switch-player: %s\n", pa_strerror(pa_context_errno(ctx)));
            return 1;
        }
        pa_threaded_mainloop_wait(ml);
    }
    const uint64_t total = (uint64_t)(seconds * RATE), switch_frame = (uint64_t)(switch_s * RATE);
    float block[BLOCK * CHANNELS];
    double phase = 0; /* carried across the switch: only the frequency changes */
    bool reported = false;
    int rc = 0;
    for (uint64_t frame = 0; frame < total && rc == 0; frame += BLOCK) {
        for (int i = 0; i < BLOCK; i++) {
            double f = frame + (uint64_t)i < switch_frame ? f1 : f2;
            float v = (float)(AMPLITUDE * sin(phase));
            phase = fmod(phase + 2 * M_PI * f / RATE, 2 * M_PI);
            for (int c = 0; c < CHANNELS; c++)
                block[i * CHANNELS + c] = v;
        }
        while (pa_stream_writable_size(s) < sizeof block) {
            if (!PA_STREAM_IS_GOOD(pa_stream_get_state(s))) {
                fprintf(stderr, "switch-player: stream failed\n");
                return 1;
            }
            pa_threaded_mainloop_wait(ml);
        }
        if (pa_stream_write(s, block, sizeof block, NULL, 0, PA_SEEK_RELATIVE) < 0) {
            fprintf(stderr, "switch-player: %s\n", pa_strerror(pa_context_errno(ctx)));
            return 1;
        }
        uint64_t written = frame + BLOCK;
        if (reported || written <= switch_frame)
            continue;
        pa_usec_t latency = 0;
        int negative = 0;
        while (pa_stream_get_latency(s, &latency, &negative) < 0) /* no timing info yet */
            pa_threaded_mainloop_wait(ml);
        int64_t now = monotonic_ns();
        int64_t play_ns = now + (negative ? -1 : 1) * (int64_t)latency * 1000 -
                          (int64_t)(written - switch_frame) * 1000000000 / RATE;
        FILE *f = fopen(outfile, "w");
        if (!f || fprintf(f, "%lld %llu\n", (long long)play_ns, (unsigned long long)latency) < 0 || fclose(f) != 0) {
            fprintf(stderr, "switch-player: cannot write %s\n", outfile);
            rc = 1;
        }
        reported = true;
    }
    pa_operation *o = pa_stream_drain(s, on_drained, ml);
    while (o && pa_operation_get_state(o) == PA_OPERATION_RUNNING)
        pa_threaded_mainloop_wait(ml);
    if (o)
        pa_operation_unref(o);
    pa_stream_disconnect(s);
    pa_stream_unref(s);
    pa_context_disconnect(ctx);
    pa_context_unref(ctx);
    pa_threaded_mainloop_unlock(ml);
    pa_threaded_mainloop_stop(ml);
    pa_threaded_mainloop_free(ml);
    return rc;
}
