/* tone-player.c — one process that plays several sine tones at once, each on
 * its own output stream: "an application with two streams" for the
 * integration tests, e.g. a browser playing two tabs.
 *
 *   tone-player SECONDS FREQ[:AMP[:SECS]] [FREQ[:AMP[:SECS]]...]
 *
 * Each tone is a 48 kHz stereo float stream (amplitude AMP, default 0.2;
 * SECS, default SECONDS: how long this stream plays before it closes) of
 * its own, written by its own thread through libpulse's simple API, so it
 * plays on PulseAudio and on PipeWire (through pipewire-pulse) alike. The
 * stream's media.name is "wac-tone-FREQ". Exits 0 after SECONDS, 1 when a
 * stream cannot be opened or written. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pulse/error.h>
#include <pulse/simple.h>

#define RATE 48000
#define CHANNELS 2
#define BLOCK 480 /* 10 ms */
#define MAX_TONES 40 /* more than the PulseAudio backend's 32 mixed streams */

struct tone {
    double freq, amp, seconds;
    pthread_t thread;
    int failed;
};

/* Streams connect one at a time: the server's listening socket has a small
 * backlog, and 34 simultaneous connections were refused. */
static pthread_mutex_t connect_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t connect_done = PTHREAD_COND_INITIALIZER;
static int connected; /* threads past their connection attempt */

static void connect_attempted(void)
{
    pthread_mutex_lock(&connect_lock);
    connected++;
    pthread_cond_signal(&connect_done);
    pthread_mutex_unlock(&connect_lock);
}

static void *play(void *arg)
{
    struct tone *t = arg;
    pa_sample_spec spec = {.format = PA_SAMPLE_FLOAT32NE, .rate = RATE, .channels = CHANNELS};
    /* Small buffers: the tone starts at once and stops when the process does. */
    pa_buffer_attr attr = {.maxlength = (uint32_t)-1, .tlength = (uint32_t)pa_usec_to_bytes(100000, &spec),
                           .prebuf = (uint32_t)-1, .minreq = (uint32_t)-1, .fragsize = (uint32_t)-1};
    char name[64];
    snprintf(name, sizeof name, "wac-tone-%.0f", t->freq);
    int error = 0;
    pa_simple *s = pa_simple_new(NULL, "tone-player", PA_STREAM_PLAYBACK, NULL, name, &spec, NULL, &attr, &error);
    connect_attempted();
    if (!s) {
        fprintf(stderr, "tone-player: %s: %s\n", name, pa_strerror(error));
        t->failed = 1;
        return NULL;
    }
    float block[BLOCK * CHANNELS];
    uint64_t total = (uint64_t)(t->seconds * RATE), frame = 0;
    double step = 2 * M_PI * t->freq / RATE;
    while (frame < total) {
        for (int i = 0; i < BLOCK; i++) {
            /* From the frame count, not an accumulated phase: no drift. */
            float v = (float)(t->amp * sin(step * (double)(frame + (uint64_t)i)));
            for (int c = 0; c < CHANNELS; c++)
                block[i * CHANNELS + c] = v;
        }
        if (pa_simple_write(s, block, sizeof block, &error) < 0) {
            fprintf(stderr, "tone-player: %s: %s\n", name, pa_strerror(error));
            t->failed = 1;
            break;
        }
        frame += BLOCK;
    }
    if (!t->failed)
        pa_simple_drain(s, NULL);
    pa_simple_free(s);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc - 2 > MAX_TONES) {
        fprintf(stderr, "usage: tone-player SECONDS FREQ[:AMP[:SECS]] [FREQ[:AMP[:SECS]]...] (at most %d tones)\n",
                MAX_TONES);
        return 2;
    }
    double seconds = atof(argv[1]);
    struct tone tones[MAX_TONES];
    int n = argc - 2;
    for (int i = 0; i < n; i++) {
        memset(&tones[i], 0, sizeof tones[i]);
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
    for (int i = 0; i < n; i++) {
        if (pthread_create(&tones[i].thread, NULL, play, &tones[i]) != 0) {
            fprintf(stderr, "tone-player: cannot start a thread\n");
            return 1;
        }
        pthread_mutex_lock(&connect_lock);
        while (connected <= i)
            pthread_cond_wait(&connect_done, &connect_lock);
        pthread_mutex_unlock(&connect_lock);
    }
    int failed = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(tones[i].thread, NULL);
        failed |= tones[i].failed;
    }
    return failed;
}
