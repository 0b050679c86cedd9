/* fake-wasapi.c — see fake-wasapi.h. */
#include "fake-wasapi.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double PI = 3.14159265358979323846;

/* ---- what a case asks of the fakes, and what they saw ---- */

struct fake_script script;

struct fake_seen seen;

LONG clients_made, endpoint_activations;
volatile LONG outage_began, refused_activations; /* tick of the first failure (0: none) */

void reset_fakes(void)
{
    memset(&script, 0, sizeof script);
    memset(&seen, 0, sizeof seen);
    clients_made = 0;
    endpoint_activations = 0;
    outage_began = 0;
    refused_activations = 0;
    reset_processes();
}

/* ---- IAudioCaptureClient: packets of a 440 Hz tone, 10 ms each ---- */

#define PACKET_MS 10
#define QUEUE 32

struct fake_client;

struct fake_capture {
    IAudioCaptureClient iface;
    struct fake_client *owner;
};

struct fake_client {
    IAudioClient iface;
    LONG refs;
    struct fake_capture capture;
    WAVEFORMATEX format;
    bool float_samples;
    HANDLE event;
    HANDLE thread;
    _Atomic bool running, quit;
    CRITICAL_SECTION lock;
    uint8_t *packets[QUEUE];
    UINT64 packet_qpc[QUEUE], packet_position[QUEUE];
    DWORD packet_flags[QUEUE];
    int packets_made;
    unsigned head, count;
    UINT64 frames_made;
    DWORD started_at;
    bool fails; /* fails fail_after_ms after Start (the script's) */
};

static UINT64 qpc_100ns(void)
{
    LARGE_INTEGER c, f;
    QueryPerformanceCounter(&c);
    QueryPerformanceFrequency(&f);
    return (UINT64)((double)c.QuadPart * 1e7 / (double)f.QuadPart);
}

static DWORD WINAPI packet_thread(void *arg)
{
    struct fake_client *fc = arg;
    UINT32 frames = fc->format.nSamplesPerSec * PACKET_MS / 1000;
    while (!atomic_load(&fc->quit)) {
        Sleep(PACKET_MS);
        if (!atomic_load(&fc->running) || (int)(GetTickCount() - fc->started_at) < script.packets_after_ms)
            continue;
        EnterCriticalSection(&fc->lock);
        if (fc->count < QUEUE) {
            unsigned slot = (fc->head + fc->count) % QUEUE;
            uint8_t *p = fc->packets[slot];
            UINT64 now = qpc_100ns();
            int k = ++fc->packets_made;
            DWORD flags = 0;
            if (k == script.gap_at) {
                fc->frames_made += script.gap_frames; /* lost by the engine */
                flags |= AUDCLNT_BUFFERFLAGS_DATA_DISCONTINUITY;
            }
            bool silent = k >= script.silent_from && k <= script.silent_to && script.silent_from;
            if (silent)
                flags |= AUDCLNT_BUFFERFLAGS_SILENT;
            if (k == script.stamp_error_at)
                flags |= AUDCLNT_BUFFERFLAGS_TIMESTAMP_ERROR;
            fc->packet_flags[slot] = flags;
            for (UINT32 i = 0; i < frames; i++) {
                double t = (double)(fc->frames_made + i) / fc->format.nSamplesPerSec;
                double v = silent ? 0.9 * sin(2 * PI * 3000.0 * t) : 0.5 * sin(2 * PI * 440.0 * t);
                for (WORD c = 0; c < fc->format.nChannels; c++) {
                    size_t at = (size_t)i * fc->format.nChannels + c;
                    if (fc->float_samples)
                        ((float *)(void *)p)[at] = (float)v;
                    else
                        ((int16_t *)(void *)p)[at] = (int16_t)lrint(v * 32767);
                }
            }
            /* The stamp of the packet's first frame. */
            fc->packet_qpc[slot] = (flags & AUDCLNT_BUFFERFLAGS_TIMESTAMP_ERROR)
                                       ? 0
                                       : now - (UINT64)frames * 10000000 / fc->format.nSamplesPerSec;
            /* Wrong stamps a driver could give (Wine's wrap past 25.6 h of
             * uptime is one): unflagged, as such drivers give them. */
            if (k == script.stamp_ahead_at)
                fc->packet_qpc[slot] = now + 3600ull * 10000000;
            if (k == script.stamp_overflow_at)
                fc->packet_qpc[slot] = 0x7ffffffffffffff0ull;
            fc->packet_position[slot] = fc->frames_made;
            fc->frames_made += frames;
            fc->count++;
        }
        LeaveCriticalSection(&fc->lock);
        if (fc->event)
            SetEvent(fc->event);
    }
    return 0;
}

static struct fake_client *client_of_capture(IAudioCaptureClient *self)
{
    return ((struct fake_capture *)(void *)self)->owner;
}

static HRESULT STDMETHODCALLTYPE cc_query(IAudioCaptureClient *self, REFIID iid, void **out)
{
    (void)self;
    (void)iid;
    *out = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE cc_addref(IAudioCaptureClient *self)
{
    return (ULONG)InterlockedIncrement(&client_of_capture(self)->refs);
}
static ULONG STDMETHODCALLTYPE cc_release(IAudioCaptureClient *self)
{
    return IAudioClient_Release(&client_of_capture(self)->iface);
}
static HRESULT STDMETHODCALLTYPE cc_get_buffer(IAudioCaptureClient *self, BYTE **data, UINT32 *frames, DWORD *flags,
                                               UINT64 *position, UINT64 *qpc)
{
    struct fake_client *fc = client_of_capture(self);
    EnterCriticalSection(&fc->lock);
    if (!fc->count) {
        LeaveCriticalSection(&fc->lock);
        *frames = 0;
        return AUDCLNT_S_BUFFER_EMPTY;
    }
    *data = fc->packets[fc->head];
    *frames = fc->format.nSamplesPerSec * PACKET_MS / 1000;
    *flags = fc->packet_flags[fc->head];
    if (position)
        *position = fc->packet_position[fc->head];
    if (qpc)
        *qpc = fc->packet_qpc[fc->head];
    LeaveCriticalSection(&fc->lock);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE cc_release_buffer(IAudioCaptureClient *self, UINT32 frames)
{
    struct fake_client *fc = client_of_capture(self);
    (void)frames;
    EnterCriticalSection(&fc->lock);
    if (fc->count) {
        fc->head = (fc->head + 1) % QUEUE;
        fc->count--;
    }
    LeaveCriticalSection(&fc->lock);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE cc_next_size(IAudioCaptureClient *self, UINT32 *frames)
{
    struct fake_client *fc = client_of_capture(self);
    if (fc->fails && (int)(GetTickCount() - fc->started_at) >= script.fail_after_ms) {
        InterlockedCompareExchange(&outage_began, (LONG)(GetTickCount() | 1), 0);
        return script.fail_hr;
    }
    EnterCriticalSection(&fc->lock);
    *frames = fc->count ? fc->format.nSamplesPerSec * PACKET_MS / 1000 : 0;
    LeaveCriticalSection(&fc->lock);
    return S_OK;
}

static IAudioCaptureClientVtbl capture_vtbl = {
    .QueryInterface = cc_query,
    .AddRef = cc_addref,
    .Release = cc_release,
    .GetBuffer = cc_get_buffer,
    .ReleaseBuffer = cc_release_buffer,
    .GetNextPacketSize = cc_next_size,
};

/* ---- IAudioClient: the process-loopback virtual device ---- */

static struct fake_client *client_of(IAudioClient *self)
{
    return (struct fake_client *)(void *)self;
}

static HRESULT STDMETHODCALLTYPE ac_query(IAudioClient *self, REFIID iid, void **out)
{
    if (IsEqualGUID(iid, &wac__iid_audio_client) || IsEqualGUID(iid, &wac__iid_unknown)) {
        *out = self;
        IAudioClient_AddRef(self);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE ac_addref(IAudioClient *self)
{
    return (ULONG)InterlockedIncrement(&client_of(self)->refs);
}
static ULONG STDMETHODCALLTYPE ac_release(IAudioClient *self)
{
    struct fake_client *fc = client_of(self);
    LONG n = InterlockedDecrement(&fc->refs);
    if (n == 0) {
        atomic_store(&fc->quit, true);
        if (fc->thread) {
            WaitForSingleObject(fc->thread, INFINITE);
            CloseHandle(fc->thread);
        }
        for (int i = 0; i < QUEUE; i++)
            free(fc->packets[i]);
        DeleteCriticalSection(&fc->lock);
        free(fc);
    }
    return (ULONG)n;
}
static HRESULT STDMETHODCALLTYPE ac_initialize(IAudioClient *self, AUDCLNT_SHAREMODE mode, DWORD flags,
                                               REFERENCE_TIME duration, REFERENCE_TIME periodicity,
                                               const WAVEFORMATEX *format, LPCGUID session)
{
    struct fake_client *fc = client_of(self);
    (void)mode;
    (void)duration;
    (void)periodicity;
    (void)session;
    if (seen.n_init < MAX_INITS) {
        seen.init_flags[seen.n_init] = flags;
        seen.init_format[seen.n_init] = *format;
        seen.n_init++;
    }
    if (flags & script.refuse_flags)
        return E_INVALIDARG;
    fc->format = *format;
    const WAVEFORMATEXTENSIBLE *x = (const WAVEFORMATEXTENSIBLE *)(const void *)format;
    fc->float_samples = format->wFormatTag == WAVE_FORMAT_IEEE_FLOAT ||
                        (format->wFormatTag == WAVE_FORMAT_EXTENSIBLE && IsEqualGUID(&x->SubFormat, &wac__subtype_float));
    size_t bytes = (size_t)format->nSamplesPerSec * PACKET_MS / 1000 * format->nBlockAlign;
    for (int i = 0; i < QUEUE; i++)
        if (!(fc->packets[i] = calloc(1, bytes)))
            return E_OUTOFMEMORY;
    fc->thread = CreateThread(NULL, 0, packet_thread, fc, 0, NULL);
    return fc->thread ? S_OK : E_OUTOFMEMORY;
}
static HRESULT STDMETHODCALLTYPE ac_buffer_size(IAudioClient *self, UINT32 *frames)
{
    *frames = client_of(self)->format.nSamplesPerSec / 5;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE ac_latency(IAudioClient *self, REFERENCE_TIME *latency)
{
    (void)self;
    *latency = 0;
    return S_OK;
}
/* Not implemented by the process-loopback virtual device (documented). */
static HRESULT STDMETHODCALLTYPE ac_padding(IAudioClient *self, UINT32 *padding)
{
    (void)self;
    (void)padding;
    return E_NOTIMPL;
}
static HRESULT STDMETHODCALLTYPE ac_is_supported(IAudioClient *self, AUDCLNT_SHAREMODE mode, const WAVEFORMATEX *f,
                                                 WAVEFORMATEX **closest)
{
    (void)self;
    (void)mode;
    (void)f;
    (void)closest;
    return E_NOTIMPL;
}
static HRESULT STDMETHODCALLTYPE ac_mix_format(IAudioClient *self, WAVEFORMATEX **f)
{
    (void)self;
    (void)f;
    return E_NOTIMPL;
}
static HRESULT STDMETHODCALLTYPE ac_period(IAudioClient *self, REFERENCE_TIME *def, REFERENCE_TIME *min)
{
    (void)self;
    (void)def;
    (void)min;
    return E_NOTIMPL;
}
static HRESULT STDMETHODCALLTYPE ac_start(IAudioClient *self)
{
    client_of(self)->started_at = GetTickCount();
    atomic_store(&client_of(self)->running, true);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE ac_stop(IAudioClient *self)
{
    atomic_store(&client_of(self)->running, false);
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE ac_reset(IAudioClient *self)
{
    (void)self;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE ac_set_event(IAudioClient *self, HANDLE event)
{
    client_of(self)->event = event;
    return S_OK;
}
static HRESULT STDMETHODCALLTYPE ac_get_service(IAudioClient *self, REFIID iid, void **out)
{
    struct fake_client *fc = client_of(self);
    if (!IsEqualGUID(iid, &wac__iid_capture_client)) {
        *out = NULL;
        return E_NOINTERFACE;
    }
    IAudioClient_AddRef(self);
    *out = &fc->capture.iface;
    return S_OK;
}

static IAudioClientVtbl client_vtbl = {
    .QueryInterface = ac_query,
    .AddRef = ac_addref,
    .Release = ac_release,
    .Initialize = ac_initialize,
    .GetBufferSize = ac_buffer_size,
    .GetStreamLatency = ac_latency,
    .GetCurrentPadding = ac_padding,
    .IsFormatSupported = ac_is_supported,
    .GetMixFormat = ac_mix_format,
    .GetDevicePeriod = ac_period,
    .Start = ac_start,
    .Stop = ac_stop,
    .Reset = ac_reset,
    .SetEventHandle = ac_set_event,
    .GetService = ac_get_service,
};

static struct fake_client *new_client(void)
{
    struct fake_client *fc = calloc(1, sizeof *fc);
    if (!fc) { /* the test machine's failure, not the backend's: stop here */
        fprintf(stderr, "fake-wasapi: out of memory for a fake client\n");
        abort();
    }
    fc->iface.lpVtbl = &client_vtbl;
    fc->refs = 1;
    fc->capture.iface.lpVtbl = &capture_vtbl;
    fc->capture.owner = fc;
    InitializeCriticalSection(&fc->lock);
    LONG made = InterlockedIncrement(&clients_made);
    fc->fails = script.fail_after_ms > 0 && made <= (script.failing_clients ? script.failing_clients : 1);
    return fc;
}

/* ---- ActivateAudioInterfaceAsync and its operation ---- */

struct fake_op {
    IActivateAudioInterfaceAsyncOperation iface;
    LONG refs;
    IActivateAudioInterfaceCompletionHandler *handler;
    PROPVARIANT *params; /* the caller's, as the OS keeps a pointer to it */
    IUnknown *result;    /* NULL: the script's "success without an interface" */
};

static HRESULT STDMETHODCALLTYPE op_query(IActivateAudioInterfaceAsyncOperation *self, REFIID iid, void **out)
{
    (void)self;
    (void)iid;
    *out = NULL;
    return E_NOINTERFACE;
}
static ULONG STDMETHODCALLTYPE op_addref(IActivateAudioInterfaceAsyncOperation *self)
{
    return (ULONG)InterlockedIncrement(&((struct fake_op *)(void *)self)->refs);
}
static ULONG STDMETHODCALLTYPE op_release(IActivateAudioInterfaceAsyncOperation *self)
{
    struct fake_op *op = (struct fake_op *)(void *)self;
    LONG n = InterlockedDecrement(&op->refs);
    if (n == 0) {
        if (op->result)
            IUnknown_Release(op->result);
        IActivateAudioInterfaceCompletionHandler_Release(op->handler);
        free(op);
    }
    return (ULONG)n;
}
static HRESULT STDMETHODCALLTYPE op_result(IActivateAudioInterfaceAsyncOperation *self, HRESULT *activate_hr,
                                           IUnknown **iface)
{
    struct fake_op *op = (struct fake_op *)(void *)self;
    *activate_hr = S_OK;
    *iface = op->result;
    if (op->result)
        IUnknown_AddRef(op->result);
    return S_OK;
}

static IActivateAudioInterfaceAsyncOperationVtbl op_vtbl = {
    .QueryInterface = op_query,
    .AddRef = op_addref,
    .Release = op_release,
    .GetActivateResult = op_result,
};

/* The OS reads the parameters when it activates, then completes. */
static void complete(struct fake_op *op)
{
    const PROPVARIANT *pv = op->params;
    bool intact = pv->vt == VT_BLOB && pv->blob.cbSize == sizeof(wac__activation_params);
    if (intact) {
        const wac__activation_params *p = (const wac__activation_params *)(const void *)pv->blob.pBlobData;
        intact = p->activation_type == seen.type && p->loopback.target_pid == seen.pid &&
                 p->loopback.mode == seen.mode;
    }
    atomic_store(&seen.params_intact, intact ? 1 : -1);
    IActivateAudioInterfaceCompletionHandler_ActivateCompleted(op->handler, &op->iface);
    IActivateAudioInterfaceAsyncOperation_Release(&op->iface);
}

static DWORD WINAPI late_completion(void *arg)
{
    Sleep((DWORD)script.complete_after_ms);
    complete(arg);
    return 0;
}

static HRESULT fake_activate_async(LPCWSTR path, REFIID iid, PROPVARIANT *params,
                                   IActivateAudioInterfaceCompletionHandler *handler,
                                   IActivateAudioInterfaceAsyncOperation **out)
{
    InterlockedIncrement(&seen.activations);
    if (wcscmp(path, WAC__VAD_PROCESS_LOOPBACK) != 0 || !IsEqualGUID(iid, &wac__iid_audio_client))
        return E_INVALIDARG;
    LONG began = outage_began;
    if (began && (int)(GetTickCount() - (DWORD)began) < script.service_down_ms) {
        InterlockedIncrement(&refused_activations);
        return AUDCLNT_E_SERVICE_NOT_RUNNING;
    }
    const wac__activation_params *p = (const wac__activation_params *)(const void *)params->blob.pBlobData;
    seen.type = p->activation_type;
    seen.pid = p->loopback.target_pid;
    seen.mode = p->loopback.mode;
    struct fake_op *op = calloc(1, sizeof *op);
    if (!op)
        return E_OUTOFMEMORY;
    op->iface.lpVtbl = &op_vtbl;
    op->refs = 2; /* the caller's, and the completion's */
    op->handler = handler;
    IActivateAudioInterfaceCompletionHandler_AddRef(handler);
    op->params = params;
    op->result = script.null_interface ? NULL : (IUnknown *)(void *)&new_client()->iface;
    *out = &op->iface;
    if (script.complete_after_ms <= 0) {
        complete(op);
    } else {
        HANDLE t = CreateThread(NULL, 0, late_completion, op, 0, NULL);
        if (t)
            CloseHandle(t);
    }
    return S_OK;
}

static DWORD fake_build(void)
{
    return 22621; /* Windows 11 22H2 */
}

/* ---- processes: a table the cases edit; a process's handle is an event ---- */

#define MAX_PROCS 16
static struct fake_process {
    DWORD pid, parent, session;
    wchar_t exe[32];
    HANDLE exited; /* manual-reset: set when it exits */
    bool running;
} procs[MAX_PROCS];
static CRITICAL_SECTION procs_lock;

void reset_processes(void)
{
    EnterCriticalSection(&procs_lock);
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i].exited)
            CloseHandle(procs[i].exited);
    memset(procs, 0, sizeof procs);
    LeaveCriticalSection(&procs_lock);
}

void start_process(DWORD pid, DWORD parent, DWORD session, const wchar_t *exe)
{
    EnterCriticalSection(&procs_lock);
    for (int i = 0; i < MAX_PROCS; i++)
        if (!procs[i].pid) {
            procs[i] = (struct fake_process){pid, parent, session, {0}, CreateEventW(NULL, TRUE, FALSE, NULL), true};
            wcsncpy(procs[i].exe, exe, 31);
            break;
        }
    LeaveCriticalSection(&procs_lock);
}

void exit_process(DWORD pid)
{
    EnterCriticalSection(&procs_lock);
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i].pid == pid && procs[i].running) {
            procs[i].running = false;
            SetEvent(procs[i].exited);
        }
    LeaveCriticalSection(&procs_lock);
}

static bool fake_each_process(bool (*fn)(void *user, const struct wac__wasapi_process *p), void *user)
{
    struct wac__wasapi_process list[MAX_PROCS + 1];
    wchar_t names[MAX_PROCS][32];
    int n = 0;
    bool self_listed = false;
    EnterCriticalSection(&procs_lock);
    for (int i = 0; i < MAX_PROCS; i++) {
        self_listed |= procs[i].pid == GetCurrentProcessId();
        if (procs[i].pid && procs[i].running) {
            memcpy(names[n], procs[i].exe, sizeof names[0]);
            list[n] = (struct wac__wasapi_process){procs[i].pid, procs[i].parent, names[n]};
            n++;
        }
    }
    LeaveCriticalSection(&procs_lock);
    if (!self_listed)
        list[n++] = (struct wac__wasapi_process){GetCurrentProcessId(), 1, L"test-wasapi-fakes.exe"};
    for (int i = 0; i < n; i++)
        if (!fn(user, &list[i]))
            break;
    return true;
}

static HANDLE fake_open_process(DWORD pid)
{
    HANDLE h = NULL;
    EnterCriticalSection(&procs_lock);
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i].pid == pid && procs[i].running)
            DuplicateHandle(GetCurrentProcess(), procs[i].exited, GetCurrentProcess(), &h, 0, FALSE,
                            DUPLICATE_SAME_ACCESS);
    LeaveCriticalSection(&procs_lock);
    if (!h && pid == GetCurrentProcessId())
        h = OpenProcess(SYNCHRONIZE, FALSE, pid);
    return h;
}

static DWORD fake_session_of(DWORD pid)
{
    DWORD session = 1; /* this test's own session */
    EnterCriticalSection(&procs_lock);
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i].pid == pid)
            session = procs[i].session;
    LeaveCriticalSection(&procs_lock);
    return session;
}

static bool fake_session_active(DWORD pid)
{
    (void)pid;
    return script.target_playing;
}

/* Session notifications that never come: what the GetCount rule does to a
 * client that never counts, or a session on another endpoint. */
static struct wac__session_watch *fake_watch(HANDLE event)
{
    (void)event;
    return (struct wac__session_watch *)(void *)&procs_lock;
}

static void fake_unwatch(struct wac__session_watch *watch)
{
    (void)watch;
}

/* The default endpoints: an endpoint loopback client, and a watch the cases
 * trigger as the user switching the default output. */
HANDLE device_changed; /* the backend's event, while it watches */

static HRESULT fake_activate_endpoint(EDataFlow flow, IAudioClient **out)
{
    (void)flow;
    InterlockedIncrement(&endpoint_activations);
    *out = &new_client()->iface;
    return S_OK;
}

static struct wac__device_watch *fake_watch_device(EDataFlow flow, HANDLE event)
{
    (void)flow;
    device_changed = event;
    return (struct wac__device_watch *)(void *)&device_changed;
}

static void fake_unwatch_device(struct wac__device_watch *watch)
{
    if (watch)
        device_changed = NULL;
}

/* Audio sessions (see fake-wasapi.h). */
struct fake_session sessions[MAX_SESSIONS];

static struct fake_session *session_from(ISimpleAudioVolume *self)
{
    return (struct fake_session *)(void *)self;
}

static HRESULT STDMETHODCALLTYPE volume_query(ISimpleAudioVolume *self, REFIID iid, void **out)
{
    if (IsEqualGUID(iid, &wac__iid_unknown) || IsEqualGUID(iid, &wac__iid_simple_volume)) {
        *out = self;
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG STDMETHODCALLTYPE volume_addref(ISimpleAudioVolume *self)
{
    (void)self;
    return 2; /* the table owns the objects */
}

static ULONG STDMETHODCALLTYPE volume_release(ISimpleAudioVolume *self)
{
    (void)self;
    return 1;
}

static HRESULT STDMETHODCALLTYPE volume_set_level(ISimpleAudioVolume *self, float level, LPCGUID context)
{
    (void)context;
    struct fake_session *fs = session_from(self);
    if (FAILED(fs->refuse))
        return fs->refuse;
    if (!(level >= 0.0f && level <= 1.0f))
        return E_INVALIDARG;
    fs->level = level;
    return S_OK;
}

static HRESULT STDMETHODCALLTYPE volume_get_level(ISimpleAudioVolume *self, float *level)
{
    if (!level)
        return E_POINTER;
    *level = session_from(self)->level;
    return S_OK;
}

static HRESULT STDMETHODCALLTYPE volume_set_mute(ISimpleAudioVolume *self, BOOL muted, LPCGUID context)
{
    (void)context;
    struct fake_session *fs = session_from(self);
    if (FAILED(fs->refuse))
        return fs->refuse;
    fs->muted = muted;
    return S_OK;
}

static HRESULT STDMETHODCALLTYPE volume_get_mute(ISimpleAudioVolume *self, BOOL *muted)
{
    if (!muted)
        return E_POINTER;
    *muted = session_from(self)->muted;
    return S_OK;
}

static ISimpleAudioVolumeVtbl volume_vtbl = {volume_query,     volume_addref,  volume_release, volume_set_level,
                                             volume_get_level, volume_set_mute, volume_get_mute};

void add_session(DWORD pid, float level)
{
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (!sessions[i].pid) {
            sessions[i] = (struct fake_session){{&volume_vtbl}, pid, level, FALSE, S_OK};
            return;
        }
}

static bool fake_each_session(bool (*fn)(void *user, DWORD pid, ISimpleAudioVolume *volume), void *user)
{
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (sessions[i].pid && !fn(user, sessions[i].pid, &sessions[i].iface))
            break;
    return true;
}

const struct wac__wasapi_system fake_system = {
    .activate_async = fake_activate_async,
    .windows_build = fake_build,
    .each_process = fake_each_process,
    .open_process = fake_open_process,
    .session_of = fake_session_of,
    .session_active = fake_session_active,
    .watch_sessions = fake_watch,
    .unwatch_sessions = fake_unwatch,
    .activate_endpoint = fake_activate_endpoint,
    .watch_default_device = fake_watch_device,
    .unwatch_default_device = fake_unwatch_device,
    .each_session = fake_each_session,
};

void fakes_init(void)
{
    InitializeCriticalSection(&procs_lock);
}
