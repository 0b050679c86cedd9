/* pipewire.c — the PipeWire backend (libpipewire-0.3, tested with 0.3.65).
 *
 * Node arrangement. Each capture is one pw_stream of WAC's own (media.type
 * Audio, media.category Capture, node.autoconnect=false and no AUTOCONNECT
 * flag, so the session manager links nothing into it). The backend links the
 * target's Stream/Output/Audio nodes straight into that stream's input ports
 * through the link-factory, one link per channel (object.linger=false: the
 * links die with our connection, and with the player). PipeWire mixes
 * several linked streams on the input ports and its converter delivers the
 * rate and sample type asked for in EnumFormat. The stream sets
 * node.always-process=true: its process callback then runs every graph cycle
 * even while nothing is linked (driven by the Dummy-Driver) or the target is
 * silent or gone, which gives WAC its continuous clock. Measured alternative
 * not taken: a private null sink plus its monitor (obs-pipewire-audio-capture)
 * adds a node, a second visible recording stream and server CPU.
 *
 * Downmix rule. PipeWire sums links that meet on one port (stereo into
 * input_MONO doubles a centred source, +6 dB) and its channel mixer applies a
 * -3 dB law; WAC's rule is the average. So a mono capture asks PipeWire for
 * F32 stereo (ports input_FL/input_FR, each fed by the matching source channel
 * or by a mono source's only port) and averages the two in the process
 * callback, converting to S16 there if asked. Captures of 2..8 channels get
 * exactly the format requested, with source ports linked to the input port of
 * the same audio.channel (a mono source feeds every input port; source
 * channels without a matching input port, e.g. the LFE of a 5.1 source into a
 * stereo capture, are not linked; a source whose channel names match none is
 * linked by index).
 *
 * Who owns a stream. Node client.id -> the client, bound to read its full
 * properties. pipewire.sec.pid comes from the kernel's peer credentials and is
 * trusted, except for clients whose client.api is "pipewire-pulse": those are
 * PulseAudio-protocol applications proxied by the pipewire-pulse daemon, whose
 * sec.pid is the daemon's own, so application.process.id (the application's
 * own claim, which pipewire-pulse copies from the pulse client) is used. With
 * no client at all, the node's application.process.id is the fallback.
 *
 * System target. Every application output stream (Stream/Output/Audio) is
 * linked, as the exclude mode does with an empty exclusion. This follows the
 * streams rather than one sink: a change of default sink needs no relinking,
 * and nothing but application audio is captured (sink volume is not applied).
 *
 * Objects are tracked by object.serial where identity matters (ids are reused
 * at once). Threads: everything below runs on the pw_thread_loop thread or
 * under its lock, except process(), which runs on the data thread and only
 * copies into the ring. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pipewire/pipewire.h>
#include <spa/param/audio/format-utils.h>
#include <spa/param/props.h>
#include <spa/pod/builder.h>
#include <spa/utils/result.h>

#include "../os/os.h"
#include "../os/proctree.h"
#include "backend.h"

#define MAX_CHANNELS 8
#define SCRATCH_FRAMES 1024
#define TIMER_MS 500
#define WAIT_S 5
#define NAME_SIZE 128

struct pwb;

struct client {
    struct spa_list link;
    uint32_t id;
    struct pw_proxy *proxy;
    struct spa_hook listener;
    bool have_info;
    uint32_t pid;
    char app_name[NAME_SIZE];
    char binary[NAME_SIZE];
};

/* An application output stream (Stream/Output/Audio). */
struct node {
    struct spa_list link;
    uint32_t id;
    uint64_t serial;
    uint32_t client_id;
    uint32_t prop_pid; /* the node's application.process.id, 0 if none */
    char app_name[NAME_SIZE];
    struct pw_proxy *proxy;
    struct spa_hook listener;
    bool have_info;
    enum pw_node_state state;
    uint32_t n_output_ports;
};

struct port {
    struct spa_list link;
    uint32_t id;
    uint32_t node_id;
    bool output;
    bool monitor;
    char channel[16];
};

/* One target stream attached to a capture. */
struct entry {
    struct spa_list link;
    uint64_t serial; /* the node's object.serial: the event's stream_id */
    uint32_t node_id;
    uint32_t pid;
    bool linked;
    bool announced; /* STREAM_ADDED posted */
    uint32_t n_links;
    struct pw_proxy *links[MAX_CHANNELS];
};

struct pwcap {
    struct spa_list link; /* in pwb->captures */
    struct pwb *b;
    wac_capture *cap;
    wac_target target;
    char name[256];
    bool has_tree;
    struct wac__proctree tree;

    wac_format format;  /* delivered */
    uint32_t pw_channels; /* asked of PipeWire */
    uint32_t pw_stride;   /* bytes per frame from PipeWire */
    bool direct;          /* PipeWire delivers the format itself: no downmix */
    uint8_t *scratch;     /* SCRATCH_FRAMES delivered frames, for the downmix */

    struct pw_stream *stream;
    struct spa_hook stream_listener;
    enum pw_stream_state state;
    uint32_t node_id;
    bool running; /* between start and stop (under the loop lock) */
    _Atomic bool active; /* process() may push */

    struct spa_list entries;
    uint32_t *attached; /* NAME targets: pids with a TARGET_ATTACHED posted */
    size_t n_attached, cap_attached;
    bool root_detached;

    int fail_error; /* decided on the loop thread, acted on in deferred() */
    char fail_detail[160];
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

/* ---- small helpers ---- */

static uint32_t prop_u32(const struct spa_dict *props, const char *key)
{
    const char *v = props ? spa_dict_lookup(props, key) : NULL;
    if (!v || !*v)
        return 0;
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    return *end == 0 && n <= UINT32_MAX ? (uint32_t)n : 0;
}

static uint64_t prop_u64(const struct spa_dict *props, const char *key)
{
    const char *v = props ? spa_dict_lookup(props, key) : NULL;
    return v ? strtoull(v, NULL, 10) : 0;
}

static void copy_prop(char *dst, size_t size, const struct spa_dict *props, const char *key)
{
    const char *v = props ? spa_dict_lookup(props, key) : NULL;
    if (v)
        snprintf(dst, size, "%s", v);
}

static void schedule(struct pwb *b)
{
    if (b->deferred)
        pw_loop_signal_event(pw_thread_loop_get_loop(b->loop), b->deferred);
}

static struct client *find_client(struct pwb *b, uint32_t id)
{
    struct client *c;
    spa_list_for_each(c, &b->clients, link) if (c->id == id) return c;
    return NULL;
}

static struct node *find_node(struct pwb *b, uint32_t id)
{
    struct node *n;
    spa_list_for_each(n, &b->nodes, link) if (n->id == id) return n;
    return NULL;
}

static struct entry *find_entry(struct pwcap *pc, uint64_t serial)
{
    struct entry *e;
    spa_list_for_each(e, &pc->entries, link) if (e->serial == serial) return e;
    return NULL;
}

/* The process that owns a node. False while its client's properties are not
 * known yet. */
static bool node_owner(struct pwb *b, const struct node *n, uint32_t *pid)
{
    struct client *c = n->client_id ? find_client(b, n->client_id) : NULL;
    if (c) {
        if (!c->have_info)
            return false;
        *pid = c->pid ? c->pid : n->prop_pid;
        return true;
    }
    *pid = n->prop_pid;
    return true;
}

/* ---- target matching ---- */

static bool name_matches(const struct pwcap *pc, uint32_t pid)
{
    uint32_t p = pid;
    for (int depth = 0; p > 1 && depth < 64; depth++) {
        if (wac__proc_has_name(p, pc->name))
            return true;
        if (!pc->target.include_tree)
            break;
        p = wac__proc_parent(p);
    }
    return false;
}

/* Is pid the target (or in its tree)? */
static bool target_hit(struct pwcap *pc, uint32_t pid)
{
    if (pid == 0)
        return false;
    switch (pc->target.kind) {
    case WAC_TARGET_PID: return pc->has_tree ? wac__proctree_match(&pc->tree, pid) : pid == pc->target.pid;
    case WAC_TARGET_NAME: return name_matches(pc, pid);
    default: return false;
    }
}

static bool node_wanted(struct pwb *b, struct pwcap *pc, const struct node *n, uint32_t pid)
{
    if (b->self_client_id && n->client_id == b->self_client_id)
        return false; /* WAC's own streams */
    if (pc->target.kind == WAC_TARGET_SYSTEM)
        return true;
    bool hit = target_hit(pc, pid);
    return pc->target.exclude ? !hit : hit;
}

/* ---- links ---- */

static void unlink_entry(struct entry *e)
{
    for (uint32_t i = 0; i < e->n_links; i++)
        if (e->links[i])
            pw_proxy_destroy(e->links[i]);
    e->n_links = 0;
    e->linked = false;
}

static bool pid_attached(struct pwcap *pc, uint32_t pid, bool remove)
{
    for (size_t i = 0; i < pc->n_attached; i++)
        if (pc->attached[i] == pid) {
            if (remove)
                pc->attached[i] = pc->attached[--pc->n_attached];
            return true;
        }
    return false;
}

static void note_attached(struct pwcap *pc, uint32_t pid)
{
    if (pc->target.kind != WAC_TARGET_NAME || pc->target.exclude || pid == 0 || pid_attached(pc, pid, false))
        return;
    if (pc->n_attached == pc->cap_attached) {
        size_t capacity = pc->cap_attached ? pc->cap_attached * 2 : 8;
        uint32_t *grown = realloc(pc->attached, capacity * sizeof *grown);
        if (!grown)
            return;
        pc->attached = grown;
        pc->cap_attached = capacity;
    }
    pc->attached[pc->n_attached++] = pid;
    char why[320];
    snprintf(why, sizeof why, "%s (pid %u) plays audio", pc->name, pid);
    wac__stream_post(pc->cap, WAC_EVENT_TARGET_ATTACHED, pid, 0, 0, why);
}

static struct pw_proxy *make_link(struct pwb *b, uint32_t out_node, uint32_t out_port, uint32_t in_node,
                                  uint32_t in_port)
{
    struct pw_properties *p = pw_properties_new(PW_KEY_OBJECT_LINGER, "false", NULL);
    if (!p)
        return NULL;
    pw_properties_setf(p, PW_KEY_LINK_OUTPUT_NODE, "%u", out_node);
    pw_properties_setf(p, PW_KEY_LINK_OUTPUT_PORT, "%u", out_port);
    pw_properties_setf(p, PW_KEY_LINK_INPUT_NODE, "%u", in_node);
    pw_properties_setf(p, PW_KEY_LINK_INPUT_PORT, "%u", in_port);
    struct pw_proxy *proxy =
        pw_core_create_object(b->core, "link-factory", PW_TYPE_INTERFACE_Link, PW_VERSION_LINK, &p->dict, 0);
    pw_properties_free(p);
    return proxy;
}

/* Link a target node into the capture once both sides have all their ports:
 * the capture's input ports appear one at a time, and linking early once
 * produced an FR->FL link. */
static void try_link(struct pwb *b, struct pwcap *pc, struct entry *e)
{
    if (!pc->node_id || e->linked)
        return;
    struct node *n = find_node(b, e->node_id);
    if (!n || !n->have_info || n->n_output_ports == 0)
        return;
    struct port *in[MAX_CHANNELS], *out[64];
    uint32_t n_in = 0, n_out = 0;
    struct port *p;
    spa_list_for_each(p, &b->ports, link)
    {
        if (p->node_id == pc->node_id && !p->output && n_in < MAX_CHANNELS)
            in[n_in++] = p;
        else if (p->node_id == e->node_id && p->output && !p->monitor && n_out < 64)
            out[n_out++] = p;
    }
    if (n_in != pc->pw_channels || n_out != n->n_output_ports)
        return;
    /* Map by channel name; a mono source feeds every input; else by index. */
    struct port *src[MAX_CHANNELS] = {0};
    bool any_named = false;
    for (uint32_t i = 0; i < n_in; i++)
        for (uint32_t j = 0; j < n_out; j++)
            if (in[i]->channel[0] && strcmp(in[i]->channel, out[j]->channel) == 0) {
                src[i] = out[j];
                any_named = true;
            }
    for (uint32_t i = 0; i < n_in; i++) {
        if (n_out == 1)
            src[i] = out[0];
        else if (!any_named)
            src[i] = out[i % n_out];
    }
    for (uint32_t i = 0; i < n_in; i++) {
        if (!src[i])
            continue;
        struct pw_proxy *l = make_link(b, e->node_id, src[i]->id, pc->node_id, in[i]->id);
        if (l)
            e->links[e->n_links++] = l;
    }
    e->linked = true;
    if (!e->announced) {
        e->announced = true;
        note_attached(pc, e->pid);
        wac__capture_streams_changed(pc->cap, 1);
        char why[NAME_SIZE + 32];
        snprintf(why, sizeof why, "%s: %u link(s)", n->app_name, e->n_links);
        wac__stream_post(pc->cap, WAC_EVENT_STREAM_ADDED, e->pid, (uint32_t)e->serial, 0, why);
    }
}

static void remove_entry(struct pwcap *pc, struct entry *e, bool report)
{
    unlink_entry(e);
    spa_list_remove(&e->link);
    if (e->announced) {
        wac__capture_streams_changed(pc->cap, -1);
        if (report)
            wac__stream_post(pc->cap, WAC_EVENT_STREAM_REMOVED, e->pid, (uint32_t)e->serial, 0, NULL);
    }
    free(e);
}

/* Bring a running capture's links in line with the graph. */
static void reconcile(struct pwb *b, struct pwcap *pc)
{
    if (!pc->running || b->lost)
        return;
    struct node *n;
    spa_list_for_each(n, &b->nodes, link)
    {
        if (find_entry(pc, n->serial))
            continue;
        uint32_t pid;
        if (!node_owner(b, n, &pid) || !node_wanted(b, pc, n, pid))
            continue;
        struct entry *e = calloc(1, sizeof *e);
        if (!e)
            continue;
        e->serial = n->serial;
        e->node_id = n->id;
        e->pid = pid;
        spa_list_append(&pc->entries, &e->link);
    }
    struct entry *e;
    spa_list_for_each(e, &pc->entries, link) try_link(b, pc, e);
}

/* ---- capture stream teardown ---- */

/* Stop producing for good: no process() call for this capture after this. */
static void stop_locked(struct pwcap *pc)
{
    pc->running = false;
    atomic_store(&pc->active, false);
    struct entry *e, *t;
    spa_list_for_each_safe(e, t, &pc->entries, link) remove_entry(pc, e, false);
    if (pc->stream) {
        /* Disconnecting removes the node from the data loop synchronously. */
        pw_stream_disconnect(pc->stream);
        spa_hook_remove(&pc->stream_listener);
        pw_stream_destroy(pc->stream);
        pc->stream = NULL;
    }
    pc->node_id = 0;
}

/* ---- timers and deferred work (loop thread) ---- */

static void check_targets(struct pwcap *pc)
{
    if (pc->target.kind == WAC_TARGET_PID && !pc->target.exclude && !pc->root_detached) {
        bool alive;
        if (pc->has_tree) {
            wac__proctree_refresh(&pc->tree);
            alive = wac__proctree_any_alive(&pc->tree);
        } else {
            alive = wac__proc_alive(pc->target.pid);
        }
        if (!alive) {
            pc->root_detached = true;
            char why[128];
            snprintf(why, sizeof why, "pid %u%s exited; delivering silence", pc->target.pid,
                     pc->has_tree ? " and its process tree" : "");
            wac__stream_post(pc->cap, WAC_EVENT_TARGET_DETACHED, pc->target.pid, 0, 0, why);
        }
    }
    for (size_t i = 0; i < pc->n_attached;) {
        uint32_t pid = pc->attached[i];
        bool has_stream = false;
        struct entry *e;
        spa_list_for_each(e, &pc->entries, link) has_stream |= e->pid == pid;
        if (!has_stream && !wac__proc_alive(pid)) {
            pid_attached(pc, pid, true);
            char why[320];
            snprintf(why, sizeof why, "%s (pid %u) exited", pc->name, pid);
            wac__stream_post(pc->cap, WAC_EVENT_TARGET_DETACHED, pid, 0, 0, why);
            continue;
        }
        i++;
    }
}

static void handle_failures(struct pwb *b)
{
    struct pwcap *pc;
    if (b->lost && !b->lost_handled) {
        b->lost_handled = true;
        spa_list_for_each(pc, &b->captures, link)
        {
            if (!pc->running)
                continue;
            stop_locked(pc);
            /* Takes only the capture's leaf event lock: safe on this thread. */
            wac__stream_end(pc->cap, WAC_ERR_SERVER_LOST, b->lost_detail);
        }
    }
    spa_list_for_each(pc, &b->captures, link)
    {
        if (!pc->running || !pc->fail_error)
            continue;
        int error = pc->fail_error;
        char detail[sizeof pc->fail_detail];
        memcpy(detail, pc->fail_detail, sizeof detail);
        stop_locked(pc);
        wac__stream_end(pc->cap, error, detail);
    }
}

static void on_deferred(void *data, uint64_t count)
{
    struct pwb *b = data;
    handle_failures(b);
    struct pwcap *pc;
    spa_list_for_each(pc, &b->captures, link) reconcile(b, pc);
}

static void on_timer(void *data, uint64_t expirations)
{
    struct pwb *b = data;
    handle_failures(b);
    struct pwcap *pc;
    spa_list_for_each(pc, &b->captures, link)
    {
        if (!pc->running)
            continue;
        check_targets(pc);
        reconcile(b, pc);
    }
}

/* ---- registry: clients, nodes, ports ---- */

static void client_info(void *data, const struct pw_client_info *info)
{
    struct client *c = data;
    const struct spa_dict *props = info->props;
    if (!props)
        return;
    uint32_t sec_pid = prop_u32(props, PW_KEY_SEC_PID);
    uint32_t app_pid = prop_u32(props, PW_KEY_APP_PROCESS_ID);
    const char *api = spa_dict_lookup(props, PW_KEY_CLIENT_API);
    /* See the file comment: pipewire-pulse's clients carry the daemon's sec.pid. */
    if (api && strcmp(api, "pipewire-pulse") == 0 && app_pid)
        c->pid = app_pid;
    else
        c->pid = sec_pid ? sec_pid : app_pid;
    copy_prop(c->app_name, sizeof c->app_name, props, PW_KEY_APP_NAME);
    copy_prop(c->binary, sizeof c->binary, props, PW_KEY_APP_PROCESS_BINARY);
    c->have_info = true;
}

static const struct pw_client_events client_events = {
    PW_VERSION_CLIENT_EVENTS,
    .info = client_info,
};

static void node_info(void *data, const struct pw_node_info *info)
{
    struct node *n = data;
    n->state = info->state;
    n->n_output_ports = info->n_output_ports;
    if (info->props) {
        copy_prop(n->app_name, sizeof n->app_name, info->props, PW_KEY_APP_NAME);
        if (!n->prop_pid)
            n->prop_pid = prop_u32(info->props, PW_KEY_APP_PROCESS_ID);
    }
    n->have_info = true;
}

static const struct pw_node_events node_events = {
    PW_VERSION_NODE_EVENTS,
    .info = node_info,
};

static void registry_global(void *data, uint32_t id, uint32_t permissions, const char *type, uint32_t version,
                            const struct spa_dict *props)
{
    struct pwb *b = data;
    if (strcmp(type, PW_TYPE_INTERFACE_Client) == 0) {
        struct client *c = calloc(1, sizeof *c);
        if (!c)
            return;
        c->id = id;
        c->proxy = pw_registry_bind(b->registry, id, type, PW_VERSION_CLIENT, 0);
        if (!c->proxy) {
            free(c);
            return;
        }
        pw_proxy_add_object_listener(c->proxy, &c->listener, &client_events, c);
        spa_list_append(&b->clients, &c->link);
    } else if (strcmp(type, PW_TYPE_INTERFACE_Node) == 0) {
        const char *cls = props ? spa_dict_lookup(props, PW_KEY_MEDIA_CLASS) : NULL;
        if (!cls || strcmp(cls, "Stream/Output/Audio") != 0)
            return;
        struct node *n = calloc(1, sizeof *n);
        if (!n)
            return;
        n->id = id;
        n->serial = prop_u64(props, PW_KEY_OBJECT_SERIAL);
        if (!n->serial)
            n->serial = id; /* servers before object.serial */
        n->client_id = prop_u32(props, PW_KEY_CLIENT_ID);
        n->prop_pid = prop_u32(props, PW_KEY_APP_PROCESS_ID);
        copy_prop(n->app_name, sizeof n->app_name, props, PW_KEY_APP_NAME);
        n->proxy = pw_registry_bind(b->registry, id, type, PW_VERSION_NODE, 0);
        if (!n->proxy) {
            free(n);
            return;
        }
        pw_proxy_add_object_listener(n->proxy, &n->listener, &node_events, n);
        spa_list_append(&b->nodes, &n->link);
    } else if (strcmp(type, PW_TYPE_INTERFACE_Port) == 0) {
        struct port *p = calloc(1, sizeof *p);
        if (!p)
            return;
        p->id = id;
        p->node_id = prop_u32(props, PW_KEY_NODE_ID);
        const char *dir = props ? spa_dict_lookup(props, PW_KEY_PORT_DIRECTION) : NULL;
        p->output = dir && strcmp(dir, "out") == 0;
        const char *mon = props ? spa_dict_lookup(props, PW_KEY_PORT_MONITOR) : NULL;
        p->monitor = mon && strcmp(mon, "true") == 0;
        copy_prop(p->channel, sizeof p->channel, props, PW_KEY_AUDIO_CHANNEL);
        spa_list_append(&b->ports, &p->link);
    } else {
        return;
    }
    schedule(b);
}

static void registry_global_remove(void *data, uint32_t id)
{
    struct pwb *b = data;
    struct pwcap *pc;
    struct client *c = find_client(b, id);
    if (c) {
        spa_list_remove(&c->link);
        spa_hook_remove(&c->listener);
        pw_proxy_destroy(c->proxy);
        free(c);
        return;
    }
    struct node *n = find_node(b, id);
    if (n) {
        spa_list_for_each(pc, &b->captures, link)
        {
            struct entry *e = find_entry(pc, n->serial);
            if (e)
                remove_entry(pc, e, pc->running);
        }
        spa_list_remove(&n->link);
        spa_hook_remove(&n->listener);
        pw_proxy_destroy(n->proxy);
        free(n);
        schedule(b);
        return;
    }
    struct port *p;
    spa_list_for_each(p, &b->ports, link)
    {
        if (p->id != id)
            continue;
        /* A port went away (reconfigured or its node is going): relink. */
        spa_list_for_each(pc, &b->captures, link)
        {
            struct entry *e;
            spa_list_for_each(e, &pc->entries, link) if (p->node_id == pc->node_id || p->node_id == e->node_id)
                unlink_entry(e);
        }
        spa_list_remove(&p->link);
        free(p);
        schedule(b);
        return;
    }
}

static const struct pw_registry_events registry_events = {
    PW_VERSION_REGISTRY_EVENTS,
    .global = registry_global,
    .global_remove = registry_global_remove,
};

/* ---- core ---- */

static void core_done(void *data, uint32_t id, int seq)
{
    struct pwb *b = data;
    if (id == PW_ID_CORE && seq == b->sync_seq) {
        b->sync_done = true;
        pw_thread_loop_signal(b->loop, false);
    }
}

static void core_error(void *data, uint32_t id, int seq, int res, const char *message)
{
    struct pwb *b = data;
    if (id != PW_ID_CORE || res != -EPIPE)
        return; /* e.g. a link that could not be made: the target stream just stays unlinked */
    if (!b->lost) {
        b->lost = true;
        snprintf(b->lost_detail, sizeof b->lost_detail, "PipeWire connection lost: %s",
                 message ? message : spa_strerror(res));
    }
    schedule(b);
    pw_thread_loop_signal(b->loop, false);
}

static const struct pw_core_events core_events = {
    PW_VERSION_CORE_EVENTS,
    .done = core_done,
    .error = core_error,
};

/* One round trip: everything the server sent before it has been handled. */
static int roundtrip(struct pwb *b)
{
    b->sync_done = false;
    b->sync_seq = pw_core_sync(b->core, PW_ID_CORE, b->sync_seq);
    struct timespec abstime;
    pw_thread_loop_get_time(b->loop, &abstime, WAIT_S * SPA_NSEC_PER_SEC);
    while (!b->sync_done && !b->lost)
        if (pw_thread_loop_timed_wait_full(b->loop, &abstime) == -ETIMEDOUT)
            return -ETIMEDOUT;
    return b->lost ? -EPIPE : 0;
}

/* ---- connect / disconnect ---- */

static void destroy_all(struct pwb *b)
{
    if (b->loop)
        pw_thread_loop_lock(b->loop);
    struct client *c, *ct;
    spa_list_for_each_safe(c, ct, &b->clients, link)
    {
        spa_hook_remove(&c->listener);
        pw_proxy_destroy(c->proxy);
        free(c);
    }
    struct node *n, *nt;
    spa_list_for_each_safe(n, nt, &b->nodes, link)
    {
        spa_hook_remove(&n->listener);
        pw_proxy_destroy(n->proxy);
        free(n);
    }
    struct port *p, *pt;
    spa_list_for_each_safe(p, pt, &b->ports, link) free(p);
    spa_list_init(&b->clients);
    spa_list_init(&b->nodes);
    spa_list_init(&b->ports);
    if (b->registry) {
        spa_hook_remove(&b->registry_listener);
        pw_proxy_destroy((struct pw_proxy *)b->registry);
        b->registry = NULL;
    }
    if (b->core) {
        spa_hook_remove(&b->core_listener);
        pw_core_disconnect(b->core);
        b->core = NULL;
    }
    if (b->timer)
        pw_loop_destroy_source(pw_thread_loop_get_loop(b->loop), b->timer);
    if (b->deferred)
        pw_loop_destroy_source(pw_thread_loop_get_loop(b->loop), b->deferred);
    b->timer = b->deferred = NULL;
    if (b->loop)
        pw_thread_loop_unlock(b->loop);
    if (b->loop)
        pw_thread_loop_stop(b->loop);
    if (b->context)
        pw_context_destroy(b->context);
    if (b->loop)
        pw_thread_loop_destroy(b->loop);
    free(b);
}

static int pw_connect(wac_context *ctx, void **data, char *detail, size_t detail_size)
{
    pw_init(NULL, NULL);
    struct pwb *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(detail, detail_size, "no memory");
        return WAC_ERR_NO_MEMORY;
    }
    b->ctx = ctx;
    spa_list_init(&b->clients);
    spa_list_init(&b->nodes);
    spa_list_init(&b->ports);
    spa_list_init(&b->captures);

    /* Library threads must not take the host's signals. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = 0;
    b->loop = pw_thread_loop_new("wac-pipewire", NULL);
    if (b->loop)
        b->context = pw_context_new(pw_thread_loop_get_loop(b->loop), NULL, 0);
    if (!b->loop || !b->context || pw_thread_loop_start(b->loop) < 0) {
        snprintf(detail, detail_size, "cannot create the PipeWire loop and context: %s", strerror(errno));
        rc = WAC_ERR_SYSTEM;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        destroy_all(b);
        return rc;
    }

    pw_thread_loop_lock(b->loop);
    b->core = pw_context_connect(b->context, NULL, 0);
    if (!b->core) {
        int err = errno;
        const char *remote = getenv("PIPEWIRE_REMOTE");
        const char *dir = getenv("PIPEWIRE_RUNTIME_DIR");
        if (!dir || !*dir)
            dir = getenv("XDG_RUNTIME_DIR");
        snprintf(detail, detail_size, "no PipeWire server at %s/%s: %s", dir ? dir : "$XDG_RUNTIME_DIR",
                 remote && *remote ? remote : "pipewire-0", strerror(err));
        pw_thread_loop_unlock(b->loop);
        destroy_all(b);
        return WAC_ERR_BACKEND_UNAVAILABLE;
    }
    pw_core_add_listener(b->core, &b->core_listener, &core_events, b);
    b->registry = pw_core_get_registry(b->core, PW_VERSION_REGISTRY, 0);
    if (b->registry)
        pw_registry_add_listener(b->registry, &b->registry_listener, &registry_events, b);
    struct pw_loop *loop = pw_thread_loop_get_loop(b->loop);
    b->deferred = pw_loop_add_event(loop, on_deferred, b);
    b->timer = pw_loop_add_timer(loop, on_timer, b);
    if (!b->registry || !b->deferred || !b->timer) {
        snprintf(detail, detail_size, "cannot set up the PipeWire registry: %s", strerror(errno));
        pw_thread_loop_unlock(b->loop);
        destroy_all(b);
        return WAC_ERR_BACKEND;
    }
    struct timespec interval = {.tv_sec = 0, .tv_nsec = TIMER_MS * 1000000L};
    pw_loop_update_timer(loop, b->timer, &interval, &interval, false);

    /* Two round trips: the globals, then the info of the objects we bound. */
    int r = roundtrip(b);
    if (r == 0)
        r = roundtrip(b);
    if (r == 0) {
        struct pw_client *self = pw_core_get_client(b->core);
        if (self)
            b->self_client_id = pw_proxy_get_bound_id((struct pw_proxy *)self);
        if (b->self_client_id == SPA_ID_INVALID)
            b->self_client_id = 0;
    }
    pw_thread_loop_unlock(b->loop);
    if (r) {
        snprintf(detail, detail_size, "PipeWire server did not answer: %s",
                 r == -ETIMEDOUT ? "timed out after 5 s" : b->lost_detail);
        destroy_all(b);
        return WAC_ERR_BACKEND_UNAVAILABLE;
    }
    *data = b;
    return 0;
}

static void pw_disconnect(void *data)
{
    destroy_all(data);
}

/* ---- the capture stream ---- */

static void on_process(void *data)
{
    struct pwcap *pc = data;
    struct pw_buffer *pb = pw_stream_dequeue_buffer(pc->stream);
    if (!pb)
        return;
    struct spa_buffer *buf = pb->buffer;
    if (atomic_load_explicit(&pc->active, memory_order_acquire) && buf->n_datas > 0 && buf->datas[0].data &&
        buf->datas[0].chunk) {
        struct spa_data *d = &buf->datas[0];
        uint32_t offset = SPA_MIN(d->chunk->offset, d->maxsize);
        uint32_t size = SPA_MIN(d->chunk->size, d->maxsize - offset);
        uint32_t frames = size / pc->pw_stride;
        const uint8_t *src = SPA_PTROFF(d->data, offset, const uint8_t);
        /* The quantum can change while we run (drivers come and go): the
         * core's gap detection follows it. An atomic store: RT-safe. */
        if (frames)
            wac__capture_set_period(pc->cap, (int64_t)frames * 1000000000 / pc->format.rate);
        if (frames && pc->direct) {
            wac__stream_push(pc->cap, src, frames, 0);
        } else if (frames) {
            /* Average PipeWire's channels into the delivered mono frames. */
            int64_t t0 = wac__now_ns() - (int64_t)frames * 1000000000 / pc->format.rate;
            const float *in = (const float *)(const void *)src;
            uint32_t done = 0;
            while (done < frames) {
                uint32_t n = SPA_MIN(frames - done, (uint32_t)SCRATCH_FRAMES);
                float *outf = (float *)(void *)pc->scratch;
                int16_t *outs = (int16_t *)(void *)pc->scratch;
                for (uint32_t i = 0; i < n; i++) {
                    float v = 0.0f;
                    for (uint32_t c = 0; c < pc->pw_channels; c++)
                        v += in[c];
                    v /= (float)pc->pw_channels;
                    in += pc->pw_channels;
                    if (pc->format.sample == WAC_SAMPLE_F32) {
                        outf[i] = v;
                    } else {
                        float s = v * 32767.0f;
                        outs[i] = (int16_t)(s >= 32767.0f ? 32767 : s <= -32768.0f ? -32768 : lrintf(s));
                    }
                }
                wac__stream_push(pc->cap, pc->scratch, n,
                                 t0 + (int64_t)done * 1000000000 / pc->format.rate);
                done += n;
            }
        }
    }
    pw_stream_queue_buffer(pc->stream, pb);
}

static void on_state_changed(void *data, enum pw_stream_state old, enum pw_stream_state state, const char *error)
{
    struct pwcap *pc = data;
    struct pwb *b = pc->b;
    pc->state = state;
    if (state == PW_STREAM_STATE_PAUSED || state == PW_STREAM_STATE_STREAMING) {
        uint32_t id = pw_stream_get_node_id(pc->stream);
        if (id != SPA_ID_INVALID && id != pc->node_id) {
            pc->node_id = id;
            schedule(b);
        }
    }
    if (state == PW_STREAM_STATE_ERROR && pc->running && !pc->fail_error) {
        pc->fail_error = b->lost ? WAC_ERR_SERVER_LOST : WAC_ERR_BACKEND;
        snprintf(pc->fail_detail, sizeof pc->fail_detail, "PipeWire capture stream failed: %s",
                 error ? error : "unknown error");
        schedule(b);
    }
    pw_thread_loop_signal(b->loop, false);
}

static void on_param_changed(void *data, uint32_t id, const struct spa_pod *param)
{
    struct pwcap *pc = data;
    if (id != SPA_PARAM_Format || !param)
        return;
    uint32_t media_type, media_subtype;
    struct spa_audio_info_raw info;
    spa_zero(info);
    bool ok = spa_format_parse(param, &media_type, &media_subtype) >= 0 && media_type == SPA_MEDIA_TYPE_audio &&
              media_subtype == SPA_MEDIA_SUBTYPE_raw && spa_format_audio_raw_parse(param, &info) >= 0;
    uint32_t want_fmt =
        pc->direct && pc->format.sample == WAC_SAMPLE_S16 ? SPA_AUDIO_FORMAT_S16 : SPA_AUDIO_FORMAT_F32;
    if (ok && info.format == want_fmt && info.rate == pc->format.rate && info.channels == pc->pw_channels)
        return;
    if (pc->running && !pc->fail_error) {
        pc->fail_error = WAC_ERR_FORMAT_UNSUPPORTED;
        snprintf(pc->fail_detail, sizeof pc->fail_detail,
                 "PipeWire negotiated %u Hz, %u channels, format %u instead of %u Hz, %u channels, format %u",
                 info.rate, info.channels, info.format, pc->format.rate, pc->pw_channels, want_fmt);
        schedule(pc->b);
    }
}

/* WirePlumber restores a stream's volume by application.name: a volume a user
 * once gave some capture would scale ours. Put it back to unity. */
static void on_control_info(void *data, uint32_t id, const struct pw_stream_control *control)
{
    struct pwcap *pc = data;
    if (!pc->stream || !control || control->n_values == 0)
        return;
    float values[SPA_AUDIO_MAX_CHANNELS];
    uint32_t n = SPA_MIN(control->n_values, (uint32_t)SPA_AUDIO_MAX_CHANNELS);
    bool reset = false;
    float unity = id == SPA_PROP_mute ? 0.0f : 1.0f;
    if (id != SPA_PROP_volume && id != SPA_PROP_mute && id != SPA_PROP_channelVolumes)
        return;
    for (uint32_t i = 0; i < n; i++) {
        reset |= control->values[i] != unity;
        values[i] = unity;
    }
    if (reset)
        pw_stream_set_control(pc->stream, id, n, values, 0);
}

static const struct pw_stream_events stream_events = {
    PW_VERSION_STREAM_EVENTS,
    .state_changed = on_state_changed,
    .param_changed = on_param_changed,
    .control_info = on_control_info,
    .process = on_process,
};

static void fill_positions(uint32_t channels, uint32_t *pos)
{
    static const uint32_t layouts[MAX_CHANNELS][MAX_CHANNELS] = {
        {SPA_AUDIO_CHANNEL_MONO},
        {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR},
        {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR, SPA_AUDIO_CHANNEL_FC},
        {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR, SPA_AUDIO_CHANNEL_RL, SPA_AUDIO_CHANNEL_RR},
        {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR, SPA_AUDIO_CHANNEL_FC, SPA_AUDIO_CHANNEL_RL,
         SPA_AUDIO_CHANNEL_RR},
        {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR, SPA_AUDIO_CHANNEL_FC, SPA_AUDIO_CHANNEL_LFE,
         SPA_AUDIO_CHANNEL_RL, SPA_AUDIO_CHANNEL_RR},
        {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR, SPA_AUDIO_CHANNEL_FC, SPA_AUDIO_CHANNEL_LFE,
         SPA_AUDIO_CHANNEL_RC, SPA_AUDIO_CHANNEL_SL, SPA_AUDIO_CHANNEL_SR},
        {SPA_AUDIO_CHANNEL_FL, SPA_AUDIO_CHANNEL_FR, SPA_AUDIO_CHANNEL_FC, SPA_AUDIO_CHANNEL_LFE,
         SPA_AUDIO_CHANNEL_RL, SPA_AUDIO_CHANNEL_RR, SPA_AUDIO_CHANNEL_SL, SPA_AUDIO_CHANNEL_SR},
    };
    memcpy(pos, layouts[channels - 1], channels * sizeof *pos);
}

static int pw_capture_open(void *data, wac_capture *cap, void **cap_data)
{
    struct pwb *b = data;
    const wac_capture_config *c = wac__capture_config(cap);
    pw_thread_loop_lock(b->loop);
    bool lost = b->lost;
    pw_thread_loop_unlock(b->loop);
    if (lost)
        return wac__capture_error(cap, WAC_ERR_SERVER_LOST, "%s", b->lost_detail);

    struct pwcap *pc = calloc(1, sizeof *pc);
    if (!pc)
        return wac__capture_error(cap, WAC_ERR_NO_MEMORY, "no memory");
    pc->b = b;
    pc->cap = cap;
    pc->target = c->target;
    if (c->target.kind == WAC_TARGET_NAME && c->target.name)
        snprintf(pc->name, sizeof pc->name, "%s", c->target.name);
    pc->target.name = pc->name;
    pc->format = c->format;
    pc->direct = c->format.channels > 1;
    pc->pw_channels = pc->direct ? c->format.channels : 2;
    pc->pw_stride = pc->pw_channels * (pc->direct && c->format.sample == WAC_SAMPLE_S16 ? 2u : 4u);
    spa_list_init(&pc->entries);
    if (c->target.kind == WAC_TARGET_PID && c->target.include_tree) {
        if (wac__proctree_init(&pc->tree, c->target.pid)) {
            free(pc);
            return wac__capture_error(cap, WAC_ERR_NO_MEMORY, "no memory");
        }
        pc->has_tree = true;
        wac__proctree_refresh(&pc->tree);
    }
    if (!pc->direct) {
        pc->scratch = malloc((size_t)SCRATCH_FRAMES * wac__capture_frame_bytes(cap));
        if (!pc->scratch) {
            if (pc->has_tree)
                wac__proctree_free(&pc->tree);
            free(pc);
            return wac__capture_error(cap, WAC_ERR_NO_MEMORY, "no memory");
        }
    }
    /* The graph's quantum is not known yet: assume the largest usual one. */
    wac__capture_set_period(cap, (int64_t)8192 * 1000000000 / 48000);
    pw_thread_loop_lock(b->loop);
    spa_list_append(&b->captures, &pc->link);
    pw_thread_loop_unlock(b->loop);
    *cap_data = pc;
    return 0;
}

static int start_locked(struct pwcap *pc)
{
    struct pwb *b = pc->b;
    const wac_capture_config *c = wac__capture_config(pc->cap);
    if (b->lost)
        return wac__capture_error(pc->cap, WAC_ERR_SERVER_LOST, "%s", b->lost_detail);
    struct pw_properties *props =
        pw_properties_new(PW_KEY_MEDIA_TYPE, "Audio", PW_KEY_MEDIA_CATEGORY, "Capture", PW_KEY_MEDIA_NAME,
                          "WAC capture", PW_KEY_NODE_NAME, "wac-capture", PW_KEY_NODE_AUTOCONNECT, "false",
                          "node.always-process", "true", NULL);
    if (!props)
        return wac__capture_error(pc->cap, WAC_ERR_NO_MEMORY, "no memory");
    if (c->latency_ms > 0)
        pw_properties_setf(props, PW_KEY_NODE_LATENCY, "%u/%u",
                           SPA_MAX(1u, (uint32_t)((uint64_t)c->latency_ms * pc->format.rate / 1000)),
                           pc->format.rate);
    pc->stream = pw_stream_new(b->core, "wac-capture", props); /* takes props */
    if (!pc->stream)
        return wac__capture_error(pc->cap, WAC_ERR_BACKEND, "cannot create a PipeWire stream: %s", strerror(errno));
    pw_stream_add_listener(pc->stream, &pc->stream_listener, &stream_events, pc);

    uint8_t buffer[1024];
    struct spa_pod_builder builder = SPA_POD_BUILDER_INIT(buffer, sizeof buffer);
    struct spa_audio_info_raw info;
    spa_zero(info);
    info.format = pc->direct && pc->format.sample == WAC_SAMPLE_S16 ? SPA_AUDIO_FORMAT_S16 : SPA_AUDIO_FORMAT_F32;
    info.rate = pc->format.rate;
    info.channels = pc->pw_channels;
    fill_positions(pc->pw_channels, info.position);
    const struct spa_pod *params[1];
    params[0] = spa_format_audio_raw_build(&builder, SPA_PARAM_EnumFormat, &info);

    pc->running = true;
    atomic_store(&pc->active, true);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = pw_stream_connect(pc->stream, PW_DIRECTION_INPUT, PW_ID_ANY,
                              PW_STREAM_FLAG_MAP_BUFFERS | PW_STREAM_FLAG_RT_PROCESS, params, 1);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r < 0)
        return wac__capture_error(pc->cap, WAC_ERR_BACKEND, "cannot connect the PipeWire stream: %s",
                                  spa_strerror(r));
    /* Wait for the node to exist on the server: then its id is known. */
    struct timespec abstime;
    pw_thread_loop_get_time(b->loop, &abstime, WAIT_S * SPA_NSEC_PER_SEC);
    while (!pc->node_id && pc->state != PW_STREAM_STATE_ERROR && !b->lost) {
        if (pw_thread_loop_timed_wait_full(b->loop, &abstime) == -ETIMEDOUT)
            return wac__capture_error(pc->cap, WAC_ERR_BACKEND,
                                      "the PipeWire capture stream did not come up within %d s", WAIT_S);
    }
    if (b->lost)
        return wac__capture_error(pc->cap, WAC_ERR_SERVER_LOST, "%s", b->lost_detail);
    if (pc->state == PW_STREAM_STATE_ERROR)
        return wac__capture_error(pc->cap, WAC_ERR_BACKEND, "%s", pc->fail_detail);

    if (pc->target.kind == WAC_TARGET_PID && !pc->target.exclude) {
        uint32_t streams = 0;
        struct node *n;
        spa_list_for_each(n, &b->nodes, link)
        {
            uint32_t pid;
            streams += node_owner(b, n, &pid) && node_wanted(b, pc, n, pid);
        }
        char why[128];
        if (streams)
            snprintf(why, sizeof why, "pid %u: %u audio stream(s)", pc->target.pid, streams);
        else
            snprintf(why, sizeof why, "pid %u plays no audio yet: delivering silence until it does", pc->target.pid);
        wac__stream_post(pc->cap, WAC_EVENT_TARGET_ATTACHED, pc->target.pid, 0, 0, why);
    }
    reconcile(b, pc);
    return 0;
}

static int pw_capture_start(void *cap_data)
{
    struct pwcap *pc = cap_data;
    pw_thread_loop_lock(pc->b->loop);
    int rc = start_locked(pc);
    pw_thread_loop_unlock(pc->b->loop);
    return rc;
}

static void pw_capture_stop(void *cap_data)
{
    struct pwcap *pc = cap_data;
    pw_thread_loop_lock(pc->b->loop);
    stop_locked(pc);
    pw_thread_loop_unlock(pc->b->loop);
}

static void pw_capture_close(void *cap_data)
{
    struct pwcap *pc = cap_data;
    pw_thread_loop_lock(pc->b->loop);
    stop_locked(pc);
    spa_list_remove(&pc->link);
    pw_thread_loop_unlock(pc->b->loop);
    if (pc->has_tree)
        wac__proctree_free(&pc->tree);
    free(pc->attached);
    free(pc->scratch);
    free(pc);
}

/* ---- sessions ---- */

struct session {
    uint32_t pid;
    uint32_t streams;
    bool playing;
    char app_name[NAME_SIZE];
    char binary[NAME_SIZE];
};

static int pw_list_sessions(void *data, struct wac__session_list_builder *list)
{
    struct pwb *b = data;
    pw_thread_loop_lock(b->loop);
    if (b->lost) {
        pw_thread_loop_unlock(b->loop);
        return WAC_ERR_SERVER_LOST;
    }
    size_t count = 0, n_nodes = 0;
    struct node *n;
    spa_list_for_each(n, &b->nodes, link) n_nodes++;
    struct session *s = calloc(n_nodes ? n_nodes : 1, sizeof *s);
    if (!s) {
        pw_thread_loop_unlock(b->loop);
        return WAC_ERR_NO_MEMORY;
    }
    spa_list_for_each(n, &b->nodes, link)
    {
        uint32_t pid = 0;
        node_owner(b, n, &pid);
        if (b->self_client_id && n->client_id == b->self_client_id)
            continue;
        size_t i;
        for (i = 0; i < count; i++)
            if (s[i].pid == pid)
                break;
        if (i == count) {
            count++;
            s[i].pid = pid;
            struct client *c = find_client(b, n->client_id);
            snprintf(s[i].app_name, sizeof s[i].app_name, "%s", n->app_name[0] ? n->app_name : c ? c->app_name : "");
            if (c)
                snprintf(s[i].binary, sizeof s[i].binary, "%s", c->binary);
        }
        s[i].streams++;
        s[i].playing |= n->state == PW_NODE_STATE_RUNNING;
    }
    pw_thread_loop_unlock(b->loop);
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        char exe[256];
        if (s[i].pid)
            wac__proc_exe_name(s[i].pid, exe, sizeof exe);
        else
            exe[0] = 0;
        rc = wac__session_list_add(list, s[i].pid, exe[0] ? exe : s[i].binary, s[i].app_name, s[i].streams,
                                   s[i].playing);
    }
    free(s);
    return rc;
}

const struct wac__backend wac__backend_pipewire = {
    .name = "pipewire",
    .automatic = true,
    .connect = pw_connect,
    .disconnect = pw_disconnect,
    .capture_open = pw_capture_open,
    .capture_start = pw_capture_start,
    .capture_stop = pw_capture_stop,
    .capture_close = pw_capture_close,
    .list_sessions = pw_list_sessions,
    .inject = NULL,
};
