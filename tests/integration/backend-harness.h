/* backend-harness.h — what the integration programs' cases share
 * (test-backends.c, test-continuity.c, test-volume.c, test-devices.c,
 * test-sandbox.c): player processes, opening the backend under test,
 * recording with events, and measuring tones in the capture. Static functions, as in tests/helpers.h:
 * each test program includes it once. */
#ifndef WAC_BACKEND_HARNESS_H
#define WAC_BACKEND_HARNESS_H

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "helpers.h"
#include "tone.h"

#define RATE 16000

/* ---- players ---- */

static inline pid_t spawn_argv(char *const argv[])
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        FAIL("fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0); /* its own group: kill_player() reaches a whole tree */
        execv(argv[0], argv);
        _exit(127);
    }
    setpgid(pid, pid);
    return pid;
}

/* A player of a sine tone at `freq` for `secs` seconds; its pid is the player's. */
static inline pid_t play_tone(int freq, int secs)
{
    char f[16], s[16];
    snprintf(f, sizeof f, "%d", freq);
    snprintf(s, sizeof s, "%d", secs);
    char *argv[] = {(char *)WAC_PLAY_TONE, f, s, NULL};
    return spawn_argv(argv);
}

/* A shell that runs the player as its child (and stays its parent). */
static inline pid_t play_tone_in_tree(int freq, int secs)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' %d %d; true", WAC_PLAY_TONE, freq, secs);
    char *argv[] = {(char *)"/bin/sh", (char *)"-c", cmd, NULL};
    return spawn_argv(argv);
}

/* One process playing each of `freqs` on a stream of its own (amplitude 0.2). */
static inline pid_t play_tones_in_one_process(int secs, int f1, int f2)
{
    char s[16], a[16], b[16];
    snprintf(s, sizeof s, "%d", secs);
    snprintf(a, sizeof a, "%d", f1);
    snprintf(b, sizeof b, "%d", f2);
    char *argv[] = {(char *)WAC_TONE_PLAYER, s, a, b, NULL};
    return spawn_argv(argv);
}

static inline void kill_player(pid_t pid)
{
    kill(-pid, SIGTERM);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* ---- the tone player's underflows ----
 * A player scheduled too late leaves a gap in what the server plays, which a
 * capture records as it is; tone-player reports each underflow (see
 * tone-player.c) to the file named here, so a continuity test can tell the
 * player's gap from a loss of the capture's own. */

static char underflow_log[64];

/* Starts a new log: tone-players started from now on write to it. */
static inline void player_underflows_reset(void)
{
    if (underflow_log[0])
        unlink(underflow_log);
    snprintf(underflow_log, sizeof underflow_log, "/tmp/wac-underflows.XXXXXX");
    int fd = mkstemp(underflow_log);
    if (fd < 0)
        FAIL("mkstemp: %s", strerror(errno));
    close(fd);
    setenv("WAC_TONE_UNDERFLOWS", underflow_log, 1);
}

/* The underflows the players reported since the reset (each printed). */
static inline unsigned player_underflows(void)
{
    FILE *f = fopen(underflow_log, "r");
    if (!f)
        return 0;
    char line[160];
    unsigned n = 0;
    while (fgets(line, sizeof line, f)) {
        printf("#   player: %s", line);
        n++;
    }
    fclose(f);
    return n;
}

/* The backend under test: "pipewire" or "pulse". */
static const char *backend_under_test(void)
{
    const char *name = getenv("WAC_TEST_BACKEND");
    return name && *name ? name : "pipewire";
}

/* A plain PulseAudio daemon (pulse-session.sh), not PipeWire. */
static inline bool on_pulseaudio_daemon(void)
{
    return getenv("WAC_PULSE_SESSION_DIR") != NULL;
}

/* The executable name the players of play-tone.sh go by. */
static const char *player_name(void)
{
    const char *name = getenv("WAC_PLAYER");
    return name && *name ? name : "pw-play";
}

static wac_context *open_pw(void)
{
    wac_context *ctx = NULL;
    char detail[256];
    int rc = wac_context_open(backend_under_test(), &ctx, detail, sizeof detail);
    if (rc)
        FAIL("%s context: %s (%s)", backend_under_test(), wac_strerror(rc), detail);
    return ctx;
}

/* Wait until `n` processes play (or, with pid, until that one does with at
 * least `n` streams). */
static inline void wait_playing(wac_context *ctx, uint32_t pid, size_t n)
{
    int64_t deadline = now_ms() + 8000;
    for (;;) {
        wac_session_list *list = NULL;
        ASSERT_OK(wac_context_list_sessions(ctx, &list));
        size_t playing = 0;
        bool found = false;
        for (size_t i = 0; i < wac_session_list_count(list); i++) {
            const wac_session *s = wac_session_list_at(list, i);
            playing += s->playing;
            found |= s->pid == pid && s->playing && s->streams >= n;
        }
        wac_session_list_free(list);
        if (pid ? found : playing >= n)
            return;
        if (now_ms() > deadline)
            FAIL("players not playing after 8 s (pid %u: %s, %zu of %zu playing)", pid, found ? "yes" : "no",
                 playing, n);
        sleep_ms(50);
    }
}

/* Waits up to 8 s until the sessions that `counted` accepts (NULL: every
 * one) have n streams together; fails saying how many there were. */
static inline void wait_streams(wac_context *ctx, uint32_t n, bool (*counted)(const wac_session *s, void *user),
                                void *user)
{
    int64_t deadline = now_ms() + 8000;
    for (;;) {
        wac_session_list *list = NULL;
        ASSERT_OK(wac_context_list_sessions(ctx, &list));
        uint32_t streams = 0;
        for (size_t i = 0; i < wac_session_list_count(list); i++) {
            const wac_session *s = wac_session_list_at(list, i);
            if (!counted || counted(s, user))
                streams += s->streams;
        }
        wac_session_list_free(list);
        if (streams >= n)
            return;
        if (now_ms() > deadline)
            FAIL("%u of %u streams after 8 s", streams, n);
        sleep_ms(50);
    }
}

/* The start of every integration test program: false, after a TAP skip
 * line, when no private server runs (the session scripts in tests/servers); else it
 * says which backend, player and server the cases meet. */
static inline bool harness_begin(void)
{
    if (!getenv("WAC_PW_SESSION_DIR") && !getenv("WAC_PULSE_SESSION_DIR")) {
        printf("1..0 # SKIP no private audio server: run under tests/servers/pw-session.sh run or "
               "tests/servers/pulse-session.sh run\n");
        return false;
    }
    printf("# backend %s, player %s, server %s\n", backend_under_test(), player_name(),
           on_pulseaudio_daemon() ? "PulseAudio" : "PipeWire");
    signal(SIGPIPE, SIG_IGN);
    return true;
}

/* ---- the server's modules (pactl: PulseAudio, pipewire-pulse) ---- */

static inline int shell(const char *cmd)
{
    fflush(stdout);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* pactl load-module ARGS; its index into module. */
static inline void load_module(const char *args, char *module, size_t size)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "pactl load-module %s", args);
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    ASSERT(p);
    if (!fgets(module, (int)size, p))
        module[0] = 0;
    ASSERT_EQ(pclose(p), 0);
    module[strcspn(module, "\n")] = 0;
    ASSERT(module[0]);
}

static inline void load_null_sink(const char *name, char *module, size_t size)
{
    char args[256];
    snprintf(args, sizeof args, "module-null-sink sink_name=%s rate=48000 channels=2", name);
    load_module(args, module, size);
}

static inline void unload_module(const char *module)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "pactl unload-module %s", module);
    ASSERT_EQ(shell(cmd), 0);
}

/* ---- recording ---- */

struct rec {
    float *x;
    size_t n;
    double rate_ratio; /* frames delivered per second of wall time / rate */
    wac_event ev[64];
    int n_ev;
    int end_rc;
    wac_capture_stats stats; /* at the end of the recording */
};

static inline wac_capture_config pid_config(uint32_t pid, bool tree, bool exclude)
{
    wac_capture_config c = speech_config();
    c.target.kind = WAC_TARGET_PID;
    c.target.pid = pid;
    c.target.include_tree = tree;
    c.target.exclude = exclude;
    return c;
}

static inline void drain_events(wac_capture *cap, struct rec *r)
{
    wac_event ev;
    while (wac_capture_next_event(cap, &ev, sizeof ev) == 1) {
        printf("#   event %-16s pid %u stream %u error %d %s\n", wac_event_name(ev.type), ev.pid, ev.stream_id,
               ev.error, ev.detail);
        if (r->n_ev < 64)
            r->ev[r->n_ev++] = ev;
    }
}

/* Record `secs` seconds (RATE mono f32), or until the stream ends. */
static inline void record(wac_context *ctx, const wac_capture_config *c, double secs, struct rec *r)
{
    memset(r, 0, sizeof *r);
    wac_capture *cap = open_capture(ctx, c);
    size_t want = (size_t)(secs * RATE);
    r->x = calloc(want, sizeof *r->x);
    ASSERT(r->x);
    /* Least squares of wall time against stream position, after the first second. */
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int points = 0;
    ASSERT_OK(wac_capture_start(cap));
    int64_t t0 = now_ms();
    while (r->n < want) {
        uint32_t chunk = want - r->n < RATE / 10 ? (uint32_t)(want - r->n) : RATE / 10;
        int got = wac_capture_read(cap, r->x + r->n, chunk, 3000, NULL);
        drain_events(cap, r);
        if (got < 0) {
            r->end_rc = got;
            break;
        }
        r->n += (size_t)got;
        double t = (double)(now_ms() - t0) / 1000.0, pos = (double)r->n / RATE;
        if (pos > 1.0) {
            sx += pos;
            sy += t;
            sxx += pos * pos;
            sxy += pos * t;
            points++;
        }
    }
    if (points > 2)
        r->rate_ratio = (points * sxx - sx * sx) / (points * sxy - sx * sy);
    drain_events(cap, r);
    ASSERT_OK(wac_capture_get_stats(cap, &r->stats, sizeof r->stats));
    ASSERT_OK(wac_capture_close(cap));
}

static inline bool saw_event(const struct rec *r, wac_event_type type, uint32_t pid)
{
    for (int i = 0; i < r->n_ev; i++)
        if (r->ev[i].type == type && (pid == 0 || r->ev[i].pid == pid))
            return true;
    return false;
}

/* ---- analysis ---- */

/* Amplitude of the tone at f (Hann-windowed Goertzel), from `skip_s` on. */
static inline double tone_amp(const struct rec *r, double f, double skip_s)
{
    size_t start = (size_t)(skip_s * RATE);
    if (start >= r->n)
        return 0;
    size_t n = r->n - start;
    const float *x = r->x + start;
    double w = 2 * M_PI * f / RATE, coeff = 2 * cos(w), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double win = 0.5 - 0.5 * cos(2 * M_PI * (double)i / (double)(n - 1));
        double s = x[i] * win + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    double re = s1 - s2 * cos(w), im = s2 * sin(w);
    return 4 * sqrt(re * re + im * im) / (double)n;
}

static inline double db(double amp)
{
    return amp > 1e-12 ? 20 * log10(amp) : -240;
}

/* How many 100 ms blocks hold the tone at f above min_db. Unlike one
 * amplitude over a recording, this does not depend on the phases of tone
 * bursts separated by silence (two bursts can cancel in one transform). */
static inline int tone_blocks(const struct rec *r, double f, double min_db)
{
    int n = 0;
    for (size_t at = 0; at + RATE / 10 <= r->n; at += RATE / 10) {
        struct rec block = *r;
        block.x = r->x + at;
        block.n = RATE / 10;
        n += db(tone_amp(&block, f, 0)) > min_db;
    }
    return n;
}

/* The tone at f in every 100 ms block, in dBFS, on `out` (stderr when a
 * check is about to fail, so that a CI log shows it). */
static inline void print_tone_blocks(FILE *out, const char *label, const struct rec *r, double f)
{
    fprintf(out, "#   %s, %.0f Hz by 100 ms block (dBFS):", label, f);
    for (size_t at = 0; at + RATE / 10 <= r->n; at += RATE / 10) {
        struct rec block = *r;
        block.x = r->x + at;
        block.n = RATE / 10;
        fprintf(out, " %.0f", db(tone_amp(&block, f, 0)));
    }
    fprintf(out, "\n");
}

static inline double peak(const struct rec *r, double skip_s)
{
    double p = 0;
    for (size_t i = (size_t)(skip_s * RATE); i < r->n; i++)
        p = fabs(r->x[i]) > p ? fabs(r->x[i]) : p;
    return p;
}

/* The level of every 100 ms block, in dBFS (RMS): where a recording went
 * silent or thin shows at a glance when a level check fails. */
static inline void print_envelope(const struct rec *r)
{
    printf("#   stats: %llu frames delivered, %llu lost, %llu silence, %llu skipped\n",
           (unsigned long long)r->stats.frames_delivered, (unsigned long long)r->stats.frames_lost,
           (unsigned long long)r->stats.frames_silence, (unsigned long long)r->stats.frames_skipped);
    printf("#   envelope (100 ms blocks, dB RMS):");
    for (size_t at = 0; at + RATE / 10 <= r->n; at += RATE / 10) {
        double sum = 0;
        for (size_t i = at; i < at + RATE / 10; i++)
            sum += (double)r->x[i] * r->x[i];
        double rms = sqrt(sum / (RATE / 10));
        printf(" %.0f", rms > 1e-9 ? 20 * log10(rms) : -180.0);
    }
    printf("\n");
}

#define LEVELS(r, a, b)                                                                                   \
    do {                                                                                                  \
        printf("# %s: %.0f Hz at %.1f dBFS, %.0f Hz at %.1f dBFS, %zu frames, rate ratio %.5f\n", __func__, \
               (double)(a), db(tone_amp(r, a, 0.5)), (double)(b), db(tone_amp(r, b, 0.5)), (r)->n,         \
               (r)->rate_ratio);                                                                          \
        print_envelope(r);                                                                                \
    } while (0)

static inline int count_events(const struct rec *r, wac_event_type type)
{
    int n = 0;
    for (int i = 0; i < r->n_ev; i++)
        n += r->ev[i].type == type;
    return n;
}

/* Phase (radians) and amplitude of the tone f in x[0..n). */
static inline void tone_phase(const float *x, size_t n, double f, double *phase, double *amp)
{
    tone_phasor(x, n, f, RATE, 0, amp, phase);
}

#endif
