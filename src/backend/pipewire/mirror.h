/* mirror.h — the PipeWire backend's view of the server (mirror.c): the
 * connection and its loop thread, the registry's clients, application output
 * nodes and ports, a periodic timer and deferred work, the session listing.
 * Captures (capture.c) read the mirror and listen to it; the mirror knows
 * nothing of them: it tells its listeners what changed (PipeWire's own
 * spa_hook_list idiom), so the dependency points one way.
 *
 * Threads: everything runs on the pw_thread_loop thread or under its lock;
 * listeners are called on the loop thread. */
#ifndef WAC_PIPEWIRE_MIRROR_H
#define WAC_PIPEWIRE_MIRROR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <pipewire/pipewire.h>
#include <pipewire/extensions/metadata.h>

#include "backend/backend.h"

#define WAC__PIPEWIRE_MAX_CHANNELS 8
#define WAC__PIPEWIRE_WAIT_S 5
#define WAC__PIPEWIRE_NAME_SIZE 128

struct wac__pipewire_mirror;

struct wac__pipewire_client {
    struct spa_list link;
    uint32_t id;
    struct pw_proxy *proxy;
    struct spa_hook listener;
    bool have_info;
    uint32_t pid;
    bool pid_mapped; /* pid came from the namespace mapping: 0 there means unknown, not "ask the node" */
    char app_name[WAC__PIPEWIRE_NAME_SIZE];
    char binary[WAC__PIPEWIRE_NAME_SIZE];
};

/* An application output stream (Stream/Output/Audio). */
struct wac__pipewire_node {
    struct spa_list link;
    uint32_t id;
    uint64_t serial;
    uint32_t client_id;
    uint32_t prop_pid; /* the node's application.process.id, 0 if none */
    char app_name[WAC__PIPEWIRE_NAME_SIZE];
    struct pw_proxy *proxy;
    struct spa_hook listener;
    bool have_info;
    enum pw_node_state state;
    uint32_t n_output_ports;
    /* Its Props (subscribed): the loudest of channelVolumes times volume, the
     * channel count, mute. */
    bool have_props;
    float volume, channel_max;
    uint32_t n_channel_volumes;
    bool mute;
};

/* A device node: an Audio/Source (captured from its output ports) or an
 * Audio/Sink (captured from its monitor ports: "NAME.monitor"). */
struct wac__pipewire_device {
    struct spa_list link;
    uint32_t id;
    uint64_t serial;
    bool sink;
    char name[WAC__PIPEWIRE_NAME_SIZE]; /* node.name */
    char description[WAC__PIPEWIRE_NAME_SIZE];
    uint32_t rate, channels; /* audio.rate / audio.channels when announced, else 0 */
    struct pw_proxy *proxy;
    struct spa_hook listener;
    bool have_info;
    uint32_t n_output_ports; /* a sink's count its monitor ports */
};

struct wac__pipewire_port {
    struct spa_list link;
    uint32_t id;
    uint32_t node_id;
    bool output;
    bool monitor;
    char channel[16];
};

struct wac__pipewire_mirror {
    wac_context *ctx;
    struct pw_thread_loop *loop;
    struct pw_context *context;
    struct pw_core *core;
    struct spa_hook core_listener;
    struct pw_registry *registry;
    struct spa_hook registry_listener;
    struct spa_source *timer;
    struct spa_source *deferred;
    struct spa_list clients, nodes, ports, devices;
    /* The session manager's "default" metadata: the default input and output. */
    struct pw_proxy *metadata;
    struct spa_hook metadata_listener;
    char default_source[WAC__PIPEWIRE_NAME_SIZE], default_sink[WAC__PIPEWIRE_NAME_SIZE];
    struct spa_hook_list listeners; /* struct wac__pipewire_mirror_events */
    int sync_seq;
    bool sync_done;
    bool lost, lost_handled;
    char lost_detail[160];
    uint32_t self_client_id;
    unsigned missed; /* objects announced that there was no memory to track (see missed()) */
    /* Reconnecting (wac_context_set_reconnect): after a loss a new core is
     * connected when `retry` fires, each wait twice the last; two round
     * trips on it (restore_seq) make the tables whole before `restored`. */
    _Atomic bool reconnect;
    struct spa_source *retry;
    int64_t retry_delay_ns;
    bool retry_pending, restoring;
    int restore_seq, restore_step;
};

/* What the mirror tells its listeners, on the loop thread. A listener may
 * remove itself (not others) from within a call. */
#define WAC__PIPEWIRE_MIRROR_EVENTS 0
struct wac__pipewire_mirror_events {
    uint32_t version; /* WAC__PIPEWIRE_MIRROR_EVENTS */
    /* The connection is lost (once; b->lost_detail says why). */
    void (*lost)(void *data);
    /* The deferred work runs: the graph changed, or a listener scheduled it. */
    void (*changed)(void *data);
    /* The periodic timer (every 500 ms). */
    void (*tick)(void *data);
    /* An application output node, or a port, is about to go. */
    void (*node_removed)(void *data, const struct wac__pipewire_node *n);
    void (*port_removed)(void *data, const struct wac__pipewire_port *p);
    /* A device node is about to go. */
    void (*device_removed)(void *data, const struct wac__pipewire_device *d);
    /* After a loss, connected again with the tables whole (reconnecting
     * mirrors only; `changed` follows). */
    void (*restored)(void *data);
};

/* Connect: the backend table's connect/disconnect/list_sessions. */
int wac__pipewire_mirror_connect(wac_context *ctx, void **data, char *detail, size_t detail_size);
void wac__pipewire_mirror_disconnect(void *data);
int wac__pipewire_mirror_list_sessions(void *data, struct wac__session_list_builder *list);
int wac__pipewire_mirror_list_devices(void *data, struct wac__device_list_builder *list);
int wac__pipewire_mirror_set_reconnect(void *data, bool reconnect);
/* The backend table's get_volume/set_volume (volume.c). */
int wac__pipewire_get_volume(void *data, const wac_target *target, wac_volume *out, char *detail, size_t detail_size);
int wac__pipewire_set_volume(void *data, const wac_target *target, const float *level, const bool *muted, char *detail,
                             size_t detail_size);

/* Under the loop lock. */
void wac__pipewire_mirror_add_listener(struct wac__pipewire_mirror *b, struct spa_hook *hook,
                                 const struct wac__pipewire_mirror_events *events, void *data);
/* Run the deferred work (listeners' changed) soon on the loop thread. */
void wac__pipewire_mirror_schedule(struct wac__pipewire_mirror *b);
struct wac__pipewire_node *wac__pipewire_mirror_find_node(struct wac__pipewire_mirror *b, uint32_t id);
/* The process that owns a node. False while its client's properties are not
 * known yet. */
bool wac__pipewire_mirror_node_owner(struct wac__pipewire_mirror *b, const struct wac__pipewire_node *n, uint32_t *pid);
/* The node's linear level (channelVolumes' loudest times volume), or -1
 * before its Props are known. */
float wac__pipewire_node_level(const struct wac__pipewire_node *n);
/* The node with this object.serial, or NULL. */
struct wac__pipewire_node *wac__pipewire_mirror_find_serial(struct wac__pipewire_mirror *b, uint64_t serial);
/* One round trip to the server (lock held): 0, -ETIMEDOUT or -EPIPE. */
int wac__pipewire_mirror_roundtrip(struct wac__pipewire_mirror *b);
/* The device a DEVICE target names now: a source by node.name, a sink's
 * monitor by "SINK.monitor", NULL / "" / "default" the default input,
 * "default.monitor" the default output's monitor. NULL when there is none. */
struct wac__pipewire_device *wac__pipewire_mirror_find_device(struct wac__pipewire_mirror *b, const char *name);
/* Is the device (by name) the default input (a sink: the default output)? */
bool wac__pipewire_mirror_device_is_default(const struct wac__pipewire_mirror *b, const struct wac__pipewire_device *d);
/* Does a DEVICE target's name follow the default? */
bool wac__pipewire_device_name_is_default(const char *name);
/* Is the node one of WAC's own streams (this connection's)? */
bool wac__pipewire_mirror_node_is_own(const struct wac__pipewire_mirror *b, const struct wac__pipewire_node *n);

#endif
