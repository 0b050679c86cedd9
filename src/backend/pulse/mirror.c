/* mirror.c — the PulseAudio backend's view of the server (libpulse, threaded
 * main loop; tested with PulseAudio 16.1 and pipewire-pulse 0.3.65): the
 * connection, the server's sink-inputs (application playback streams) and
 * clients, kept current through the subscription API, timers and deferred
 * work, and the session listing; see mirror.h. A capture (its monitor record
 * streams and their mix) is in capture.c, which listens to this file.
 *
 * Who owns a stream. A sink-input's own application.process.id, else its
 * client's: native PipeWire clients seen through pipewire-pulse carry the pid
 * on the client only (and pipewire.sec.pid, which is exact). PulseAudio fills
 * application.process.id from the connecting process (it is the client's
 * claim, as in PipeWire's pipewire-pulse path): a pid in the client's own
 * namespace, checked and mapped to ours by os/sandbox.h; 0 when that cannot
 * be known.
 *
 * System target. As in the PipeWire backend, every application stream is
 * attached (target-match.h decides): the capture follows the streams rather
 * than one sink's monitor, so a change of default sink needs nothing, sink
 * volume is not applied, and STREAM_ADDED/REMOVED events mean the same on
 * both backends.
 *
 * Threads: everything here runs on the loop thread or under its lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/os.h"
#include "alloc.h"
#include "os/sandbox.h"
#include "backend/pulse/mirror.h"
#include "attach/session-group.h"

/* Reconnecting: the first try soon after a loss, then each wait twice the
 * last, up to two seconds (a restarting server takes about one). */
#define RETRY_MIN_NS 100000000LL
#define RETRY_MAX_NS 2000000000LL

/* The timer's bounds: it never spins, and never sleeps past a target check. */
#define TIMER_MIN_NS 5000000LL
#define TIMER_MAX_NS 500000000LL

/* ---- small helpers ---- */

static uint32_t prop_u32(pa_proplist *props, const char *key)
{
    const char *v = props ? pa_proplist_gets(props, key) : NULL;
    if (!v || !*v)
        return 0;
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    return *end == 0 && n <= UINT32_MAX ? (uint32_t)n : 0;
}

static void copy_prop(char *dst, size_t size, pa_proplist *props, const char *key)
{
    const char *v = props ? pa_proplist_gets(props, key) : NULL;
    snprintf(dst, size, "%s", v ? v : "");
}

void wac__pulse_mirror_schedule(struct wac__pulse_mirror *b)
{
    if (b->deferred)
        b->api->defer_enable(b->deferred, 1);
}

static struct wac__pulse_client *find_client(struct wac__pulse_mirror *b, uint32_t index)
{
    for (struct wac__pulse_client *c = b->clients; c; c = c->next)
        if (c->index == index)
            return c;
    return NULL;
}

struct wac__pulse_input *wac__pulse_mirror_find_input(struct wac__pulse_mirror *b, uint32_t index)
{
    for (struct wac__pulse_input *in = b->inputs; in; in = in->next)
        if (in->index == index)
            return in;
    return NULL;
}

bool wac__pulse_mirror_input_owner(struct wac__pulse_mirror *b, const struct wac__pulse_input *in, uint32_t *pid)
{
    if (in->prop_pid) {
        *pid = in->prop_pid;
        return true;
    }
    if (in->client == PA_INVALID_INDEX) {
        *pid = 0;
        return true;
    }
    const struct wac__pulse_client *c = find_client(b, in->client);
    if (!c)
        return false; /* its info is on the way */
    *pid = c->pid;
    return true;
}

/* ---- timers and deferred work (loop thread) ---- */

void wac__pulse_mirror_add_listener(struct wac__pulse_mirror *b, struct wac__pulse_listener *listener,
                                    const struct wac__pulse_mirror_events *events, void *data)
{
    listener->events = events;
    listener->data = data;
    listener->next = b->listeners;
    b->listeners = listener;
}

void wac__pulse_mirror_remove_listener(struct wac__pulse_mirror *b, struct wac__pulse_listener *listener)
{
    for (struct wac__pulse_listener **p = &b->listeners; *p; p = &(*p)->next)
        if (*p == listener) {
            *p = listener->next;
            return;
        }
}

/* Each listener's next is read before it is called: it may remove itself. */
#define EACH_LISTENER(b, l, next) \
    for (struct wac__pulse_listener *l = (b)->listeners, *next = l ? l->next : NULL; l; \
         l = next, next = l ? l->next : NULL)

/* The loss is told once, before anything else the listeners hear. */
static void tell_lost(struct wac__pulse_mirror *b)
{
    if (!b->lost || b->lost_handled)
        return;
    b->lost_handled = true;
    EACH_LISTENER(b, l, next) l->events->lost(l->data);
}

static void arm_retry(struct wac__pulse_mirror *b);

static void on_deferred(pa_mainloop_api *api, pa_defer_event *e, void *userdata)
{
    struct wac__pulse_mirror *b = userdata;
    api->defer_enable(e, 0);
    tell_lost(b);
    if (b->lost && atomic_load(&b->reconnect) && !b->retry_pending && !b->restoring)
        arm_retry(b);
    EACH_LISTENER(b, l, next) l->events->changed(l->data);
}

/* The timer wakes when some capture has work due, not at a fixed rate: while
 * streams deliver, data drives the mix and the timer only watches for a
 * stream that stalls (a quarter of a second) and for the target checks
 * (twice a second); while nothing plays it paces the silence fill. */
static void arm_timer_in(struct wac__pulse_mirror *b, int64_t delay_ns)
{
    delay_ns = delay_ns < TIMER_MIN_NS ? TIMER_MIN_NS : delay_ns > TIMER_MAX_NS ? TIMER_MAX_NS : delay_ns;
    pa_context_rttime_restart(b->pa, b->timer, pa_rtclock_now() + (pa_usec_t)(delay_ns / 1000));
}

static void on_timer(pa_mainloop_api *api, pa_time_event *e, const struct timeval *tv, void *userdata)
{
    struct wac__pulse_mirror *b = userdata;
    tell_lost(b);
    int64_t now = wac__now_ns(), due = INT64_MAX;
    EACH_LISTENER(b, l, next) {
        int64_t t = l->events->tick(l->data, now);
        due = t < due ? t : due;
    }
    /* Only while captures run: an idle context costs no wake-ups. */
    if (due != INT64_MAX)
        arm_timer_in(b, due - now);
}

void wac__pulse_mirror_tick_soon(struct wac__pulse_mirror *b)
{
    if (b->timer)
        arm_timer_in(b, TIMER_MIN_NS);
}

/* ---- the server's objects ---- */

/* An object the server described that the tables had no memory for: it is
 * described again only if it changes, so the tables count as incomplete
 * until a new connection. Listings then fail with NO_MEMORY, and the
 * captures say so (wac__attach_engine_missed). */
static void missed(struct wac__pulse_mirror *b)
{
    b->missed++;
    wac__pulse_mirror_schedule(b);
}

static void client_info_cb(pa_context *c, const pa_client_info *info, int eol, void *userdata)
{
    struct wac__pulse_mirror *b = userdata;
    if (eol || !info) {
        pa_threaded_mainloop_signal(b->ml, 0);
        return;
    }
    struct wac__pulse_client *cl = find_client(b, info->index);
    if (!cl) {
        cl = wac__calloc(1, sizeof *cl);
        if (!cl) {
            missed(b);
            return;
        }
        cl->index = info->index;
        cl->next = b->clients;
        b->clients = cl;
    }
    copy_prop(cl->app_name, sizeof cl->app_name, info->proplist, PA_PROP_APPLICATION_NAME);
    copy_prop(cl->binary, sizeof cl->binary, info->proplist, PA_PROP_APPLICATION_PROCESS_BINARY);
    cl->claimed_pid = prop_u32(info->proplist, PA_PROP_APPLICATION_PROCESS_ID);
    /* A native PipeWire client seen through pipewire-pulse carries the
     * kernel's peer credentials, exact in any namespace; pipewire-pulse's
     * own clients (PulseAudio-protocol applications) carry the daemon's. */
    const char *api = pa_proplist_gets(info->proplist, "client.api");
    uint32_t sec_pid = prop_u32(info->proplist, "pipewire.sec.pid");
    if (sec_pid && (!api || strcmp(api, "pipewire-pulse") != 0))
        cl->pid = sec_pid;
    else
        cl->pid = wac__sandbox_host_pid(cl->claimed_pid, cl->binary, NULL);
    wac__pulse_mirror_schedule(b); /* sink-inputs waiting for their owner */
}

static void input_info_cb(pa_context *c, const pa_sink_input_info *info, int eol, void *userdata)
{
    struct wac__pulse_mirror *b = userdata;
    if (eol || !info) {
        pa_threaded_mainloop_signal(b->ml, 0);
        return;
    }
    struct wac__pulse_input *in = wac__pulse_mirror_find_input(b, info->index);
    if (!in) {
        in = wac__calloc(1, sizeof *in);
        if (!in) {
            missed(b);
            return;
        }
        in->index = info->index;
        in->next = b->inputs;
        b->inputs = in;
    }
    in->client = info->client;
    in->corked = info->corked != 0;
    copy_prop(in->app_name, sizeof in->app_name, info->proplist, PA_PROP_APPLICATION_NAME);
    uint32_t claimed = prop_u32(info->proplist, PA_PROP_APPLICATION_PROCESS_ID);
    char binary[WAC__PULSE_NAME_SIZE];
    copy_prop(binary, sizeof binary, info->proplist, PA_PROP_APPLICATION_PROCESS_BINARY);
    /* Every change of the stream (its volume too) brings this again: the
     * owner is looked up when the claim changes only. */
    /* An owner that could not be told apart (two sandboxes alike) is looked
     * for again as the stream changes, but at most once a second: each look
     * reads every process's status, and a stream changes with every volume
     * step and cork. */
    int64_t now = wac__now_ns();
    if (claimed != in->claimed_pid || strcmp(binary, in->binary) != 0 ||
        (claimed && !in->prop_pid && now - in->mapped_ns >= 1000000000)) {
        in->claimed_pid = claimed;
        memcpy(in->binary, binary, sizeof binary);
        in->prop_pid = wac__sandbox_host_pid(claimed, binary, NULL);
        in->mapped_ns = now;
    }
    in->level = info->has_volume ? (float)pa_sw_volume_to_linear(pa_cvolume_max(&info->volume)) : -1.0f;
    in->channels = info->volume.channels;
    in->mute = info->mute != 0;
    if (in->client != PA_INVALID_INDEX && !in->prop_pid && !find_client(b, in->client)) {
        pa_operation *o = pa_context_get_client_info(b->pa, in->client, client_info_cb, b);
        if (o)
            pa_operation_unref(o);
    }
    wac__pulse_mirror_schedule(b);
}

static void source_info_cb(pa_context *c, const pa_source_info *info, int eol, void *userdata)
{
    struct wac__pulse_mirror *b = userdata;
    if (eol || !info) {
        pa_threaded_mainloop_signal(b->ml, 0);
        return;
    }
    struct wac__pulse_source *s = b->sources;
    while (s && s->index != info->index)
        s = s->next;
    if (!s) {
        s = wac__calloc(1, sizeof *s);
        if (!s) {
            missed(b);
            return;
        }
        s->index = info->index;
        s->next = b->sources;
        b->sources = s;
    }
    s->monitor = info->monitor_of_sink != PA_INVALID_INDEX;
    s->rate = info->sample_spec.rate;
    s->channels = info->sample_spec.channels;
    snprintf(s->name, sizeof s->name, "%s", info->name ? info->name : "");
    snprintf(s->description, sizeof s->description, "%s", info->description ? info->description : "");
    wac__pulse_mirror_schedule(b);
}

static void server_info_cb(pa_context *c, const pa_server_info *info, void *userdata)
{
    struct wac__pulse_mirror *b = userdata;
    if (info) {
        snprintf(b->default_source, sizeof b->default_source, "%s",
                 info->default_source_name ? info->default_source_name : "");
        snprintf(b->default_sink, sizeof b->default_sink, "%s", info->default_sink_name ? info->default_sink_name : "");
        b->on_pipewire = info->server_name && strstr(info->server_name, "PipeWire") != NULL;
        wac__pulse_mirror_schedule(b);
    }
    pa_threaded_mainloop_signal(b->ml, 0);
}

static void forget_source(struct wac__pulse_mirror *b, uint32_t index)
{
    EACH_LISTENER(b, l, next) if (l->events->source_removed) l->events->source_removed(l->data, index);
    for (struct wac__pulse_source **p = &b->sources; *p; p = &(*p)->next)
        if ((*p)->index == index) {
            struct wac__pulse_source *gone = *p;
            *p = gone->next;
            wac__free(gone);
            wac__pulse_mirror_schedule(b);
            return;
        }
}

bool wac__pulse_device_name_is_default(const char *name)
{
    return !name || !name[0] || strcmp(name, "default") == 0;
}

struct wac__pulse_source *wac__pulse_mirror_find_source(struct wac__pulse_mirror *b, const char *name)
{
    char monitor[WAC__PULSE_NAME_SIZE + 16];
    const char *want = name;
    if (wac__pulse_device_name_is_default(name)) {
        want = b->default_source;
    } else if (strcmp(name, "default.monitor") == 0) {
        snprintf(monitor, sizeof monitor, "%s.monitor", b->default_sink);
        want = b->default_sink[0] ? monitor : "";
    }
    if (!want[0])
        return NULL;
    for (struct wac__pulse_source *s = b->sources; s; s = s->next)
        if (strcmp(s->name, want) == 0)
            return s;
    return NULL;
}

static void forget_input(struct wac__pulse_mirror *b, uint32_t index)
{
    EACH_LISTENER(b, l, next) l->events->input_removed(l->data, index);
    for (struct wac__pulse_input **p = &b->inputs; *p; p = &(*p)->next)
        if ((*p)->index == index) {
            struct wac__pulse_input *gone = *p;
            *p = gone->next;
            wac__free(gone);
            return;
        }
}

static void forget_client(struct wac__pulse_mirror *b, uint32_t index)
{
    for (struct wac__pulse_client **p = &b->clients; *p; p = &(*p)->next)
        if ((*p)->index == index) {
            struct wac__pulse_client *gone = *p;
            *p = gone->next;
            wac__free(gone);
            return;
        }
}

static void subscribe_cb(pa_context *c, pa_subscription_event_type_t t, uint32_t index, void *userdata)
{
    struct wac__pulse_mirror *b = userdata;
    unsigned facility = t & PA_SUBSCRIPTION_EVENT_FACILITY_MASK, kind = t & PA_SUBSCRIPTION_EVENT_TYPE_MASK;
    pa_operation *o = NULL;
    if (facility == PA_SUBSCRIPTION_EVENT_SINK_INPUT) {
        if (kind == PA_SUBSCRIPTION_EVENT_REMOVE)
            forget_input(b, index);
        else
            o = pa_context_get_sink_input_info(c, index, input_info_cb, b);
    } else if (facility == PA_SUBSCRIPTION_EVENT_SOURCE) {
        if (kind == PA_SUBSCRIPTION_EVENT_REMOVE)
            forget_source(b, index);
        else
            o = pa_context_get_source_info_by_index(c, index, source_info_cb, b);
    } else if (facility == PA_SUBSCRIPTION_EVENT_SERVER) {
        o = pa_context_get_server_info(c, server_info_cb, b);
    } else if (facility == PA_SUBSCRIPTION_EVENT_CLIENT) {
        if (kind == PA_SUBSCRIPTION_EVENT_REMOVE)
            forget_client(b, index);
        else
            o = pa_context_get_client_info(c, index, client_info_cb, b);
    }
    if (o)
        pa_operation_unref(o);
}

/* ---- the connection ---- */

static void start_restore(struct wac__pulse_mirror *b);

static void context_state_cb(pa_context *c, void *userdata)
{
    struct wac__pulse_mirror *b = userdata;
    pa_context_state_t old = b->state;
    b->state = pa_context_get_state(c);
    if (!PA_CONTEXT_IS_GOOD(b->state) && !b->lost) {
        b->lost = true;
        snprintf(b->lost_detail, sizeof b->lost_detail, "PulseAudio connection %s: %s",
                 old == PA_CONTEXT_READY ? "lost" : "failed", pa_strerror(pa_context_errno(c)));
        wac__pulse_mirror_schedule(b);
    } else if (b->lost && atomic_load(&b->reconnect)) {
        /* A try at reconnecting: in, or again later. */
        if (b->state == PA_CONTEXT_READY)
            start_restore(b);
        else if (!PA_CONTEXT_IS_GOOD(b->state))
            arm_retry(b);
    }
    pa_threaded_mainloop_signal(b->ml, 0);
}

static void success_cb(pa_context *c, int success, void *userdata)
{
    struct wac__pulse_mirror *b = userdata;
    pa_threaded_mainloop_signal(b->ml, 0);
}

static void on_wait_timeout(pa_mainloop_api *api, pa_time_event *e, const struct timeval *tv, void *userdata)
{
    struct wac__pulse_mirror *b = userdata;
    b->wait_timed_out = true;
    pa_threaded_mainloop_signal(b->ml, 0);
}

/* Wait (lock held) until done(), the connection fails, or WAC__PULSE_WAIT_S pass. */
static bool wait_for(struct wac__pulse_mirror *b, bool (*done)(struct wac__pulse_mirror *, void *), void *arg)
{
    b->wait_timed_out = false;
    pa_time_event *t =
        pa_context_rttime_new(b->pa, pa_rtclock_now() + WAC__PULSE_WAIT_S * PA_USEC_PER_SEC, on_wait_timeout, b);
    while (!done(b, arg) && !b->lost && !b->wait_timed_out)
        pa_threaded_mainloop_wait(b->ml);
    if (t)
        b->api->time_free(t);
    return done(b, arg);
}

static bool context_ready(struct wac__pulse_mirror *b, void *arg)
{
    return b->state == PA_CONTEXT_READY;
}

static bool operation_done(struct wac__pulse_mirror *b, void *arg)
{
    return pa_operation_get_state(arg) != PA_OPERATION_RUNNING;
}

bool wac__pulse_mirror_complete(struct wac__pulse_mirror *b, pa_operation *o)
{
    if (!o)
        return false;
    bool ok = wait_for(b, operation_done, o);
    pa_operation_unref(o);
    return ok;
}

/* What the server said is void once its connection is gone. */
static void drop_tables(struct wac__pulse_mirror *b)
{
    b->missed = 0; /* a new connection describes everything again */
    while (b->clients) {
        struct wac__pulse_client *next = b->clients->next;
        wac__free(b->clients);
        b->clients = next;
    }
    while (b->sources) {
        struct wac__pulse_source *next = b->sources->next;
        wac__free(b->sources);
        b->sources = next;
    }
    while (b->inputs) {
        struct wac__pulse_input *next = b->inputs->next;
        wac__free(b->inputs);
        b->inputs = next;
    }
}

static pa_context *new_context(struct wac__pulse_mirror *b)
{
    pa_proplist *props = pa_proplist_new();
    if (props) {
        pa_proplist_sets(props, PA_PROP_APPLICATION_NAME, "wac");
        pa_proplist_sets(props, PA_PROP_APPLICATION_ID, "wac");
    }
    pa_context *c = pa_context_new_with_proplist(b->api, "wac", props);
    if (props)
        pa_proplist_free(props);
    if (c) {
        pa_context_set_state_callback(c, context_state_cb, b);
        pa_context_set_subscribe_callback(c, subscribe_cb, b);
    }
    return c;
}

static void forget_context(pa_context *c)
{
    pa_context_set_state_callback(c, NULL, NULL);
    pa_context_set_subscribe_callback(c, NULL, NULL);
    pa_context_disconnect(c);
    pa_context_unref(c);
}

static void arm_retry(struct wac__pulse_mirror *b)
{
    b->retry_delay_ns = b->retry_delay_ns ? b->retry_delay_ns * 2 : RETRY_MIN_NS;
    if (b->retry_delay_ns > RETRY_MAX_NS)
        b->retry_delay_ns = RETRY_MAX_NS;
    b->retry_pending = true;
    pa_context_rttime_restart(b->pa, b->retry, pa_rtclock_now() + (pa_usec_t)(b->retry_delay_ns / 1000));
}

/* Loop thread: a new connection in place of the lost one. Its state callback
 * reads the tables again once it is in (start_restore), or comes back here. */
static void on_retry(pa_mainloop_api *api, pa_time_event *e, const struct timeval *tv, void *userdata)
{
    struct wac__pulse_mirror *b = userdata;
    b->retry_pending = false;
    if (!b->lost || b->restoring || !atomic_load(&b->reconnect))
        return;
    pa_context *c = new_context(b);
    if (!c) {
        arm_retry(b);
        return;
    }
    drop_tables(b);
    forget_context(b->pa);
    b->pa = c;
    b->state = PA_CONTEXT_UNCONNECTED;
    if (pa_context_connect(c, NULL, PA_CONTEXT_NOAUTOSPAWN, NULL) < 0)
        arm_retry(b);
}

/* The last answer of a restore: requests are answered in order, so the
 * tables are whole when it comes. */
static void restored_cb(pa_context *c, const pa_server_info *info, void *userdata)
{
    struct wac__pulse_mirror *b = userdata;
    server_info_cb(c, info, userdata);
    if (!b->restoring)
        return;
    b->restoring = false;
    b->lost = false;
    b->lost_handled = false;
    b->lost_detail[0] = 0;
    b->retry_delay_ns = 0;
    EACH_LISTENER(b, l, next) {
        if (l->events->restored)
            l->events->restored(l->data);
    }
    wac__pulse_mirror_schedule(b);
    wac__pulse_mirror_tick_soon(b);
}

/* Connected again: subscribe and list, as at connect, without waiting (this
 * is the loop thread). */
static void start_restore(struct wac__pulse_mirror *b)
{
    if (b->restoring)
        return;
    b->restoring = true;
    pa_operation *ops[] = {
        pa_context_subscribe(b->pa,
                             PA_SUBSCRIPTION_MASK_SINK_INPUT | PA_SUBSCRIPTION_MASK_CLIENT |
                                 PA_SUBSCRIPTION_MASK_SOURCE | PA_SUBSCRIPTION_MASK_SERVER,
                             NULL, NULL),
        pa_context_get_client_info_list(b->pa, client_info_cb, b),
        pa_context_get_sink_input_info_list(b->pa, input_info_cb, b),
        pa_context_get_source_info_list(b->pa, source_info_cb, b),
        pa_context_get_server_info(b->pa, restored_cb, b),
    };
    bool all = true;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        all &= ops[i] != NULL;
        if (ops[i])
            pa_operation_unref(ops[i]);
    }
    if (!all) {
        /* The connection failed under us: its state callback retries. */
        b->restoring = false;
    }
}

int wac__pulse_mirror_set_reconnect(void *data, bool reconnect)
{
    struct wac__pulse_mirror *b = data;
    pa_threaded_mainloop_lock(b->ml);
    atomic_store(&b->reconnect, reconnect);
    if (reconnect && b->lost && b->lost_handled && !b->retry_pending && !b->restoring)
        arm_retry(b);
    pa_threaded_mainloop_unlock(b->ml);
    return 0;
}

static void destroy_all(struct wac__pulse_mirror *b)
{
    if (b->ml)
        pa_threaded_mainloop_lock(b->ml);
    if (b->timer)
        b->api->time_free(b->timer);
    if (b->deferred)
        b->api->defer_free(b->deferred);
    if (b->retry)
        b->api->time_free(b->retry);
    b->retry = NULL;
    b->timer = NULL;
    b->deferred = NULL;
    if (b->pa) {
        forget_context(b->pa);
        b->pa = NULL;
    }
    if (b->ml)
        pa_threaded_mainloop_unlock(b->ml);
    if (b->ml) {
        pa_threaded_mainloop_stop(b->ml);
        pa_threaded_mainloop_free(b->ml);
    }
    drop_tables(b);
    wac__free(b);
}

int wac__pulse_mirror_connect(wac_context *ctx, void **data, char *detail, size_t detail_size)
{
    struct wac__pulse_mirror *b = wac__calloc(1, sizeof *b);
    if (!b) {
        snprintf(detail, detail_size, "no memory");
        return WAC_ERR_NO_MEMORY;
    }
    b->ctx = ctx;
    b->ml = pa_threaded_mainloop_new();
    if (!b->ml) {
        snprintf(detail, detail_size, "cannot create the PulseAudio main loop");
        destroy_all(b);
        return WAC_ERR_SYSTEM;
    }
    b->api = pa_threaded_mainloop_get_api(b->ml);
    b->pa = new_context(b);
    if (!b->pa) {
        snprintf(detail, detail_size, "cannot create a PulseAudio context");
        destroy_all(b);
        return WAC_ERR_SYSTEM;
    }
    b->deferred = b->api->defer_new(b->api, on_deferred, b);
    b->timer = pa_context_rttime_new(b->pa, PA_USEC_INVALID, on_timer, b);
    b->retry = pa_context_rttime_new(b->pa, PA_USEC_INVALID, on_retry, b);
    if (!b->deferred || !b->timer || !b->retry) {
        snprintf(detail, detail_size, "cannot create the PulseAudio timers");
        destroy_all(b);
        return WAC_ERR_SYSTEM;
    }
    b->api->defer_enable(b->deferred, 0);

    wac__signal_mask saved;
    wac__signals_block(&saved);
    int started = pa_threaded_mainloop_start(b->ml);
    wac__signals_restore(&saved);
    if (started < 0) {
        snprintf(detail, detail_size, "cannot start the PulseAudio main loop thread");
        destroy_all(b);
        return WAC_ERR_SYSTEM;
    }

    pa_threaded_mainloop_lock(b->ml);
    /* Never spawn a server: "auto" must not start one behind a user's back. */
    int rc = 0;
    if (pa_context_connect(b->pa, NULL, PA_CONTEXT_NOAUTOSPAWN, NULL) < 0 || !wait_for(b, context_ready, NULL)) {
        const char *server = getenv("PULSE_SERVER");
        snprintf(detail, detail_size, "no PulseAudio server at %s: %s",
                 server && *server ? server : "the default socket",
                 b->wait_timed_out && !b->lost ? "timed out after 5 s" : pa_strerror(pa_context_errno(b->pa)));
        rc = WAC_ERR_BACKEND_UNAVAILABLE;
    }
    /* Subscribe first, then list: nothing that appears in between is missed
     * (a duplicate only updates the same record). Clients first, so the owner
     * of every sink-input is known when the sink-inputs arrive. */
    if (!rc &&
        (!wac__pulse_mirror_complete(b, pa_context_subscribe(b->pa,
                                                             PA_SUBSCRIPTION_MASK_SINK_INPUT | PA_SUBSCRIPTION_MASK_CLIENT |
                                                                 PA_SUBSCRIPTION_MASK_SOURCE | PA_SUBSCRIPTION_MASK_SERVER,
                                                             success_cb, b)) ||
         !wac__pulse_mirror_complete(b, pa_context_get_client_info_list(b->pa, client_info_cb, b)) ||
         !wac__pulse_mirror_complete(b, pa_context_get_sink_input_info_list(b->pa, input_info_cb, b)) ||
         !wac__pulse_mirror_complete(b, pa_context_get_source_info_list(b->pa, source_info_cb, b)) ||
         !wac__pulse_mirror_complete(b, pa_context_get_server_info(b->pa, server_info_cb, b)))) {
        snprintf(detail, detail_size, "the PulseAudio server did not answer: %s",
                 b->lost ? b->lost_detail : "timed out after 5 s");
        rc = WAC_ERR_BACKEND_UNAVAILABLE;
    }
    pa_threaded_mainloop_unlock(b->ml);
    if (rc) {
        destroy_all(b);
        return rc;
    }
    *data = b;
    return 0;
}

void wac__pulse_mirror_disconnect(void *data)
{
    destroy_all(data);
}

/* ---- sessions ---- */

int wac__pulse_mirror_list_sessions(void *data, struct wac__session_list_builder *list)
{
    struct wac__pulse_mirror *b = data;
    pa_threaded_mainloop_lock(b->ml);
    if (b->lost) {
        pa_threaded_mainloop_unlock(b->ml);
        return WAC_ERR_SERVER_LOST;
    }
    if (b->missed) {
        pa_threaded_mainloop_unlock(b->ml);
        return WAC_ERR_NO_MEMORY; /* the tables lack what the server described */
    }
    size_t n_inputs = 0;
    for (struct wac__pulse_input *in = b->inputs; in; in = in->next)
        n_inputs++;
    struct wac__session_group group;
    if (wac__session_group_init(&group, n_inputs)) {
        pa_threaded_mainloop_unlock(b->ml);
        return WAC_ERR_NO_MEMORY;
    }
    for (struct wac__pulse_input *in = b->inputs; in; in = in->next) {
        uint32_t pid = 0;
        wac__pulse_mirror_input_owner(b, in, &pid);
        const struct wac__pulse_client *c = in->client != PA_INVALID_INDEX ? find_client(b, in->client) : NULL;
        wac__session_group_add(&group, pid, in->app_name[0] ? in->app_name : c ? c->app_name : "",
                               in->binary[0] ? in->binary : c ? c->binary : "", !in->corked, in->level,
                               in->mute);
    }
    pa_threaded_mainloop_unlock(b->ml);
    return wac__session_group_finish(&group, list);
}

/* ---- devices ---- */

int wac__pulse_mirror_list_devices(void *data, struct wac__device_list_builder *list)
{
    struct wac__pulse_mirror *b = data;
    pa_threaded_mainloop_lock(b->ml);
    if (b->lost) {
        pa_threaded_mainloop_unlock(b->ml);
        return WAC_ERR_SERVER_LOST;
    }
    if (b->missed) {
        pa_threaded_mainloop_unlock(b->ml);
        return WAC_ERR_NO_MEMORY; /* the tables lack what the server described */
    }
    char default_monitor[WAC__PULSE_NAME_SIZE + 16];
    snprintf(default_monitor, sizeof default_monitor, "%s.monitor", b->default_sink);
    int rc = 0;
    /* Inputs first, then the monitors; the server lists newest first. */
    for (int monitors = 0; monitors < 2; monitors++)
        for (struct wac__pulse_source *s = b->sources; s && rc == 0; s = s->next)
            if (s->monitor == (monitors == 1))
                rc = wac__device_list_add(list, s->name, s->description, s->monitor,
                                          strcmp(s->name, s->monitor ? default_monitor : b->default_source) == 0,
                                          s->rate, s->channels);
    pa_threaded_mainloop_unlock(b->ml);
    return rc;
}
