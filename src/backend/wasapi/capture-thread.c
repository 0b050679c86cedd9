/* capture-thread.c — a WASAPI capture's real-time producer (MTA, MMCSS
 * "Audio"): it waits on {command, data event}, drains every packet, honours
 * SILENT / DATA_DISCONTINUITY / TIMESTAMP_ERROR, places audio by its QPC
 * time, and ticks the core's clock so idle periods become silence (process
 * loopback delivers no packets while the target is silent). It never
 * allocates, locks, logs or calls user code. The control thread (wasapi.c)
 * hands it a client and takes it back with a command and an
 * acknowledgement. */
#include "backend/wasapi/capture.h"

#include <avrt.h>
#include <stdio.h>

/* A QPC position (100 ns units, on the clock wac__now_ns reads) in ns. One
 * too large for that is a driver's garbage: it is held far enough off that
 * the core rejects it, and small enough that adding a packet's offsets
 * cannot overflow. */
static int64_t qpc_to_ns(UINT64 qpc)
{
    int64_t q = (int64_t)qpc;
    if (q > INT64_MAX / 100)
        return INT64_MAX / 2;
    if (q < INT64_MIN / 100)
        return INT64_MIN / 2;
    return q * 100;
}

/* One packet's worth of frames into the stream, in pieces that fit the buffers. */
static void deliver(struct wcap *wc, const uint8_t *data, uint32_t frames, int64_t time_ns)
{
    uint32_t rate = wc->converting ? wc->src_rate : wc->format.rate;
    uint32_t piece_max = wc->converting ? wc->conv.max_in : wc->max_frames;
    uint32_t fb = wc->converting ? wc->src_frame_bytes : wc->frame_bytes;
    for (uint32_t done = 0; done < frames;) {
        uint32_t n = frames - done < piece_max ? frames - done : piece_max;
        int64_t t = time_ns ? time_ns + (int64_t)done * 1000000000 / rate : 0;
        const uint8_t *src = data ? data + (size_t)done * fb : NULL;
        if (wc->converting) {
            double offset = 0;
            uint32_t out = wac__convert_process(&wc->conv, (const float *)(const void *)src, n, wc->out, &offset);
            if (out)
                wac__stream_push(wc->cap, wc->out, out, t ? t + (int64_t)(offset * 1e9 / rate) : 0);
        } else {
            wac__stream_push(wc->cap, src ? src : wc->zeros, n, t);
        }
        done += n;
    }
}

/* Drain every packet waiting. */
static HRESULT drain(struct wcap *wc, bool *first)
{
    for (;;) {
        UINT32 next = 0;
        HRESULT hr = IAudioCaptureClient_GetNextPacketSize(wc->capture, &next);
        if (FAILED(hr))
            return hr;
        if (next == 0)
            return S_OK;
        BYTE *data = NULL;
        UINT32 frames = 0;
        DWORD flags = 0;
        UINT64 device_position = 0, qpc = 0;
        hr = IAudioCaptureClient_GetBuffer(wc->capture, &data, &frames, &flags, &device_position, &qpc);
        if (hr == AUDCLNT_S_BUFFER_EMPTY)
            return S_OK;
        if (FAILED(hr))
            return hr;
        if (flags & AUDCLNT_BUFFERFLAGS_DATA_DISCONTINUITY) {
            /* The engine lost frames before this packet (the first packet
             * after Start often carries the flag too, with nothing lost). The
             * device positions say how many: they reach the timeline as a
             * discontinuity of that length, not as silence, and the next
             * timestamp then finds no gap left to fill. The converter's
             * history no longer joins up. */
            uint32_t src_rate = wc->converting ? wc->src_rate : wc->format.rate;
            if (!*first && device_position > wc->next_device_position)
                wac__stream_skip(wc->cap, (device_position - wc->next_device_position) * wc->format.rate / src_rate);
            if (wc->converting)
                wac__convert_reset(&wc->conv);
        }
        *first = false;
        wc->next_device_position = device_position + frames;
        if (!atomic_load_explicit(&wc->rt_got_packet, memory_order_relaxed)) {
            atomic_store_explicit(&wc->rt_got_packet, true, memory_order_relaxed);
            SetEvent(wc->rt_packet); /* once per attach */
        }
        int64_t t = (flags & AUDCLNT_BUFFERFLAGS_TIMESTAMP_ERROR) || qpc == 0 ? 0 : qpc_to_ns(qpc);
        bool silent = (flags & AUDCLNT_BUFFERFLAGS_SILENT) || !data;
        deliver(wc, silent ? NULL : data, frames, t);
        hr = IAudioCaptureClient_ReleaseBuffer(wc->capture, frames);
        if (FAILED(hr))
            return hr;
    }
}

static void *rt_main(void *arg)
{
    struct wcap *wc = arg;
    HRESULT co = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    DWORD task_index = 0;
    HANDLE task = AvSetMmThreadCharacteristicsW(L"Audio", &task_index);
    bool attached = wc->rt_start_attached, failed = false, first = true;
    HANDLE waits[2] = {wc->rt_cmd, wc->data_event};
    for (;;) {
        DWORD r = WaitForMultipleObjects(2, waits, FALSE, wc->wait_ms);
        if (r == WAIT_OBJECT_0) {
            int code = atomic_exchange(&wc->rt_code, RT_NONE);
            if (code == RT_QUIT) {
                SetEvent(wc->rt_ack);
                break;
            }
            if (code == RT_ATTACH) {
                attached = true;
                failed = false;
                first = true;
            } else if (code == RT_DETACH) {
                attached = false;
            }
            SetEvent(wc->rt_ack);
        }
        if (attached && !failed) {
            HRESULT hr = drain(wc, &first);
            if (FAILED(hr)) {
                /* The control thread ends the stream; until then, hands off. */
                failed = true;
                atomic_store(&wc->rt_hresult, (long)hr);
                SetEvent(wc->rt_failed);
            }
        }
        /* No data for a while: the clock says how much silence is due. */
        wac__stream_tick(wc->cap, wac__now_ns());
    }
    if (task)
        AvRevertMmThreadCharacteristics(task);
    if (SUCCEEDED(co))
        CoUninitialize();
    return NULL;
}

void wac__wasapi_rt_command(struct wcap *wc, int code)
{
    atomic_store(&wc->rt_code, code);
    SetEvent(wc->rt_cmd);
    WaitForSingleObject(wc->rt_ack, INFINITE);
}

int wac__wasapi_rt_start(struct wcap *wc)
{
    atomic_store(&wc->rt_got_packet, false);
    ResetEvent(wc->rt_packet);
    wc->rt_start_attached = wc->capture != NULL;
    int rc = wac__thread_start(&wc->rt_thread, rt_main, wc);
    if (rc) {
        snprintf(wc->detail, sizeof wc->detail, "cannot start the capture thread");
        return rc;
    }
    wc->rt_running = true;
    return 0;
}

void wac__wasapi_rt_stop(struct wcap *wc)
{
    if (!wc->rt_running)
        return;
    wac__wasapi_rt_command(wc, RT_QUIT);
    wac__thread_join(wc->rt_thread);
    wc->rt_running = false;
}
