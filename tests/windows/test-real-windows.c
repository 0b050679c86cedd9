/* test-real-windows.c — what only a real Windows can show, for a Windows
 * runner (Windows 10 2004+ or 11 with an audio endpoint, real or virtual).
 * Not run in CI: Wine has no process loopback. Built by the cross build
 * (build-win/tests/test-real-windows.exe); run it on Windows from a console:
 *
 *   test-real-windows.exe            TAP on stdout, exit 0 when all pass
 *
 * It starts two copies of itself that play through WASAPI render on the
 * default endpoint (440 Hz and 1000 Hz, shared mode), then:
 *   1. captures the 440 Hz player by pid (process loopback, its tree) at
 *      48 kHz stereo float: 440 Hz present, 1000 Hz at least 60 dB below;
 *   2. captures everything except the 440 Hz player (exclude): 1000 Hz
 *      present, 440 Hz at least 60 dB below;
 *   3. repeats 1 at 16 kHz mono (the speech format): the same isolation;
 *   4. kills the 440 Hz player: the pid capture ends with
 *      WAC_ERR_TARGET_EXITED after TARGET_DETACHED.
 * Isolation is measured from the audio itself, as on Linux. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/wasapi/wasapi.h"
#include "wac.h"
#include "../tone.h"

static const double PI = 3.14159265358979323846;
static const GUID iid_render_client = {0xf294acfc, 0x3146, 0x4483, {0xa7, 0xbf, 0xad, 0xdc, 0xa7, 0xc2, 0x60, 0xe2}};

static int count, failed;

static void result(bool ok, const char *name, const char *why)
{
    count++;
    failed += !ok;
    printf("%s %d - %s%s%s\n", ok ? "ok" : "not ok", count, name, why && *why ? " # " : "", why ? why : "");
    fflush(stdout);
}

/* ---- the player: a sine on the default render endpoint until killed ---- */

static int play(double hz)
{
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    IMMDeviceEnumerator *en = NULL;
    IMMDevice *dev = NULL;
    IAudioClient *client = NULL;
    IAudioRenderClient *render = NULL;
    WAVEFORMATEX *mix = NULL;
    if (FAILED(CoCreateInstance(&wac__clsid_device_enumerator, NULL, CLSCTX_ALL, &wac__iid_device_enumerator,
                                (void **)&en)) ||
        FAILED(IMMDeviceEnumerator_GetDefaultAudioEndpoint(en, eRender, eConsole, &dev)) ||
        FAILED(IMMDevice_Activate(dev, &wac__iid_audio_client, CLSCTX_ALL, NULL, (void **)&client)) ||
        FAILED(IAudioClient_GetMixFormat(client, &mix)) ||
        FAILED(IAudioClient_Initialize(client, AUDCLNT_SHAREMODE_SHARED, 0, 2000000, 0, mix, NULL)) ||
        FAILED(IAudioClient_GetService(client, &iid_render_client, (void **)&render))) {
        fprintf(stderr, "player: cannot open the default render endpoint\n");
        return 1;
    }
    const WAVEFORMATEXTENSIBLE *x = (const WAVEFORMATEXTENSIBLE *)(const void *)mix;
    bool is_float = mix->wFormatTag == WAVE_FORMAT_IEEE_FLOAT ||
                    (mix->wFormatTag == WAVE_FORMAT_EXTENSIBLE && IsEqualGUID(&x->SubFormat, &wac__subtype_float));
    UINT32 size = 0;
    IAudioClient_GetBufferSize(client, &size);
    IAudioClient_Start(client);
    unsigned long long n = 0;
    for (;;) {
        UINT32 padding = 0;
        if (FAILED(IAudioClient_GetCurrentPadding(client, &padding)))
            return 1;
        UINT32 frames = size - padding;
        BYTE *data = NULL;
        if (frames && SUCCEEDED(IAudioRenderClient_GetBuffer(render, frames, &data))) {
            for (UINT32 i = 0; i < frames; i++, n++) {
                double v = 0.25 * sin(2 * PI * hz * (double)n / mix->nSamplesPerSec);
                for (WORD c = 0; c < mix->nChannels; c++) {
                    size_t at = (size_t)i * mix->nChannels + c;
                    if (is_float)
                        ((float *)(void *)data)[at] = (float)v;
                    else
                        ((int16_t *)(void *)data)[at] = (int16_t)(v * 32767);
                }
            }
            IAudioRenderClient_ReleaseBuffer(render, frames, 0);
        }
        Sleep(10);
    }
}

static bool spawn_player(double hz, PROCESS_INFORMATION *pi)
{
    wchar_t self[MAX_PATH], cmd[MAX_PATH + 64];
    GetModuleFileNameW(NULL, self, MAX_PATH);
    swprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\" --play %d", self, (int)hz);
    STARTUPINFOW si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    return CreateProcessW(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, pi) != 0;
}

/* ---- measuring ---- */

/* Record 3 s of target; the levels of want and other (dBFS) in the last 2 s
 * of the first channel. */
static int record(wac_context *ctx, wac_target target, uint32_t rate, uint32_t channels, double want, double other,
                  double *want_db, double *other_db, char *why, size_t why_size)
{
    wac_capture_config c;
    wac_capture_config_init(&c);
    c.target = target;
    c.format.rate = rate;
    c.format.channels = channels;
    c.format.sample = WAC_SAMPLE_F32;
    wac_capture *cap = NULL;
    int rc = wac_capture_open(ctx, &c, &cap);
    if (rc == 0)
        rc = wac_capture_start(cap);
    if (rc) {
        snprintf(why, why_size, "%s: %s", wac_error_name(rc), wac_context_last_error(ctx));
        return rc;
    }
    size_t total = (size_t)rate * 3, got = 0;
    float *buf = malloc(total * channels * sizeof *buf), *mono = malloc(total * sizeof *mono);
    while (got < total && rc >= 0) {
        rc = wac_capture_read(cap, buf + got * channels, (uint32_t)(total - got), 2000, NULL);
        if (rc > 0)
            got += (size_t)rc;
    }
    for (size_t i = 0; i < got; i++)
        mono[i] = buf[i * channels];
    size_t n = rate * 2;
    *want_db = got >= total ? 20 * log10(amplitude_at(mono + total - n, n, want, rate) + 1e-12) : -999;
    *other_db = got >= total ? 20 * log10(amplitude_at(mono + total - n, n, other, rate) + 1e-12) : -999;
    snprintf(why, why_size, "%.0f Hz at %.1f dBFS, %.0f Hz at %.1f dBFS", want, *want_db, other, *other_db);
    free(buf);
    free(mono);
    wac_capture_close(cap);
    return got >= total ? 0 : WAC_ERR_TIMEOUT;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--play") == 0)
        return play(atof(argv[2]));
    PROCESS_INFORMATION a, b;
    if (!spawn_player(440, &a) || !spawn_player(1000, &b)) {
        printf("Bail out! cannot start the players\n");
        return 1;
    }
    Sleep(1000);
    wac_context *ctx = NULL;
    char detail[256], why[256];
    if (wac_context_open("wasapi", &ctx, detail, sizeof detail)) {
        printf("Bail out! %s\n", detail);
        return 1;
    }
    wac_target by_pid = {.kind = WAC_TARGET_PID, .pid = a.dwProcessId, .include_tree = true};
    wac_target exclude = by_pid;
    exclude.exclude = true;
    double w, o;
    int rc = record(ctx, by_pid, 48000, 2, 440, 1000, &w, &o, why, sizeof why);
    result(rc == 0 && w > -20 && w - o >= 60, "pid capture isolates the 440 Hz player (48 kHz stereo)", why);
    rc = record(ctx, exclude, 48000, 2, 1000, 440, &w, &o, why, sizeof why);
    result(rc == 0 && w > -20 && w - o >= 60, "exclude capture keeps everything but the 440 Hz player", why);
    rc = record(ctx, by_pid, 16000, 1, 440, 1000, &w, &o, why, sizeof why);
    result(rc == 0 && w > -20 && w - o >= 60, "pid capture at 16 kHz mono", why);

    /* The target exits: detached, then the end, with TARGET_EXITED. */
    wac_capture_config c;
    wac_capture_config_init(&c);
    c.target = by_pid;
    wac_capture *cap = NULL;
    bool detached = false;
    int end_error = 0;
    if (wac_capture_open(ctx, &c, &cap) == 0 && wac_capture_start(cap) == 0) {
        TerminateProcess(a.hProcess, 0);
        float buf[4800 * 2];
        for (int i = 0; i < 100 && !end_error; i++) {
            int r = wac_capture_read(cap, buf, 4800, 200, NULL);
            wac_event ev;
            while (wac_capture_next_event(cap, &ev, sizeof ev) == 1) {
                detached |= ev.type == WAC_EVENT_TARGET_DETACHED;
                if (ev.type == WAC_EVENT_ENDED)
                    end_error = ev.error;
            }
            if (r == WAC_ERR_ENDED && !end_error)
                end_error = WAC_ERR_ENDED;
        }
    }
    snprintf(why, sizeof why, "detached %s, end %s", detached ? "yes" : "no", wac_error_name(end_error));
    result(detached && end_error == WAC_ERR_TARGET_EXITED, "the target's exit ends the pid capture", why);
    wac_context_close(ctx);
    TerminateProcess(b.hProcess, 0);
    printf("1..%d\n", count);
    return failed ? 1 : 0;
}
