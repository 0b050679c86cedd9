/* bench-player.c — a lightweight PipeWire player for the benchmarks.
 *
 *   bench-player [--signal sine|counter] [--freq HZ] [--amp A] [--seconds S]
 *                [--latency FRAMES] [--name NAME]
 *
 * Plays 48 kHz stereo float32 to the default sink, like `pw-play` of a WAV
 * file, but generates the signal as it goes (no file, runs for hours):
 *   sine     a sine at --freq Hz, amplitude --amp, the same on both channels,
 *            starting at phase 0 (default; freq 440, amp 0.4);
 *   counter  every sample of frame n is ((n mod (2^24 - 1)) + 1) / 2^24, the
 *            encoding of the dummy backend: exact in float32, never 0, so a
 *            bit-exact capture shows every missing or repeated frame.
 * Like pw-play it asks for node.latency = 4800/48000 (100 ms; pw-cat's
 * default), so the graph quantum is what it would be with pw-play players.
 * One process per source: WAC targets processes. Exits after --seconds (0 =
 * until SIGINT/SIGTERM). */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pipewire/pipewire.h>
#include <spa/param/audio/format-utils.h>
#include <spa/utils/result.h>

#define RATE 48000
#define CHANNELS 2
#define COUNTER_MOD ((1u << 24) - 1)

struct player {
    struct pw_main_loop *loop;
    struct pw_stream *stream;
    int counter; /* signal: 1 = counter, 0 = sine */
    double freq, amp;
    uint64_t frame;     /* frames generated */
    uint64_t end_frame; /* 0 = forever */
};

static void on_process(void *data)
{
    struct player *p = data;
    struct pw_buffer *b = pw_stream_dequeue_buffer(p->stream);
    if (!b)
        return;
    struct spa_data *d = &b->buffer->datas[0];
    if (!d->data) {
        pw_stream_queue_buffer(p->stream, b);
        return;
    }
    uint32_t stride = CHANNELS * sizeof(float);
    uint32_t n = d->maxsize / stride;
    if (b->requested && b->requested < n)
        n = (uint32_t)b->requested;
    float *out = d->data;
    for (uint32_t i = 0; i < n; i++, p->frame++) {
        float v;
        if (p->counter)
            v = (float)((p->frame % COUNTER_MOD) + 1) / (float)(1u << 24);
        else
            v = (float)(p->amp * sin(2.0 * M_PI * p->freq * (double)(p->frame % (RATE * 1000ull)) / RATE));
        out[i * CHANNELS] = v;
        out[i * CHANNELS + 1] = v;
    }
    d->chunk->offset = 0;
    d->chunk->stride = (int32_t)stride;
    d->chunk->size = n * stride;
    pw_stream_queue_buffer(p->stream, b);
    if (p->end_frame && p->frame >= p->end_frame)
        pw_main_loop_quit(p->loop);
}

static const struct pw_stream_events stream_events = {
    PW_VERSION_STREAM_EVENTS,
    .process = on_process,
};

static void on_signal(void *data, int sig)
{
    struct player *p = data;
    pw_main_loop_quit(p->loop);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: bench-player [--signal sine|counter] [--freq HZ] [--amp A] [--seconds S]\n"
                 "                    [--latency FRAMES] [--name NAME]\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"signal", required_argument, NULL, 's'}, {"freq", required_argument, NULL, 'f'},
        {"amp", required_argument, NULL, 'a'},    {"seconds", required_argument, NULL, 't'},
        {"latency", required_argument, NULL, 'l'}, {"name", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    struct player p = {.freq = 440.0, .amp = 0.4};
    double seconds = 0;
    unsigned latency = 4800;
    const char *name = "wac-bench-player";
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (strcmp(optarg, "counter") == 0)
                p.counter = 1;
            else if (strcmp(optarg, "sine") != 0) {
                usage(stderr);
                return 2;
            }
            break;
        case 'f': p.freq = atof(optarg); break;
        case 'a': p.amp = atof(optarg); break;
        case 't': seconds = atof(optarg); break;
        case 'l': latency = (unsigned)atoi(optarg); break;
        case 'n': name = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (seconds > 0)
        p.end_frame = (uint64_t)(seconds * RATE);

    pw_init(&argc, &argv);
    p.loop = pw_main_loop_new(NULL);
    if (!p.loop) {
        fprintf(stderr, "bench-player: cannot create a main loop\n");
        return 1;
    }
    pw_loop_add_signal(pw_main_loop_get_loop(p.loop), SIGINT, on_signal, &p);
    pw_loop_add_signal(pw_main_loop_get_loop(p.loop), SIGTERM, on_signal, &p);

    struct pw_properties *props =
        pw_properties_new(PW_KEY_MEDIA_TYPE, "Audio", PW_KEY_MEDIA_CATEGORY, "Playback", PW_KEY_MEDIA_ROLE, "Music",
                          PW_KEY_MEDIA_NAME, name, PW_KEY_NODE_NAME, name, PW_KEY_APP_NAME, name, NULL);
    if (latency)
        pw_properties_setf(props, PW_KEY_NODE_LATENCY, "%u/%u", latency, RATE);
    p.stream = pw_stream_new_simple(pw_main_loop_get_loop(p.loop), name, props, &stream_events, &p);
    if (!p.stream) {
        fprintf(stderr, "bench-player: cannot create a stream\n");
        return 1;
    }
    uint8_t buffer[1024];
    struct spa_pod_builder builder = SPA_POD_BUILDER_INIT(buffer, sizeof buffer);
    struct spa_audio_info_raw info = {.format = SPA_AUDIO_FORMAT_F32, .rate = RATE, .channels = CHANNELS};
    info.position[0] = SPA_AUDIO_CHANNEL_FL;
    info.position[1] = SPA_AUDIO_CHANNEL_FR;
    const struct spa_pod *params[1] = {spa_format_audio_raw_build(&builder, SPA_PARAM_EnumFormat, &info)};
    int r = pw_stream_connect(p.stream, PW_DIRECTION_OUTPUT, PW_ID_ANY,
                              PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS | PW_STREAM_FLAG_RT_PROCESS,
                              params, 1);
    if (r < 0) {
        fprintf(stderr, "bench-player: cannot connect: %s\n", spa_strerror(r));
        return 1;
    }
    pw_main_loop_run(p.loop);
    pw_stream_destroy(p.stream);
    pw_main_loop_destroy(p.loop);
    pw_deinit();
    return 0;
}
