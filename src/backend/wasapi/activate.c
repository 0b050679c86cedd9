/* activate.c — process loopback activation: ActivateAudioInterfaceAsync on
 * VAD\Process_Loopback with the target's process tree included or excluded,
 * an agile completion handler, and a bounded wait for its result. Used by the
 * control thread (wasapi.c) with COM initialised (MTA). */
#include "backend/wasapi/wasapi.h"
#include "alloc.h"

#include <stdio.h>
#include <string.h>

#define ACTIVATION_TIMEOUT_MS 5000

static void set_detail(char *detail, size_t detail_size, const char *what, HRESULT hr)
{
    char text[200];
    wac__wasapi_hresult_text(hr, text, sizeof text);
    snprintf(detail, detail_size, "%s: %s", what, text);
}

int wac__wasapi_error_for(HRESULT hr)
{
    switch (hr) {
    case E_OUTOFMEMORY: return WAC_ERR_NO_MEMORY;
    case AUDCLNT_E_UNSUPPORTED_FORMAT: return WAC_ERR_FORMAT_UNSUPPORTED;
    case AUDCLNT_E_DEVICE_INVALIDATED:
    case AUDCLNT_E_SERVICE_NOT_RUNNING: return WAC_ERR_SERVER_LOST;
    default: return WAC_ERR_BACKEND;
    }
}

/* ---- the activation completion handler (agile) -------------------------------------- */

struct activation {
    IActivateAudioInterfaceCompletionHandler iface;
    LONG refs;
    HANDLE done;
    HRESULT hr;             /* GetActivateResult's own result */
    HRESULT activate_hr;    /* the activation's result */
    IAudioClient *client;
    /* The parameters live as long as the activation: the OS may read them
     * until it completes, which can be after WAC stopped waiting. */
    wac__activation_params params;
    PROPVARIANT pv;
};

static HRESULT STDMETHODCALLTYPE act_query(IActivateAudioInterfaceCompletionHandler *self, REFIID iid, void **out)
{
    /* IAgileObject: the handler may be called on any thread, so COM must not
     * marshal it (process loopback activation requires this). */
    if (IsEqualGUID(iid, &wac__iid_unknown) || IsEqualGUID(iid, &wac__iid_activate_handler) ||
        IsEqualGUID(iid, &wac__iid_agile)) {
        *out = self;
        IActivateAudioInterfaceCompletionHandler_AddRef(self);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG STDMETHODCALLTYPE act_addref(IActivateAudioInterfaceCompletionHandler *self)
{
    return (ULONG)InterlockedIncrement(&((struct activation *)(void *)self)->refs);
}

static ULONG STDMETHODCALLTYPE act_release(IActivateAudioInterfaceCompletionHandler *self)
{
    struct activation *a = (struct activation *)(void *)self;
    LONG n = InterlockedDecrement(&a->refs);
    if (n == 0) {
        if (a->client)
            IAudioClient_Release(a->client);
        CloseHandle(a->done);
        wac__free(a);
    }
    return (ULONG)n;
}

static HRESULT STDMETHODCALLTYPE act_completed(IActivateAudioInterfaceCompletionHandler *self,
                                               IActivateAudioInterfaceAsyncOperation *op)
{
    struct activation *a = (struct activation *)(void *)self;
    IUnknown *unk = NULL;
    HRESULT activate_hr = E_FAIL;
    /* Both results count: the call's, and the activation's. */
    a->hr = IActivateAudioInterfaceAsyncOperation_GetActivateResult(op, &activate_hr, &unk);
    a->activate_hr = activate_hr;
    if (SUCCEEDED(a->hr) && SUCCEEDED(activate_hr) && !unk)
        a->hr = E_NOINTERFACE; /* success without an interface: nothing to use */
    else if (SUCCEEDED(a->hr) && SUCCEEDED(activate_hr))
        a->hr = IUnknown_QueryInterface(unk, &wac__iid_audio_client, (void **)&a->client);
    if (unk)
        IUnknown_Release(unk);
    SetEvent(a->done);
    return S_OK;
}

static IActivateAudioInterfaceCompletionHandlerVtbl act_vtbl = {act_query, act_addref, act_release, act_completed};

int wac__wasapi_activate_loopback(DWORD pid, bool exclude, IAudioClient **out, char *detail, size_t detail_size)
{
    struct activation *a = wac__calloc(1, sizeof *a);
    if (!a || !(a->done = CreateEventW(NULL, TRUE, FALSE, NULL))) {
        wac__free(a);
        snprintf(detail, detail_size, "no memory for the activation");
        return WAC_ERR_NO_MEMORY;
    }
    a->iface.lpVtbl = &act_vtbl;
    a->refs = 1;
    a->params.activation_type = WAC__ACTIVATION_TYPE_PROCESS_LOOPBACK;
    a->params.loopback.target_pid = pid;
    a->params.loopback.mode = exclude ? WAC__LOOPBACK_EXCLUDE_TREE : WAC__LOOPBACK_INCLUDE_TREE;
    a->pv.vt = VT_BLOB;
    a->pv.blob.cbSize = sizeof a->params;
    a->pv.blob.pBlobData = (BYTE *)&a->params;
    IActivateAudioInterfaceAsyncOperation *op = NULL;
    HRESULT hr = wac__wasapi_system->activate_async(WAC__VAD_PROCESS_LOOPBACK, &wac__iid_audio_client, &a->pv,
                                                    &a->iface, &op);
    int rc = 0;
    if (FAILED(hr)) {
        set_detail(detail, detail_size, "process loopback: ActivateAudioInterfaceAsync failed", hr);
        rc = WAC_ERR_BACKEND;
    } else if (WaitForSingleObject(a->done, ACTIVATION_TIMEOUT_MS) != WAIT_OBJECT_0) {
        snprintf(detail, detail_size, "process loopback: no activation result within %d ms",
                 ACTIVATION_TIMEOUT_MS);
        rc = WAC_ERR_TIMEOUT;
    } else if (FAILED(a->hr) || FAILED(a->activate_hr)) {
        hr = FAILED(a->hr) ? a->hr : a->activate_hr;
        set_detail(detail, detail_size, "process loopback activation (" "VAD\\Process_Loopback" ") failed", hr);
        /* File not found / not implemented: this Windows (or Wine) has no
         * process loopback; anything else is the engine's error. */
        rc = hr == HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) || hr == E_NOTIMPL ? WAC_ERR_NOT_SUPPORTED
                                                                                 : wac__wasapi_error_for(hr);
    } else {
        *out = a->client;
        a->client = NULL;
    }
    if (op)
        IActivateAudioInterfaceAsyncOperation_Release(op);
    act_release(&a->iface); /* a late completion keeps its own reference */
    return rc;
}
