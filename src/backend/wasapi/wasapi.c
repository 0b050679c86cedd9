/* wasapi.c — the Windows backend: one application's audio through WASAPI
 * process loopback (ActivateAudioInterfaceAsync on VAD\Process_Loopback with
 * the target's process tree included or excluded: activate.c), the whole
 * system through endpoint loopback on the default render device.
 *
 * Two threads per capture:
 *   - the control thread (COM MTA) owns every COM object: it activates and
 *     initialises the audio client (so wac_capture_open reports activation
 *     failures with their HRESULT), starts and stops it, waits on the target
 *     process's handle (Windows does not say when a loopback target exits),
 *     follows name targets through audio-session notifications, posts
 *     events and ends the stream;
 *   - the capture thread (MTA, MMCSS "Audio") is the real-time producer
 *     (capture-thread.c): it drains every packet into the stream and ticks
 *     the core's clock when none comes.
 * What both share is one struct wcap (capture.h).
 * A client is handed to the capture thread and taken back with a command and
 * an acknowledgement, so the control thread can swap it when a name target
 * restarts.
 *
 * Format: the engine is asked for the caller's rate and sample type with at
 * least two channels (every working process-loopback client asks the virtual
 * device for stereo; a mono capture is downmixed by WAC's rule), first with
 * AUTOCONVERTPCM | SRC_DEFAULT_QUALITY, then AUTOCONVERTPCM alone (the
 * virtual device is reported to refuse the flags on some builds), then
 * 48 kHz float stereo with neither flag; WAC converts whatever the engine
 * does not (src/attach/convert.c).
 *
 * Test switches: backend/test-hooks.h (a SYSTEM capture of the capture
 * endpoint, WAC's converter forced); the OS calls go through
 * wac__wasapi_system, which the fake-COM tests replace. */
#include "backend/wasapi/capture.h"
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/test-hooks.h"

#define BUFFER_HNS 2000000 /* 200 ms of engine buffer: capacity, not latency */
#define DEFAULT_PERIOD_NS 10000000
#define FALLBACK_RATE 48000
#define FALLBACK_CHANNELS 2

#define NAME_POLL_MS 1000
/* A client that delivers no packet for this long while its target plays is
 * reported (process loopback withholds protected content; unpatched Windows
 * 10 2004/20H2 delivers nothing). */
#define NO_PACKET_NS 3000000000LL

/* ---- small helpers ---------------------------------------------------------------- */

static void set_detail(struct wcap *wc, const char *what, HRESULT hr)
{
    char text[200];
    wac__wasapi_hresult_text(hr, text, sizeof text);
    snprintf(wc->detail, sizeof wc->detail, "%s: %s", what, text);
}

static DWORD real_windows_build(void)
{
    /* GetVersionEx lies to programs without a manifest; ntdll does not. */
    typedef LONG(WINAPI * rtl_get_version)(OSVERSIONINFOW *);
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    rtl_get_version get = ntdll ? (rtl_get_version)(void *)GetProcAddress(ntdll, "RtlGetVersion") : NULL;
    OSVERSIONINFOW v;
    memset(&v, 0, sizeof v);
    v.dwOSVersionInfoSize = sizeof v;
    if (!get || get(&v) != 0)
        return 0;
    return v.dwBuildNumber;
}

static HRESULT real_activate_async(LPCWSTR path, REFIID iid, PROPVARIANT *params,
                                   IActivateAudioInterfaceCompletionHandler *handler,
                                   IActivateAudioInterfaceAsyncOperation **op)
{
    return ActivateAudioInterfaceAsync(path, iid, params, handler, op);
}

static const struct wac__wasapi_system real_system = {
    .activate_async = real_activate_async,
    .windows_build = real_windows_build,
    .each_process = wac__wasapi_each_process,
    .open_process = wac__wasapi_open_process,
    .session_of = wac__wasapi_session_of,
    .session_active = wac__wasapi_session_active,
    .watch_sessions = wac__wasapi_watch_sessions,
    .unwatch_sessions = wac__wasapi_unwatch_sessions,
    .activate_endpoint = wac__wasapi_activate_endpoint,
    .watch_default_device = wac__wasapi_watch_default_device,
    .unwatch_default_device = wac__wasapi_unwatch_default_device,
    .each_session = wac__wasapi_each_session,
    .activate_endpoint_id = wac__wasapi_activate_endpoint_id,
};
const struct wac__wasapi_system *wac__wasapi_system = &real_system;

/* The default render (for loopback) or capture endpoint's client. */
static int activate_endpoint(struct wcap *wc, IAudioClient **out)
{
    if (wc->device == DEVICE_BY_ID) {
        HRESULT hr = wac__wasapi_system->activate_endpoint_id
                         ? wac__wasapi_system->activate_endpoint_id(wc->device_id, out)
                         : E_NOTIMPL;
        if (FAILED(hr)) {
            set_detail(wc, "cannot open the input device", hr);
            return hr == E_NOTFOUND || hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND) ? WAC_ERR_TARGET_NOT_FOUND
                                                                                 : wac__wasapi_error_for(hr);
        }
        return 0;
    }
    bool capture = wc->device == DEVICE_CAPTURE;
    HRESULT hr = wac__wasapi_system->activate_endpoint(capture ? eCapture : eRender, out);
    if (FAILED(hr)) {
        set_detail(wc, capture ? "no default capture endpoint" : "no default render endpoint", hr);
        return hr == E_NOTFOUND || hr == REGDB_E_CLASSNOTREG ? WAC_ERR_BACKEND_UNAVAILABLE : wac__wasapi_error_for(hr);
    }
    return 0;
}

static void make_format(WAVEFORMATEXTENSIBLE *f, uint32_t rate, uint32_t channels, wac_sample_type type)
{
    memset(f, 0, sizeof *f);
    WORD bits = type == WAC_SAMPLE_F32 ? 32 : 16;
    f->Format.wFormatTag = WAVE_FORMAT_EXTENSIBLE;
    f->Format.nChannels = (WORD)channels;
    f->Format.nSamplesPerSec = rate;
    f->Format.wBitsPerSample = bits;
    f->Format.nBlockAlign = (WORD)(channels * bits / 8);
    f->Format.nAvgBytesPerSec = rate * f->Format.nBlockAlign;
    f->Format.cbSize = sizeof *f - sizeof f->Format;
    f->Samples.wValidBitsPerSample = bits;
    static const DWORD masks[9] = {0, 0x4, 0x3, 0x7, 0x33, 0x37, 0x3f, 0x13f, 0x63f};
    f->dwChannelMask = channels <= 8 ? masks[channels] : 0;
    f->SubFormat = type == WAC_SAMPLE_F32 ? wac__subtype_float : wac__subtype_pcm;
}

static void release_client(struct wcap *wc)
{
    if (wc->capture)
        IAudioCaptureClient_Release(wc->capture);
    if (wc->client) {
        IAudioClient_Stop(wc->client);
        IAudioClient_Release(wc->client);
    }
    wc->capture = NULL;
    wc->client = NULL;
}

/* Activate, initialise (caller's format, else the fallback), and prepare a
 * client for `pid` (process loopback) or the endpoint (SYSTEM). Not started. */
static int open_client(struct wcap *wc, DWORD pid)
{
    bool process = wc->target.kind == WAC_TARGET_PID || wc->target.kind == WAC_TARGET_NAME;
    DWORD flags = AUDCLNT_STREAMFLAGS_EVENTCALLBACK;
    if (process || wc->device == DEVICE_RENDER_LOOPBACK)
        flags |= AUDCLNT_STREAMFLAGS_LOOPBACK;
    /* What to ask of the engine, in order (see the file comment). WAC
     * converts what differs from the caller's format. */
    uint32_t channels = wc->format.channels < 2 ? 2 : wc->format.channels;
    wac_sample_type sample = channels == wc->format.channels ? wc->format.sample : WAC_SAMPLE_F32;
    const struct {
        uint32_t rate, channels;
        wac_sample_type sample;
        DWORD flags;
    } attempts[] = {
        {wc->format.rate, channels, sample, AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM | AUDCLNT_STREAMFLAGS_SRC_DEFAULT_QUALITY},
        {wc->format.rate, channels, sample, AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM},
        {FALLBACK_RATE, FALLBACK_CHANNELS, WAC_SAMPLE_F32, 0},
    };
    size_t n_attempts = sizeof attempts / sizeof attempts[0];
    HRESULT hr = E_FAIL;
    for (size_t i = wc->force_convert ? n_attempts - 1 : 0; i < n_attempts; i++) {
        IAudioClient *client = NULL;
        int rc = process ? wac__wasapi_activate_loopback(pid, wc->target.exclude, &client, wc->detail, sizeof wc->detail)
                         : activate_endpoint(wc, &client);
        if (rc)
            return rc;
        WAVEFORMATEXTENSIBLE f;
        make_format(&f, attempts[i].rate, attempts[i].channels, attempts[i].sample);
        /* The buffers are read only with the format passed here. */
        hr = IAudioClient_Initialize(client, AUDCLNT_SHAREMODE_SHARED, flags | attempts[i].flags, BUFFER_HNS, 0,
                                     &f.Format, NULL);
        if (SUCCEEDED(hr)) {
            wc->client = client;
            wc->converting = attempts[i].rate != wc->format.rate || attempts[i].channels != wc->format.channels ||
                             attempts[i].sample != wc->format.sample;
            wc->src_rate = f.Format.nSamplesPerSec;
            wc->src_channels = f.Format.nChannels;
            wc->src_frame_bytes = f.Format.nBlockAlign;
            break;
        }
        IAudioClient_Release(client);
        if (hr == AUDCLNT_E_DEVICE_INVALIDATED || hr == AUDCLNT_E_SERVICE_NOT_RUNNING || hr == E_OUTOFMEMORY)
            break;
    }
    if (FAILED(hr)) {
        set_detail(wc, "IAudioClient::Initialize failed (also at 48 kHz float stereo)", hr);
        return wac__wasapi_error_for(hr);
    }
    hr = IAudioClient_GetService(wc->client, &wac__iid_capture_client, (void **)&wc->capture);
    if (SUCCEEDED(hr))
        hr = IAudioClient_SetEventHandle(wc->client, wc->data_event);
    if (FAILED(hr)) {
        set_detail(wc, "cannot set up the capture client", hr);
        release_client(wc);
        return wac__wasapi_error_for(hr);
    }
    REFERENCE_TIME period = 0, min_period = 0;
    int64_t period_ns = DEFAULT_PERIOD_NS;
    if (SUCCEEDED(IAudioClient_GetDevicePeriod(wc->client, &period, &min_period)) && period > 0 &&
        period < 10000000)
        period_ns = (int64_t)period * 100;
    wac__capture_set_period(wc->cap, period_ns);
    wc->wait_ms = (DWORD)(period_ns / 1000000) > 0 ? (DWORD)(period_ns / 1000000) : 1;
    if (wc->converting && !wc->conv_ready) {
        int rc = wac__convert_init(&wc->conv, wc->src_rate, wc->src_channels, &wc->format, wc->src_rate / 10);
        if (rc) {
            snprintf(wc->detail, sizeof wc->detail, "no memory for the format converter");
            release_client(wc);
            return rc;
        }
        wc->conv_ready = true;
    } else if (wc->converting) {
        wac__convert_reset(&wc->conv);
    }
    return 0;
}

/* ---- the control thread ---------------------------------------------------------------- */

static void watch_handle(struct wcap *wc, DWORD pid)
{
    /* Without SYNCHRONIZE access (a protected process) its exit goes unseen. */
    wc->process = wac__wasapi_system->open_process(pid);
}

static void watch_process(struct wcap *wc, DWORD pid)
{
    wc->pid = pid;
    watch_handle(wc, pid);
}

static void unwatch_process(struct wcap *wc)
{
    if (wc->process)
        CloseHandle(wc->process);
    wc->process = NULL;
}

/* ---- a PID target's process tree ---- */

struct process_pairs {
    DWORD (*pairs)[2]; /* pid, parent */
    size_t n, cap;
};

static bool collect_pair(void *user, const struct wac__wasapi_process *p)
{
    struct process_pairs *pp = user;
    if (pp->n == pp->cap)
        return false;
    pp->pairs[pp->n][0] = p->pid;
    pp->pairs[pp->n][1] = p->parent;
    pp->n++;
    return true;
}

static bool in_tree(const struct wcap *wc, DWORD pid)
{
    for (size_t i = 0; i < wc->n_tree; i++)
        if (wc->tree[i] == pid)
            return true;
    return false;
}

/* Learn the tree's new descendants (Windows keeps a process's parent id after
 * the parent exits, so a launcher's children are still found), forget members
 * that no longer run and `gone`, and return a member still running (0: none).
 * Without a process list the tree is taken as gone with its root; without
 * memory for one, *no_memory says so (the tree may well play on). */
static DWORD tree_refresh(struct wcap *wc, DWORD gone, bool *no_memory)
{
    struct process_pairs pp = {wac__malloc(4096 * sizeof *pp.pairs), 0, 4096};
    *no_memory = !pp.pairs;
    if (!pp.pairs || !wac__wasapi_system->each_process(collect_pair, &pp)) {
        wac__free(pp.pairs);
        return 0;
    }
    for (bool grew = true; grew;) {
        grew = false;
        for (size_t i = 0; i < pp.n && wc->n_tree < TREE_MAX; i++)
            if (in_tree(wc, pp.pairs[i][1]) && !in_tree(wc, pp.pairs[i][0])) {
                wc->tree[wc->n_tree++] = pp.pairs[i][0];
                grew = true;
            }
    }
    DWORD alive = 0;
    size_t kept = 0;
    for (size_t i = 0; i < wc->n_tree; i++) {
        bool running = false;
        for (size_t j = 0; j < pp.n && !running; j++)
            running = pp.pairs[j][0] == wc->tree[i];
        if (running && wc->tree[i] != gone) {
            wc->tree[kept++] = wc->tree[i];
            if (!alive)
                alive = wc->tree[i];
        }
    }
    wc->n_tree = kept;
    wac__free(pp.pairs);
    return alive;
}

/* NAME: find the process and attach to it. 0 also when it is not running. */
/* A client works again after SERVER_LOST: the mark of where the service is
 * back (its stream's STREAM_ADDED follows with its first packet). */
static void service_back(struct wcap *wc)
{
    if (!wc->service_lost)
        return;
    wc->service_lost = false;
    wac__stream_post(wc->cap, WAC_EVENT_SERVER_RESTORED, 0, 0, 0, "the Windows audio service is back");
}

static int try_attach_name(struct wcap *wc)
{
    DWORD pid = wac__wasapi_find_process(wc->target.name);
    if (pid && wc->skip_pid == pid)
        return 0; /* the process that just exited, still listed while it winds down */
    if (!pid)
        return 0;
    int rc = open_client(wc, pid);
    if (rc)
        return rc;
    watch_process(wc, pid);
    if (wc->running) {
        HRESULT hr = IAudioClient_Start(wc->client);
        if (FAILED(hr)) {
            set_detail(wc, "IAudioClient::Start failed", hr);
            release_client(wc);
            unwatch_process(wc);
            return wac__wasapi_error_for(hr);
        }
        atomic_store(&wc->rt_got_packet, false);
        ResetEvent(wc->rt_packet);
        wc->packet_deadline_ns = wac__now_ns() + NO_PACKET_NS;
        wac__wasapi_rt_command(wc, RT_ATTACH);
        service_back(wc);
        wac__attach_add(&wc->attach, 1, pid);
    }
    return 0;
}

/* The stream ends by itself: the producer stops first. */
static void end_stream(struct wcap *wc, int error, const char *detail)
{
    wac__wasapi_rt_stop(wc);
    release_client(wc);
    wc->running = false;
    wc->ended = true;
    wac__attach_end(&wc->attach, error, detail);
}

static void on_target_exit(struct wcap *wc)
{
    DWORD pid = wc->pid;
    char why[96];
    unwatch_process(wc);
    if (wc->target.kind == WAC_TARGET_PID) {
        /* The process watched exited; the tree may play on without it. */
        bool no_memory;
        DWORD next = tree_refresh(wc, wc->watched, &no_memory);
        if (next) {
            wc->watched = next;
            watch_handle(wc, next);
            if (wc->process)
                return;
        }
        if (no_memory) {
            /* Not TARGET_EXITED: that would claim a fact nobody checked. */
            snprintf(why, sizeof why, "pid %lu exited; no memory to learn whether its tree plays on",
                     (unsigned long)pid);
            wac__wasapi_rt_stop(wc);
            wac__attach_exited(&wc->attach, pid, why);
            end_stream(wc, WAC_ERR_NO_MEMORY, why);
            return;
        }
        snprintf(why, sizeof why, "pid %lu and its process tree exited", (unsigned long)pid);
        /* A process id never comes back. */
        wac__wasapi_rt_stop(wc);
        wac__attach_exited(&wc->attach, pid, why);
        end_stream(wc, WAC_ERR_TARGET_EXITED, why);
        return;
    }
    snprintf(why, sizeof why, "%s (pid %lu) exited", wc->target.name, (unsigned long)pid);
    wac__wasapi_rt_command(wc, RT_DETACH);
    release_client(wc);
    /* A failure of the client that is gone is no failure of the capture. */
    ResetEvent(wc->rt_failed);
    wc->pid = 0;
    wc->skip_pid = pid;
    wac__attach_gone(&wc->attach, 1);
    wac__attach_exited(&wc->attach, pid, why);
    /* Another instance may be running already; else the next session tells. */
    int rc = try_attach_name(wc);
    if (rc)
        end_stream(wc, rc, wc->detail);
}

static int do_start(struct wcap *wc)
{
    if (wc->target.kind == WAC_TARGET_NAME && wc->process && WaitForSingleObject(wc->process, 0) == WAIT_OBJECT_0) {
        /* It exited between open and start. */
        release_client(wc);
        unwatch_process(wc);
        wc->pid = 0;
    }
    if (wc->target.kind == WAC_TARGET_NAME && !wc->client) {
        int rc = try_attach_name(wc);
        if (rc)
            return rc;
    }
    if (wc->client) {
        HRESULT hr = IAudioClient_Start(wc->client);
        if (FAILED(hr)) {
            set_detail(wc, "IAudioClient::Start failed", hr);
            return wac__wasapi_error_for(hr);
        }
    }
    int rc = wac__wasapi_rt_start(wc);
    if (rc) {
        if (wc->client)
            IAudioClient_Stop(wc->client);
        return rc;
    }
    wc->running = true;
    wac__attach_start(&wc->attach);
    /* The stream goes live with its first packet (on_first_packet). */
    if (wc->client)
        wac__attach_add(&wc->attach, 1, wc->pid);
    wac__attach_started(&wc->attach);
    wc->packet_deadline_ns = wac__now_ns() + NO_PACKET_NS;
    return 0;
}

static void do_stop(struct wcap *wc)
{
    if (!wc->running)
        return;
    wac__wasapi_rt_stop(wc);
    if (wc->client)
        IAudioClient_Stop(wc->client);
    wc->running = false;
    wac__attach_stop(&wc->attach);
}

/* Set up what open needs: the first client (PID, SYSTEM, or a running NAME). */
static int ctl_open(struct wcap *wc)
{
    if (wc->target.kind == WAC_TARGET_NAME) {
        wc->watch = wac__wasapi_system->watch_sessions(wc->session_event);
        return try_attach_name(wc);
    }
    int rc = open_client(wc, wc->target.pid);
    if (rc == 0 && wc->device != DEVICE_BY_ID &&
        (wc->target.kind == WAC_TARGET_SYSTEM || wc->target.kind == WAC_TARGET_DEVICE))
        wc->device_watch = wac__wasapi_system->watch_default_device(
            wc->device == DEVICE_CAPTURE ? eCapture : eRender, wc->device_event);
    /* The end of an included target ends the stream; an excluded one's does not. */
    if (rc == 0 && wc->target.kind == WAC_TARGET_PID && !wc->target.exclude) {
        watch_process(wc, wc->target.pid);
        wc->watched = wc->target.pid;
        wc->tree[0] = wc->target.pid;
        wc->n_tree = 1;
        bool no_memory; /* the tree is then its root alone until the next refresh */
        tree_refresh(wc, 0, &no_memory);
    }
    return rc;
}

/* Failures after which a new client may work: the audio service restarted
 * (its RPC connection is gone), the engine's resources were rebuilt, or the
 * device went away (a system capture then takes the new default). */
static bool recoverable(HRESULT hr)
{
    return hr == RPC_E_DISCONNECTED || hr == HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE) ||
           hr == AUDCLNT_E_RESOURCES_INVALIDATED || hr == AUDCLNT_E_DEVICE_INVALIDATED ||
           hr == AUDCLNT_E_SERVICE_NOT_RUNNING;
}

/* A new client for pid, started and handed to the capture thread (its
 * stream is added; live with its first packet). False, nothing kept, when
 * it cannot be opened or started. */
static bool client_again(struct wcap *wc, DWORD pid)
{
    if (open_client(wc, pid) != 0)
        return false;
    if (FAILED(IAudioClient_Start(wc->client))) {
        release_client(wc);
        return false;
    }
    ResetEvent(wc->rt_failed);
    atomic_store(&wc->rt_got_packet, false);
    ResetEvent(wc->rt_packet);
    wc->packet_deadline_ns = wac__now_ns() + NO_PACKET_NS;
    wac__wasapi_rt_command(wc, RT_ATTACH);
    service_back(wc);
    wac__attach_add(&wc->attach, 1, pid);
    return true;
}

/* Replace a failed client: its stream goes (STREAM_REMOVED), a new one is
 * activated and started (STREAM_ADDED with its first packet); the clock
 * fills the gap with silence. A few tries, a bounded wait. False: give up
 * (the caller ends the stream with the failure). */
static bool reactivate(struct wcap *wc, bool after_failure)
{
    static const DWORD backoff_ms[] = {50, 250, 1000};
    DWORD pid = wc->pid;
    /* A client that keeps failing is not recovered for ever: at most three
     * recoveries in ten seconds. (A switch of the default device is no
     * failure.) */
    int64_t now = wac__now_ns();
    if (now - wc->recover_window_ns > 10 * 1000000000LL) {
        wc->recover_window_ns = now;
        wc->recoveries = 0;
    }
    if (after_failure && ++wc->recoveries > 3)
        return false;
    wac__wasapi_rt_command(wc, RT_DETACH);
    release_client(wc);
    wac__attach_gone(&wc->attach, 1);
    for (size_t i = 0; i < sizeof backoff_ms / sizeof backoff_ms[0]; i++) {
        /* A stop or close waits at most one backoff, and is handled by the
         * loop: the capture stops without its client. */
        if (WaitForSingleObject(wc->ctl_cmd, backoff_ms[i]) == WAIT_OBJECT_0) {
            SetEvent(wc->ctl_cmd);
            return true;
        }
        if (client_again(wc, pid))
            return true;
    }
    return false;
}

/* The audio service itself went away (restarted, or stopped): its RPC
 * connection is gone, or it says it does not run. */
static bool service_gone(HRESULT hr)
{
    return hr == RPC_E_DISCONNECTED || hr == HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE) ||
           hr == AUDCLNT_E_SERVICE_NOT_RUNNING;
}

/* Reconnecting contexts (wac_context_set_reconnect): the audio service went
 * away. SERVER_LOST marks where, the stream goes, the clock fills silence;
 * a new client is tried after 0.1 s, each wait twice the last up to 2 s, for
 * as long as it takes (a stop or close ends a wait at once, and is handled
 * by the loop); SERVER_RESTORED marks where the target's audio is back. A
 * NAME target whose process exits meanwhile goes back to looking (its exit
 * is handled by the loop), and is restored with the next process it finds. */
static void ride_out_service_loss(struct wcap *wc, HRESULT hr)
{
    char why[DETAIL_SIZE];
    set_detail(wc, "the Windows audio service went away; reconnecting", hr);
    memcpy(why, wc->detail, sizeof why);
    wac__wasapi_rt_command(wc, RT_DETACH);
    release_client(wc);
    wac__stream_post(wc->cap, WAC_EVENT_SERVER_LOST, 0, 0, WAC_ERR_SERVER_LOST, why);
    wac__attach_all_gone(&wc->attach);
    wc->service_lost = true;
    DWORD pid = wc->pid;
    for (DWORD wait_ms = 100;; wait_ms = wait_ms < 1000 ? wait_ms * 2 : 2000) {
        HANDLE waits[2] = {wc->ctl_cmd, wc->process};
        bool name_process = wc->target.kind == WAC_TARGET_NAME && wc->process;
        DWORD r = WaitForMultipleObjects(name_process ? 2 : 1, waits, FALSE, wait_ms);
        if (r == WAIT_OBJECT_0) {
            SetEvent(wc->ctl_cmd);
            return;
        }
        if (r == WAIT_OBJECT_0 + 1)
            return; /* the NAME target's process exited: the loop detaches it */
        if (client_again(wc, pid))
            return;
    }
}

/* The attached client delivered its first packet: its stream is live. */
static void on_first_packet(struct wcap *wc)
{
    struct wac__attach_entry *e = wac__attach_find(&wc->attach, 1);
    if (e)
        wac__attach_live(&wc->attach, e, NULL);
}

/* No packet since the client was attached: if the target plays, Windows
 * withholds its audio; say so once (the capture goes on, silent). */
static void on_no_packet(struct wcap *wc)
{
    wc->packet_deadline_ns = 0;
    struct wac__attach_entry *e = wac__attach_find(&wc->attach, 1);
    if (!e || e->live || wc->target.kind == WAC_TARGET_SYSTEM || wc->target.kind == WAC_TARGET_DEVICE ||
        wc->target.exclude ||
        !wac__wasapi_system->session_active(wc->pid))
        return;
    wac__attach_skipped(&wc->attach, e, WAC_ERR_NOT_SUPPORTED,
                        "the target plays but Windows gave none of its audio for 3 s (protected content, or "
                        "Windows 10 2004/20H2 without loopback fixes)");
}

static void *ctl_main(void *arg)
{
    struct wcap *wc = arg;
    HRESULT co = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    wc->cmd_result = ctl_open(wc);
    bool quit = wc->cmd_result != 0;
    SetEvent(wc->ctl_done);
    while (!quit) {
        HANDLE waits[6];
        DWORD n = 0, i_process = 99, i_failed, i_packet = 99, i_session = 99, i_device = 99;
        waits[n++] = wc->ctl_cmd;
        /* The target's exit before a capture failure: when both come at once
         * (the client fails because the process went), the exit is the news. */
        if (wc->running && wc->process)
            waits[i_process = n, n++] = wc->process;
        waits[i_failed = n, n++] = wc->rt_failed;
        if (wc->running && wc->client)
            waits[i_packet = n, n++] = wc->rt_packet;
        if (wc->running && wc->device_watch)
            waits[i_device = n, n++] = wc->device_event;
        bool looking = wc->running && wc->target.kind == WAC_TARGET_NAME && !wc->client;
        if (looking)
            waits[i_session = n, n++] = wc->session_event;
        /* A waiting name target also looks once a second: session
         * notifications may never come (Wine; a session on another endpoint;
         * one discarded before registration). */
        DWORD timeout = looking ? NAME_POLL_MS : INFINITE;
        bool awaiting_packet = wc->running && wc->client && wc->packet_deadline_ns;
        if (awaiting_packet) {
            int64_t left_ms = (wc->packet_deadline_ns - wac__now_ns()) / 1000000;
            DWORD until = left_ms > 0 ? (DWORD)left_ms : 0;
            timeout = until < timeout ? until : timeout;
        }
        DWORD r = WaitForMultipleObjects(n, waits, FALSE, timeout);
        if (r == WAIT_OBJECT_0) {
            int rc = 0;
            switch (wc->cmd) {
            case CMD_START: rc = do_start(wc); break;
            case CMD_STOP: do_stop(wc); break;
            case CMD_CLOSE:
                do_stop(wc);
                quit = true;
                break;
            }
            wc->cmd_result = rc;
            SetEvent(wc->ctl_done);
        } else if (r == WAIT_OBJECT_0 + i_failed && wc->running) {
            HRESULT hr = (HRESULT)atomic_load(&wc->rt_hresult);
            if (service_gone(hr) && atomic_load(&wc->w->reconnect)) {
                ride_out_service_loss(wc, hr);
                continue;
            }
            if (recoverable(hr) && reactivate(wc, true))
                continue;
            set_detail(wc, hr == AUDCLNT_E_DEVICE_INVALIDATED ? "audio device invalidated (removed or reconfigured)"
                                                              : "capture failed",
                       hr);
            char detail[sizeof wc->detail];
            memcpy(detail, wc->detail, sizeof detail);
            end_stream(wc, wac__wasapi_error_for(hr), detail);
        } else if (r == WAIT_OBJECT_0 + i_process && wc->running) {
            on_target_exit(wc);
        } else if (r == WAIT_OBJECT_0 + i_device && wc->running) {
            /* The user switched the default output (or input): follow it. */
            if (!reactivate(wc, false)) {
                char detail[sizeof wc->detail];
                memcpy(detail, wc->detail, sizeof detail);
                end_stream(wc, WAC_ERR_BACKEND, detail);
            }
        } else if (r == WAIT_OBJECT_0 + i_packet && wc->running) {
            on_first_packet(wc);
        } else if (r == WAIT_TIMEOUT && awaiting_packet && wac__now_ns() >= wc->packet_deadline_ns) {
            on_no_packet(wc);
        } else if ((r == WAIT_OBJECT_0 + i_session || r == WAIT_TIMEOUT) && looking) {
            int rc = try_attach_name(wc);
            /* While the service is away, a reconnecting capture looks on. */
            if (rc && wc->service_lost && atomic_load(&wc->w->reconnect))
                rc = 0;
            if (rc) {
                char detail[sizeof wc->detail];
                memcpy(detail, wc->detail, sizeof detail);
                end_stream(wc, rc, detail);
            }
        }
    }
    wac__wasapi_rt_stop(wc);
    release_client(wc);
    unwatch_process(wc);
    wac__wasapi_system->unwatch_sessions(wc->watch);
    wac__wasapi_system->unwatch_default_device(wc->device_watch);
    wc->device_watch = NULL;
    wc->watch = NULL;
    if (SUCCEEDED(co))
        CoUninitialize();
    return NULL;
}

/* Run a command on the control thread and wait for its result. */
static int ctl_command(struct wcap *wc, int cmd)
{
    wc->cmd = cmd;
    SetEvent(wc->ctl_cmd);
    WaitForSingleObject(wc->ctl_done, INFINITE);
    return wc->cmd_result;
}

/* ---- the backend table ------------------------------------------------------------- */

static int wasapi_connect(wac_context *ctx, void **data, char *detail, size_t detail_size)
{
    (void)ctx;
    struct wasapi *w = wac__calloc(1, sizeof *w);
    if (!w) {
        snprintf(detail, detail_size, "no memory");
        return WAC_ERR_NO_MEMORY;
    }
    w->build = wac__wasapi_system->windows_build();
    *data = w;
    return 0;
}

static int wasapi_set_reconnect(void *data, bool reconnect)
{
    struct wasapi *w = data;
    atomic_store(&w->reconnect, reconnect);
    return 0;
}

static void wasapi_disconnect(void *data)
{
    wac__free(data);
}

static void free_wcap(struct wcap *wc)
{
    wac__attach_free(&wc->attach);
    HANDLE *handles[] = {&wc->ctl_cmd, &wc->ctl_done,   &wc->data_event,   &wc->rt_cmd,  &wc->rt_ack,
                         &wc->rt_failed, &wc->session_event, &wc->rt_packet, &wc->device_event};
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++)
        if (*handles[i])
            CloseHandle(*handles[i]);
    if (wc->conv_ready)
        wac__convert_free(&wc->conv);
    wac__free(wc->zeros);
    wac__free(wc->out);
    wac__free(wc);
}

static int wasapi_capture_open(void *data, wac_capture *cap, void **cap_data)
{
    struct wasapi *w = data;
    const wac_capture_config *c = wac__capture_config(cap);
    const wac_target *t = &c->target;
    if (t->kind == WAC_TARGET_PID || t->kind == WAC_TARGET_NAME) {
        if (!t->include_tree)
            return wac__capture_error(cap, WAC_ERR_NOT_SUPPORTED,
                                      "wasapi: process loopback always includes the target's process tree "
                                      "(include_tree = false is not possible on Windows)");
        if (t->kind == WAC_TARGET_NAME && t->exclude)
            return wac__capture_error(cap, WAC_ERR_NOT_SUPPORTED,
                                      "wasapi: exclude needs a running process: give its pid, not its name");
        if (w->build < WAC__WASAPI_MIN_BUILD)
            return wac__capture_error(cap, WAC_ERR_NOT_SUPPORTED,
                                      "wasapi: capturing one application needs Windows 10 build %d (version 2004) "
                                      "or newer (documented from build %d, Windows 11); this is build %lu",
                                      WAC__WASAPI_MIN_BUILD, WAC__WASAPI_DOC_BUILD, (unsigned long)w->build);
    }
    struct wcap *wc = wac__calloc(1, sizeof *wc);
    if (!wc)
        return wac__capture_error(cap, WAC_ERR_NO_MEMORY, "no memory");
    wc->cap = cap;
    wc->w = w;
    wc->target = *t;
    wac__attach_init(&wc->attach, cap, NULL);
    wc->format = *wac__capture_format(cap);
    wc->frame_bytes = wac__capture_frame_bytes(cap);
    struct wac__test_hooks hooks = wac__test_hooks();
    wc->device = hooks.wasapi_system_capture ? DEVICE_CAPTURE : DEVICE_RENDER_LOOPBACK;
    if (t->kind == WAC_TARGET_DEVICE) {
        /* The default input, the default output's monitor, or an endpoint id. */
        if (!t->name || !t->name[0] || strcmp(t->name, "default") == 0) {
            wc->device = DEVICE_CAPTURE;
        } else if (strcmp(t->name, "default.monitor") == 0) {
            wc->device = DEVICE_RENDER_LOOPBACK;
        } else {
            wc->device = DEVICE_BY_ID;
            if (!MultiByteToWideChar(CP_UTF8, 0, t->name, -1, wc->device_id,
                                     (int)(sizeof wc->device_id / sizeof wc->device_id[0]))) {
                wac__free(wc);
                return wac__capture_error(cap, WAC_ERR_TARGET_NOT_FOUND, "wasapi: no input device \"%s\"", t->name);
            }
        }
    }
    wc->force_convert = hooks.wasapi_force_convert;
    /* Pushes are at most 100 ms; the converter's output is at most that too
     * (its input is 100 ms at the source rate). */
    wc->max_frames = wc->format.rate / 10;
    wc->zeros = wac__calloc(wc->max_frames, wc->frame_bytes);
    wc->out = wac__malloc(((size_t)wc->max_frames + 64) * wc->frame_bytes);
    wc->ctl_cmd = CreateEventW(NULL, FALSE, FALSE, NULL);
    wc->ctl_done = CreateEventW(NULL, FALSE, FALSE, NULL);
    wc->data_event = CreateEventW(NULL, FALSE, FALSE, NULL);
    wc->rt_cmd = CreateEventW(NULL, FALSE, FALSE, NULL);
    wc->rt_ack = CreateEventW(NULL, FALSE, FALSE, NULL);
    wc->rt_failed = CreateEventW(NULL, FALSE, FALSE, NULL);
    wc->rt_packet = CreateEventW(NULL, FALSE, FALSE, NULL);
    wc->device_event = CreateEventW(NULL, FALSE, FALSE, NULL);
    wc->session_event = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (!wc->zeros || !wc->out || !wc->ctl_cmd || !wc->ctl_done || !wc->data_event || !wc->rt_cmd || !wc->rt_ack ||
        !wc->rt_failed || !wc->session_event || !wc->rt_packet || !wc->device_event) {
        free_wcap(wc);
        return wac__capture_error(cap, WAC_ERR_NO_MEMORY, "no memory");
    }
    wac__capture_set_period(cap, DEFAULT_PERIOD_NS);
    wc->wait_ms = DEFAULT_PERIOD_NS / 1000000;
    int rc = wac__thread_start(&wc->ctl_thread, ctl_main, wc);
    if (rc) {
        free_wcap(wc);
        return wac__capture_error(cap, rc, "wasapi: cannot start the control thread");
    }
    WaitForSingleObject(wc->ctl_done, INFINITE);
    if (wc->cmd_result) {
        rc = wc->cmd_result;
        wac__thread_join(wc->ctl_thread);
        wac__capture_error(cap, rc, "wasapi: %s", wc->detail);
        free_wcap(wc);
        return rc;
    }
    *cap_data = wc;
    return 0;
}

static int wasapi_capture_start(void *cap_data)
{
    struct wcap *wc = cap_data;
    int rc = ctl_command(wc, CMD_START);
    if (rc)
        return wac__capture_error(wc->cap, rc, "wasapi: %s", wc->detail);
    return 0;
}

static void wasapi_capture_stop(void *cap_data)
{
    ctl_command(cap_data, CMD_STOP);
}

static void wasapi_capture_close(void *cap_data)
{
    struct wcap *wc = cap_data;
    ctl_command(wc, CMD_CLOSE);
    wac__thread_join(wc->ctl_thread);
    free_wcap(wc);
}

static int wasapi_list_sessions(void *data, struct wac__session_list_builder *list)
{
    (void)data;
    return wac__wasapi_list_sessions(list);
}

const struct wac__backend wac__backend_wasapi = {
    .name = "wasapi",
    .automatic = true,
    .connect = wasapi_connect,
    .disconnect = wasapi_disconnect,
    .capture_open = wasapi_capture_open,
    .capture_start = wasapi_capture_start,
    .capture_stop = wasapi_capture_stop,
    .capture_close = wasapi_capture_close,
    .list_sessions = wasapi_list_sessions,
    .list_devices = wac__wasapi_list_devices,
    .get_volume = wac__wasapi_get_volume,
    .set_volume = wac__wasapi_set_volume,
    .set_reconnect = wasapi_set_reconnect,
    .inject = NULL,
};
