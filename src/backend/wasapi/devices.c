/* devices.c (WASAPI) — the default endpoints: activating the default render
 * or capture endpoint's IAudioClient, and being told when the default
 * changes (IMMNotificationClient), so a system capture follows the output the
 * user switches to. The control thread calls these (MTA). */
#include "backend/wasapi/wasapi.h"

#include <stdlib.h>

static const GUID iid_notification_client = {
    0x7991eec9, 0x7e89, 0x4d85, {0x83, 0x90, 0x6c, 0x70, 0x3c, 0xec, 0x60, 0xc0}};

HRESULT wac__wasapi_activate_endpoint(EDataFlow flow, IAudioClient **out)
{
    IMMDeviceEnumerator *en = NULL;
    IMMDevice *dev = NULL;
    HRESULT hr = CoCreateInstance(&wac__clsid_device_enumerator, NULL, CLSCTX_ALL, &wac__iid_device_enumerator,
                                  (void **)&en);
    if (SUCCEEDED(hr))
        hr = IMMDeviceEnumerator_GetDefaultAudioEndpoint(en, flow, eConsole, &dev);
    if (SUCCEEDED(hr))
        hr = IMMDevice_Activate(dev, &wac__iid_audio_client, CLSCTX_ALL, NULL, (void **)out);
    if (dev)
        IMMDevice_Release(dev);
    if (en)
        IMMDeviceEnumerator_Release(en);
    return hr;
}

struct wac__device_watch {
    IMMNotificationClient iface;
    LONG refs;
    EDataFlow flow;
    HANDLE event; /* our duplicate: valid until the last reference goes */
    IMMDeviceEnumerator *en;
};

static struct wac__device_watch *watch_of(IMMNotificationClient *self)
{
    return (struct wac__device_watch *)(void *)self;
}

static HRESULT STDMETHODCALLTYPE dw_query(IMMNotificationClient *self, REFIID iid, void **out)
{
    if (IsEqualGUID(iid, &wac__iid_unknown) || IsEqualGUID(iid, &iid_notification_client)) {
        *out = self;
        IMMNotificationClient_AddRef(self);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG STDMETHODCALLTYPE dw_addref(IMMNotificationClient *self)
{
    return (ULONG)InterlockedIncrement(&watch_of(self)->refs);
}

static ULONG STDMETHODCALLTYPE dw_release(IMMNotificationClient *self)
{
    struct wac__device_watch *w = watch_of(self);
    LONG n = InterlockedDecrement(&w->refs);
    if (n == 0) {
        CloseHandle(w->event);
        free(w);
    }
    return (ULONG)n;
}

static HRESULT STDMETHODCALLTYPE dw_state(IMMNotificationClient *self, LPCWSTR id, DWORD state)
{
    return S_OK;
}

static HRESULT STDMETHODCALLTYPE dw_added(IMMNotificationClient *self, LPCWSTR id)
{
    return S_OK;
}

static HRESULT STDMETHODCALLTYPE dw_removed(IMMNotificationClient *self, LPCWSTR id)
{
    return S_OK;
}

/* Called on a thread of the audio service's: only signal. */
static HRESULT STDMETHODCALLTYPE dw_default(IMMNotificationClient *self, EDataFlow flow, ERole role, LPCWSTR id)
{
    struct wac__device_watch *w = watch_of(self);
    if (flow == w->flow && role == eConsole)
        SetEvent(w->event);
    return S_OK;
}

static HRESULT STDMETHODCALLTYPE dw_property(IMMNotificationClient *self, LPCWSTR id, const PROPERTYKEY key)
{
    return S_OK;
}

static IMMNotificationClientVtbl watch_vtbl = {dw_query,   dw_addref,  dw_release, dw_state,
                                               dw_added,   dw_removed, dw_default, dw_property};

struct wac__device_watch *wac__wasapi_watch_default_device(EDataFlow flow, HANDLE event)
{
    struct wac__device_watch *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->iface.lpVtbl = &watch_vtbl;
    w->refs = 1;
    w->flow = flow;
    if (!DuplicateHandle(GetCurrentProcess(), event, GetCurrentProcess(), &w->event, 0, FALSE,
                         DUPLICATE_SAME_ACCESS)) {
        free(w);
        return NULL;
    }
    HRESULT hr = CoCreateInstance(&wac__clsid_device_enumerator, NULL, CLSCTX_ALL, &wac__iid_device_enumerator,
                                  (void **)&w->en);
    if (SUCCEEDED(hr))
        hr = IMMDeviceEnumerator_RegisterEndpointNotificationCallback(w->en, &w->iface);
    if (FAILED(hr)) {
        if (w->en)
            IMMDeviceEnumerator_Release(w->en);
        dw_release(&w->iface);
        return NULL;
    }
    return w;
}

void wac__wasapi_unwatch_default_device(struct wac__device_watch *w)
{
    if (!w)
        return;
    IMMDeviceEnumerator_UnregisterEndpointNotificationCallback(w->en, &w->iface);
    IMMDeviceEnumerator_Release(w->en);
    dw_release(&w->iface);
}
