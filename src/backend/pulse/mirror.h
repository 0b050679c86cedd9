/* mirror.h — the PulseAudio backend's view of the server (mirror.c): the
 * connection and its threaded main loop, the sink-inputs and clients the
 * server announces, a timer and deferred work, the session listing. Captures
 * (capture.c) read the mirror and listen to it; the mirror knows nothing of
 * them: it tells its listeners what changed, so the dependency points one
 * way.
 *
 * Threads: everything runs on the pa_threaded_mainloop's thread or under its
 * lock; listeners are called on the loop thread. */
#ifndef WAC_PULSE_MIRROR_H
#define WAC_PULSE_MIRROR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <pulse/pulseaudio.h>

#include "backend/backend.h"

#define WAC__PULSE_NAME_SIZE 128
#define WAC__PULSE_WAIT_S 5

struct wac__pulse_client {
    struct wac__pulse_client *next;
    uint32_t index;
    uint32_t pid; /* its owner here (see sandbox.h), 0 if none or unknown */
    uint32_t claimed_pid; /* application.process.id as the client gave it */
    char app_name[WAC__PULSE_NAME_SIZE];
    char binary[WAC__PULSE_NAME_SIZE];
};

/* An application playback stream. */
struct wac__pulse_input {
    struct wac__pulse_input *next;
    uint32_t index;
    uint32_t client; /* PA_INVALID_INDEX for none */
    uint32_t prop_pid; /* its owner by its own application.process.id (see sandbox.h), 0 if none */
    uint32_t claimed_pid; /* that application.process.id as given */
    int64_t mapped_ns;    /* when prop_pid was last worked out (a /proc scan when sandboxed) */
    bool corked;
    char app_name[WAC__PULSE_NAME_SIZE];
    char binary[WAC__PULSE_NAME_SIZE];
    /* Its volume: the loudest channel as a linear factor (negative: none),
     * the volume's channel count, mute. */
    float level;
    uint8_t channels;
    bool mute;
};

/* A source: an input device, or a sink's monitor ("SINK.monitor"). */
struct wac__pulse_source {
    struct wac__pulse_source *next;
    uint32_t index;
    bool monitor; /* the monitor of a sink */
    uint32_t rate, channels;
    char name[WAC__PULSE_NAME_SIZE];
    char description[WAC__PULSE_NAME_SIZE];
};

/* What the mirror tells its listeners, on the loop thread. A listener may
 * remove itself (not others) from within a call. */
struct wac__pulse_mirror_events {
    /* The connection is lost (once; lost_detail says why). */
    void (*lost)(void *data);
    /* The deferred work runs: sink-inputs or clients changed, or a listener
     * scheduled it. */
    void (*changed)(void *data);
    /* Timer work at now_ns; returns when it next needs to run (monotonic ns;
     * INT64_MAX: not at all). */
    int64_t (*tick)(void *data, int64_t now_ns);
    /* A sink-input is about to go. */
    void (*input_removed)(void *data, uint32_t index);
    /* A source is about to go. */
    void (*source_removed)(void *data, uint32_t index);
    /* After a loss, the connection is back and the tables are whole again
     * (reconnecting mirrors only; `changed` follows). */
    void (*restored)(void *data);
};

struct wac__pulse_listener {
    struct wac__pulse_listener *next;
    const struct wac__pulse_mirror_events *events;
    void *data;
};

struct wac__pulse_mirror {
    wac_context *ctx;
    pa_threaded_mainloop *ml;
    pa_mainloop_api *api;
    pa_context *pa;
    pa_context_state_t state;
    pa_time_event *timer;
    pa_defer_event *deferred;
    bool wait_timed_out;
    struct wac__pulse_client *clients;
    struct wac__pulse_input *inputs;
    struct wac__pulse_source *sources;
    /* The server's default source and sink. */
    char default_source[WAC__PULSE_NAME_SIZE], default_sink[WAC__PULSE_NAME_SIZE];
    bool on_pipewire; /* the server is pipewire-pulse ("PulseAudio (on PipeWire ...)") */
    /* When a sink-input's monitor stream last closed on this connection
     * (capture.c: the next one waits, see REOPEN_GAP_NS there). */
    int64_t monitor_closed_ns;
    struct wac__pulse_listener *listeners;
    bool lost, lost_handled;
    unsigned missed; /* objects described that there was no memory to track (see missed()) */
    char lost_detail[160];
    /* Reconnecting (wac_context_set_reconnect): after a loss, a new
     * connection is tried when `retry` fires, each wait twice the last
     * (RETRY_MIN_NS to RETRY_MAX_NS in mirror.c). */
    _Atomic bool reconnect;
    pa_time_event *retry;
    int64_t retry_delay_ns;
    bool retry_pending;
    bool restoring; /* connected again, the tables are being read */
};

/* The backend table's connect/disconnect/list_sessions/set_reconnect. */
int wac__pulse_mirror_connect(wac_context *ctx, void **data, char *detail, size_t detail_size);
void wac__pulse_mirror_disconnect(void *data);
int wac__pulse_mirror_list_sessions(void *data, struct wac__session_list_builder *list);
int wac__pulse_mirror_list_devices(void *data, struct wac__device_list_builder *list);
int wac__pulse_mirror_set_reconnect(void *data, bool reconnect);
/* The backend table's get_volume/set_volume (volume.c). */
int wac__pulse_get_volume(void *data, const wac_target *target, wac_volume *out, char *detail, size_t detail_size);
int wac__pulse_set_volume(void *data, const wac_target *target, const float *level, const bool *muted, char *detail,
                          size_t detail_size);

/* Under the loop lock: listener is the caller's, filled in here. */
void wac__pulse_mirror_add_listener(struct wac__pulse_mirror *b, struct wac__pulse_listener *listener,
                                    const struct wac__pulse_mirror_events *events, void *data);
void wac__pulse_mirror_remove_listener(struct wac__pulse_mirror *b, struct wac__pulse_listener *listener);
/* Run the deferred work (listeners' changed) soon on the loop thread. */
void wac__pulse_mirror_schedule(struct wac__pulse_mirror *b);
/* Run the listeners' tick within a few ms (a capture started, a stream came
 * or went); the timer then sleeps until the ticks ask for it. */
void wac__pulse_mirror_tick_soon(struct wac__pulse_mirror *b);
struct wac__pulse_input *wac__pulse_mirror_find_input(struct wac__pulse_mirror *b, uint32_t index);
/* Run an operation to its end (lock held); false if it did not finish in
 * WAC__PULSE_WAIT_S or the connection failed. Unrefs it. */
bool wac__pulse_mirror_complete(struct wac__pulse_mirror *b, pa_operation *o);
/* The source a DEVICE target names now: by name ("SINK.monitor" included),
 * NULL / "" / "default" the default source, "default.monitor" the default
 * sink's monitor. NULL when there is none. */
struct wac__pulse_source *wac__pulse_mirror_find_source(struct wac__pulse_mirror *b, const char *name);
bool wac__pulse_device_name_is_default(const char *name);
/* The process that owns a sink-input. False while its client is not known yet. */
bool wac__pulse_mirror_input_owner(struct wac__pulse_mirror *b, const struct wac__pulse_input *in, uint32_t *pid);

#endif
