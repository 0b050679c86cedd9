/* sessions.c (WASAPI) — who plays audio on Windows (IAudioSessionManager2 /
 * IAudioSessionEnumerator on every active render endpoint), finding a
 * process by executable name (Toolhelp snapshot), session-created
 * notifications for name targets, and text helpers for the backend. */
#include "backend/wasapi/wasapi.h"
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tlhelp32.h>

#include "os/os.h"

void wac__wasapi_utf8(const wchar_t *w, char *buf, size_t size)
{
    if (!size)
        return;
    buf[0] = 0;
    if (!w)
        return;
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, (int)size, NULL, NULL);
    if (n <= 0) {
        /* Too long: convert what fits. */
        buf[0] = 0;
        size_t len = wcslen(w);
        while (len > 0) {
            len /= 2;
            n = WideCharToMultiByte(CP_UTF8, 0, w, (int)len, buf, (int)size - 1, NULL, NULL);
            if (n > 0) {
                buf[n] = 0;
                break;
            }
        }
    }
}

/* The audio engine's own codes, which FormatMessage does not know. */
static const char *audclnt_name(HRESULT hr)
{
    switch (hr) {
#define NAME(code) \
    case code:     \
        return #code;
        NAME(AUDCLNT_E_NOT_INITIALIZED)
        NAME(AUDCLNT_E_ALREADY_INITIALIZED)
        NAME(AUDCLNT_E_WRONG_ENDPOINT_TYPE)
        NAME(AUDCLNT_E_DEVICE_INVALIDATED)
        NAME(AUDCLNT_E_NOT_STOPPED)
        NAME(AUDCLNT_E_BUFFER_TOO_LARGE)
        NAME(AUDCLNT_E_OUT_OF_ORDER)
        NAME(AUDCLNT_E_UNSUPPORTED_FORMAT)
        NAME(AUDCLNT_E_INVALID_SIZE)
        NAME(AUDCLNT_E_DEVICE_IN_USE)
        NAME(AUDCLNT_E_BUFFER_OPERATION_PENDING)
        NAME(AUDCLNT_E_THREAD_NOT_REGISTERED)
        NAME(AUDCLNT_E_ENDPOINT_CREATE_FAILED)
        NAME(AUDCLNT_E_SERVICE_NOT_RUNNING)
        NAME(AUDCLNT_E_EVENTHANDLE_NOT_EXPECTED)
        NAME(AUDCLNT_E_EVENTHANDLE_NOT_SET)
        NAME(AUDCLNT_E_INCORRECT_BUFFER_SIZE)
        NAME(AUDCLNT_E_BUFFER_SIZE_ERROR)
        NAME(AUDCLNT_E_CPUUSAGE_EXCEEDED)
        NAME(AUDCLNT_E_BUFFER_ERROR)
        NAME(AUDCLNT_E_BUFFER_SIZE_NOT_ALIGNED)
        NAME(AUDCLNT_E_INVALID_DEVICE_PERIOD)
#undef NAME
    }
    return NULL;
}

void wac__wasapi_hresult_text(HRESULT hr, char *buf, size_t size)
{
    const char *name = audclnt_name(hr);
    if (name) {
        snprintf(buf, size, "HRESULT 0x%08lX (%s)", (unsigned long)hr, name);
        return;
    }
    wchar_t msg[256];
    DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, (DWORD)hr, 0, msg,
                             sizeof msg / sizeof msg[0], NULL);
    while (n > 0 && (msg[n - 1] == L'\r' || msg[n - 1] == L'\n' || msg[n - 1] == L' ' || msg[n - 1] == L'.'))
        msg[--n] = 0;
    char text[256] = "";
    if (n > 0)
        wac__wasapi_utf8(msg, text, sizeof text);
    if (text[0])
        snprintf(buf, size, "HRESULT 0x%08lX (%s)", (unsigned long)hr, text);
    else
        snprintf(buf, size, "HRESULT 0x%08lX", (unsigned long)hr);
}

void wac__wasapi_process_name(DWORD pid, char *buf, size_t size)
{
    buf[0] = 0;
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (!h)
        return;
    wchar_t path[MAX_PATH * 2];
    DWORD len = sizeof path / sizeof path[0];
    if (QueryFullProcessImageNameW(h, 0, path, &len)) {
        const wchar_t *base = path;
        for (const wchar_t *p = path; *p; p++)
            if (*p == L'\\' || *p == L'/')
                base = p + 1;
        wac__wasapi_utf8(base, buf, size);
    }
    CloseHandle(h);
}

/* ---- finding a process by name ------------------------------------------------ */

bool wac__wasapi_name_matches(const wchar_t *exe, const wchar_t *want)
{
    if (_wcsicmp(exe, want) == 0)
        return true;
    /* "firefox" names "firefox.exe" (but "firefox.exe" never names "firefox"). */
    size_t n = wcslen(want);
    return wcslen(exe) == n + 4 && _wcsnicmp(exe, want, n) == 0 && _wcsicmp(exe + n, L".exe") == 0;
}

bool wac__wasapi_each_process(bool (*fn)(void *user, const struct wac__wasapi_process *p), void *user)
{
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snap == INVALID_HANDLE_VALUE)
        return false;
    PROCESSENTRY32W e;
    e.dwSize = sizeof e;
    for (BOOL ok = Process32FirstW(snap, &e); ok; ok = Process32NextW(snap, &e)) {
        struct wac__wasapi_process p = {e.th32ProcessID, e.th32ParentProcessID, e.szExeFile};
        if (!fn(user, &p))
            break;
    }
    CloseHandle(snap);
    return true;
}

HANDLE wac__wasapi_open_process(DWORD pid)
{
    return OpenProcess(SYNCHRONIZE, FALSE, pid);
}

DWORD wac__wasapi_session_of(DWORD pid)
{
    DWORD session = 0;
    return ProcessIdToSessionId(pid, &session) ? session : (DWORD)-1;
}

struct name_search {
    wchar_t want[MAX_PATH];
    DWORD self, session;
    DWORD pids[256], parents[256];
    size_t n;
};

static bool collect_match(void *user, const struct wac__wasapi_process *p)
{
    struct name_search *s = user;
    if (p->pid != s->self && wac__wasapi_name_matches(p->exe, s->want) &&
        wac__wasapi_system->session_of(p->pid) == s->session) {
        s->pids[s->n] = p->pid;
        s->parents[s->n] = p->parent;
        s->n++;
    }
    return s->n < 256;
}

DWORD wac__wasapi_find_process(const char *name)
{
    struct name_search s;
    if (!MultiByteToWideChar(CP_UTF8, 0, name, -1, s.want, MAX_PATH))
        return 0;
    s.self = GetCurrentProcessId();
    s.session = wac__wasapi_system->session_of(s.self);
    s.n = 0;
    if (!wac__wasapi_system->each_process(collect_match, &s) || !s.n)
        return 0;
    /* The root of the application's tree (process loopback takes the tree
     * from there): a match whose parent is not a match. */
    for (size_t i = 0; i < s.n; i++) {
        bool parent_matches = false;
        for (size_t j = 0; j < s.n; j++)
            parent_matches |= s.pids[j] == s.parents[i];
        if (!parent_matches)
            return s.pids[i];
    }
    return s.pids[0]; /* a cycle of reused parent ids: take any */
}

/* ---- session listing ---------------------------------------------------------- */

struct listed {
    DWORD pid;
    uint32_t streams;
    bool playing;
    float volume; /* loudest session's; negative while none is known */
    bool muted;   /* every session muted */
    char exe[260];
    char app[256];
};

struct listing {
    struct listed *items;
    size_t count, capacity;
    int rc;
};

static void add_session(struct listing *l, IAudioSessionControl *ctl)
{
    IAudioSessionControl2 *c2 = NULL;
    if (FAILED(IAudioSessionControl_QueryInterface(ctl, &wac__iid_session_control2, (void **)&c2)))
        return;
    DWORD pid = 0;
    AudioSessionState state = AudioSessionStateInactive;
    if (IAudioSessionControl2_IsSystemSoundsSession(c2) == S_OK || FAILED(IAudioSessionControl2_GetProcessId(c2, &pid)) ||
        pid == 0) {
        IAudioSessionControl2_Release(c2);
        return;
    }
    IAudioSessionControl2_GetState(c2, &state);
    if (state == AudioSessionStateExpired) {
        IAudioSessionControl2_Release(c2);
        return;
    }
    struct listed *it = NULL;
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i].pid == pid)
            it = &l->items[i];
    if (!it) {
        if (l->count == l->capacity) {
            size_t cap = l->capacity ? l->capacity * 2 : 16;
            struct listed *grown = wac__realloc(l->items, cap * sizeof *grown);
            if (!grown) {
                l->rc = WAC_ERR_NO_MEMORY;
                IAudioSessionControl2_Release(c2);
                return;
            }
            l->items = grown;
            l->capacity = cap;
        }
        it = &l->items[l->count++];
        memset(it, 0, sizeof *it);
        it->pid = pid;
        it->volume = -1.0f;
        it->muted = true;
        wac__wasapi_process_name(pid, it->exe, sizeof it->exe);
    }
    ISimpleAudioVolume *volume = NULL;
    float level = -1.0f;
    BOOL muted = FALSE;
    if (SUCCEEDED(IAudioSessionControl2_QueryInterface(c2, &wac__iid_simple_volume, (void **)&volume))) {
        if (FAILED(ISimpleAudioVolume_GetMasterVolume(volume, &level)))
            level = -1.0f;
        if (FAILED(ISimpleAudioVolume_GetMute(volume, &muted)))
            muted = FALSE;
        ISimpleAudioVolume_Release(volume);
    }
    if (level > it->volume)
        it->volume = level;
    it->muted = it->muted && muted && level >= 0.0f;
    it->streams++;
    it->playing |= state == AudioSessionStateActive;
    if (!it->app[0]) {
        LPWSTR name = NULL;
        if (SUCCEEDED(IAudioSessionControl2_GetDisplayName(c2, &name)) && name) {
            wac__wasapi_utf8(name, it->app, sizeof it->app);
            CoTaskMemFree(name);
        }
    }
    IAudioSessionControl2_Release(c2);
}

static void list_device(struct listing *l, IMMDevice *dev)
{
    IAudioSessionManager2 *mgr = NULL;
    IAudioSessionEnumerator *en = NULL;
    if (FAILED(IMMDevice_Activate(dev, &wac__iid_session_manager2, CLSCTX_ALL, NULL, (void **)&mgr)))
        return;
    int count = 0;
    if (SUCCEEDED(IAudioSessionManager2_GetSessionEnumerator(mgr, &en)) &&
        SUCCEEDED(IAudioSessionEnumerator_GetCount(en, &count))) {
        for (int i = 0; i < count && l->rc == 0; i++) {
            IAudioSessionControl *ctl = NULL;
            if (SUCCEEDED(IAudioSessionEnumerator_GetSession(en, i, &ctl)) && ctl) {
                add_session(l, ctl);
                IAudioSessionControl_Release(ctl);
            }
        }
    }
    if (en)
        IAudioSessionEnumerator_Release(en);
    IAudioSessionManager2_Release(mgr);
}

/* ---- is a process playing? ---------------------------------------------------- */

bool wac__wasapi_session_active(DWORD pid)
{
    IMMDeviceEnumerator *en = NULL;
    IMMDeviceCollection *devs = NULL;
    bool active = false;
    if (FAILED(CoCreateInstance(&wac__clsid_device_enumerator, NULL, CLSCTX_ALL, &wac__iid_device_enumerator,
                                (void **)&en)))
        return false;
    UINT n = 0;
    if (SUCCEEDED(IMMDeviceEnumerator_EnumAudioEndpoints(en, eRender, DEVICE_STATE_ACTIVE, &devs)))
        IMMDeviceCollection_GetCount(devs, &n);
    for (UINT d = 0; d < n && !active; d++) {
        IMMDevice *dev = NULL;
        IAudioSessionManager2 *mgr = NULL;
        IAudioSessionEnumerator *sessions = NULL;
        int count = 0;
        if (SUCCEEDED(IMMDeviceCollection_Item(devs, d, &dev)) &&
            SUCCEEDED(IMMDevice_Activate(dev, &wac__iid_session_manager2, CLSCTX_ALL, NULL, (void **)&mgr)) &&
            SUCCEEDED(IAudioSessionManager2_GetSessionEnumerator(mgr, &sessions)) &&
            SUCCEEDED(IAudioSessionEnumerator_GetCount(sessions, &count))) {
            for (int i = 0; i < count && !active; i++) {
                IAudioSessionControl *ctl = NULL;
                IAudioSessionControl2 *c2 = NULL;
                AudioSessionState state = AudioSessionStateInactive;
                DWORD owner = 0;
                if (SUCCEEDED(IAudioSessionEnumerator_GetSession(sessions, i, &ctl)) && ctl &&
                    SUCCEEDED(IAudioSessionControl_QueryInterface(ctl, &wac__iid_session_control2, (void **)&c2)) &&
                    SUCCEEDED(IAudioSessionControl2_GetProcessId(c2, &owner)) && owner == pid &&
                    SUCCEEDED(IAudioSessionControl_GetState(ctl, &state)))
                    active = state == AudioSessionStateActive;
                if (c2)
                    IAudioSessionControl2_Release(c2);
                if (ctl)
                    IAudioSessionControl_Release(ctl);
            }
        }
        if (sessions)
            IAudioSessionEnumerator_Release(sessions);
        if (mgr)
            IAudioSessionManager2_Release(mgr);
        if (dev)
            IMMDevice_Release(dev);
    }
    if (devs)
        IMMDeviceCollection_Release(devs);
    IMMDeviceEnumerator_Release(en);
    return active;
}

static void *list_main(void *arg)
{
    struct listing *l = arg;
    HRESULT hr = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    IMMDeviceEnumerator *en = NULL;
    IMMDeviceCollection *devs = NULL;
    hr = CoCreateInstance(&wac__clsid_device_enumerator, NULL, CLSCTX_ALL, &wac__iid_device_enumerator, (void **)&en);
    if (FAILED(hr) || FAILED(IMMDeviceEnumerator_EnumAudioEndpoints(en, eRender, DEVICE_STATE_ACTIVE, &devs))) {
        l->rc = WAC_ERR_BACKEND;
    } else {
        UINT n = 0;
        IMMDeviceCollection_GetCount(devs, &n);
        for (UINT i = 0; i < n && l->rc == 0; i++) {
            IMMDevice *dev = NULL;
            if (SUCCEEDED(IMMDeviceCollection_Item(devs, i, &dev))) {
                list_device(l, dev);
                IMMDevice_Release(dev);
            }
        }
    }
    if (devs)
        IMMDeviceCollection_Release(devs);
    if (en)
        IMMDeviceEnumerator_Release(en);
    CoUninitialize();
    return NULL;
}

int wac__wasapi_list_sessions(struct wac__session_list_builder *list)
{
    /* COM work on a thread of our own: the caller's thread may belong to a
     * single-threaded apartment, or to none, and must stay as it is. */
    struct listing l = {0};
    wac__thread t;
    int rc = wac__thread_start(&t, list_main, &l);
    if (rc)
        return rc;
    wac__thread_join(t);
    for (size_t i = 0; i < l.count && l.rc == 0; i++)
        l.rc = wac__session_list_add(list, (uint32_t)l.items[i].pid, l.items[i].exe, l.items[i].app, NULL,
                                     l.items[i].streams, l.items[i].playing, l.items[i].volume, l.items[i].muted);
    wac__free(l.items);
    return l.rc;
}

/* ---- session-created notifications ------------------------------------------- */

struct wac__session_watch {
    IAudioSessionNotification iface;
    LONG refs;
    HANDLE event; /* our duplicate: valid until the last reference goes */
    IAudioSessionManager2 *mgr;
};

static HRESULT STDMETHODCALLTYPE watch_query(IAudioSessionNotification *self, REFIID iid, void **out)
{
    if (IsEqualGUID(iid, &wac__iid_unknown) || IsEqualGUID(iid, &wac__iid_session_notification) ||
        IsEqualGUID(iid, &wac__iid_agile)) {
        *out = self;
        IAudioSessionNotification_AddRef(self);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG STDMETHODCALLTYPE watch_addref(IAudioSessionNotification *self)
{
    return (ULONG)InterlockedIncrement(&((struct wac__session_watch *)(void *)self)->refs);
}

static ULONG STDMETHODCALLTYPE watch_release(IAudioSessionNotification *self)
{
    struct wac__session_watch *w = (struct wac__session_watch *)(void *)self;
    LONG n = InterlockedDecrement(&w->refs);
    if (n == 0) {
        if (w->event)
            CloseHandle(w->event);
        wac__free(w);
    }
    return (ULONG)n;
}

static HRESULT STDMETHODCALLTYPE watch_created(IAudioSessionNotification *self, IAudioSessionControl *session)
{
    (void)session;
    SetEvent(((struct wac__session_watch *)(void *)self)->event);
    return S_OK;
}

static IAudioSessionNotificationVtbl watch_vtbl = {watch_query, watch_addref, watch_release, watch_created};

struct wac__session_watch *wac__wasapi_watch_sessions(HANDLE event)
{
    struct wac__session_watch *w = wac__calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->iface.lpVtbl = &watch_vtbl;
    w->refs = 1;
    if (!DuplicateHandle(GetCurrentProcess(), event, GetCurrentProcess(), &w->event, 0, FALSE,
                         DUPLICATE_SAME_ACCESS)) {
        wac__free(w);
        return NULL;
    }
    IMMDeviceEnumerator *en = NULL;
    IMMDevice *dev = NULL;
    IAudioSessionEnumerator *sessions = NULL;
    HRESULT hr = CoCreateInstance(&wac__clsid_device_enumerator, NULL, CLSCTX_ALL, &wac__iid_device_enumerator,
                                  (void **)&en);
    if (SUCCEEDED(hr))
        hr = IMMDeviceEnumerator_GetDefaultAudioEndpoint(en, eRender, eConsole, &dev);
    if (SUCCEEDED(hr))
        hr = IMMDevice_Activate(dev, &wac__iid_session_manager2, CLSCTX_ALL, NULL, (void **)&w->mgr);
    if (SUCCEEDED(hr))
        hr = IAudioSessionManager2_GetSessionEnumerator(w->mgr, &sessions);
    /* Microsoft documents that notifications are discarded until the
     * application has called IAudioSessionEnumerator::GetCount. */
    int count = 0;
    if (SUCCEEDED(hr))
        hr = IAudioSessionEnumerator_GetCount(sessions, &count);
    if (SUCCEEDED(hr))
        hr = IAudioSessionManager2_RegisterSessionNotification(w->mgr, &w->iface);
    if (sessions)
        IAudioSessionEnumerator_Release(sessions);
    if (dev)
        IMMDevice_Release(dev);
    if (en)
        IMMDeviceEnumerator_Release(en);
    if (FAILED(hr)) {
        if (w->mgr)
            IAudioSessionManager2_Release(w->mgr);
        watch_release(&w->iface);
        return NULL;
    }
    return w;
}

void wac__wasapi_unwatch_sessions(struct wac__session_watch *w)
{
    if (!w)
        return;
    IAudioSessionManager2_UnregisterSessionNotification(w->mgr, &w->iface);
    IAudioSessionManager2_Release(w->mgr);
    watch_release(&w->iface);
}
