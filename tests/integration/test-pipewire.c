/* test-pipewire.c — the PipeWire backend against a real, private PipeWire +
 * WirePlumber + pipewire-pulse stack (tests/servers/pw-session.sh run ...).
 *
 * Every test checks the captured audio itself: players play sine tones
 * (tests/servers/play-tone.sh, one process each), and the level of each tone
 * in the capture is measured with a Hann-windowed Goertzel filter.
 * The last test kills the PipeWire server: run the suite in its own session.
 * Without WAC_PW_SESSION_DIR the whole suite is skipped, so that it never
 * touches (or kills) a desktop's real audio server. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sys/types.h>

#include "helpers.h"

#ifndef WAC_PLAY_TONE
#error "WAC_PLAY_TONE must name tests/servers/play-tone.sh"
#endif

#define RATE 16000

/* ---- players ---- */

static pid_t spawn_argv(char *const argv[])
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
static pid_t play_tone(int freq, int secs)
{
    char f[16], s[16];
    snprintf(f, sizeof f, "%d", freq);
    snprintf(s, sizeof s, "%d", secs);
    char *argv[] = {(char *)WAC_PLAY_TONE, f, s, NULL};
    return spawn_argv(argv);
}

/* A shell that runs the player as its child (and stays its parent). */
static pid_t play_tone_in_tree(int freq, int secs)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' %d %d; true", WAC_PLAY_TONE, freq, secs);
    char *argv[] = {(char *)"/bin/sh", (char *)"-c", cmd, NULL};
    return spawn_argv(argv);
}

static void kill_player(pid_t pid)
{
    kill(-pid, SIGTERM);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

static wac_context *open_pw(void)
{
    wac_context *ctx = NULL;
    char detail[256];
    int rc = wac_context_open("pipewire", &ctx, detail, sizeof detail);
    if (rc)
        FAIL("pipewire context: %s (%s)", wac_strerror(rc), detail);
    return ctx;
}

/* Wait until `n` processes play (or, with pid, until that one does). */
static void wait_playing(wac_context *ctx, uint32_t pid, size_t n)
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
            found |= s->pid == pid && s->playing;
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

/* ---- recording ---- */

struct rec {
    float *x;
    size_t n;
    double rate_ratio; /* frames delivered per second of wall time / rate */
    wac_event ev[64];
    int n_ev;
    int end_rc;
};

static wac_capture_config pid_config(uint32_t pid, bool tree, bool exclude)
{
    wac_capture_config c = speech_config();
    c.target.kind = WAC_TARGET_PID;
    c.target.pid = pid;
    c.target.include_tree = tree;
    c.target.exclude = exclude;
    return c;
}

static void drain_events(wac_capture *cap, struct rec *r)
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
static void record(wac_context *ctx, const wac_capture_config *c, double secs, struct rec *r)
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
    ASSERT_OK(wac_capture_close(cap));
}

static bool saw_event(const struct rec *r, wac_event_type type, uint32_t pid)
{
    for (int i = 0; i < r->n_ev; i++)
        if (r->ev[i].type == type && (pid == 0 || r->ev[i].pid == pid))
            return true;
    return false;
}

/* ---- analysis ---- */

/* Amplitude of the tone at f (Hann-windowed Goertzel), from `skip_s` on. */
static double tone_amp(const struct rec *r, double f, double skip_s)
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

static double db(double amp)
{
    return amp > 1e-12 ? 20 * log10(amp) : -240;
}

static double peak(const struct rec *r, double skip_s)
{
    double p = 0;
    for (size_t i = (size_t)(skip_s * RATE); i < r->n; i++)
        p = fabs(r->x[i]) > p ? fabs(r->x[i]) : p;
    return p;
}

#define LEVELS(r, a, b)                                                                                  \
    printf("# %s: %.0f Hz at %.1f dBFS, %.0f Hz at %.1f dBFS, %zu frames, rate ratio %.5f\n", __func__,  \
           (double)(a), db(tone_amp(r, a, 0.5)), (double)(b), db(tone_amp(r, b, 0.5)), (r)->n, (r)->rate_ratio)

/* ---- tests ---- */

static void auto_picks_pipewire(void)
{
    wac_context *ctx = NULL;
    char detail[512];
    int rc = wac_context_open("auto", &ctx, detail, sizeof detail);
    if (rc)
        FAIL("auto: %s (%s)", wac_strerror(rc), detail);
    ASSERT(strcmp(wac_context_backend(ctx), "pipewire") == 0);
    ASSERT_OK(wac_context_close(ctx));
}

static void unknown_pid_is_not_found(void)
{
    wac_context *ctx = open_pw();
    wac_capture_config c = pid_config(0x7ffffff0, true, false);
    wac_capture *cap = NULL;
    ASSERT_RC(wac_capture_open(ctx, &c, &cap), WAC_ERR_TARGET_NOT_FOUND);
    ASSERT(cap == NULL);
    ASSERT(strstr(wac_context_last_error(ctx), "no such process") != NULL);
    ASSERT_OK(wac_context_close(ctx));
}

static void captures_one_pid_only(void)
{
    wac_context *ctx = open_pw();
    pid_t a = play_tone(440, 12), b = play_tone(1000, 12);
    wait_playing(ctx, (uint32_t)a, 0);
    wait_playing(ctx, (uint32_t)b, 0);

    /* The listing names both players. */
    wac_session_list *list = NULL;
    ASSERT_OK(wac_context_list_sessions(ctx, &list));
    int seen = 0;
    for (size_t i = 0; i < wac_session_list_count(list); i++) {
        const wac_session *s = wac_session_list_at(list, i);
        printf("# session pid %u exe '%s' app '%s' streams %u playing %d\n", s->pid, s->executable, s->app_name,
               s->streams, s->playing);
        if (s->pid == (uint32_t)a || s->pid == (uint32_t)b) {
            ASSERT_EQ(s->streams, 1);
            ASSERT(s->playing);
            ASSERT(s->executable[0] != 0);
            seen++;
        }
    }
    wac_session_list_free(list);
    ASSERT_EQ(seen, 2);

    wac_capture_config c = pid_config((uint32_t)a, true, false);
    struct rec r;
    record(ctx, &c, 6.0, &r);
    LEVELS(&r, 440, 1000);
    kill_player(a);
    kill_player(b);
    ASSERT_EQ(r.n, 6 * RATE);
    double target = db(tone_amp(&r, 440, 0.5)), other = db(tone_amp(&r, 1000, 0.5));
    ASSERT_CMP(target, >, -9.5); /* 0.4 amplitude is -8.0 dBFS */
    ASSERT_CMP(target, <, -6.5);
    ASSERT_CMP(other, <, target - 60);
    /* Captured duration against wall time: within 1%. */
    ASSERT_CMP(fabs(r.rate_ratio - 1.0) * 10000, <, 100);
    ASSERT(saw_event(&r, WAC_EVENT_STARTED, 0));
    ASSERT(saw_event(&r, WAC_EVENT_TARGET_ATTACHED, (uint32_t)a));
    ASSERT(saw_event(&r, WAC_EVENT_STREAM_ADDED, (uint32_t)a));
    ASSERT(!saw_event(&r, WAC_EVENT_STREAM_ADDED, (uint32_t)b));
    free(r.x);
    ASSERT_OK(wac_context_close(ctx));
}

static void captures_process_tree(void)
{
    wac_context *ctx = open_pw();
    pid_t parent = play_tone_in_tree(440, 12), other = play_tone(1000, 12);
    wait_playing(ctx, 0, 2);

    wac_capture_config c = pid_config((uint32_t)parent, true, false);
    struct rec r;
    record(ctx, &c, 2.5, &r);
    LEVELS(&r, 440, 1000);
    double with_tree = db(tone_amp(&r, 440, 0.5)), other_level = db(tone_amp(&r, 1000, 0.5));
    ASSERT(saw_event(&r, WAC_EVENT_STREAM_ADDED, 0));
    free(r.x);

    c = pid_config((uint32_t)parent, false, false);
    record(ctx, &c, 2.5, &r);
    LEVELS(&r, 440, 1000);
    double without_tree = db(tone_amp(&r, 440, 0.5));
    ASSERT(!saw_event(&r, WAC_EVENT_STREAM_ADDED, 0));
    free(r.x);
    kill_player(parent);
    kill_player(other);

    ASSERT_CMP(with_tree, >, -9.5);
    ASSERT_CMP(other_level, <, with_tree - 60);
    ASSERT_CMP(without_tree, <, -100); /* nothing linked: digital silence */
    ASSERT_OK(wac_context_close(ctx));
}

static void exclude_captures_the_others(void)
{
    wac_context *ctx = open_pw();
    pid_t a = play_tone(440, 12), b = play_tone(1000, 12);
    wait_playing(ctx, (uint32_t)a, 0);
    wait_playing(ctx, (uint32_t)b, 0);
    wac_capture_config c = pid_config((uint32_t)a, true, true);
    struct rec r;
    record(ctx, &c, 2.5, &r);
    LEVELS(&r, 440, 1000);
    kill_player(a);
    kill_player(b);
    double excluded = db(tone_amp(&r, 440, 0.5)), other = db(tone_amp(&r, 1000, 0.5));
    ASSERT_CMP(other, >, -9.5);
    ASSERT_CMP(excluded, <, other - 60);
    ASSERT(saw_event(&r, WAC_EVENT_STREAM_ADDED, (uint32_t)b));
    free(r.x);
    ASSERT_OK(wac_context_close(ctx));
}

static void system_captures_all(void)
{
    wac_context *ctx = open_pw();
    pid_t a = play_tone(440, 12), b = play_tone(1000, 12);
    wait_playing(ctx, (uint32_t)a, 0);
    wait_playing(ctx, (uint32_t)b, 0);
    wac_capture_config c = speech_config(); /* target: system */
    struct rec r;
    record(ctx, &c, 2.5, &r);
    LEVELS(&r, 440, 1000);
    kill_player(a);
    kill_player(b);
    ASSERT_CMP(db(tone_amp(&r, 440, 0.5)), >, -9.5);
    ASSERT_CMP(db(tone_amp(&r, 1000, 0.5)), >, -9.5);
    free(r.x);
    ASSERT_OK(wac_context_close(ctx));
}

static void stereo_to_mono_is_averaged(void)
{
    wac_context *ctx = open_pw();
    pid_t a = play_tone(440, 12); /* 0.4 on both channels */
    wait_playing(ctx, (uint32_t)a, 0);
    wac_capture_config c = pid_config((uint32_t)a, true, false);
    struct rec r;
    record(ctx, &c, 2.5, &r);
    double amp = tone_amp(&r, 440, 0.5), p = peak(&r, 0.5);
    printf("# amplitude %.4f, peak %.4f\n", amp, p);
    kill_player(a);
    ASSERT_CMP(amp * 1000, >, 370); /* 0.4, not 0.8 (summed) nor 0.57 (-3 dB law) */
    ASSERT_CMP(amp * 1000, <, 430);
    ASSERT_CMP(p * 1000, <, 440);
    free(r.x);
    ASSERT_OK(wac_context_close(ctx));
}

static void no_aliasing_from_48k(void)
{
    wac_context *ctx = open_pw();
    pid_t hi = play_tone(12000, 12), lo = play_tone(1000, 12);
    wait_playing(ctx, (uint32_t)hi, 0);
    wait_playing(ctx, (uint32_t)lo, 0);
    wac_capture_config c = speech_config(); /* both, through one 16 kHz capture */
    struct rec r;
    record(ctx, &c, 2.5, &r);
    LEVELS(&r, 1000, 4000); /* 12 kHz folds to 4 kHz at 16 kHz */
    kill_player(hi);
    kill_player(lo);
    double kept = db(tone_amp(&r, 1000, 0.5)), alias = db(tone_amp(&r, 4000, 0.5));
    ASSERT_CMP(kept, >, -9.5);
    ASSERT_CMP(alias, <, -8.0 - 50); /* the 12 kHz source tone is at -8 dBFS */
    free(r.x);
    ASSERT_OK(wac_context_close(ctx));
}

static int count_events(const struct rec *r, wac_event_type type)
{
    int n = 0;
    for (int i = 0; i < r->n_ev; i++)
        n += r->ev[i].type == type;
    return n;
}

static void name_target_attaches_each_time(void)
{
    /* The capture starts before the application, which then plays twice. */
    wac_context *ctx = open_pw();
    fflush(stdout);
    pid_t seq = fork();
    ASSERT(seq >= 0);
    if (seq == 0) {
        sleep_ms(500);
        pid_t p = play_tone(440, 2);
        waitpid(p, NULL, 0);
        sleep_ms(1000);
        p = play_tone(440, 2);
        waitpid(p, NULL, 0);
        _exit(0);
    }
    wac_capture_config c = speech_config();
    c.target.kind = WAC_TARGET_NAME;
    c.target.name = "pw-play";
    struct rec r;
    record(ctx, &c, 6.5, &r);
    waitpid(seq, NULL, 0);
    LEVELS(&r, 440, 1000);
    /* One continuous timeline: silence before, between and after. */
    ASSERT_EQ(r.n, (size_t)(6.5 * RATE));
    ASSERT_CMP(count_events(&r, WAC_EVENT_TARGET_ATTACHED), ==, 2);
    ASSERT_CMP(count_events(&r, WAC_EVENT_STREAM_ADDED), ==, 2);
    ASSERT_CMP(count_events(&r, WAC_EVENT_STREAM_REMOVED), >=, 1);
    ASSERT_CMP(count_events(&r, WAC_EVENT_TARGET_DETACHED), >=, 1);
    ASSERT_CMP(db(tone_amp(&r, 440, 0.5)), >, -20);
    struct rec gap = r;
    gap.x = r.x + (size_t)(2.9 * RATE);
    gap.n = (size_t)(0.4 * RATE);
    ASSERT_CMP(peak(&gap, 0) * 1e6, <, 1);
    free(r.x);
    ASSERT_OK(wac_context_close(ctx));
}

static void waits_for_silent_pid(void)
{
    /* A pid that plays nothing: the capture runs, says so, and delivers silence. */
    wac_context *ctx = open_pw();
    wac_capture_config c = pid_config((uint32_t)getpid(), false, false);
    struct rec r;
    record(ctx, &c, 1.0, &r);
    ASSERT_EQ(r.n, RATE);
    ASSERT(saw_event(&r, WAC_EVENT_TARGET_ATTACHED, (uint32_t)getpid()));
    ASSERT_CMP(peak(&r, 0), ==, 0);
    free(r.x);
    ASSERT_OK(wac_context_close(ctx));
}

static void server_lost_ends_the_stream(void)
{
    const char *pw_pid = getenv("WAC_PW_PIPEWIRE_PID");
    ASSERT(pw_pid && atoi(pw_pid) > 0);
    wac_context *ctx = open_pw();
    pid_t a = play_tone(440, 12);
    wait_playing(ctx, (uint32_t)a, 0);
    wac_capture_config c = pid_config((uint32_t)a, true, false);
    wac_capture *cap = open_capture(ctx, &c);
    ASSERT_OK(wac_capture_start(cap));
    sleep_ms(1000);
    ASSERT_OK(kill((pid_t)atoi(pw_pid), SIGKILL));
    struct rec r;
    memset(&r, 0, sizeof r);
    float buf[RATE / 10];
    size_t total = 0;
    int rc;
    int64_t deadline = now_ms() + 10000;
    while ((rc = wac_capture_read(cap, buf, RATE / 10, 3000, NULL)) > 0 || rc == WAC_ERR_TIMEOUT) {
        drain_events(cap, &r);
        if (rc > 0)
            total += (size_t)rc;
        if (now_ms() > deadline)
            FAIL("the stream did not end within 10 s of the server's death");
    }
    drain_events(cap, &r);
    printf("# read %zu frames, then %s\n", total, wac_error_name(rc));
    ASSERT_RC(rc, WAC_ERR_ENDED);
    ASSERT_CMP(total, >=, RATE / 2); /* what was captured before the loss is still read */
    int lost = -1, ended = -1;
    for (int i = 0; i < r.n_ev; i++) {
        if (r.ev[i].type == WAC_EVENT_SERVER_LOST)
            lost = i;
        if (r.ev[i].type == WAC_EVENT_ENDED)
            ended = i;
    }
    ASSERT(lost >= 0);
    ASSERT_CMP(ended, >, lost);
    ASSERT_RC(r.ev[ended].error, WAC_ERR_SERVER_LOST);
    ASSERT_EQ(wac_capture_get_state(cap), WAC_STATE_ENDED);
    ASSERT_RC(wac_capture_read(cap, buf, 10, 0, NULL), WAC_ERR_ENDED);
    /* The context refuses new captures, with the reason. */
    wac_capture *again = NULL;
    ASSERT_RC(wac_capture_open(ctx, &c, &again), WAC_ERR_SERVER_LOST);
    ASSERT_OK(wac_capture_close(cap));
    kill_player(a);
    ASSERT_OK(wac_context_close(ctx));
}

int main(void)
{
    if (!getenv("WAC_PW_SESSION_DIR")) {
        printf("1..0 # SKIP no private PipeWire session: run under tests/servers/pw-session.sh run\n");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    RUN(auto_picks_pipewire);
    RUN(unknown_pid_is_not_found);
    RUN_T(captures_one_pid_only, 60);
    RUN_T(captures_process_tree, 60);
    RUN_T(exclude_captures_the_others, 60);
    RUN_T(system_captures_all, 60);
    RUN_T(stereo_to_mono_is_averaged, 60);
    RUN_T(no_aliasing_from_48k, 60);
    RUN_T(name_target_attaches_each_time, 60);
    RUN_T(waits_for_silent_pid, 60);
    /* Last: it kills the server. */
    RUN_T(server_lost_ends_the_stream, 60);
    return tap_done();
}
