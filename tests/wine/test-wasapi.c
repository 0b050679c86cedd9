/* test-wasapi.c — the WASAPI backend under Wine 8 (CI) — what can be
 * exercised without a real Windows:
 *   - too old a Windows is refused with the build numbers in the message;
 *   - process loopback activation fails with WAC_ERR_NOT_SUPPORTED and the
 *     HRESULT 0x80070002 (Wine has no VAD\Process_Loopback);
 *   - with a PulseAudio server on the Linux side playing a tone into a null
 *     sink (tests/servers/pa-daemon-for-wine.sh), the backend's whole
 *     IAudioClient / IAudioCaptureClient event loop records Wine's capture
 *     endpoint (the null sink's monitor): the tone's frequency and level are
 *     checked, through the engine's format conversion and through WAC's own
 *     converter, and silence fills the timeline while the server is frozen
 *     (SIGSTOP) and sends nothing.
 *
 * Each case runs in a child process of this program, because the Windows
 * version Wine reports is fixed per process: the parent sets it for the child
 * and prints TAP. Wine 8's newest named version ("win10") is build 18362, too
 * old for process loopback, so the prefix's own version is set to 10.0.22000
 * (Windows 11) in HKLM\...\Windows NT\CurrentVersion, and "win7" through
 * HKCU\Software\Wine\AppDefaults\test-wasapi.exe\Version for the child that
 * checks the refusal.
 * Environment from the helper: PULSE_SERVER, WAC_TEST_TONE_HZ,
 * WAC_TEST_TONE_AMP, WAC_TEST_PULSE_PID. */
#include <windows.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tone.h"
#include "wac.h"

static bool under_wine(void)
{
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll && GetProcAddress(ntdll, "wine_get_version") != NULL;
}

/* The cases that record a tone need the server and the tone that
 * tests/servers/pa-daemon-for-wine.sh plays in it; a PulseAudio server alone
 * (a desktop's) plays no tone, and recording it would report a 0 Hz tone. */
static bool have_tone_server(void)
{
    const char *server = getenv("PULSE_SERVER");
    const char *tone = getenv("WAC_TEST_TONE_HZ");
    return server && server[0] && tone && tone[0];
}

static double env_double(const char *name, double fallback)
{
    const char *s = getenv(name);
    return s && s[0] ? atof(s) : fallback;
}

static wac_context *open_wasapi(void)
{
    wac_context *ctx = NULL;
    char detail[256];
    int rc = wac_context_open("wasapi", &ctx, detail, sizeof detail);
    if (rc)
        FAIL("wasapi context: %s (%s)", wac_strerror(rc), detail);
    return ctx;
}

/* Amplitude of `hz` in x[0..n) (Goertzel). */
/* Run a Linux command (Wine runs Unix programs given by their path). */
static void run_unix(const char *cmdline)
{
    wchar_t cmd[512];
    MultiByteToWideChar(CP_UTF8, 0, cmdline, -1, cmd, 512);
    STARTUPINFOW si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(L"/bin/sh", cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
        FAIL("cannot run %s: error %lu", cmdline, (unsigned long)GetLastError());
    WaitForSingleObject(pi.hProcess, 10000);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
}

/* ---- the cases (child processes) ------------------------------------------------- */

static void too_old_windows(void)
{
    wac_context *ctx = open_wasapi();
    wac_capture_config c;
    wac_capture_config_init(&c);
    c.target.kind = WAC_TARGET_PID;
    c.target.pid = (uint32_t)GetCurrentProcessId();
    wac_capture *cap = NULL;
    ASSERT_RC(wac_capture_open(ctx, &c, &cap), WAC_ERR_NOT_SUPPORTED);
    const char *why = wac_context_last_error(ctx);
    printf("# %s\n", why);
    ASSERT(strstr(why, "19041") && strstr(why, "20348") && strstr(why, "build 7601"));
    ASSERT_OK(wac_context_close(ctx));
}

static void process_loopback_unavailable(void)
{
    wac_context *ctx = open_wasapi();
    wac_capture_config c;
    wac_capture_config_init(&c);
    c.target.kind = WAC_TARGET_PID;
    c.target.pid = (uint32_t)GetCurrentProcessId();
    c.format = (wac_format){16000, 1, WAC_SAMPLE_F32};
    for (int exclude = 0; exclude < 2; exclude++) {
        c.target.exclude = exclude;
        wac_capture *cap = NULL;
        ASSERT_RC(wac_capture_open(ctx, &c, &cap), WAC_ERR_NOT_SUPPORTED);
        ASSERT(cap == NULL);
        const char *why = wac_context_last_error(ctx);
        printf("# %s\n", why);
        ASSERT(strstr(why, "HRESULT 0x80070002") != NULL);
        ASSERT(strstr(why, "VAD\\Process_Loopback") != NULL);
    }
    /* Not possible on Windows at all: said so, not attempted. */
    c.target.exclude = false;
    c.target.include_tree = false;
    wac_capture *cap = NULL;
    ASSERT_RC(wac_capture_open(ctx, &c, &cap), WAC_ERR_NOT_SUPPORTED);
    ASSERT(strstr(wac_context_last_error(ctx), "include_tree") != NULL);
    ASSERT_OK(wac_context_close(ctx));
}

static void render_loopback_error(void)
{
    /* Wine's render endpoints cannot be looped back: the HRESULT is reported. */
    wac_context *ctx = open_wasapi();
    wac_capture_config c;
    wac_capture_config_init(&c);
    wac_capture *cap = NULL;
    int rc = wac_capture_open(ctx, &c, &cap);
    const char *why = wac_context_last_error(ctx);
    printf("# %s: %s\n", wac_error_name(rc), why);
    ASSERT(rc < 0);
    ASSERT(strstr(why, "HRESULT 0x88890003") != NULL); /* AUDCLNT_E_WRONG_ENDPOINT_TYPE */
    ASSERT_OK(wac_context_close(ctx));
}

/* Record Wine's capture endpoint for `seconds` into a float buffer (channel 0). */
struct recording {
    float *mono;
    size_t frames;
    uint32_t rate;
    wac_capture_stats stats;
    int events[16];
    int n_events;
};

/* device: a DEVICE target by that name; NULL: the SYSTEM target with the test
 * switch that makes it the capture endpoint. */
static void record_endpoint_of(const char *device, wac_format fmt, double seconds, struct recording *rec,
                               double freeze_at)
{
    if (!device)
        _putenv_s("WAC_WASAPI_SYSTEM_DEVICE", "capture");
    wac_context *ctx = open_wasapi();
    wac_capture_config c;
    wac_capture_config_init(&c);
    c.format = fmt;
    if (device) {
        c.target.kind = WAC_TARGET_DEVICE;
        c.target.name = device;
    }
    wac_capture *cap = NULL;
    int rc = wac_capture_open(ctx, &c, &cap);
    if (rc)
        FAIL("open: %s (%s)", wac_strerror(rc), wac_context_last_error(ctx));
    wac_format got;
    uint32_t chunk;
    ASSERT_OK(wac_capture_get_format(cap, &got, &chunk));
    ASSERT(got.rate == fmt.rate && got.channels == fmt.channels && got.sample == fmt.sample);
    ASSERT_OK(wac_capture_start(cap));
    size_t total = (size_t)(seconds * fmt.rate);
    rec->mono = calloc(total + chunk, sizeof(float));
    rec->rate = fmt.rate;
    ASSERT(rec->mono);
    size_t bytes = (size_t)chunk * fmt.channels * (fmt.sample == WAC_SAMPLE_F32 ? 4 : 2);
    uint8_t *buf = malloc(bytes);
    ASSERT(buf);
    uint64_t expect_position = 0;
    const char *pa = getenv("WAC_TEST_PULSE_PID");
    bool frozen = false, thawed = false;
    char cmd[128];
    while (rec->frames < total) {
        double t = (double)rec->frames / fmt.rate;
        if (freeze_at > 0 && !frozen && t >= freeze_at) {
            snprintf(cmd, sizeof cmd, "/bin/sh -c \"kill -STOP %s\"", pa);
            run_unix(cmd);
            frozen = true;
        }
        if (frozen && !thawed && t >= freeze_at + 1.0) {
            snprintf(cmd, sizeof cmd, "/bin/sh -c \"kill -CONT %s\"", pa);
            run_unix(cmd);
            thawed = true;
        }
        wac_chunk_info info;
        /* While the server is frozen only the clock makes audio: silence,
         * still on time (a chunk per 100 ms, so 1 s is plenty). */
        int n = wac_capture_read(cap, buf, chunk, 1000, &info);
        if (n != (int)chunk)
            FAIL("read at %.2f s: %s (%s)", t, wac_error_name(n), wac_capture_last_error(cap));
        ASSERT_EQ(info.position, expect_position);
        expect_position += (uint64_t)n;
        for (int i = 0; i < n; i++) {
            float v = fmt.sample == WAC_SAMPLE_F32 ? ((float *)(void *)buf)[(size_t)i * fmt.channels]
                                                   : ((int16_t *)(void *)buf)[(size_t)i * fmt.channels] / 32768.0f;
            rec->mono[rec->frames + (size_t)i] = v;
        }
        rec->frames += (size_t)n;
        wac_event ev;
        while (wac_capture_next_event(cap, &ev, sizeof ev) == 1 && rec->n_events < 16)
            rec->events[rec->n_events++] = ev.type;
    }
    if (frozen && !thawed) {
        snprintf(cmd, sizeof cmd, "/bin/sh -c \"kill -CONT %s\"", pa);
        run_unix(cmd);
    }
    ASSERT_OK(wac_capture_get_stats(cap, &rec->stats, sizeof rec->stats));
    /* Wine dates packets QPC * 10^7 / frequency in 64 bits, which wraps once
     * QPC passes 2^63 / 10^7 (25.6 h of uptime at Wine's 10 MHz): every
     * stamp then lies 51 h or more off, and WAC must date each by its arrival
     * instead. Below that, every stamp is true and none may be rejected.
     * scripts/test.sh runs this suite both ways (a time namespace moves the
     * clock). */
    LARGE_INTEGER qpc;
    QueryPerformanceCounter(&qpc);
    bool wine_stamps_wrap = qpc.QuadPart > INT64_MAX / 10000000;
    printf("# QPC %lld: Wine's stamps %s; %llu rejected\n", (long long)qpc.QuadPart,
           wine_stamps_wrap ? "wrap" : "are true", (unsigned long long)rec->stats.timestamps_rejected);
    if (wine_stamps_wrap)
        ASSERT_CMP(rec->stats.timestamps_rejected, >, 0);
    else
        ASSERT_EQ(rec->stats.timestamps_rejected, 0);
    ASSERT_OK(wac_capture_stop(cap));
    free(buf);
    ASSERT_OK(wac_context_close(ctx));
}

static void record_endpoint(wac_format fmt, double seconds, struct recording *rec, double freeze_at)
{
    record_endpoint_of(NULL, fmt, seconds, rec, freeze_at);
}

/* The tone: its frequency (peak of a 1 Hz scan) and level, over [from, to) s. */
static void check_tone(const struct recording *rec, double from, double to)
{
    double hz = env_double("WAC_TEST_TONE_HZ", 440), amp = env_double("WAC_TEST_TONE_AMP", 0.5);
    size_t a = (size_t)(from * rec->rate), n = (size_t)((to - from) * rec->rate);
    ASSERT_CMP(a + n, <=, rec->frames);
    double best = 0, best_hz = 0;
    for (double f = hz - 100; f <= hz + 100; f += 1) {
        double v = amplitude_at(rec->mono + a, n, f, rec->rate);
        if (v > best) {
            best = v;
            best_hz = f;
        }
    }
    double other = amplitude_at(rec->mono + a, n, hz * 2.3, rec->rate);
    printf("# %.1f-%.1f s: peak %.0f Hz at %.4f (%.2f dBFS; expected %.0f Hz at %.4f); at %.0f Hz: %.2g\n", from, to,
           best_hz, best, 20 * log10(best), hz, amp, hz * 2.3, other);
    if (fabs(best_hz - hz) > 2)
        FAIL("the tone is at %.0f Hz, not %.0f Hz", best_hz, hz);
    if (fabs(20 * log10(best / amp)) > 0.5)
        FAIL("the tone's level is %.2f dB off", 20 * log10(best / amp));
    if (other * 1000 > best)
        FAIL("%.2g at %.0f Hz: not 60 dB below the tone", other, hz * 2.3);
}

/* The tone over [from, to) on stderr, for a failure: the level of every
 * 250 ms block, the worst block's level and phase in 10 ms steps (a run of
 * low levels: a gap of zeros; a step in phase with the level whole: frames
 * lost or repeated before WAC saw them), and all of WAC's counters. The
 * worst block is picked among those not marked in `silent`, when any is not. */
static void print_blocks(const struct recording *rec, double from, double to, const bool *silent)
{
    double hz = env_double("WAC_TEST_TONE_HZ", 440), amp = env_double("WAC_TEST_TONE_AMP", 0.5);
    size_t a = (size_t)(from * rec->rate), n = (size_t)((to - from) * rec->rate), block = rec->rate / 4;
    fprintf(stderr, "# the tone over %.1f-%.1f s by 250 ms block (dB):", from, to);
    size_t worst = a;
    double worst_db = 0;
    for (size_t at = a, b = 0; at + block <= a + n; at += block, b++) {
        double db = 20 * log10(amplitude_at(rec->mono + at, block, hz, rec->rate) / amp + 1e-12);
        fprintf(stderr, " %.1f", db);
        if (!silent[b] && fabs(db) > fabs(worst_db)) {
            worst_db = db;
            worst = at;
        }
    }
    fprintf(stderr, "\n# the block at %.2f s by 10 ms (dB/degrees):", (double)worst / rec->rate);
    size_t step = rec->rate / 100;
    for (size_t at = worst; at + step <= worst + block; at += step) {
        double a_at, phase;
        tone_phasor(rec->mono + at, step, hz, rec->rate, at, &a_at, &phase);
        fprintf(stderr, " %.1f/%.0f", 20 * log10(a_at / amp + 1e-12), phase * 180 / 3.14159265358979323846);
    }
    const wac_capture_stats *s = &rec->stats;
    fprintf(stderr,
            "\n# WAC: %llu frames lost, %llu filled with silence, %llu skipped (%u discontinuities), "
            "%llu discarded\n",
            (unsigned long long)s->frames_lost, (unsigned long long)s->frames_silence,
            (unsigned long long)s->frames_skipped, s->discontinuities, (unsigned long long)s->frames_discarded);
}

#define TONE_BLOCKS_MAX 64

/* The zero samples of x[0, n) that lie in runs of at least 8 (silence: a
 * tone at this level crosses zero in one sample at most). With `silent`,
 * the blocks of `block` frames that hold such a run are marked in it. */
static size_t zero_runs(const float *x, size_t n, size_t block, bool *silent)
{
    size_t zeros = 0, run = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && x[i] == 0.0f) {
            run++;
            continue;
        }
        if (run >= 8) {
            zeros += run;
            for (size_t b = (i - run) / block; silent && b <= (i - 1) / block && b < TONE_BLOCKS_MAX; b++)
                silent[b] = true;
        }
        run = 0;
    }
    return zeros;
}

/* Check the tone over [from, to), block by block. Wine's engine stalls when
 * the machine is busy: its threads do not run for tens of ms, and it
 * delivers nothing (seen in clean-root runs, and in 3 of 40 runs with six
 * busy loops on the host's two cores). WAC's clock fills such a stall with
 * silence and counts it. So the zeros in the whole recording must be no
 * more than WAC counted as filled, every 250 ms block without them must
 * carry the tone within 0.5 dB, and the frequency and its isolation are
 * checked over the longest stretch of such blocks, which must be
 * `min_blocks` long at least.
 * A dip without zeros (frames lost or repeated before WAC saw them) fails. */
static void check_tone_blocks(const struct recording *rec, double from, double to, size_t min_blocks)
{
    double hz = env_double("WAC_TEST_TONE_HZ", 440), amp = env_double("WAC_TEST_TONE_AMP", 0.5);
    size_t block = rec->rate / 4, a = (size_t)(from * rec->rate), blocks = (size_t)((to - from) * 4);
    ASSERT_CMP(blocks, <=, TONE_BLOCKS_MAX);
    ASSERT_CMP(a + blocks * block, <=, rec->frames);
    bool silent[TONE_BLOCKS_MAX] = {false};
    size_t in_window = zero_runs(rec->mono + a, blocks * block, block, silent);
    size_t zeros = zero_runs(rec->mono, rec->frames, rec->rate / 4, NULL);
    size_t longest = 0, longest_at = 0, run = 0, off = 0, n_silent = 0;
    for (size_t b = 0; b < blocks; b++) {
        if (silent[b]) {
            n_silent++;
            run = 0;
            continue;
        }
        double db = 20 * log10(amplitude_at(rec->mono + a + b * block, block, hz, rec->rate) / amp);
        off += fabs(db) > 0.5;
        if (++run > longest) {
            longest = run;
            longest_at = b + 1 - run;
        }
    }
    printf("# %.1f-%.1f s: %zu of %zu blocks hold silence (%zu zero samples; in the whole recording %zu, "
           "WAC filled %llu frames)\n",
           from, to, n_silent, blocks, in_window, zeros, (unsigned long long)rec->stats.frames_silence);
    if (zeros > rec->stats.frames_silence || off || longest < min_blocks)
        print_blocks(rec, from, to, silent);
    if (zeros > rec->stats.frames_silence)
        FAIL("%zu zero samples in the recording, but WAC filled only %llu frames", zeros,
             (unsigned long long)rec->stats.frames_silence);
    if (off)
        FAIL("%zu blocks without silence are more than 0.5 dB off the tone's level", off);
    if (longest < min_blocks)
        FAIL("no %zu ms of the tone without silence (the longest: %zu ms)", min_blocks * 250, longest * 250);
    check_tone(rec, from + (double)longest_at / 4, from + (double)(longest_at + longest) / 4);
}

/* Record one endpoint for 4 s and check its tone over [1.5, 4) s, with 1 s
 * of it free of stalls. */
static void record_tone_checked(const char *device, wac_format fmt, struct recording *rec)
{
    record_endpoint_of(device, fmt, 4.0, rec, 0);
    check_tone_blocks(rec, 1.5, 4.0, 4);
}

static void check_start_events(const struct recording *rec)
{
    ASSERT_CMP(rec->n_events, >=, 2);
    ASSERT_EQ(rec->events[0], WAC_EVENT_STARTED);
    ASSERT_EQ(rec->events[1], WAC_EVENT_STREAM_ADDED);
}

static void capture_endpoint_tone(void)
{
    struct recording rec = {0};
    /* The first second may be late: a fresh PulseAudio server fills up. */
    record_tone_checked(NULL, (wac_format){16000, 1, WAC_SAMPLE_F32}, &rec);
    check_start_events(&rec);
    ASSERT_EQ(rec.stats.frames_lost, 0);
    free(rec.mono);
}

static void capture_endpoint_wac_converter(void)
{
    _putenv_s("WAC_WASAPI_CONVERT", "1"); /* the engine's conversion is skipped */
    struct recording rec = {0};
    record_tone_checked(NULL, (wac_format){22050, 1, WAC_SAMPLE_S16}, &rec);
    check_start_events(&rec);
    ASSERT_EQ(rec.stats.frames_lost, 0);
    free(rec.mono);
}

/* The input devices as the API lists them; the default input by name
 * "default" and by its id both carry the tone (Wine's capture endpoint on
 * the private PulseAudio). */
static void device_targets_capture_the_input(void)
{
    wac_context *ctx = open_wasapi();
    wac_device_list *list = NULL;
    ASSERT_OK(wac_context_list_devices(ctx, &list));
    char input[512] = "";
    bool monitor = false;
    for (size_t i = 0; i < wac_device_list_count(list); i++) {
        const wac_device *d = wac_device_list_at(list, i);
        printf("# device %s%s%s: %s\n", d->name, d->monitor ? " (monitor)" : "", d->is_default ? " (default)" : "",
               d->description);
        if (!d->monitor && d->is_default)
            snprintf(input, sizeof input, "%s", d->name);
        monitor |= d->monitor && strcmp(d->name, "default.monitor") == 0;
    }
    wac_device_list_free(list);
    ASSERT_OK(wac_context_close(ctx));
    ASSERT(input[0] && monitor);
    struct recording rec = {0};
    record_tone_checked("default", (wac_format){16000, 1, WAC_SAMPLE_F32}, &rec);
    check_start_events(&rec);
    free(rec.mono);
    struct recording by_id = {0};
    record_tone_checked(input, (wac_format){16000, 1, WAC_SAMPLE_F32}, &by_id);
    free(by_id.mono);
    ctx = open_wasapi();
    wac_capture_config c;
    wac_capture_config_init(&c);
    c.target.kind = WAC_TARGET_DEVICE;
    c.target.name = "{0.0.1.00000000}.{00000000-0000-0000-0000-000000000000}";
    wac_capture *cap = NULL;
    int rc = wac_capture_open(ctx, &c, &cap);
    printf("# an unknown id: %s (%s)\n", wac_error_name(rc), wac_context_last_error(ctx));
    ASSERT_RC(rc, WAC_ERR_TARGET_NOT_FOUND);
    ASSERT_OK(wac_context_close(ctx));
}

static void silence_fills_the_clock(void)
{
    if (!getenv("WAC_TEST_PULSE_PID"))
        FAIL("WAC_TEST_PULSE_PID is not set (run under tests/servers/pa-daemon-for-wine.sh)");
    struct recording rec = {0};
    int64_t t0 = GetTickCount64();
    record_endpoint((wac_format){16000, 1, WAC_SAMPLE_F32}, 6.0, &rec, 2.5);
    double wall = (double)(GetTickCount64() - t0) / 1000;
    double silence = (double)rec.stats.frames_silence / 16000;
    printf("# 6.0 s of stream in %.2f s; %.2f s of it silence filled from the clock; %u discontinuities\n", wall,
           silence, rec.stats.discontinuities);
    /* The server was frozen for 1 s: most of it must have become silence. */
    if (silence < 0.5 || silence > 1.5)
        FAIL("%.2f s of silence filled for a 1 s freeze", silence);
    /* The timeline kept pace with the clock (reads returned on time). */
    if (wall > 7.5)
        FAIL("6 s of stream took %.2f s", wall);
    check_tone_blocks(&rec, 1.5, 2.5, 2);
    check_tone_blocks(&rec, 4.5, 6.0, 4);
    /* The freeze is in the stream as silence. */
    double quiet = amplitude_at(rec.mono + (size_t)(2.8 * 16000), 16000 / 2, env_double("WAC_TEST_TONE_HZ", 440), 16000);
    if (quiet > 1e-3)
        FAIL("the tone is at %.2g during the freeze", quiet);
    free(rec.mono);
}

static void sessions_list(void)
{
    wac_context *ctx = open_wasapi();
    wac_session_list *l = NULL;
    int rc = wac_context_list_sessions(ctx, &l);
    printf("# list_sessions: %s, %zu sessions\n", wac_error_name(rc), wac_session_list_count(l));
    ASSERT_OK(rc);
    for (size_t i = 0; i < wac_session_list_count(l); i++) {
        const wac_session *s = wac_session_list_at(l, i);
        printf("#   pid %u %s \"%s\" streams %u %s\n", s->pid, s->executable, s->app_name, s->streams,
               s->playing ? "playing" : "idle");
    }
    wac_session_list_free(l);
    ASSERT_OK(wac_context_close(ctx));
}

/* ---- the parent: one child per case, with the Windows version it needs ------------ */

struct test_case {
    const char *name;
    void (*fn)(void);
    const wchar_t *version; /* what Wine reports to the child */
    bool wine_only;         /* asserts Wine's behaviour */
    bool pulse;             /* needs the PulseAudio server */
};

static const struct test_case cases[] = {
    {"too_old_windows", too_old_windows, L"win7", true, false},
    {"process_loopback_unavailable", process_loopback_unavailable, NULL, true, false},
    {"sessions_list", sessions_list, NULL, false, false},
    {"render_loopback_error", render_loopback_error, NULL, true, true},
    {"capture_endpoint_tone", capture_endpoint_tone, NULL, false, true},
    {"capture_endpoint_wac_converter", capture_endpoint_wac_converter, NULL, false, true},
    {"device_targets_capture_the_input", device_targets_capture_the_input, NULL, false, true},
    {"silence_fills_the_clock", silence_fills_the_clock, NULL, true, true},
};

static void set_string(HKEY root, const wchar_t *path, const wchar_t *name, const wchar_t *value)
{
    HKEY key;
    if (RegCreateKeyExW(root, path, 0, NULL, 0, KEY_SET_VALUE, NULL, &key, NULL) != ERROR_SUCCESS)
        FAIL("cannot write the registry key %ls", path);
    if (value)
        RegSetValueExW(key, name, 0, REG_SZ, (const BYTE *)value, (DWORD)((wcslen(value) + 1) * sizeof(wchar_t)));
    else
        RegDeleteValueW(key, name);
    RegCloseKey(key);
}

/* What Wine reports to the next child: `version` ("win7"), or NULL for
 * Windows 11 build 22000. */
static void set_wine_version(const wchar_t *version)
{
    static const wchar_t nt[] = L"Software\\Microsoft\\Windows NT\\CurrentVersion";
    set_string(HKEY_LOCAL_MACHINE, nt, L"CurrentVersion", L"10.0");
    set_string(HKEY_LOCAL_MACHINE, nt, L"CurrentBuildNumber", L"22000");
    set_string(HKEY_LOCAL_MACHINE, nt, L"CurrentBuild", L"22000");
    set_string(HKEY_CURRENT_USER, L"Software\\Wine\\AppDefaults\\test-wasapi.exe", L"Version", version);
}

static int run_child(const char *name)
{
    wchar_t self[MAX_PATH], cmd[MAX_PATH + 128], wname[96];
    GetModuleFileNameW(NULL, self, MAX_PATH);
    MultiByteToWideChar(CP_UTF8, 0, name, -1, wname, 96);
    _snwprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\" %ls", self, wname);
    STARTUPINFOW si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    PROCESS_INFORMATION pi;
    fflush(stdout);
    if (!CreateProcessW(self, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi))
        return -1;
    DWORD code = 1;
    if (WaitForSingleObject(pi.hProcess, 60000) == WAIT_TIMEOUT) {
        printf("# timeout\n");
        TerminateProcess(pi.hProcess, 1);
    }
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    return (int)code;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    size_t n = sizeof cases / sizeof cases[0];
    if (argc > 1) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(argv[1], cases[i].name) == 0) {
                cases[i].fn();
                return 0;
            }
        return 2;
    }
    bool wine = under_wine();
    for (size_t i = 0; i < n; i++) {
        const struct test_case *t = &cases[i];
        tap__count++;
        if (t->wine_only && !wine) {
            printf("ok %d - %s # SKIP asserts Wine's behaviour\n", tap__count, t->name);
            continue;
        }
        if (t->pulse && !have_tone_server()) {
            printf("ok %d - %s # SKIP needs the tone server: "
                   "tests/servers/pa-daemon-for-wine.sh run meson test -C build-win --suite wasapi\n",
                   tap__count, t->name);
            continue;
        }
        if (wine)
            set_wine_version(t->version);
        int code = run_child(t->name);
        if (code == 0) {
            printf("ok %d - %s\n", tap__count, t->name);
        } else {
            printf("not ok %d - %s (exit %d)\n", tap__count, t->name, code);
            tap__failed++;
        }
    }
    return tap_done();
}
