/* mirror.c — the PipeWire backend's view of the server (libpipewire-0.3,
 * tested with 0.3.65): the connection, the registry of clients, nodes and
 * ports, timers and deferred work, and the session listing; see mirror.h. A
 * capture (its stream, the links into it, the process callback) is in
 * capture.c, which listens to this file.
 *
 * Who owns a stream. Node client.id -> the client, bound to read its full
 * properties. pipewire.sec.pid comes from the kernel's peer credentials and is
 * trusted, except for clients whose client.api is "pipewire-pulse": those are
 * PulseAudio-protocol applications proxied by the pipewire-pulse daemon, whose
 * sec.pid is the daemon's own, so application.process.id (the application's
 * own claim, which pipewire-pulse copies from the pulse client: a pid in its
 * own namespace, mapped to ours by os/sandbox.h) is used. With
 * no client at all, the node's application.process.id is the fallback.
 *
 * System target. Every application output stream (Stream/Output/Audio) is
 * linked, as the exclude mode does with an empty exclusion. This follows the
 * streams rather than one sink: a change of default sink needs no relinking,
 * and nothing but application audio is captured (sink volume is not applied).
 *
 * Reconnecting (wac_context_set_reconnect). After a loss the captures drop
 * their streams and links (they were the old core's), a new core is tried
 * with a growing wait, and two round trips on it fill the tables again
 * before the captures hear `restored` and make new streams.
 *
 * Objects are tracked by object.serial where identity matters (ids are reused
 * at once). Threads: everything here runs on the pw_thread_loop thread or
 * under its lock. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spa/param/props.h>
#include <spa/pod/iter.h>
#include <spa/utils/result.h>

#include "os/os.h"
#include "alloc.h"
#include "os/sandbox.h"
#include "backend/pipewire/mirror.h"
#include "attach/session-group.h"

#define TIMER_MS 500
/* Reconnecting: the first try soon after a loss, then each wait twice the
 * last, up to two seconds. */
#define RETRY_MIN_NS 100000000LL
#define RETRY_MAX_NS 2000000000LL

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

void wac__pipewire_mirror_schedule(struct wac__pipewire_mirror *b)
{
    if (b->deferred)
        pw_loop_signal_event(pw_thread_loop_get_loop(b->loop), b->deferred);
}

static struct wac__pipewire_client *find_client(struct wac__pipewire_mirror *b, uint32_t id)
{
    struct wac__pipewire_client *c;
    spa_list_for_each(c, &b->clients, link) if (c->id == id) return c;
    return NULL;
}

bool wac__pipewire_device_name_is_default(const char *name)
{
    return !name || !name[0] || strcmp(name, "default") == 0;
}

struct wac__pipewire_device *wac__pipewire_mirror_find_device(struct wac__pipewire_mirror *b, const char *name)
{
    const char *want = name;
    bool monitor = false;
    char base[WAC__PIPEWIRE_NAME_SIZE + 16];
    if (wac__pipewire_device_name_is_default(name)) {
        want = b->default_source;
    } else if (strcmp(name, "default.monitor") == 0) {
        want = b->default_sink;
        monitor = true;
    } else {
        size_t len = strlen(name);
        if (len > 8 && len - 8 < sizeof base && strcmp(name + len - 8, ".monitor") == 0) {
            memcpy(base, name, len - 8);
            base[len - 8] = '\0';
            want = base;
            monitor = true;
        }
    }
    if (!want[0])
        return NULL;
    struct wac__pipewire_device *d;
    spa_list_for_each(d, &b->devices, link) if (d->sink == monitor && strcmp(d->name, want) == 0) return d;
    /* A source whose own name ends in ".monitor" (a virtual one) is taken by name. */
    if (monitor && !wac__pipewire_device_name_is_default(name))
        spa_list_for_each(d, &b->devices, link) if (!d->sink && strcmp(d->name, name) == 0) return d;
    return NULL;
}

bool wac__pipewire_mirror_device_is_default(const struct wac__pipewire_mirror *b, const struct wac__pipewire_device *d)
{
    return strcmp(d->name, d->sink ? b->default_sink : b->default_source) == 0;
}

struct wac__pipewire_node *wac__pipewire_mirror_find_serial(struct wac__pipewire_mirror *b, uint64_t serial)
{
    struct wac__pipewire_node *n;
    spa_list_for_each(n, &b->nodes, link) if (n->serial == serial) return n;
    return NULL;
}

struct wac__pipewire_node *wac__pipewire_mirror_find_node(struct wac__pipewire_mirror *b, uint32_t id)
{
    struct wac__pipewire_node *n;
    spa_list_for_each(n, &b->nodes, link) if (n->id == id) return n;
    return NULL;
}

bool wac__pipewire_mirror_node_owner(struct wac__pipewire_mirror *b, const struct wac__pipewire_node *n, uint32_t *pid)
{
    struct wac__pipewire_client *c = n->client_id ? find_client(b, n->client_id) : NULL;
    if (c) {
        if (!c->have_info)
            return false;
        /* An owner the mapping could not tell apart stays unknown: the
         * node's own application.process.id is the same namespace claim. */
        *pid = c->pid || c->pid_mapped ? c->pid : n->prop_pid;
        return true;
    }
    *pid = n->prop_pid;
    return true;
}

bool wac__pipewire_mirror_node_is_own(const struct wac__pipewire_mirror *b, const struct wac__pipewire_node *n)
{
    return b->self_client_id && n->client_id == b->self_client_id;
}

void wac__pipewire_mirror_add_listener(struct wac__pipewire_mirror *b, struct spa_hook *hook,
                                 const struct wac__pipewire_mirror_events *events, void *data)
{
    spa_hook_list_append(&b->listeners, hook, events, data);
}

/* ---- timers and deferred work (loop thread) ---- */

/* The loss is told once, before anything else the listeners hear. */
static void tell_lost(struct wac__pipewire_mirror *b)
{
    if (b->lost && !b->lost_handled) {
        b->lost_handled = true;
        spa_hook_list_call(&b->listeners, struct wac__pipewire_mirror_events, lost, 0);
    }
}

static void arm_retry(struct wac__pipewire_mirror *b);

static void on_deferred(void *data, uint64_t count)
{
    struct wac__pipewire_mirror *b = data;
    tell_lost(b);
    if (b->lost && atomic_load(&b->reconnect) && !b->retry_pending && !b->restoring)
        arm_retry(b);
    spa_hook_list_call(&b->listeners, struct wac__pipewire_mirror_events, changed, 0);
}

static void on_timer(void *data, uint64_t expirations)
{
    struct wac__pipewire_mirror *b = data;
    tell_lost(b);
    spa_hook_list_call(&b->listeners, struct wac__pipewire_mirror_events, tick, 0);
}

/* ---- registry: clients, nodes, ports ---- */

static void client_info(void *data, const struct pw_client_info *info)
{
    struct wac__pipewire_client *c = data;
    const struct spa_dict *props = info->props;
    if (!props)
        return;
    uint32_t sec_pid = prop_u32(props, PW_KEY_SEC_PID);
    uint32_t app_pid = prop_u32(props, PW_KEY_APP_PROCESS_ID);
    const char *api = spa_dict_lookup(props, PW_KEY_CLIENT_API);
    copy_prop(c->app_name, sizeof c->app_name, props, PW_KEY_APP_NAME);
    copy_prop(c->binary, sizeof c->binary, props, PW_KEY_APP_PROCESS_BINARY);
    /* See the file comment: pipewire-pulse's clients carry the daemon's
     * sec.pid, and their own claim is a pid in their namespace (sandbox.h). */
    c->pid_mapped = api && strcmp(api, "pipewire-pulse") == 0 && app_pid;
    if (c->pid_mapped)
        c->pid = wac__sandbox_host_pid(app_pid, c->binary, NULL);
    else
        c->pid = sec_pid ? sec_pid : app_pid;
    c->have_info = true;
}

static const struct pw_client_events client_events = {
    PW_VERSION_CLIENT_EVENTS,
    .info = client_info,
};

static void node_info(void *data, const struct pw_node_info *info)
{
    struct wac__pipewire_node *n = data;
    n->state = info->state;
    n->n_output_ports = info->n_output_ports;
    if (info->props) {
        copy_prop(n->app_name, sizeof n->app_name, info->props, PW_KEY_APP_NAME);
        if (!n->prop_pid)
            n->prop_pid = prop_u32(info->props, PW_KEY_APP_PROCESS_ID);
    }
    n->have_info = true;
}

/* Props of an application stream: what its volume controls set. */
static void node_param(void *data, int seq, uint32_t id, uint32_t index, uint32_t next, const struct spa_pod *param)
{
    struct wac__pipewire_node *n = data;
    if (id != SPA_PARAM_Props || !param || !spa_pod_is_object_type(param, SPA_TYPE_OBJECT_Props))
        return;
    const struct spa_pod_object *obj = (const struct spa_pod_object *)param;
    const struct spa_pod_prop *prop;
    SPA_POD_OBJECT_FOREACH(obj, prop)
    {
        switch (prop->key) {
        case SPA_PROP_volume: {
            float v;
            if (spa_pod_get_float(&prop->value, &v) == 0)
                n->volume = v;
            break;
        }
        case SPA_PROP_mute: {
            bool muted;
            if (spa_pod_get_bool(&prop->value, &muted) == 0)
                n->mute = muted;
            break;
        }
        case SPA_PROP_channelVolumes: {
            float v[WAC__PIPEWIRE_MAX_CHANNELS];
            uint32_t count = spa_pod_copy_array(&prop->value, SPA_TYPE_Float, v, SPA_N_ELEMENTS(v));
            if (count == 0)
                break;
            n->n_channel_volumes = count;
            n->channel_max = 0.0f;
            for (uint32_t i = 0; i < count; i++)
                if (v[i] > n->channel_max)
                    n->channel_max = v[i];
            break;
        }
        default: break;
        }
    }
    n->have_props = true;
}

static const struct pw_node_events node_events = {
    PW_VERSION_NODE_EVENTS,
    .info = node_info,
    .param = node_param,
};

float wac__pipewire_node_level(const struct wac__pipewire_node *n)
{
    if (!n->have_props)
        return -1.0f;
    return (n->n_channel_volumes ? n->channel_max : 1.0f) * n->volume;
}

static void device_info(void *data, const struct pw_node_info *info)
{
    struct wac__pipewire_device *d = data;
    d->n_output_ports = info->n_output_ports;
    if (info->props) {
        const char *desc = spa_dict_lookup(info->props, PW_KEY_NODE_DESCRIPTION);
        if (desc)
            snprintf(d->description, sizeof d->description, "%s", desc);
        uint32_t rate = prop_u32(info->props, PW_KEY_AUDIO_RATE), channels = prop_u32(info->props, PW_KEY_AUDIO_CHANNELS);
        if (rate)
            d->rate = rate;
        if (channels)
            d->channels = channels;
    }
    d->have_info = true;
}

static const struct pw_node_events device_events = {
    PW_VERSION_NODE_EVENTS,
    .info = device_info,
};

/* The "default" metadata's default.audio.source / .sink: {"name":"..."}. */
static void default_name(char *dst, size_t size, const char *value)
{
    dst[0] = '\0';
    const char *at = value ? strstr(value, "\"name\"") : NULL;
    if (!at || !(at = strchr(at + 6, '"')))
        return;
    at++;
    size_t n = 0;
    while (at[n] && at[n] != '"' && n + 1 < size)
        n++;
    memcpy(dst, at, n);
    dst[n] = '\0';
}

static int metadata_property(void *data, uint32_t subject, const char *key, const char *type, const char *value)
{
    struct wac__pipewire_mirror *b = data;
    if (subject != PW_ID_CORE)
        return 0;
    if (!key) { /* everything cleared */
        b->default_source[0] = b->default_sink[0] = '\0';
    } else if (strcmp(key, "default.audio.source") == 0) {
        default_name(b->default_source, sizeof b->default_source, value);
    } else if (strcmp(key, "default.audio.sink") == 0) {
        default_name(b->default_sink, sizeof b->default_sink, value);
    } else {
        return 0;
    }
    wac__pipewire_mirror_schedule(b);
    return 0;
}

static const struct pw_metadata_events metadata_events = {
    PW_VERSION_METADATA_EVENTS,
    .property = metadata_property,
};

/* An object the server announced that the tables had no memory for: the
 * registry will not announce it again, so the tables stay incomplete until a
 * new connection (a reconnect, a new context). Listings then fail with
 * NO_MEMORY, and the captures say so (wac__attach_engine_missed). */
static void missed(struct wac__pipewire_mirror *b)
{
    b->missed++;
    wac__pipewire_mirror_schedule(b);
}

static void add_device(struct wac__pipewire_mirror *b, uint32_t id, const char *type, const struct spa_dict *props,
                       bool sink)
{
    struct wac__pipewire_device *d = wac__calloc(1, sizeof *d);
    if (!d) {
        missed(b);
        return;
    }
    d->id = id;
    d->serial = prop_u64(props, PW_KEY_OBJECT_SERIAL);
    if (!d->serial)
        d->serial = id;
    d->sink = sink;
    copy_prop(d->name, sizeof d->name, props, PW_KEY_NODE_NAME);
    copy_prop(d->description, sizeof d->description, props, PW_KEY_NODE_DESCRIPTION);
    d->proxy = pw_registry_bind(b->registry, id, type, PW_VERSION_NODE, 0);
    if (!d->proxy) {
        wac__free(d);
        return;
    }
    pw_proxy_add_object_listener(d->proxy, &d->listener, &device_events, d);
    spa_list_append(&b->devices, &d->link);
}

static void registry_global(void *data, uint32_t id, uint32_t permissions, const char *type, uint32_t version,
                            const struct spa_dict *props)
{
    struct wac__pipewire_mirror *b = data;
    if (strcmp(type, PW_TYPE_INTERFACE_Metadata) == 0) {
        const char *name = props ? spa_dict_lookup(props, PW_KEY_METADATA_NAME) : NULL;
        if (b->metadata || !name || strcmp(name, "default") != 0)
            return;
        b->metadata = pw_registry_bind(b->registry, id, type, PW_VERSION_METADATA, 0);
        if (b->metadata)
            pw_proxy_add_object_listener(b->metadata, &b->metadata_listener, &metadata_events, b);
        return;
    }
    if (strcmp(type, PW_TYPE_INTERFACE_Client) == 0) {
        struct wac__pipewire_client *c = wac__calloc(1, sizeof *c);
        if (!c) {
            missed(b);
            return;
        }
        c->id = id;
        c->proxy = pw_registry_bind(b->registry, id, type, PW_VERSION_CLIENT, 0);
        if (!c->proxy) {
            wac__free(c);
            return;
        }
        pw_proxy_add_object_listener(c->proxy, &c->listener, &client_events, c);
        spa_list_append(&b->clients, &c->link);
    } else if (strcmp(type, PW_TYPE_INTERFACE_Node) == 0) {
        const char *cls = props ? spa_dict_lookup(props, PW_KEY_MEDIA_CLASS) : NULL;
        if (cls && (strcmp(cls, "Audio/Source") == 0 || strcmp(cls, "Audio/Source/Virtual") == 0 ||
                    strcmp(cls, "Audio/Sink") == 0 || strcmp(cls, "Audio/Duplex") == 0)) {
            add_device(b, id, type, props, strcmp(cls, "Audio/Sink") == 0);
            wac__pipewire_mirror_schedule(b);
            return;
        }
        if (!cls || strcmp(cls, "Stream/Output/Audio") != 0)
            return;
        struct wac__pipewire_node *n = wac__calloc(1, sizeof *n);
        if (!n) {
            missed(b);
            return;
        }
        n->id = id;
        n->serial = prop_u64(props, PW_KEY_OBJECT_SERIAL);
        if (!n->serial)
            n->serial = id; /* servers before object.serial */
        n->client_id = prop_u32(props, PW_KEY_CLIENT_ID);
        n->prop_pid = prop_u32(props, PW_KEY_APP_PROCESS_ID);
        copy_prop(n->app_name, sizeof n->app_name, props, PW_KEY_APP_NAME);
        n->proxy = pw_registry_bind(b->registry, id, type, PW_VERSION_NODE, 0);
        if (!n->proxy) {
            wac__free(n);
            return;
        }
        pw_proxy_add_object_listener(n->proxy, &n->listener, &node_events, n);
        n->volume = 1.0f;
        n->channel_max = 1.0f;
        uint32_t props_id = SPA_PARAM_Props;
        pw_node_subscribe_params((struct pw_node *)n->proxy, &props_id, 1);
        spa_list_append(&b->nodes, &n->link);
    } else if (strcmp(type, PW_TYPE_INTERFACE_Port) == 0) {
        struct wac__pipewire_port *p = wac__calloc(1, sizeof *p);
        if (!p) {
            missed(b);
            return;
        }
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
    wac__pipewire_mirror_schedule(b);
}

static void registry_global_remove(void *data, uint32_t id)
{
    struct wac__pipewire_mirror *b = data;
    struct wac__pipewire_client *c = find_client(b, id);
    if (c) {
        spa_list_remove(&c->link);
        spa_hook_remove(&c->listener);
        pw_proxy_destroy(c->proxy);
        wac__free(c);
        return;
    }
    struct wac__pipewire_node *n = wac__pipewire_mirror_find_node(b, id);
    if (n) {
        spa_hook_list_call(&b->listeners, struct wac__pipewire_mirror_events, node_removed, 0, n);
        spa_list_remove(&n->link);
        spa_hook_remove(&n->listener);
        pw_proxy_destroy(n->proxy);
        wac__free(n);
        wac__pipewire_mirror_schedule(b);
        return;
    }
    struct wac__pipewire_device *d;
    spa_list_for_each(d, &b->devices, link)
    {
        if (d->id != id)
            continue;
        spa_hook_list_call(&b->listeners, struct wac__pipewire_mirror_events, device_removed, 0, d);
        spa_list_remove(&d->link);
        spa_hook_remove(&d->listener);
        pw_proxy_destroy(d->proxy);
        wac__free(d);
        wac__pipewire_mirror_schedule(b);
        return;
    }
    if (b->metadata && id == pw_proxy_get_bound_id(b->metadata)) {
        spa_hook_remove(&b->metadata_listener);
        pw_proxy_destroy(b->metadata);
        b->metadata = NULL;
        b->default_source[0] = b->default_sink[0] = '\0';
        wac__pipewire_mirror_schedule(b);
        return;
    }
    struct wac__pipewire_port *p;
    spa_list_for_each(p, &b->ports, link)
    {
        if (p->id != id)
            continue;
        /* A port went away (reconfigured or its node is going): relink. */
        spa_hook_list_call(&b->listeners, struct wac__pipewire_mirror_events, port_removed, 0, p);
        spa_list_remove(&p->link);
        wac__free(p);
        wac__pipewire_mirror_schedule(b);
        return;
    }
}

static const struct pw_registry_events registry_events = {
    PW_VERSION_REGISTRY_EVENTS,
    .global = registry_global,
    .global_remove = registry_global_remove,
};

/* ---- core ---- */

static void finish_restore(struct wac__pipewire_mirror *b);

static void core_done(void *data, uint32_t id, int seq)
{
    struct wac__pipewire_mirror *b = data;
    if (b->restoring && id == PW_ID_CORE && seq == b->restore_seq) {
        /* The globals, then the info of the objects bound on them. */
        if (b->restore_step++ == 0)
            b->restore_seq = pw_core_sync(b->core, PW_ID_CORE, b->restore_seq);
        else
            finish_restore(b);
        return;
    }
    if (id == PW_ID_CORE && seq == b->sync_seq) {
        b->sync_done = true;
        pw_thread_loop_signal(b->loop, false);
    }
}

static void core_error(void *data, uint32_t id, int seq, int res, const char *message)
{
    struct wac__pipewire_mirror *b = data;
    if (id != PW_ID_CORE || res != -EPIPE)
        return; /* e.g. a link that could not be made: the target stream just stays unlinked */
    if (b->restoring) {
        /* The new connection failed before it was whole: again later. */
        b->restoring = false;
        arm_retry(b);
        return;
    }
    if (!b->lost) {
        b->lost = true;
        snprintf(b->lost_detail, sizeof b->lost_detail, "PipeWire connection lost: %s",
                 message ? message : spa_strerror(res));
    }
    wac__pipewire_mirror_schedule(b);
    pw_thread_loop_signal(b->loop, false);
}

static const struct pw_core_events core_events = {
    PW_VERSION_CORE_EVENTS,
    .done = core_done,
    .error = core_error,
};

/* One round trip: everything the server sent before it has been handled. */
int wac__pipewire_mirror_roundtrip(struct wac__pipewire_mirror *b)
{
    b->sync_done = false;
    b->sync_seq = pw_core_sync(b->core, PW_ID_CORE, b->sync_seq);
    struct timespec abstime;
    pw_thread_loop_get_time(b->loop, &abstime, WAC__PIPEWIRE_WAIT_S * SPA_NSEC_PER_SEC);
    while (!b->sync_done && !b->lost)
        if (pw_thread_loop_timed_wait_full(b->loop, &abstime) == -ETIMEDOUT)
            return -ETIMEDOUT;
    return b->lost ? -EPIPE : 0;
}

/* ---- connect / disconnect ---- */

/* Everything bound on the core, and the registry: void once it is gone. */
static void drop_objects(struct wac__pipewire_mirror *b)
{
    b->missed = 0; /* a new connection announces everything again */
    struct wac__pipewire_client *c, *ct;
    spa_list_for_each_safe(c, ct, &b->clients, link)
    {
        spa_hook_remove(&c->listener);
        pw_proxy_destroy(c->proxy);
        wac__free(c);
    }
    struct wac__pipewire_node *n, *nt;
    spa_list_for_each_safe(n, nt, &b->nodes, link)
    {
        spa_hook_remove(&n->listener);
        pw_proxy_destroy(n->proxy);
        wac__free(n);
    }
    struct wac__pipewire_device *d, *dt;
    spa_list_for_each_safe(d, dt, &b->devices, link)
    {
        spa_hook_remove(&d->listener);
        pw_proxy_destroy(d->proxy);
        wac__free(d);
    }
    if (b->metadata) {
        spa_hook_remove(&b->metadata_listener);
        pw_proxy_destroy(b->metadata);
        b->metadata = NULL;
    }
    struct wac__pipewire_port *p, *pt;
    spa_list_for_each_safe(p, pt, &b->ports, link) wac__free(p);
    spa_list_init(&b->clients);
    spa_list_init(&b->nodes);
    spa_list_init(&b->ports);
    spa_list_init(&b->devices);
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
}

static int connect_core(struct wac__pipewire_mirror *b)
{
    b->core = pw_context_connect(b->context, NULL, 0);
    if (!b->core)
        return -errno;
    pw_core_add_listener(b->core, &b->core_listener, &core_events, b);
    b->registry = pw_core_get_registry(b->core, PW_VERSION_REGISTRY, 0);
    if (!b->registry)
        return -errno;
    pw_registry_add_listener(b->registry, &b->registry_listener, &registry_events, b);
    return 0;
}

static void arm_retry(struct wac__pipewire_mirror *b)
{
    b->retry_delay_ns = b->retry_delay_ns ? b->retry_delay_ns * 2 : RETRY_MIN_NS;
    if (b->retry_delay_ns > RETRY_MAX_NS)
        b->retry_delay_ns = RETRY_MAX_NS;
    b->retry_pending = true;
    struct timespec value = {.tv_sec = b->retry_delay_ns / 1000000000, .tv_nsec = b->retry_delay_ns % 1000000000};
    pw_loop_update_timer(pw_thread_loop_get_loop(b->loop), b->retry, &value, NULL, false);
}

/* Loop thread: a new core in place of the lost one (the captures let go of
 * their streams and links on the loss, before this runs). */
static void on_retry(void *data, uint64_t expirations)
{
    struct wac__pipewire_mirror *b = data;
    b->retry_pending = false;
    if (!b->lost || b->restoring || !atomic_load(&b->reconnect))
        return;
    drop_objects(b);
    if (connect_core(b) < 0) {
        arm_retry(b);
        return;
    }
    b->restoring = true;
    b->restore_step = 0;
    b->restore_seq = pw_core_sync(b->core, PW_ID_CORE, 0);
}

static void finish_restore(struct wac__pipewire_mirror *b)
{
    struct pw_client *self = pw_core_get_client(b->core);
    b->self_client_id = self ? pw_proxy_get_bound_id((struct pw_proxy *)self) : 0;
    if (b->self_client_id == SPA_ID_INVALID)
        b->self_client_id = 0;
    b->restoring = false;
    b->lost = false;
    b->lost_handled = false;
    b->lost_detail[0] = 0;
    b->retry_delay_ns = 0;
    spa_hook_list_call(&b->listeners, struct wac__pipewire_mirror_events, restored, 0);
    wac__pipewire_mirror_schedule(b);
}

int wac__pipewire_mirror_set_reconnect(void *data, bool reconnect)
{
    struct wac__pipewire_mirror *b = data;
    pw_thread_loop_lock(b->loop);
    atomic_store(&b->reconnect, reconnect);
    if (reconnect && b->lost && b->lost_handled && !b->retry_pending && !b->restoring)
        arm_retry(b);
    pw_thread_loop_unlock(b->loop);
    return 0;
}

static void destroy_all(struct wac__pipewire_mirror *b)
{
    if (b->loop)
        pw_thread_loop_lock(b->loop);
    drop_objects(b);
    if (b->retry)
        pw_loop_destroy_source(pw_thread_loop_get_loop(b->loop), b->retry);
    b->retry = NULL;
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
    wac__free(b);
}

int wac__pipewire_mirror_connect(wac_context *ctx, void **data, char *detail, size_t detail_size)
{
    pw_init(NULL, NULL);
    struct wac__pipewire_mirror *b = wac__calloc(1, sizeof *b);
    if (!b) {
        snprintf(detail, detail_size, "no memory");
        return WAC_ERR_NO_MEMORY;
    }
    b->ctx = ctx;
    spa_list_init(&b->clients);
    spa_list_init(&b->nodes);
    spa_list_init(&b->ports);
    spa_list_init(&b->devices);
    spa_hook_list_init(&b->listeners);

    wac__signal_mask saved;
    wac__signals_block(&saved);
    int rc = 0;
    b->loop = pw_thread_loop_new("wac-pipewire", NULL);
    if (b->loop)
        b->context = pw_context_new(pw_thread_loop_get_loop(b->loop), NULL, 0);
    if (!b->loop || !b->context || pw_thread_loop_start(b->loop) < 0) {
        snprintf(detail, detail_size, "cannot create the PipeWire loop and context: %s", strerror(errno));
        rc = WAC_ERR_SYSTEM;
    }
    wac__signals_restore(&saved);
    if (rc) {
        destroy_all(b);
        return rc;
    }

    pw_thread_loop_lock(b->loop);
    int connected = connect_core(b);
    if (connected < 0 && !b->core) {
        int err = -connected;
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
    struct pw_loop *loop = pw_thread_loop_get_loop(b->loop);
    b->deferred = pw_loop_add_event(loop, on_deferred, b);
    b->timer = pw_loop_add_timer(loop, on_timer, b);
    b->retry = pw_loop_add_timer(loop, on_retry, b);
    if (!b->registry || !b->deferred || !b->timer || !b->retry) {
        snprintf(detail, detail_size, "cannot set up the PipeWire registry: %s", strerror(errno));
        pw_thread_loop_unlock(b->loop);
        destroy_all(b);
        return WAC_ERR_BACKEND;
    }
    struct timespec interval = {.tv_sec = 0, .tv_nsec = TIMER_MS * 1000000L};
    pw_loop_update_timer(loop, b->timer, &interval, &interval, false);

    /* Two round trips: the globals, then the info of the objects we bound. */
    int r = wac__pipewire_mirror_roundtrip(b);
    if (r == 0)
        r = wac__pipewire_mirror_roundtrip(b);
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

void wac__pipewire_mirror_disconnect(void *data)
{
    destroy_all(data);
}

/* ---- sessions ---- */

int wac__pipewire_mirror_list_sessions(void *data, struct wac__session_list_builder *list)
{
    struct wac__pipewire_mirror *b = data;
    pw_thread_loop_lock(b->loop);
    if (b->lost) {
        pw_thread_loop_unlock(b->loop);
        return WAC_ERR_SERVER_LOST;
    }
    if (b->missed) {
        pw_thread_loop_unlock(b->loop);
        return WAC_ERR_NO_MEMORY; /* the tables lack what the server announced */
    }
    size_t n_nodes = 0;
    struct wac__pipewire_node *n;
    spa_list_for_each(n, &b->nodes, link) n_nodes++;
    struct wac__session_group group;
    if (wac__session_group_init(&group, n_nodes)) {
        pw_thread_loop_unlock(b->loop);
        return WAC_ERR_NO_MEMORY;
    }
    spa_list_for_each(n, &b->nodes, link)
    {
        if (wac__pipewire_mirror_node_is_own(b, n))
            continue;
        uint32_t pid = 0;
        wac__pipewire_mirror_node_owner(b, n, &pid);
        struct wac__pipewire_client *c = find_client(b, n->client_id);
        wac__session_group_add(&group, pid, n->app_name[0] ? n->app_name : c ? c->app_name : "",
                               c ? c->binary : "", n->state == PW_NODE_STATE_RUNNING,
                               wac__pipewire_node_level(n), n->mute);
    }
    pw_thread_loop_unlock(b->loop);
    return wac__session_group_finish(&group, list);
}

/* ---- devices ---- */

int wac__pipewire_mirror_list_devices(void *data, struct wac__device_list_builder *list)
{
    struct wac__pipewire_mirror *b = data;
    pw_thread_loop_lock(b->loop);
    if (b->lost) {
        pw_thread_loop_unlock(b->loop);
        return WAC_ERR_SERVER_LOST;
    }
    if (b->missed) {
        pw_thread_loop_unlock(b->loop);
        return WAC_ERR_NO_MEMORY; /* the tables lack what the server announced */
    }
    int rc = 0;
    struct wac__pipewire_device *d;
    /* Inputs first, then the monitors. */
    for (int monitors = 0; monitors < 2 && rc == 0; monitors++)
        spa_list_for_each(d, &b->devices, link)
        {
            if (d->sink != (monitors == 1) || rc)
                continue;
            char name[WAC__PIPEWIRE_NAME_SIZE + 16], description[WAC__PIPEWIRE_NAME_SIZE + 16];
            snprintf(name, sizeof name, "%s%s", d->name, d->sink ? ".monitor" : "");
            snprintf(description, sizeof description, "%s%s", d->sink ? "Monitor of " : "",
                     d->description[0] ? d->description : d->name);
            rc = wac__device_list_add(list, name, description, d->sink, wac__pipewire_mirror_device_is_default(b, d),
                                      d->rate, d->channels);
        }
    pw_thread_loop_unlock(b->loop);
    return rc;
}
