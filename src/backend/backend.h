/* backend.h — what a backend implements, and the core services it may call.
 *
 * A backend is an engine adapter in its own folder (src/backend/<engine>/)
 * exporting one `const struct wac__backend`; what every engine shares (the
 * attach layer, the converter, the mixer, target matching) is in src/attach/
 * (doc/ARCHITECTURE.md). The core validates every argument before a backend
 * sees it.
 *
 * Threads: a capture has one producer at a time — the backend's real-time
 * thread — which calls only the "producer" functions below (they never
 * allocate, lock, block or log). Every other core function here is for the
 * backend's control threads. After capture_stop() returns the backend must not
 * call a producer function for that capture again. */
#ifndef WAC_BACKEND_H
#define WAC_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wac.h"

/* printf-style format checking where the compiler has it (GCC, clang; on
 * mingw-w64 the format its stdio really implements), nothing for MSVC. */
#if defined(__MINGW32__) && defined(__USE_MINGW_ANSI_STDIO) && __USE_MINGW_ANSI_STDIO
#define WAC__PRINTF(fmt, first) __attribute__((format(gnu_printf, fmt, first)))
#elif defined(__MINGW32__)
#define WAC__PRINTF(fmt, first) __attribute__((format(ms_printf, fmt, first)))
#elif defined(__GNUC__) || defined(__clang__)
#define WAC__PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#else
#define WAC__PRINTF(fmt, first)
#endif

struct wac__session_list_builder;
struct wac__device_list_builder;

struct wac__backend {
    const char *name;
    bool automatic; /* may be chosen by "auto" */

    /* Connect; on failure write a reason into detail and return a wac_error. */
    int (*connect)(wac_context *ctx, void **data, char *detail, size_t detail_size);
    void (*disconnect)(void *data);

    /* Prepare a capture of wac__capture_config(cap). May narrow the delivered
     * format with wac__capture_set_format() and must call
     * wac__capture_set_period() with its delivery period. Errors through
     * wac__capture_error(). */
    int (*capture_open)(void *data, wac_capture *cap, void **cap_data);
    /* Begin producing. The core has reset the stream. */
    int (*capture_start)(void *cap_data);
    /* Stop producing; on return the producer is quiescent. */
    void (*capture_stop)(void *cap_data);
    void (*capture_close)(void *cap_data);

    int (*list_sessions)(void *data, struct wac__session_list_builder *list);
    /* Input devices and monitors (NULL: none on this backend). */
    int (*list_devices)(void *data, struct wac__device_list_builder *list);

    /* Application volume (wac_context_get_volume & co.; NULL: not supported).
     * The core has checked the target: PID or NAME, not exclude. set_volume
     * changes the level when level is not NULL and the flag when muted is not
     * NULL. Both report a failure as a wac_error and a reason in detail. */
    int (*get_volume)(void *data, const wac_target *target, wac_volume *out, char *detail, size_t detail_size);
    int (*set_volume)(void *data, const wac_target *target, const float *level, const bool *muted, char *detail,
                      size_t detail_size);

    /* wac_context_set_reconnect (NULL: the backend ends its captures when
     * the server goes). Called under no lock of the backend's; any thread. */
    int (*set_reconnect)(void *data, bool reconnect);

    /* Fault injection; only the dummy backend has it (NULL elsewhere). */
    int (*inject)(void *cap_data, wac_dummy_fault fault, uint32_t amount);
};

/* The backends built in, "auto" order first; NULL-terminated. */
extern const struct wac__backend *const wac__backends[];

/* ---- facts about a capture (any thread) ---- */
const wac_capture_config *wac__capture_config(const wac_capture *cap);
const wac_format *wac__capture_format(const wac_capture *cap);
uint32_t wac__capture_frame_bytes(const wac_capture *cap);
/* The negotiated format, when it differs from the request (before start). */
void wac__capture_set_format(wac_capture *cap, const wac_format *format);
/* The interval between two deliveries in normal operation (the engine's
 * quantum). Sets how long a gap must be before silence fills it. Callable from
 * any thread, the producer's included (RT-safe), whenever the period changes. */
void wac__capture_set_period(wac_capture *cap, int64_t period_ns);
/* The audio pushed is heard this long after the time given with it (an
 * application's output a graph cycle later): the times handed out (chunks,
 * events) add it; the stream's own clock and gap detection do not, so a
 * change of it never reads as a gap. RT-safe, any thread. */
void wac__capture_set_heard_after(wac_capture *cap, int64_t delay_ns);
/* Record a failure's detail on the capture (open: on the context); returns
 * error. The detail is kept per thread (errors.c): call it on the thread of
 * the core's call that fails (capture_open, capture_start, inject), not on a
 * loop thread, or the caller never sees it. */
int wac__capture_error(wac_capture *cap, int error, const char *fmt, ...) WAC__PRINTF(3, 4);

/* ---- producer (the backend's real-time thread) ---- */
/* Append frames in the delivered format. time_ns: monotonic time of the first
 * frame, 0 if unknown (taken as now minus the data's duration). A gap between
 * the previous data and time_ns longer than the period is filled with silence
 * (or reported as a discontinuity when fill_silence is off). */
void wac__stream_push(wac_capture *cap, const void *frames, uint32_t n_frames, int64_t time_ns);
/* Nothing to deliver this period: fills silence up to `now_ns` when due. */
void wac__stream_tick(wac_capture *cap, int64_t now_ns);
/* The engine lost `frames` frames of the timeline (reported as a discontinuity). */
void wac__stream_skip(wac_capture *cap, uint64_t frames);
/* Account for what a backend's own mixing made up or dropped inside frames it
 * pushes (a stream re-placed on the timeline): `silence` zeros it put in
 * (frames_silence), `discarded` frames of a stream it dropped
 * (frames_discarded). Real-time safe. */
void wac__stream_count_mixed(wac_capture *cap, uint64_t silence, uint64_t discarded);

/* ---- control (backend's non-real-time threads) ---- */
/* Queue an event at the current end of the stream. From capture_start on
 * (not during capture_open: the stream begins at start). */
void wac__stream_post(wac_capture *cap, wac_event_type type, uint32_t pid, uint32_t stream_id, int error,
                      const char *detail);
/* The stream ended by itself (server lost, target gone, error). Call once the
 * producer is quiescent. Posts SERVER_LOST/ERROR when error is set (not for
 * WAC_ERR_TARGET_EXITED, a normal end), then ENDED. */
void wac__stream_end(wac_capture *cap, int error, const char *detail);
/* Attached stream count for the stats (delta +1 / -1). */
void wac__capture_streams_changed(wac_capture *cap, int delta);

/* ---- session listing ---- */
/* volume: linear level, negative when unknown; app_id: a sandbox's
 * application id, NULL or "" for none. */
int wac__session_list_add(struct wac__session_list_builder *list, uint32_t pid, const char *executable,
                          const char *app_name, const char *app_id, uint32_t streams, bool playing, float volume,
                          bool muted);

/* ---- device listing ---- */
int wac__device_list_add(struct wac__device_list_builder *list, const char *name, const char *description, bool monitor,
                         bool is_default, uint32_t rate, uint32_t channels);

#endif
