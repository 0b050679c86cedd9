/* wac-bench.c — a libwac consumer for the benchmarks, in each delivery style.
 *
 *   wac-bench --pids P1,P2,... [--style read|fd|callback] [--rate HZ]
 *             [--channels N] [--chunk-ms MS] [--ring-ms MS] [--duration S]
 *             [--verify none|counter|sine:HZ[,HZ...]] [--stall-at S --stall-for S]
 *             [--backend NAME]   (--duration counts from when every capture has started)
 *   wac-bench --startup K --pids P [...]   time open -> first frame, K times
 *
 * One context; one capture per pid (default 16 kHz mono float32, 100 ms chunks).
 *   read      one thread per capture, blocking wac_capture_read() (timeout 1 s),
 *             then pulls events: what a simple consumer does;
 *   fd        one thread polls every capture's descriptor; on readiness it
 *             reads with timeout 0 until WAC_ERR_TIMEOUT (the fd contract);
 *   callback  on_audio / on_event on the context's dispatch thread.
 * Prints "ready" on stdout once every capture has delivered its first chunk
 * (the harness measures from then on), runs until --duration or SIGTERM, and
 * prints one "result key=value..." line per capture, then "total ...".
 *
 * --verify checks the audio itself:
 *   counter  (48 kHz stereo F32 from bench-player --signal counter): every
 *            frame after the first non-zero one must carry the next counter
 *            value; each jump is counted as missing frames, each zero frame as
 *            a source glitch. The missing frames must equal the lost frames
 *            WAC reported (OVERRUN events).
 *   sine:F   (mono) a sine of F Hz obeys x[n] = 2cos(w)x[n-1] - x[n-2]; a
 *            sample that breaks it by more than 0.02 (amplitude 0.4) marks a
 *            glitch (missing, repeated or zeroed audio). One F per pid.
 * --stall-at/--stall-for make the consumer of the first capture sleep (read
 *   style): beyond the ring's capacity frames are lost and must be reported.
 *
 * Built twice: wac-bench on the shared libwac, and wac-latency on the core
 * with WAC_BENCH_PROBE, which adds --latency FILE: per chunk, the time from
 * the backend handing over the buffer that completed the chunk (the core's
 * probe hook, see src/internal.h) to the consumer holding the chunk. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wac.h>

#ifdef WAC_BENCH_PROBE
#include "internal.h"
#endif

#define MAX_CAPS 256
#define COUNTER_MOD ((1u << 24) - 1)

enum style { STYLE_READ, STYLE_FD, STYLE_CALLBACK };
enum verify { VERIFY_NONE, VERIFY_COUNTER, VERIFY_SINE };

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the latency probe's log (wac-latency only) ---- */

#define PUSH_LOG 256 /* per capture: ~10 s of pushes at a 42.7 ms quantum */

struct push_log {
    struct {
        uint64_t end;
        int64_t ns;
    } e[PUSH_LOG];
    _Atomic uint64_t count;
};

struct source {
    wac_capture *cap;
    uint32_t pid;
    const char *device; /* a device target instead of the pid (--device) */
    int index;
    float *buf;
    pthread_t thread;
    /* counters */
    uint64_t chunks, frames, events, overrun_frames, discontinuities;
    int64_t start_ns, first_ns;
    uint64_t next_position;
    uint64_t position_jumps; /* frames the positions skipped (must equal overrun_frames + skipped) */
    /* counter verification */
    bool counter_started;
    uint32_t next_counter;
    uint64_t missing_from_signal, zero_frames_after_start, counter_jumps, checked;
    /* sine verification */
    double sine_c; /* 2 cos(w) */
    float x1, x2;
    uint64_t sine_seen;
    uint64_t sine_glitches, sine_last_glitch;
    /* stall */
    bool stalled;
    /* latency */
    struct push_log *log;
    uint64_t lat_missing;
};

static struct {
    enum style style;
    enum verify verify;
    wac_format format;
    uint32_t chunk_frames;
    uint32_t ring_ms;
    uint32_t latency_ms; /* the capture's latency_ms (0: its default) */
    double duration;
    double stall_at, stall_for;
    int n;
    struct source src[MAX_CAPS];
    double sine_freq[MAX_CAPS];
    int n_sine;
    wac_context *ctx;
    int64_t t0;
    FILE *latency_out;
    _Atomic int64_t latency_from; /* latency samples count from then on: every capture runs, backlogs drained */
    pthread_mutex_t latency_lock;
    _Atomic int ready_count;
    _Atomic bool quit;
} g;

#ifdef WAC_BENCH_PROBE
static void probe(wac_capture *cap, uint64_t end_position, int64_t received_ns)
{
    for (int i = 0; i < g.n; i++) {
        if (g.src[i].cap != cap)
            continue;
        struct push_log *log = g.src[i].log;
        uint64_t k = atomic_load_explicit(&log->count, memory_order_relaxed);
        log->e[k % PUSH_LOG].end = end_position;
        log->e[k % PUSH_LOG].ns = received_ns;
        atomic_store_explicit(&log->count, k + 1, memory_order_release);
        return;
    }
}

/* The push that completed a chunk ending at `end`: the earliest one whose end
 * reaches it, among those the log still holds (the newest half). */
static void record_latency(struct source *s, uint64_t end, int64_t got_ns)
{
    uint64_t count = atomic_load_explicit(&s->log->count, memory_order_acquire);
    uint64_t lo = count > PUSH_LOG / 2 ? count - PUSH_LOG / 2 : 0;
    int64_t found = -1;
    for (uint64_t k = count; k-- > lo;) {
        if (s->log->e[k % PUSH_LOG].end >= end)
            found = s->log->e[k % PUSH_LOG].ns;
        else
            break;
    }
    if (got_ns < atomic_load_explicit(&g.latency_from, memory_order_relaxed))
        return;
    if (found < 0 || (count > lo && lo > 0 && s->log->e[lo % PUSH_LOG].end >= end)) {
        s->lat_missing++;
        return;
    }
    if (g.latency_out) {
        pthread_mutex_lock(&g.latency_lock);
        fprintf(g.latency_out, "%d,%.3f,%lld\n", s->index, (double)(got_ns - g.t0) / 1e6,
                (long long)(got_ns - found));
        pthread_mutex_unlock(&g.latency_lock);
    }
}
#endif

/* ---- what a consumer does with a chunk ---- */

static void check_counter(struct source *s, const float *f, uint32_t n)
{
    uint32_t ch = g.format.channels;
    for (uint32_t i = 0; i < n; i++) {
        float v = f[(size_t)i * ch];
        if (v == 0.0f) {
            if (s->counter_started)
                s->zero_frames_after_start++;
            continue;
        }
        uint32_t c = (uint32_t)lrintf(v * (float)(1u << 24)) - 1;
        if (s->counter_started && c != s->next_counter) {
            s->counter_jumps++;
            s->missing_from_signal += (c + COUNTER_MOD - s->next_counter) % COUNTER_MOD;
        }
        s->counter_started = true;
        s->next_counter = (c + 1) % COUNTER_MOD;
        s->checked++;
    }
}

static void check_sine(struct source *s, const float *f, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        float x = f[i];
        /* Ignore the first 0.5 s: the resampler's start-up transient. */
        if (s->sine_seen >= g.format.rate / 2) {
            double e = (double)x - s->sine_c * (double)s->x1 + (double)s->x2;
            if (fabs(e) > 0.02) {
                if (s->sine_seen > s->sine_last_glitch + 8)
                    s->sine_glitches++;
                s->sine_last_glitch = s->sine_seen;
            }
        }
        s->x2 = s->x1;
        s->x1 = x;
        s->sine_seen++;
    }
}

static void consume(struct source *s, const float *f, uint32_t n, const wac_chunk_info *info)
{
    int64_t t = now_ns();
#ifdef WAC_BENCH_PROBE
    if (s->log)
        record_latency(s, info->position + n, t);
#endif
    if (!s->chunks) {
        s->first_ns = t;
        if (atomic_fetch_add(&g.ready_count, 1) + 1 == g.n)
            printf("ready after_ms=%.1f\n", (double)(t - g.t0) / 1e6);
        if (g.style == STYLE_CALLBACK)
            pthread_setname_np(pthread_self(), "wac-dispatch"); /* for the harness's per-thread counts */
    } else if (info->position != s->next_position) {
        s->position_jumps += info->position - s->next_position;
    }
    s->next_position = info->position + n;
    s->chunks++;
    s->frames += n;
    if (g.verify == VERIFY_COUNTER)
        check_counter(s, f, n);
    else if (g.verify == VERIFY_SINE && s->sine_c != 0)
        check_sine(s, f, n);
    /* The consumer stalls once, when asked (read style: the first capture). */
    if (g.stall_for > 0 && s->index == 0 && !s->stalled && (double)(t - g.t0) / 1e9 >= g.stall_at) {
        s->stalled = true;
        struct timespec ts = {(time_t)g.stall_for, (long)((g.stall_for - floor(g.stall_for)) * 1e9)};
        while (nanosleep(&ts, &ts) && errno == EINTR) {
        }
    }
}

static void count_event(struct source *s, const wac_event *ev)
{
    s->events++;
    if (ev->type == WAC_EVENT_OVERRUN)
        s->overrun_frames += ev->frames;
    else if (ev->type == WAC_EVENT_DISCONTINUITY)
        s->discontinuities += ev->frames;
    else if (ev->type == WAC_EVENT_ENDED && ev->error)
        fprintf(stderr, "wac-bench: capture %d ended: %s %s\n", s->index, wac_error_name(ev->error), ev->detail);
}

static void drain_events(struct source *s)
{
    wac_event ev;
    while (wac_capture_next_event(s->cap, &ev, sizeof ev) == 1)
        count_event(s, &ev);
}

/* ---- the three styles ---- */

static void *read_thread(void *arg)
{
    struct source *s = arg;
    wac_chunk_info info;
    pthread_setname_np(pthread_self(), "wb-reader");
    while (!atomic_load(&g.quit)) {
        int n = wac_capture_read(s->cap, s->buf, g.chunk_frames, 1000, &info);
        if (n > 0)
            consume(s, s->buf, (uint32_t)n, &info);
        else if (n != WAC_ERR_TIMEOUT && n != WAC_ERR_INTERRUPTED)
            break;
        drain_events(s);
    }
    drain_events(s);
    return NULL;
}

static void *fd_thread(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "wb-fd");
    struct pollfd *fds = calloc((size_t)g.n, sizeof *fds);
    if (!fds)
        return NULL;
    for (int i = 0; i < g.n; i++) {
        fds[i].fd = wac_capture_fd(g.src[i].cap);
        fds[i].events = POLLIN;
    }
    wac_chunk_info info;
    while (!atomic_load(&g.quit)) {
        int r = poll(fds, (nfds_t)g.n, 1000);
        if (r < 0 && errno != EINTR)
            break;
        for (int i = 0; r > 0 && i < g.n; i++) {
            if (!(fds[i].revents & POLLIN))
                continue;
            struct source *s = &g.src[i];
            int n;
            while ((n = wac_capture_read(s->cap, s->buf, g.chunk_frames, 0, &info)) > 0)
                consume(s, s->buf, (uint32_t)n, &info);
            drain_events(s);
            if (n == WAC_ERR_ENDED || n == WAC_ERR_CLOSED)
                fds[i].fd = -1;
        }
    }
    free(fds);
    return NULL;
}

static void on_audio(wac_capture *cap, const void *frames, uint32_t n, const wac_chunk_info *info, void *userdata)
{
    (void)cap;
    consume(userdata, frames, n, info);
}

static void on_event(wac_capture *cap, const wac_event *ev, void *userdata)
{
    (void)cap;
    count_event(userdata, ev);
}

/* ---- set-up ---- */

static int open_source(struct source *s)
{
    wac_capture_config cfg;
    wac_capture_config_init(&cfg);
    cfg.target.kind = s->device ? WAC_TARGET_DEVICE : WAC_TARGET_PID;
    cfg.target.pid = s->pid;
    cfg.target.name = s->device;
    cfg.format = g.format;
    cfg.chunk_frames = g.chunk_frames;
    if (g.ring_ms)
        cfg.ring_ms = g.ring_ms;
    cfg.latency_ms = g.latency_ms;
    if (g.style == STYLE_CALLBACK) {
        cfg.on_audio = on_audio;
        cfg.on_event = on_event;
        cfg.userdata = s;
    }
    int r = wac_capture_open(g.ctx, &cfg, &s->cap);
    if (r < 0) {
        fprintf(stderr, "wac-bench: open pid %u: %s: %s\n", s->pid, wac_strerror(r), wac_context_last_error(g.ctx));
        return r;
    }
    return 0;
}

static int parse_pids(const char *text, uint32_t *pids, int max)
{
    int n = 0;
    const char *p = text;
    while (*p && n < max) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p)
            return -1;
        pids[n++] = (uint32_t)v;
        p = *end == ',' ? end + 1 : end;
    }
    return n;
}

static int percentile_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Open a context and a capture, start it, and time the first frame; K times. */
static int run_startup(const char *backend, uint32_t pid, int k)
{
    int64_t *ctx_ns = calloc((size_t)k, sizeof *ctx_ns), *first_ns = calloc((size_t)k, sizeof *first_ns);
    if (!ctx_ns || !first_ns)
        return 1;
    float frame[8];
    for (int i = 0; i < k; i++) {
        char why[256];
        wac_context *ctx;
        int64_t t0 = now_ns();
        int r = wac_context_open(backend, &ctx, why, sizeof why);
        if (r < 0) {
            fprintf(stderr, "wac-bench: context: %s\n", why);
            return 1;
        }
        int64_t t1 = now_ns();
        wac_capture_config cfg;
        wac_capture_config_init(&cfg);
        cfg.target.kind = WAC_TARGET_PID;
        cfg.target.pid = pid;
        cfg.format = g.format;
        wac_capture *cap;
        wac_chunk_info info;
        r = wac_capture_open(ctx, &cfg, &cap);
        if (r == 0)
            r = wac_capture_start(cap);
        if (r == 0)
            r = wac_capture_read(cap, frame, 1, 5000, &info);
        int64_t t2 = now_ns();
        if (r < 0) {
            fprintf(stderr, "wac-bench: start-up: %s: %s\n", wac_strerror(r), wac_context_last_error(ctx));
            return 1;
        }
        ctx_ns[i] = t1 - t0;
        first_ns[i] = t2 - t1;
        printf("startup context_ms=%.3f first_frame_ms=%.3f\n", (double)ctx_ns[i] / 1e6, (double)first_ns[i] / 1e6);
        wac_context_close(ctx);
    }
    qsort(ctx_ns, (size_t)k, sizeof *ctx_ns, percentile_cmp);
    qsort(first_ns, (size_t)k, sizeof *first_ns, percentile_cmp);
    printf("startup_summary n=%d context_p50_ms=%.3f first_frame_p50_ms=%.3f first_frame_max_ms=%.3f\n", k,
           (double)ctx_ns[k / 2] / 1e6, (double)first_ns[k / 2] / 1e6, (double)first_ns[k - 1] / 1e6);
    free(ctx_ns);
    free(first_ns);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: wac-bench --pids P1,P2,... [--style read|fd|callback] [--rate HZ] [--channels N]\n"
                 "                 [--chunk-ms MS] [--ring-ms MS] [--latency-ms MS] [--duration S] [--backend NAME]\n"
                 "                 [--device NAME]... (device captures after the pids)\n"
                 "                 [--verify none|counter|sine:HZ,...] [--stall-at S --stall-for S]\n"
                 "                 [--startup K]"
#ifdef WAC_BENCH_PROBE
                 " [--latency FILE]"
#endif
                 "\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"pids", required_argument, NULL, 'p'},     {"style", required_argument, NULL, 's'},
        {"rate", required_argument, NULL, 'r'},     {"channels", required_argument, NULL, 'c'},
        {"chunk-ms", required_argument, NULL, 'k'}, {"ring-ms", required_argument, NULL, 'R'},
        {"duration", required_argument, NULL, 'd'}, {"backend", required_argument, NULL, 'b'},
        {"verify", required_argument, NULL, 'v'},   {"stall-at", required_argument, NULL, 'A'},
        {"stall-for", required_argument, NULL, 'F'}, {"startup", required_argument, NULL, 'S'},
        {"latency", required_argument, NULL, 'L'},  {"device", required_argument, NULL, 'D'},
        {"latency-ms", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *backend = "auto", *latency_path = NULL;
    uint32_t pids[MAX_CAPS];
    const char *devices[MAX_CAPS];
    int n_devices = 0;
    uint32_t chunk_ms = 100;
    int startup = 0;
    g.format = (wac_format){16000, 1, WAC_SAMPLE_F32};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            g.n = parse_pids(optarg, pids, MAX_CAPS);
            if (g.n <= 0) {
                usage(stderr);
                return 2;
            }
            break;
        case 's':
            if (strcmp(optarg, "read") == 0)
                g.style = STYLE_READ;
            else if (strcmp(optarg, "fd") == 0)
                g.style = STYLE_FD;
            else if (strcmp(optarg, "callback") == 0)
                g.style = STYLE_CALLBACK;
            else {
                usage(stderr);
                return 2;
            }
            break;
        case 'D':
            if (n_devices == MAX_CAPS) {
                usage(stderr);
                return 2;
            }
            devices[n_devices++] = optarg;
            break;
        case 'r': g.format.rate = (uint32_t)atoi(optarg); break;
        case 'c': g.format.channels = (uint32_t)atoi(optarg); break;
        case 'k': chunk_ms = (uint32_t)atoi(optarg); break;
        case 'R': g.ring_ms = (uint32_t)atoi(optarg); break;
        case 'l': g.latency_ms = (uint32_t)atoi(optarg); break;
        case 'd': g.duration = atof(optarg); break;
        case 'b': backend = optarg; break;
        case 'v':
            if (strcmp(optarg, "counter") == 0) {
                g.verify = VERIFY_COUNTER;
            } else if (strncmp(optarg, "sine:", 5) == 0) {
                g.verify = VERIFY_SINE;
                const char *p = optarg + 5;
                while (*p && g.n_sine < MAX_CAPS) {
                    char *end;
                    g.sine_freq[g.n_sine++] = strtod(p, &end);
                    p = *end == ',' ? end + 1 : end;
                    if (end == p && *p)
                        break;
                }
            } else if (strcmp(optarg, "none") != 0) {
                usage(stderr);
                return 2;
            }
            break;
        case 'A': g.stall_at = atof(optarg); break;
        case 'F': g.stall_for = atof(optarg); break;
        case 'S': startup = atoi(optarg); break;
#ifdef WAC_BENCH_PROBE
        case 'L': latency_path = optarg; break;
#endif
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (g.n <= 0) {
        usage(stderr);
        return 2;
    }
    g.chunk_frames = g.format.rate * chunk_ms / 1000;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (startup > 0)
        return run_startup(backend, pids[0], startup);

    /* Every thread (PipeWire's too) inherits this mask: only the main thread
     * takes SIGTERM/SIGINT, in sigtimedwait(), so it never wakes otherwise. */
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    pthread_sigmask(SIG_BLOCK, &term, NULL);

#ifdef WAC_BENCH_PROBE
    if (latency_path) {
        g.latency_out = fopen(latency_path, "w");
        if (!g.latency_out) {
            fprintf(stderr, "wac-bench: %s: %s\n", latency_path, strerror(errno));
            return 1;
        }
        pthread_mutex_init(&g.latency_lock, NULL);
        fprintf(g.latency_out, "capture,t_ms,latency_ns\n");
        atomic_store(&g.latency_from, INT64_MAX);
        atomic_store(&wac__probe_push, probe);
    }
#endif

    char why[256];
    if (wac_context_open(backend, &g.ctx, why, sizeof why) < 0) {
        fprintf(stderr, "wac-bench: %s\n", why);
        return 1;
    }
    /* Devices (a microphone beside the applications: the hybrid case) come
     * after the pids, in the same context. */
    int n_pids = g.n;
    if (n_pids + n_devices > MAX_CAPS) {
        usage(stderr);
        return 2;
    }
    g.n += n_devices;
    for (int i = 0; i < g.n; i++) {
        struct source *s = &g.src[i];
        s->pid = i < n_pids ? pids[i] : 0;
        s->device = i < n_pids ? NULL : devices[i - n_pids];
        s->index = i;
        s->buf = calloc((size_t)g.chunk_frames * g.format.channels, sizeof(float));
        if (!s->buf)
            return 1;
        if (latency_path) {
            s->log = calloc(1, sizeof *s->log);
            if (!s->log)
                return 1;
        }
        if (g.verify == VERIFY_SINE && i < g.n_sine && g.sine_freq[i] > 0)
            s->sine_c = 2.0 * cos(2.0 * M_PI * g.sine_freq[i] / g.format.rate);
        if (open_source(s) < 0)
            return 1;
    }
    g.t0 = now_ns();
    /* The fd thread waits on every descriptor from the start (they exist
     * once a capture is open), so no capture waits for the others to start. */
    pthread_t fd_tid;
    if (g.style == STYLE_FD)
        pthread_create(&fd_tid, NULL, fd_thread, NULL);
    for (int i = 0; i < g.n; i++) {
        g.src[i].start_ns = now_ns();
        int r = wac_capture_start(g.src[i].cap);
        if (r < 0) {
            fprintf(stderr, "wac-bench: start: %s: %s\n", wac_strerror(r), wac_capture_last_error(g.src[i].cap));
            return 1;
        }
        /* Read style: each capture's reader starts with it. */
        if (g.style == STYLE_READ)
            pthread_create(&g.src[i].thread, NULL, read_thread, &g.src[i]);
    }
    /* Starting many captures takes a while; what the first ones buffered
     * meanwhile is drained within a second: latency counts from then on. */
    int64_t started = now_ns();
    printf("started captures=%d after_ms=%.1f\n", g.n, (double)(started - g.t0) / 1e6);
    if (latency_path)
        atomic_store(&g.latency_from, started + 1000000000);
    int64_t end = g.duration > 0 ? started + (int64_t)(g.duration * 1e9) : INT64_MAX;
    for (;;) {
        int64_t left = end - now_ns();
        if (left <= 0)
            break;
        struct timespec ts = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
        if (sigtimedwait(&term, NULL, &ts) > 0)
            break;
    }
    atomic_store(&g.quit, true);
    if (g.style == STYLE_READ) {
        for (int i = 0; i < g.n; i++)
            pthread_join(g.src[i].thread, NULL);
    } else if (g.style == STYLE_FD) {
        pthread_join(fd_tid, NULL);
    }
    uint64_t chunks = 0, lost = 0, reported = 0, missing = 0, glitches = 0, lat_missing = 0;
    for (int i = 0; i < g.n; i++) {
        struct source *s = &g.src[i];
        wac_capture_stats st;
        memset(&st, 0, sizeof st);
        wac_capture_get_stats(s->cap, &st, sizeof st);
        if (g.style != STYLE_CALLBACK)
            drain_events(s);
        printf("result capture=%d pid=%u chunks=%llu frames=%llu first_chunk_ms=%.1f lost=%llu overruns=%u "
               "reported_overrun_frames=%llu position_jumps=%llu silence=%llu skipped=%llu discarded=%llu "
               "checked=%llu missing_from_signal=%llu counter_jumps=%llu zero_frames_after_start=%llu "
               "sine_glitches=%llu latency_unmatched=%llu\n",
               i, s->pid, (unsigned long long)s->chunks, (unsigned long long)s->frames,
               s->chunks ? (double)(s->first_ns - s->start_ns) / 1e6 : -1.0, (unsigned long long)st.frames_lost,
               st.overruns, (unsigned long long)s->overrun_frames, (unsigned long long)s->position_jumps,
               (unsigned long long)st.frames_silence, (unsigned long long)st.frames_skipped,
               (unsigned long long)st.frames_discarded, (unsigned long long)s->checked, (unsigned long long)s->missing_from_signal,
               (unsigned long long)s->counter_jumps, (unsigned long long)s->zero_frames_after_start,
               (unsigned long long)s->sine_glitches, (unsigned long long)s->lat_missing);
        chunks += s->chunks;
        lost += st.frames_lost;
        reported += s->overrun_frames;
        missing += s->missing_from_signal;
        glitches += s->sine_glitches;
        lat_missing += s->lat_missing;
    }
    printf("total captures=%d chunks=%llu lost=%llu reported_overrun_frames=%llu missing_from_signal=%llu "
           "sine_glitches=%llu latency_unmatched=%llu\n",
           g.n, (unsigned long long)chunks, (unsigned long long)lost, (unsigned long long)reported,
           (unsigned long long)missing, (unsigned long long)glitches, (unsigned long long)lat_missing);
    wac_context_close(g.ctx);
    if (g.latency_out)
        fclose(g.latency_out);
    return 0;
}
