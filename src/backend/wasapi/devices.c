/* devices.c (WASAPI) — the default endpoints: activating the default render
 * or capture endpoint's IAudioClient, and being told when the default
 * changes (IMMNotificationClient), so a system capture follows the output the
 * user switches to; one endpoint by id, and the list of input devices. The
 * control thread calls these (MTA). */
#include "backend/wasapi/wasapi.h"
#include "alloc.h"

#include <stdlib.h>

#include "os/os.h"

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

HRESULT wac__wasapi_activate_endpoint_id(const wchar_t *id, IAudioClient **out)
{
    IMMDeviceEnumerator *en = NULL;
    IMMDevice *dev = NULL;
    HRESULT hr = CoCreateInstance(&wac__clsid_device_enumerator, NULL, CLSCTX_ALL, &wac__iid_device_enumerator,
                                  (void **)&en);
    /* No endpoint by that id: Windows says E_NOTFOUND, Wine E_INVALIDARG. */
    if (SUCCEEDED(hr) && FAILED(IMMDeviceEnumerator_GetDevice(en, id, &dev)))
        hr = HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
    if (SUCCEEDED(hr))
        hr = IMMDevice_Activate(dev, &wac__iid_audio_client, CLSCTX_ALL, NULL, (void **)out);
    if (dev)
        IMMDevice_Release(dev);
    if (en)
        IMMDeviceEnumerator_Release(en);
    return hr;
}

/* ---- the device listing ---- */

struct device_listing {
    struct wac__device_list_builder *list;
    int rc;
};

/* The endpoint's friendly name (PKEY_Device_FriendlyName), or its id. */
static void friendly_name(IMMDevice *dev, const wchar_t *id, char *out, size_t size)
{
    static const PROPERTYKEY friendly = {
        {0xa45c254e, 0xdf1c, 0x4efd, {0x80, 0x20, 0x67, 0xd1, 0x46, 0xa8, 0x50, 0xe0}}, 14};
    IPropertyStore *props = NULL;
    PROPVARIANT v;
    PropVariantInit(&v);
    out[0] = '\0';
    if (SUCCEEDED(IMMDevice_OpenPropertyStore(dev, STGM_READ, &props)) &&
        SUCCEEDED(IPropertyStore_GetValue(props, &friendly, &v)) && v.vt == VT_LPWSTR && v.pwszVal)
        wac__wasapi_utf8(v.pwszVal, out, size);
    PropVariantClear(&v);
    if (props)
        IPropertyStore_Release(props);
    if (!out[0])
        wac__wasapi_utf8(id, out, size);
}

static void *list_devices_main(void *arg)
{
    struct device_listing *l = arg;
    HRESULT init = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    IMMDeviceEnumerator *en = NULL;
    IMMDeviceCollection *devs = NULL;
    wchar_t *default_id = NULL;
    if (FAILED(CoCreateInstance(&wac__clsid_device_enumerator, NULL, CLSCTX_ALL, &wac__iid_device_enumerator,
                                (void **)&en)) ||
        FAILED(IMMDeviceEnumerator_EnumAudioEndpoints(en, eCapture, DEVICE_STATE_ACTIVE, &devs))) {
        l->rc = WAC_ERR_BACKEND;
    } else {
        IMMDevice *def = NULL;
        if (SUCCEEDED(IMMDeviceEnumerator_GetDefaultAudioEndpoint(en, eCapture, eConsole, &def))) {
            IMMDevice_GetId(def, &default_id);
            IMMDevice_Release(def);
        }
        UINT n = 0;
        IMMDeviceCollection_GetCount(devs, &n);
        for (UINT i = 0; i < n && l->rc == 0; i++) {
            IMMDevice *dev = NULL;
            wchar_t *id = NULL;
            if (SUCCEEDED(IMMDeviceCollection_Item(devs, i, &dev)) && SUCCEEDED(IMMDevice_GetId(dev, &id))) {
                char name[512], description[256];
                wac__wasapi_utf8(id, name, sizeof name);
                friendly_name(dev, id, description, sizeof description);
                l->rc = wac__device_list_add(l->list, name, description, false,
                                             default_id && wcscmp(id, default_id) == 0, 0, 0);
            }
            if (id)
                CoTaskMemFree(id);
            if (dev)
                IMMDevice_Release(dev);
        }
        /* What the default output plays (its loopback). */
        if (l->rc == 0)
            l->rc = wac__device_list_add(l->list, "default.monitor", "Monitor of the default output", true, true, 0, 0);
    }
    if (default_id)
        CoTaskMemFree(default_id);
    if (devs)
        IMMDeviceCollection_Release(devs);
    if (en)
        IMMDeviceEnumerator_Release(en);
    if (SUCCEEDED(init))
        CoUninitialize();
    return NULL;
}

int wac__wasapi_list_devices(void *data, struct wac__device_list_builder *list)
{
    (void)data;
    struct device_listing l = {list, 0};
    wac__thread t;
    int rc = wac__thread_start(&t, list_devices_main, &l);
    if (rc)
        return rc;
    wac__thread_join(t);
    return l.rc;
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
        wac__free(w);
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
    struct wac__device_watch *w = wac__calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->iface.lpVtbl = &watch_vtbl;
    w->refs = 1;
    w->flow = flow;
    if (!DuplicateHandle(GetCurrentProcess(), event, GetCurrentProcess(), &w->event, 0, FALSE,
                         DUPLICATE_SAME_ACCESS)) {
        wac__free(w);
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
