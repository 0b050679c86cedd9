/* internal.h (PipeWire) — what the two halves of the PipeWire backend share:
 * pipewire.c (the connection, the registry of clients/nodes/ports, timers,
 * failures, the session listing) and capture.c (a capture: its
 * pw_stream, the links into it, the process callback).
 *
 * Threads: everything runs on the pw_thread_loop thread or under its lock,
 * except pwcap_process(), which runs on the data thread. */
#ifndef WAC_PIPEWIRE_INTERNAL_H
#define WAC_PIPEWIRE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <pipewire/pipewire.h>

#include "attach/attach.h"
#include "backend/backend.h"
#include "attach/target-match.h"

#define PWB_MAX_CHANNELS 8
#define PWB_WAIT_S 5
#define PWB_NAME_SIZE 128

struct pwb;

struct pwb_client {
    struct spa_list link;
    uint32_t id;
    struct pw_proxy *proxy;
    struct spa_hook listener;
    bool have_info;
    uint32_t pid;
    char app_name[PWB_NAME_SIZE];
    char binary[PWB_NAME_SIZE];
};

/* An application output stream (Stream/Output/Audio). */
struct pwb_node {
    struct spa_list link;
    uint32_t id;
    uint64_t serial;
    uint32_t client_id;
    uint32_t prop_pid; /* the node's application.process.id, 0 if none */
    char app_name[PWB_NAME_SIZE];
    struct pw_proxy *proxy;
    struct spa_hook listener;
    bool have_info;
    enum pw_node_state state;
    uint32_t n_output_ports;
};

struct pwb_port {
    struct spa_list link;
    uint32_t id;
    uint32_t node_id;
    bool output;
    bool monitor;
    char channel[16];
};

/* A target node attached to a capture: the block of its attach entry, whose
 * key is the node's object.serial (the events' stream_id). */
struct pwb_entry {
    uint32_t node_id;
    bool linked;
    uint32_t n_links;
    struct pw_proxy *links[PWB_MAX_CHANNELS];
};

struct pwcap {
    struct spa_list link; /* in pwb->captures */
    struct pwb *b;
    wac_capture *cap;
    struct wac__target_match match; /* which pids the target covers */
    struct wac__attach attach;      /* the nodes attached, their events, a deferred failure */

    wac_format format;    /* delivered */
    uint32_t pw_channels; /* asked of PipeWire */
    uint32_t pw_stride;   /* bytes per frame from PipeWire */
    bool direct;          /* PipeWire delivers the format itself: no downmix */
    uint8_t *scratch;     /* delivered frames, for the downmix */

    struct pw_stream *stream;
    struct spa_hook stream_listener;
    enum pw_stream_state state;
    uint32_t node_id;
    bool running;        /* between start and stop (under the loop lock) */
    _Atomic bool active; /* process() may push */

};

struct pwb {
    wac_context *ctx;
    struct pw_thread_loop *loop;
    struct pw_context *context;
    struct pw_core *core;
    struct spa_hook core_listener;
    struct pw_registry *registry;
    struct spa_hook registry_listener;
    struct spa_source *timer;
    struct spa_source *deferred;
    struct spa_list clients, nodes, ports, captures;
    int sync_seq;
    bool sync_done;
    bool lost, lost_handled;
    char lost_detail[160];
    uint32_t self_client_id;
};

/* ---- pipewire.c ---- */
/* Run the deferred work (relinking, failures) soon on the loop thread. */
void pwb_schedule(struct pwb *b);
struct pwb_node *pwb_find_node(struct pwb *b, uint32_t id);
/* The process that owns a node. False while its client's properties are not
 * known yet. */
bool pwb_node_owner(struct pwb *b, const struct pwb_node *n, uint32_t *pid);
/* Is the node an application stream the capture wants? */
bool pwb_node_wanted(struct pwb *b, struct pwcap *pc, const struct pwb_node *n, uint32_t pid);

/* ---- capture.c ---- */
/* Bring a running capture's links in line with the graph. */
void pwcap_reconcile(struct pwcap *pc);
/* Stop producing for good: no process() call for this capture after this. */
void pwcap_stop_locked(struct pwcap *pc);
/* The periodic target check; may end the capture (target exited). */
void pwcap_check_target(struct pwcap *pc);
/* A port of node_id went away: links that used it are made again. */
void pwcap_port_removed(struct pwcap *pc, uint32_t node_id);

int pwcap_open(void *data, wac_capture *cap, void **cap_data);
int pwcap_start(void *cap_data);
void pwcap_stop(void *cap_data);
void pwcap_close(void *cap_data);

#endif
