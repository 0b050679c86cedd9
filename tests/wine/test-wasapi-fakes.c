/* test-wasapi-fakes.c — the WASAPI backend's process-loopback path against
 * fake COM objects that behave as Microsoft documents process loopback
 * (ActivateAudioInterfaceAsync on VAD\Process_Loopback; the virtual device
 * implements neither GetMixFormat, IsFormatSupported, GetDevicePeriod nor
 * GetCurrentPadding; packets carry QPC stamps in 100 ns units). Wine has no
 * process loopback, so this is the only way the path runs here.
 *
 * A logic test of WAC against documented behaviour, under Wine: it is NOT a
 * verification of Windows. What only a real Windows can show (isolation of
 * one application, what the engine really accepts, its timing) is listed in
 * the README's Windows section.
 *
 * The fakes (fake-wasapi.c) replace the OS calls through the backend's seam
 * (wac__wasapi_system); everything else — the backend's threads, COM calls,
 * the converter, the core — is the product's code. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tone.h"
#include "wac.h"
#include "fake-wasapi.h"

/* ---- helpers ---- */

static wac_context *open_fake_context(void)
{
    wac__wasapi_system = &fake_system;
    wac_context *ctx = NULL;
    char detail[256];
    int rc = wac_context_open("wasapi", &ctx, detail, sizeof detail);
    if (rc)
        FAIL("wasapi context: %s (%s)", wac_strerror(rc), detail);
    return ctx;
}

static wac_capture_config pid_config(uint32_t rate, uint32_t channels)
{
    wac_capture_config c;
    wac_capture_config_init(&c);
    c.target.kind = WAC_TARGET_PID;
    c.target.pid = (uint32_t)GetCurrentProcessId(); /* a process that stays */
    c.target.include_tree = true;
    c.format.rate = rate;
    c.format.channels = channels;
    c.format.sample = WAC_SAMPLE_F32;
    return c;
}

/* Open and start a capture; any failure fails the case with its detail. */
static wac_capture *start_capture(wac_context *ctx, const wac_capture_config *c)
{
    wac_capture *cap = NULL;
    int rc = wac_capture_open(ctx, c, &cap);
    if (rc)
        FAIL("open: %s (%s)", wac_error_name(rc), wac_context_last_error(ctx));
    rc = wac_capture_start(cap);
    if (rc)
        FAIL("start: %s (%s)", wac_error_name(rc), wac_capture_last_error(cap));
    return cap;
}

/* Record `seconds` of a mono capture and check the fake's 440 Hz tone. */
static void record_tone(wac_capture *cap, uint32_t rate, double seconds)
{
    size_t total = (size_t)(seconds * rate);
    float *x = malloc(total * sizeof *x);
    ASSERT(x);
    size_t got = 0;
    while (got < total) {
        int n = wac_capture_read(cap, x + got, (uint32_t)(total - got), 2000, NULL);
        if (n < 0)
            FAIL("read: %s (%s)", wac_error_name(n), wac_capture_last_error(cap));
        got += (size_t)n;
    }
    /* The last half second: past the start and the converter's delay. */
    size_t n = rate / 2;
    double tone = amplitude_at(x + total - n, n, 440, rate);
    double other = amplitude_at(x + total - n, n, 1012, rate);
    printf("# 440 Hz at %.4f (%.2f dBFS), 1012 Hz at %.2g\n", tone, 20 * log10(tone), other);
    if (fabs(20 * log10(tone / 0.5)) > 0.5)
        FAIL("the tone is %.2f dB off 0.5", 20 * log10(tone / 0.5));
    ASSERT(other * 1000 < tone);
    free(x);
}

/* ---- cases ---- */

/* The pid path: VAD\Process_Loopback with the pid and its tree included; the
 * virtual device is asked for stereo (every working client does), and a mono
 * capture is WAC's average of it. */
static void pid_path_asks_stereo_and_downmixes(void)
{
    reset_fakes();
    wac_context *ctx = open_fake_context();
    wac_capture_config c = pid_config(16000, 1);
    wac_capture *cap = NULL;
    char detail[256] = "";
    int rc = wac_capture_open(ctx, &c, &cap);
    if (rc)
        FAIL("open: %s (%s)", wac_error_name(rc), wac_context_last_error(ctx));
    (void)detail;
    ASSERT_EQ(seen.type, WAC__ACTIVATION_TYPE_PROCESS_LOOPBACK);
    ASSERT_EQ(seen.pid, GetCurrentProcessId());
    ASSERT_EQ(seen.mode, WAC__LOOPBACK_INCLUDE_TREE);
    ASSERT_EQ(seen.n_init, 1);
    ASSERT_EQ(seen.init_format[0].nChannels, 2);
    ASSERT_EQ(seen.init_format[0].nSamplesPerSec, 16000);
    DWORD want = AUDCLNT_STREAMFLAGS_LOOPBACK | AUDCLNT_STREAMFLAGS_EVENTCALLBACK |
                 AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM | AUDCLNT_STREAMFLAGS_SRC_DEFAULT_QUALITY;
    ASSERT_EQ(seen.init_flags[0], want);
    ASSERT_OK(wac_capture_start(cap));
    record_tone(cap, 16000, 1.5);
    wac_event ev;
    int types[4], n = 0;
    while (n < 4 && wac_capture_next_event(cap, &ev, sizeof ev) == 1)
        types[n++] = ev.type;
    ASSERT_CMP(n, >=, 3);
    ASSERT_EQ(types[0], WAC_EVENT_STARTED);
    ASSERT_EQ(types[1], WAC_EVENT_TARGET_ATTACHED);
    ASSERT_EQ(types[2], WAC_EVENT_STREAM_ADDED);
    ASSERT_OK(wac_context_close(ctx));
}

/* A device that refuses AUTOCONVERTPCM (reported for the virtual device):
 * each attempt differs from the last, and the capture still opens, at 48 kHz
 * float stereo without flags, converted by WAC. */
static void refused_flags_still_open(void)
{
    reset_fakes();
    script.refuse_flags = AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM;
    wac_context *ctx = open_fake_context();
    wac_capture_config c = pid_config(16000, 1);
    wac_capture *cap = NULL;
    int rc = wac_capture_open(ctx, &c, &cap);
    if (rc)
        FAIL("open: %s (%s)", wac_error_name(rc), wac_context_last_error(ctx));
    ASSERT_EQ(seen.n_init, 3);
    ASSERT(seen.init_flags[0] & AUDCLNT_STREAMFLAGS_SRC_DEFAULT_QUALITY);
    ASSERT(!(seen.init_flags[1] & AUDCLNT_STREAMFLAGS_SRC_DEFAULT_QUALITY));
    ASSERT(seen.init_flags[1] & AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM);
    ASSERT(!(seen.init_flags[2] & AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM));
    ASSERT_EQ(seen.init_format[2].nSamplesPerSec, 48000);
    ASSERT_EQ(seen.init_format[2].nChannels, 2);
    ASSERT_OK(wac_capture_start(cap));
    record_tone(cap, 16000, 1.5);
    ASSERT_OK(wac_context_close(ctx));
}

/* Activation "succeeds" with no interface: an error with its reason, not a
 * crash. */
static void null_interface_is_an_error(void)
{
    reset_fakes();
    script.null_interface = true;
    wac_context *ctx = open_fake_context();
    wac_capture_config c = pid_config(48000, 2);
    wac_capture *cap = NULL;
    ASSERT_RC(wac_capture_open(ctx, &c, &cap), WAC_ERR_BACKEND);
    const char *why = wac_context_last_error(ctx);
    printf("# %s\n", why);
    ASSERT(strstr(why, "0x80004002") != NULL); /* E_NOINTERFACE */
    ASSERT_OK(wac_context_close(ctx));
}

/* The activation completes after WAC stopped waiting (5 s): a timeout for the
 * caller; the OS still reads the parameters then, and they must still be the
 * caller's (they lived on the stack of a function that had returned). */
static void late_completion_reads_live_parameters(void)
{
    reset_fakes();
    script.complete_after_ms = 5600;
    wac_context *ctx = open_fake_context();
    wac_capture_config c = pid_config(48000, 2);
    wac_capture *cap = NULL;
    ASSERT_RC(wac_capture_open(ctx, &c, &cap), WAC_ERR_TIMEOUT);
    for (int i = 0; i < 300 && atomic_load(&seen.params_intact) == 0; i++)
        Sleep(10);
    ASSERT_EQ(atomic_load(&seen.params_intact), 1);
    ASSERT_OK(wac_context_close(ctx));
}

/* Completion inside ActivateAudioInterfaceAsync itself (allowed). */
static void synchronous_completion(void)
{
    reset_fakes();
    wac_context *ctx = open_fake_context();
    wac_capture_config c = pid_config(48000, 2);
    wac_capture *cap = NULL;
    ASSERT_OK(wac_capture_open(ctx, &c, &cap));
    ASSERT_EQ(atomic_load(&seen.params_intact), 1);
    ASSERT_EQ(seen.init_format[0].nChannels, 2);
    ASSERT_EQ(seen.init_flags[0] & AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM, AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM);
    ASSERT_OK(wac_context_close(ctx));
}

/* Read until an event of `type` (for pid, if pid) arrives, at most ms; the
 * audio read on the way is dropped. Returns the events seen, in order. */
static int read_until_event(wac_capture *cap, wac_event_type type, uint32_t pid, int ms, wac_event *evs, int max)
{
    float buf[1600];
    int n = 0;
    DWORD t0 = GetTickCount();
    while ((int)(GetTickCount() - t0) < ms) {
        int r = wac_capture_read(cap, buf, 160, 500, NULL);
        wac_event ev;
        while (wac_capture_next_event(cap, &ev, sizeof ev) == 1) {
            if (n < max)
                evs[n++] = ev;
            if (ev.type == type && (!pid || ev.pid == pid))
                return n;
        }
        if (r < 0 && r != WAC_ERR_TIMEOUT)
            break;
    }
    return -n - 1;
}

static bool has_event(const wac_event *evs, int n, wac_event_type type)
{
    for (int i = 0; i < n; i++)
        if (evs[i].type == type)
            return true;
    return false;
}

/* Process loopback captures the tree: a launcher that exits while its child
 * plays does not end the capture; the child's exit does. The launcher is
 * this test's own pid (the core checks that a target pid exists), whose exit
 * the fakes play. */
static void launcher_child_keeps_capture(void)
{
    reset_fakes();
    DWORD launcher = GetCurrentProcessId();
    start_process(launcher, 1, 1, L"launcher.exe");
    start_process(501, launcher, 1, L"player.exe");
    wac_context *ctx = open_fake_context();
    wac_capture_config c = pid_config(16000, 1);
    c.target.pid = launcher;
    wac_capture *cap = start_capture(ctx, &c);
    wac_event evs[16];
    ASSERT_CMP(read_until_event(cap, WAC_EVENT_STREAM_ADDED, 0, 3000, evs, 16), >, 0);
    exit_process(launcher);
    int n = read_until_event(cap, WAC_EVENT_ENDED, 0, 2000, evs, 16);
    if (n > 0)
        FAIL("the capture ended when the launcher exited (%s)", wac_capture_last_error(cap));
    ASSERT(!has_event(evs, -n - 1, WAC_EVENT_TARGET_DETACHED));
    ASSERT_EQ(wac_capture_get_state(cap), WAC_STATE_RUNNING);
    exit_process(501);
    n = read_until_event(cap, WAC_EVENT_ENDED, 0, 3000, evs, 16);
    ASSERT_CMP(n, >, 0);
    ASSERT_EQ(evs[n - 1].error, WAC_ERR_TARGET_EXITED);
    ASSERT(has_event(evs, n, WAC_EVENT_STREAM_REMOVED));
    ASSERT(has_event(evs, n, WAC_EVENT_TARGET_DETACHED));
    ASSERT(!has_event(evs, n, WAC_EVENT_ERROR));
    ASSERT_OK(wac_context_close(ctx));
}

/* A name target that starts after the capture, while session notifications
 * never come: found by the poll, then followed through a restart. */
static void late_and_restarting_name_target(void)
{
    reset_fakes();
    wac_context *ctx = open_fake_context();
    wac_capture_config c = pid_config(16000, 1);
    c.target.kind = WAC_TARGET_NAME;
    c.target.name = "player";
    c.target.pid = 0;
    wac_capture *cap = start_capture(ctx, &c);
    wac_event evs[16];
    ASSERT_CMP(read_until_event(cap, WAC_EVENT_STREAM_ADDED, 0, 800, evs, 16), <, 0); /* nothing plays yet */
    start_process(600, 1, 1, L"player.exe");
    int n = read_until_event(cap, WAC_EVENT_STREAM_ADDED, 600, 3000, evs, 16);
    if (n < 0)
        FAIL("a name target that started late was not attached within 3 s");
    ASSERT(has_event(evs, n, WAC_EVENT_TARGET_ATTACHED));
    ASSERT_EQ(seen.pid, 600);
    exit_process(600);
    n = read_until_event(cap, WAC_EVENT_TARGET_DETACHED, 600, 3000, evs, 16);
    ASSERT_CMP(n, >, 0);
    ASSERT(has_event(evs, n, WAC_EVENT_STREAM_REMOVED));
    start_process(601, 1, 1, L"player.exe");
    n = read_until_event(cap, WAC_EVENT_STREAM_ADDED, 601, 3000, evs, 16);
    if (n < 0)
        FAIL("the restarted name target was not attached within 3 s");
    ASSERT(!has_event(evs, n, WAC_EVENT_ERROR));
    ASSERT_EQ(wac_capture_get_state(cap), WAC_STATE_RUNNING);
    ASSERT_OK(wac_context_close(ctx));
}

/* Another user's instance (another login session) is not the caller's to
 * record; one in the caller's session is taken. */
static void name_target_keeps_to_the_callers_session(void)
{
    reset_fakes();
    start_process(700, 1, 2, L"player.exe");
    wac_context *ctx = open_fake_context();
    wac_capture_config c = pid_config(16000, 1);
    c.target.kind = WAC_TARGET_NAME;
    c.target.name = "player.exe";
    c.target.pid = 0;
    wac_capture *cap = start_capture(ctx, &c);
    wac_event evs[16];
    ASSERT_CMP(read_until_event(cap, WAC_EVENT_STREAM_ADDED, 0, 1500, evs, 16), <, 0);
    ASSERT_EQ(seen.activations, 0);
    start_process(701, 1, 1, L"player.exe");
    ASSERT_CMP(read_until_event(cap, WAC_EVENT_STREAM_ADDED, 701, 3000, evs, 16), >, 0);
    ASSERT_EQ(seen.pid, 701);
    ASSERT_OK(wac_context_close(ctx));
}

/* The target plays, but no packet comes (Windows withholds protected content,
 * or an unpatched 2004/20H2 delivers nothing): not a STREAM_ADDED at start as
 * if all were well, but a STREAM_SKIPPED saying why after 3 s; the stream is
 * added when packets do come. */
static void withheld_audio_is_reported(void)
{
    reset_fakes();
    script.packets_after_ms = 5000;
    script.target_playing = true;
    wac_context *ctx = open_fake_context();
    wac_capture_config c = pid_config(16000, 1);
    wac_capture *cap = start_capture(ctx, &c);
    wac_event evs[16];
    DWORD t0 = GetTickCount();
    int n = read_until_event(cap, WAC_EVENT_STREAM_SKIPPED, 0, 4500, evs, 16);
    if (n < 0)
        FAIL("no STREAM_SKIPPED within 4.5 s of silence from a playing target");
    DWORD waited = GetTickCount() - t0;
    printf("# STREAM_SKIPPED after %lu ms: %s\n", (unsigned long)waited, evs[n - 1].detail);
    ASSERT_CMP(waited, >=, 2500);
    ASSERT_EQ(evs[n - 1].error, WAC_ERR_NOT_SUPPORTED);
    ASSERT(!has_event(evs, n, WAC_EVENT_STREAM_ADDED));
    n = read_until_event(cap, WAC_EVENT_STREAM_ADDED, 0, 3000, evs, 16);
    ASSERT_CMP(n, >, 0);
    ASSERT_OK(wac_context_close(ctx));
}

/* A target that plays nothing (its session inactive) is just silent: no
 * STREAM_SKIPPED. */
static void quiet_target_is_not_reported(void)
{
    reset_fakes();
    script.packets_after_ms = 100000;
    script.target_playing = false;
    wac_context *ctx = open_fake_context();
    wac_capture_config c = pid_config(16000, 1);
    wac_capture *cap = start_capture(ctx, &c);
    wac_event evs[16];
    int n = read_until_event(cap, WAC_EVENT_STREAM_SKIPPED, 0, 4000, evs, 16);
    ASSERT_CMP(n, <, 0);
    ASSERT(!has_event(evs, -n - 1, WAC_EVENT_STREAM_ADDED));
    ASSERT(has_event(evs, -n - 1, WAC_EVENT_TARGET_ATTACHED));
    ASSERT_OK(wac_context_close(ctx));
}

/* The audio service restarts under a capture (its RPC connection breaks):
 * the client is replaced, the stream is removed and added again, the clock
 * fills the gap, and the capture goes on without an error. */
static void service_restart_reactivates(void)
{
    reset_fakes();
    script.fail_after_ms = 500;
    script.fail_hr = HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE);
    wac_context *ctx = open_fake_context();
    wac_capture_config c = pid_config(16000, 1);
    wac_capture *cap = start_capture(ctx, &c);
    wac_event evs[16];
    ASSERT_CMP(read_until_event(cap, WAC_EVENT_STREAM_ADDED, 0, 2000, evs, 16), >, 0);
    int n = read_until_event(cap, WAC_EVENT_STREAM_ADDED, 0, 4000, evs, 16);
    if (n < 0)
        FAIL("no new stream after the service restart (state %d: %s)", wac_capture_get_state(cap),
             wac_capture_last_error(cap));
    ASSERT(has_event(evs, n, WAC_EVENT_STREAM_REMOVED));
    ASSERT(!has_event(evs, n, WAC_EVENT_ERROR));
    ASSERT(!has_event(evs, n, WAC_EVENT_ENDED));
    ASSERT_EQ(seen.activations, 2);
    record_tone(cap, 16000, 1.0);
    ASSERT_EQ(wac_capture_get_state(cap), WAC_STATE_RUNNING);
    ASSERT_OK(wac_context_close(ctx));
}

/* It keeps failing: after a few bounded tries the stream ends with the
 * failure's error and detail. */
static void service_that_stays_down_ends_the_stream(void)
{
    reset_fakes();
    script.fail_after_ms = 300;
    script.fail_hr = HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE);
    script.failing_clients = 100;
    wac_context *ctx = open_fake_context();
    wac_capture_config c = pid_config(16000, 1);
    wac_capture *cap = start_capture(ctx, &c);
    wac_event evs[16];
    int n = read_until_event(cap, WAC_EVENT_ENDED, 0, 8000, evs, 16);
    if (n < 0)
        FAIL("a service that stays down did not end the stream within 8 s");
    ASSERT_EQ(evs[n - 1].error, WAC_ERR_BACKEND);
    printf("# ended after %ld activations: %s\n", (long)seen.activations, evs[n - 1].detail);
    ASSERT(strstr(evs[n - 1].detail, "0x800706BA") != NULL || strstr(evs[n - 1].detail, "0x800706ba") != NULL);
    ASSERT_CMP(seen.activations, >=, 2);
    ASSERT_OK(wac_context_close(ctx));
}

/* A reconnecting context rides out an audio service that stays away for
 * 3 s (longer than the ~1.3 s of tries the default gives): SERVER_LOST, the
 * stream removed, silence on the timeline, new clients tried until the
 * service is back, SERVER_RESTORED, the stream added, the tone again. */
static void reconnecting_capture_rides_out_a_service_restart(void)
{
    reset_fakes();
    script.fail_after_ms = 500;
    script.fail_hr = HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE);
    script.service_down_ms = 3000;
    wac_context *ctx = open_fake_context();
    ASSERT_OK(wac_context_set_reconnect(ctx, true));
    wac_capture_config c = pid_config(16000, 1);
    wac_capture *cap = start_capture(ctx, &c);
    wac_event evs[16];
    ASSERT_CMP(read_until_event(cap, WAC_EVENT_STREAM_ADDED, 0, 2000, evs, 16), >, 0);
    int n = read_until_event(cap, WAC_EVENT_SERVER_RESTORED, 0, 8000, evs, 16);
    if (n < 0)
        FAIL("not restored within 8 s (state %d: %s; %ld activations refused)", wac_capture_get_state(cap),
             wac_capture_last_error(cap), (long)refused_activations);
    for (int i = 0; i < n; i++)
        printf("#   %s: %s\n", wac_event_name(evs[i].type), evs[i].detail);
    ASSERT(n >= 3);
    ASSERT_EQ(evs[0].type, WAC_EVENT_SERVER_LOST);
    ASSERT_EQ(evs[0].error, WAC_ERR_SERVER_LOST);
    ASSERT_EQ(evs[1].type, WAC_EVENT_STREAM_REMOVED);
    ASSERT(!has_event(evs, n, WAC_EVENT_ENDED) && !has_event(evs, n, WAC_EVENT_ERROR));
    /* The service was away 3 s: restored after it, and not much later. */
    uint64_t gap = evs[n - 1].position - evs[0].position;
    printf("# restored %.2f s after the loss, after %ld refused activations\n", (double)gap / 16000,
           (long)refused_activations);
    ASSERT_CMP(gap, >=, 16000 * 25 / 10);
    ASSERT_CMP(gap, <, 16000 * 6);
    ASSERT_CMP(refused_activations, >=, 3);
    n = read_until_event(cap, WAC_EVENT_STREAM_ADDED, 0, 2000, evs, 16);
    ASSERT_CMP(n, >, 0);
    wac_capture_stats st;
    ASSERT_OK(wac_capture_get_stats(cap, &st, sizeof st));
    printf("# %llu frames of silence filled, %llu lost\n", (unsigned long long)st.frames_silence,
           (unsigned long long)st.frames_lost);
    ASSERT_CMP(st.frames_silence, >=, 16000 * 2);
    ASSERT_EQ(st.frames_lost, 0);
    record_tone(cap, 16000, 1.0);
    ASSERT_EQ(wac_capture_get_state(cap), WAC_STATE_RUNNING);
    ASSERT_OK(wac_context_close(ctx));
}

/* A stop while the service is away is not held up by the tries. */
static void stop_while_the_service_is_away(void)
{
    reset_fakes();
    script.fail_after_ms = 300;
    script.fail_hr = AUDCLNT_E_SERVICE_NOT_RUNNING;
    script.service_down_ms = 60000;
    wac_context *ctx = open_fake_context();
    ASSERT_OK(wac_context_set_reconnect(ctx, true));
    wac_capture_config c = pid_config(16000, 1);
    wac_capture *cap = start_capture(ctx, &c);
    wac_event evs[16];
    ASSERT_CMP(read_until_event(cap, WAC_EVENT_SERVER_LOST, 0, 3000, evs, 16), >, 0);
    Sleep(2500); /* into the 2 s waits */
    DWORD t0 = GetTickCount();
    ASSERT_OK(wac_capture_stop(cap));
    DWORD took = GetTickCount() - t0;
    printf("# stopped in %lu ms\n", (unsigned long)took);
    ASSERT_CMP(took, <, 1000);
    int n = read_until_event(cap, WAC_EVENT_ENDED, 0, 2000, evs, 16);
    ASSERT_CMP(n, >, 0);
    ASSERT_EQ(evs[n - 1].error, 0);
    ASSERT(!has_event(evs, n, WAC_EVENT_SERVER_RESTORED));
    ASSERT_OK(wac_context_close(ctx));
}

/* A system capture follows the default output when the user switches it:
 * the old device's stream goes, the new one's comes, the audio goes on. */
static void system_capture_follows_the_default_output(void)
{
    reset_fakes();
    wac_context *ctx = open_fake_context();
    wac_capture_config c = pid_config(16000, 1);
    c.target.kind = WAC_TARGET_SYSTEM;
    c.target.pid = 0;
    wac_capture *cap = start_capture(ctx, &c);
    ASSERT_EQ(endpoint_activations, 1);
    ASSERT(seen.n_init >= 1 && (seen.init_flags[0] & AUDCLNT_STREAMFLAGS_LOOPBACK));
    wac_event evs[16];
    ASSERT_CMP(read_until_event(cap, WAC_EVENT_STREAM_ADDED, 0, 2000, evs, 16), >, 0);
    ASSERT(device_changed != NULL);
    SetEvent(device_changed);
    int n = read_until_event(cap, WAC_EVENT_STREAM_ADDED, 0, 3000, evs, 16);
    if (n < 0)
        FAIL("the capture did not move to the new default output");
    ASSERT(has_event(evs, n, WAC_EVENT_STREAM_REMOVED));
    ASSERT(!has_event(evs, n, WAC_EVENT_ERROR));
    ASSERT_EQ(endpoint_activations, 2);
    record_tone(cap, 16000, 1.0);
    ASSERT_OK(wac_context_close(ctx));
    ASSERT(device_changed == NULL); /* the watch is gone with the capture */
}

/* A packet script: the engine loses 100 ms (DATA_DISCONTINUITY, the device
 * position jumps by 1600 frames), SILENT packets whose buffers hold a loud
 * 3 kHz tone (the flag, not the data, counts), a packet without a valid
 * stamp, and two unflagged wrong ones (an hour ahead; past 64 bits of ns).
 * The loss is a discontinuity of exactly 1600 frames at 16 kHz, never
 * silence; the SILENT packets are silence; the wrong stamps are counted and
 * move nothing; the rest is the tone. */
static void packet_flags_are_honoured(void)
{
    reset_fakes();
    script.gap_at = 30;
    script.gap_frames = 1600;
    script.silent_from = 50;
    script.silent_to = 60;
    script.stamp_error_at = 70;
    script.stamp_ahead_at = 80;
    script.stamp_overflow_at = 90;
    wac_context *ctx = open_fake_context();
    wac_capture_config c = pid_config(16000, 1);
    wac_capture *cap = start_capture(ctx, &c);
    size_t total = 16000 * 2, got = 0;
    float *x = malloc(total * sizeof *x);
    ASSERT(x);
    uint64_t next_position = 0, jumps = 0;
    while (got < total) {
        wac_chunk_info info;
        int n = wac_capture_read(cap, x + got, (uint32_t)(total - got < 160 ? total - got : 160), 2000, &info);
        if (n < 0)
            FAIL("read: %s", wac_error_name(n));
        if (got)
            jumps += info.position - next_position;
        next_position = info.position + (uint64_t)n;
        got += (size_t)n;
    }
    wac_capture_stats st;
    ASSERT_OK(wac_capture_get_stats(cap, &st, sizeof st));
    wac_event ev;
    uint64_t discontinuity = 0;
    while (wac_capture_next_event(cap, &ev, sizeof ev) == 1)
        if (ev.type == WAC_EVENT_DISCONTINUITY)
            discontinuity += ev.frames;
    double loud = amplitude_at(x, total, 3000, 16000);
    printf("# discontinuity %llu frames, positions jumped %llu, skipped %llu, silence %llu, stamps rejected "
           "%llu; 3 kHz at %.2g\n",
           (unsigned long long)discontinuity, (unsigned long long)jumps, (unsigned long long)st.frames_skipped,
           (unsigned long long)st.frames_silence, (unsigned long long)st.timestamps_rejected, loud);
    ASSERT_EQ(discontinuity, 1600);
    ASSERT_EQ(jumps, 1600);
    ASSERT_EQ(st.frames_skipped, 1600);
    ASSERT_CMP(st.timestamps_rejected, >=, 2); /* a packet may reach the core in pieces */
    ASSERT(loud < 1e-4);
    free(x);
    record_tone(cap, 16000, 1.0);
    ASSERT_OK(wac_context_close(ctx));
}

/* The target exits and its client then fails (device invalidated): the exit
 * is the news, not an error. (Which of the two the control thread sees first
 * when both are already signalled is the wait order's: the exit; this case
 * cannot force both to be signalled at once, so it checks the sequence.) */
static void exit_then_invalidation_is_an_exit(void)
{
    reset_fakes();
    DWORD self = GetCurrentProcessId();
    start_process(self, 1, 1, L"player.exe");
    script.fail_after_ms = 300;
    script.fail_hr = AUDCLNT_E_DEVICE_INVALIDATED;
    script.failing_clients = 100;
    wac_context *ctx = open_fake_context();
    wac_capture_config c = pid_config(16000, 1);
    wac_capture *cap = start_capture(ctx, &c);
    wac_event evs[16];
    ASSERT_CMP(read_until_event(cap, WAC_EVENT_STREAM_ADDED, 0, 2000, evs, 16), >, 0);
    exit_process(self); /* then, within 300 ms of start, every client fails */
    int n = read_until_event(cap, WAC_EVENT_ENDED, 0, 4000, evs, 16);
    ASSERT_CMP(n, >, 0);
    ASSERT_EQ(evs[n - 1].error, WAC_ERR_TARGET_EXITED);
    ASSERT(!has_event(evs, n, WAC_EVENT_ERROR));
    ASSERT_OK(wac_context_close(ctx));
}

/* Volume and mute: a pid reaches its tree's sessions (on every endpoint), a
 * name the caller's login session's processes only, the loudest session is
 * reported, muting keeps the level, and a refusal is an error with the
 * HRESULT while the other sessions are still set. */
static void volume_of_sessions_by_tree_and_name(void)
{
    reset_fakes();
    memset(sessions, 0, sizeof sessions);
    start_process(500, 1, 1, L"game.exe");
    start_process(501, 500, 1, L"renderer.exe");
    start_process(600, 1, 1, L"music.exe");
    start_process(700, 1, 2, L"game.exe"); /* another user's */
    add_session(501, 1.0f);
    add_session(501, 0.6f); /* the same renderer on a second endpoint */
    add_session(600, 0.8f);
    add_session(700, 1.0f);
    wac_context *ctx = open_fake_context();
    wac_target game = {.kind = WAC_TARGET_PID, .pid = 500, .include_tree = true};
    wac_volume v;
    ASSERT_OK(wac_context_get_volume(ctx, &game, &v));
    ASSERT_EQ(v.streams, 2);
    ASSERT(v.level == 1.0f && !v.muted);
    ASSERT_OK(wac_context_set_volume(ctx, &game, 0.5f));
    ASSERT(sessions[0].level == 0.5f && sessions[1].level == 0.5f);
    ASSERT(sessions[2].level == 0.8f && sessions[3].level == 1.0f);

    wac_target alone = game;
    alone.include_tree = false;
    ASSERT_RC(wac_context_get_volume(ctx, &alone, &v), WAC_ERR_TARGET_NOT_FOUND);
    ASSERT(strstr(wac_context_last_error(ctx), "has no audio session"));
    wac_target nobody = {.kind = WAC_TARGET_PID, .pid = 999, .include_tree = true};
    ASSERT_RC(wac_context_set_mute(ctx, &nobody, true), WAC_ERR_TARGET_NOT_FOUND);
    ASSERT(strstr(wac_context_last_error(ctx), "no such process"));

    wac_target by_name = {.kind = WAC_TARGET_NAME, .name = "GAME", .include_tree = true};
    ASSERT_OK(wac_context_set_mute(ctx, &by_name, true));
    ASSERT(sessions[0].muted && sessions[1].muted && !sessions[3].muted);
    ASSERT_OK(wac_context_get_volume(ctx, &by_name, &v));
    ASSERT(v.muted && v.level == 0.5f && v.streams == 2);
    wac_target music = {.kind = WAC_TARGET_NAME, .name = "music.exe", .include_tree = true};
    ASSERT_OK(wac_context_get_volume(ctx, &music, &v));
    ASSERT(v.level == 0.8f && !v.muted && v.streams == 1);

    sessions[1].refuse = (HRESULT)0x88890004; /* AUDCLNT_E_DEVICE_INVALIDATED */
    ASSERT_RC(wac_context_set_volume(ctx, &game, 0.25f), WAC_ERR_BACKEND);
    printf("# refused: %s\n", wac_context_last_error(ctx));
    ASSERT(strstr(wac_context_last_error(ctx), "refused") && strstr(wac_context_last_error(ctx), "0x88890004"));
    ASSERT(sessions[0].level == 0.25f);
    ASSERT_OK(wac_context_close(ctx));
    memset(sessions, 0, sizeof sessions);
    reset_processes();
}

int main(void)
{
    fakes_init();
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("# fake COM objects after Microsoft's documentation of process loopback: a logic test under Wine,\n"
           "# not a verification of Windows\n");
    RUN(pid_path_asks_stereo_and_downmixes);
    RUN(refused_flags_still_open);
    RUN(null_interface_is_an_error);
    RUN_T(late_completion_reads_live_parameters, 30);
    RUN(synchronous_completion);
    RUN(launcher_child_keeps_capture);
    RUN(late_and_restarting_name_target);
    RUN(name_target_keeps_to_the_callers_session);
    RUN(withheld_audio_is_reported);
    RUN(quiet_target_is_not_reported);
    RUN(service_restart_reactivates);
    RUN(service_that_stays_down_ends_the_stream);
    RUN_T(reconnecting_capture_rides_out_a_service_restart, 30);
    RUN_T(stop_while_the_service_is_away, 30);
    RUN(system_capture_follows_the_default_output);
    RUN(packet_flags_are_honoured);
    RUN(exit_then_invalidation_is_an_exit);
    RUN(volume_of_sessions_by_tree_and_name);
    return tap_done();
}
