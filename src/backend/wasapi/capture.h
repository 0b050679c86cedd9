/* capture.h — one WASAPI capture's state, shared by its two threads' files:
 * the control thread (wasapi.c) and the real-time capture thread
 * (capture-thread.c). Which thread owns which field is marked below. */
#ifndef WAC_WASAPI_CAPTURE_H
#define WAC_WASAPI_CAPTURE_H

#include "backend/wasapi/wasapi.h"

#include <stdatomic.h>

#include "attach/attach.h"
#include "attach/convert.h"
#include "os/os.h"

#define DETAIL_SIZE 256
#define TREE_MAX 256

struct wasapi {
    DWORD build; /* Windows build number (RtlGetVersion: the real one) */
    _Atomic bool reconnect; /* wac_context_set_reconnect: ride out the audio service's restarts */
};

enum { CMD_NONE, CMD_START, CMD_STOP, CMD_CLOSE };
enum { RT_NONE, RT_ATTACH, RT_DETACH, RT_QUIT };
/* What an endpoint capture (SYSTEM, DEVICE) records: the default render
 * endpoint's loopback, the default capture endpoint, or one endpoint by id
 * (a capture endpoint; not followed). */
enum { DEVICE_RENDER_LOOPBACK, DEVICE_CAPTURE, DEVICE_BY_ID };

struct wcap {
    wac_capture *cap;
    struct wasapi *w;
    wac_target target;
    wac_format format;
    uint32_t frame_bytes;
    int device;         /* SYSTEM: DEVICE_* */
    bool force_convert; /* WAC_WASAPI_CONVERT */

    /* ---- control thread ---- */
    wac__thread ctl_thread;
    HANDLE ctl_cmd, ctl_done; /* auto-reset */
    int cmd, cmd_result;
    char detail[DETAIL_SIZE];
    bool running, ended;
    /* The target's one stream (key 1: Windows isolates the process tree
     * itself) and its events; used on the control thread only. */
    struct wac__attach attach;
    HANDLE process; /* the watched process, SYNCHRONIZE; NULL when detached */
    DWORD pid;      /* the attached target's pid (NAME: 0 while detached) */
    /* PID target: the processes of its tree seen so far (process loopback
     * captures the whole tree, so the capture lasts while any of them runs:
     * a launcher may exit while its child plays). */
    DWORD tree[TREE_MAX];
    size_t n_tree;
    DWORD watched;  /* PID target: the tree member whose exit is awaited */
    DWORD skip_pid; /* NAME: the instance that just exited */
    struct wac__session_watch *watch;
    HANDLE session_event; /* NAME: a session appeared (auto-reset) */
    struct wac__device_watch *device_watch;
    HANDLE device_event;  /* SYSTEM, DEVICE: the default endpoint changed (auto-reset) */
    wchar_t device_id[512]; /* DEVICE_BY_ID: the endpoint */

    /* ---- the audio client (the control thread's; the capture thread's while attached) ---- */
    IAudioClient *client;
    IAudioCaptureClient *capture;
    HANDLE data_event; /* auto-reset, SetEventHandle */
    bool converting;
    uint32_t src_rate, src_channels, src_frame_bytes;
    struct wac__convert conv;
    bool conv_ready;

    /* ---- capture thread ---- */
    wac__thread rt_thread;
    bool rt_running;
    HANDLE rt_cmd, rt_ack, rt_failed; /* auto-reset */
    /* The attached client's first packet arrived (auto-reset; once per attach):
     * its stream is live from then, not from start. */
    HANDLE rt_packet;
    _Atomic bool rt_got_packet;
    int64_t packet_deadline_ns; /* control: no packet by then -> say so */
    int64_t recover_window_ns;  /* control: when the current run of recoveries began */
    int recoveries;             /* ... and how many it has had */
    bool service_lost;          /* control: SERVER_LOST posted, SERVER_RESTORED not yet */
    _Atomic int rt_code;
    bool rt_start_attached;
    _Atomic long rt_hresult; /* the failure it reported */
    uint8_t *zeros;          /* max_frames of silence in the delivered format */
    uint8_t *out;            /* converter output */
    uint32_t max_frames;     /* frames per push */
    DWORD wait_ms;           /* the capture thread's wake-up when no data comes: one period */
    uint64_t next_device_position; /* the device position the next packet should start at */
};

/* ---- the capture thread (capture-thread.c) ---- */

/* Start it; with wc->capture set, it drains that client from the start.
 * Returns 0, or an error with wc->detail set. Control thread. */
int wac__wasapi_rt_start(struct wcap *wc);
/* Hand it a command (RT_ATTACH: take wc->client's capture client; RT_DETACH:
 * let go of it) and wait for its acknowledgement. Control thread. */
void wac__wasapi_rt_command(struct wcap *wc, int code);
/* End it and join it; afterwards the producer is quiescent. Control thread. */
void wac__wasapi_rt_stop(struct wcap *wc);

#endif
