/* attach.c — see attach.h for the rules. */
#include "attach/attach.h"
#include "alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Grow *array (of *capacity elements of size) to hold count + 1; false
 * without memory. */
static bool reserve(void **array, size_t *capacity, size_t count, size_t size, size_t first)
{
    if (count < *capacity)
        return true;
    size_t grown = *capacity ? *capacity * 2 : first;
    while (grown <= count)
        grown *= 2;
    void *p = wac__realloc(*array, grown * size);
    if (!p)
        return false;
    *array = p;
    *capacity = grown;
    return true;
}

void wac__attach_init(struct wac__attach *a, wac_capture *cap, const struct wac__attach_config *cfg)
{
    memset(a, 0, sizeof *a);
    a->cap = cap;
    if (cfg)
        a->cfg = *cfg;
    const wac_target *t = &wac__capture_config(cap)->target;
    a->kind = t->kind;
    a->exclude = t->exclude;
    a->target_pid = t->kind == WAC_TARGET_PID ? t->pid : 0;
    if ((t->kind == WAC_TARGET_NAME || t->kind == WAC_TARGET_DEVICE) && t->name)
        snprintf(a->name, sizeof a->name, "%s", t->name);
    a->follows_default = t->kind == WAC_TARGET_DEVICE && (!t->name || !t->name[0] || strcmp(t->name, "default") == 0);
}

static void release_entry(struct wac__attach *a, struct wac__attach_entry *e)
{
    if (a->cfg.release)
        a->cfg.release(a->cfg.user, e);
    wac__free(e->data);
    wac__free(e);
}

/* Every entry leaves silently: the count goes back down, no event. */
static void drop_all(struct wac__attach *a)
{
    for (size_t i = 0; i < a->n_entries; i++) {
        if (a->entries[i]->live)
            wac__capture_streams_changed(a->cap, -1);
        release_entry(a, a->entries[i]);
    }
    a->n_entries = 0;
}

void wac__attach_free(struct wac__attach *a)
{
    drop_all(a);
    wac__free(a->entries);
    wac__free(a->rejected);
    wac__free(a->announced);
    a->entries = NULL;
    a->rejected = NULL;
    a->announced = NULL;
    a->cap_entries = a->cap_rejected = a->cap_announced = 0;
    a->n_rejected = a->n_announced = 0;
}

void wac__attach_start(struct wac__attach *a)
{
    a->running = true;
    a->target_gone = false;
    a->fail_error = 0;
    a->fail_detail[0] = '\0';
}

bool wac__attach_running(const struct wac__attach *a)
{
    return a->running;
}

static bool is_rejected(const struct wac__attach *a, uint64_t key)
{
    for (size_t i = 0; i < a->n_rejected; i++)
        if (a->rejected[i] == key)
            return true;
    return false;
}

bool wac__attach_known(const struct wac__attach *a, uint64_t key)
{
    return wac__attach_find(a, key) != NULL || is_rejected(a, key);
}

void wac__attach_reject(struct wac__attach *a, uint64_t key)
{
    if (is_rejected(a, key) ||
        !reserve((void **)&a->rejected, &a->cap_rejected, a->n_rejected, sizeof *a->rejected, 64))
        return;
    a->rejected[a->n_rejected++] = key;
}

static void forget_rejection(struct wac__attach *a, uint64_t key)
{
    for (size_t i = 0; i < a->n_rejected; i++)
        if (a->rejected[i] == key) {
            a->rejected[i] = a->rejected[--a->n_rejected];
            return;
        }
}

struct wac__attach_entry *wac__attach_find(const struct wac__attach *a, uint64_t key)
{
    for (size_t i = 0; i < a->n_entries; i++)
        if (a->entries[i]->key == key)
            return a->entries[i];
    return NULL;
}

static bool name_target(const struct wac__attach *a);

/* A stream the table had no room for: said, not dropped silently. The
 * adapter offers it again at the engine's next change (it is neither in the
 * table nor rejected). The event queue does not allocate. */
static struct wac__attach_entry *no_memory_for(struct wac__attach *a, uint64_t key, uint32_t pid)
{
    wac__stream_post(a->cap, WAC_EVENT_STREAM_SKIPPED, pid, (uint32_t)key, WAC_ERR_NO_MEMORY,
                     "no memory to take this stream; tried again at the server's next change");
    return NULL;
}

struct wac__attach_entry *wac__attach_add(struct wac__attach *a, uint64_t key, uint32_t pid)
{
    if (!a->running || a->target_gone)
        return NULL;
    struct wac__attach_entry *e = wac__attach_find(a, key);
    if (e)
        return e;
    if (!reserve((void **)&a->entries, &a->cap_entries, a->n_entries, sizeof *a->entries, 8))
        return no_memory_for(a, key, pid);
    /* Room to announce the owner of every entry, this one included, so that
     * going live never needs memory (nor loses its TARGET_ATTACHED). */
    if (name_target(a) &&
        !reserve((void **)&a->announced, &a->cap_announced, a->n_announced + a->n_entries, sizeof *a->announced, 8))
        return no_memory_for(a, key, pid);
    e = wac__calloc(1, sizeof *e);
    if (!e)
        return no_memory_for(a, key, pid);
    if (a->cfg.data_size && !(e->data = wac__calloc(1, a->cfg.data_size))) {
        wac__free(e);
        return no_memory_for(a, key, pid);
    }
    e->key = key;
    e->pid = pid;
    a->entries[a->n_entries++] = e;
    return e;
}

struct wac__attach_entry *wac__attach_next(const struct wac__attach *a, size_t *i)
{
    return *i < a->n_entries ? a->entries[(*i)++] : NULL;
}

size_t wac__attach_count(const struct wac__attach *a)
{
    return a->n_entries;
}

bool wac__attach_has_pid(const struct wac__attach *a, uint32_t pid)
{
    for (size_t i = 0; i < a->n_entries; i++)
        if (a->entries[i]->pid == pid)
            return true;
    return false;
}

static bool pid_target(const struct wac__attach *a)
{
    return a->kind == WAC_TARGET_PID && !a->exclude;
}

static bool name_target(const struct wac__attach *a)
{
    return a->kind == WAC_TARGET_NAME && !a->exclude;
}

void wac__attach_started(struct wac__attach *a)
{
    if (!a->running || !pid_target(a))
        return;
    char why[128];
    if (a->n_entries)
        snprintf(why, sizeof why, "pid %u: %zu audio stream(s)", a->target_pid, a->n_entries);
    else
        snprintf(why, sizeof why, "pid %u plays no audio yet: delivering silence until it does", a->target_pid);
    wac__stream_post(a->cap, WAC_EVENT_TARGET_ATTACHED, a->target_pid, 0, 0, why);
}

static bool announced(const struct wac__attach *a, uint32_t pid)
{
    for (size_t i = 0; i < a->n_announced; i++)
        if (a->announced[i] == pid)
            return true;
    return false;
}

static void announce(struct wac__attach *a, uint32_t pid)
{
    if (!name_target(a) || pid == 0 || announced(a, pid))
        return;
    /* Reserved by wac__attach_add: this does not allocate. */
    if (!reserve((void **)&a->announced, &a->cap_announced, a->n_announced, sizeof *a->announced, 8))
        return;
    a->announced[a->n_announced++] = pid;
    char why[320];
    snprintf(why, sizeof why, "%s (pid %u) plays audio", a->name, pid);
    wac__stream_post(a->cap, WAC_EVENT_TARGET_ATTACHED, pid, 0, 0, why);
}

void wac__attach_live(struct wac__attach *a, struct wac__attach_entry *e, const char *detail)
{
    if (!a->running || e->live)
        return;
    announce(a, e->pid);
    e->live = true;
    e->skip_posted = false;
    wac__capture_streams_changed(a->cap, 1);
    wac__stream_post(a->cap, WAC_EVENT_STREAM_ADDED, e->pid, (uint32_t)e->key, 0, detail);
}

void wac__attach_skipped(struct wac__attach *a, struct wac__attach_entry *e, int error, const char *detail)
{
    if (!a->running || e->live || e->skip_posted)
        return;
    e->skip_posted = true;
    wac__stream_post(a->cap, WAC_EVENT_STREAM_SKIPPED, e->pid, (uint32_t)e->key, error, detail);
}

void wac__attach_engine_missed(struct wac__attach *a, unsigned missed)
{
    if (!a->running || missed <= a->missed_seen) {
        a->missed_seen = missed;
        return;
    }
    char why[160];
    snprintf(why, sizeof why,
             "no memory to track %u object(s) the server announced: streams may be missing until the "
             "context is opened again",
             missed);
    a->missed_seen = missed;
    wac__stream_post(a->cap, WAC_EVENT_STREAM_SKIPPED, 0, 0, WAC_ERR_NO_MEMORY, why);
}

/* Take entry i out of the table, keeping the others' order. */
static void remove_at(struct wac__attach *a, size_t i, bool report)
{
    struct wac__attach_entry *e = a->entries[i];
    memmove(&a->entries[i], &a->entries[i + 1], (a->n_entries - i - 1) * sizeof *a->entries);
    a->n_entries--;
    if (e->live) {
        wac__capture_streams_changed(a->cap, -1);
        if (report && a->running)
            wac__stream_post(a->cap, WAC_EVENT_STREAM_REMOVED, e->pid, (uint32_t)e->key, 0, NULL);
    }
    release_entry(a, e);
}

void wac__attach_gone(struct wac__attach *a, uint64_t key)
{
    forget_rejection(a, key);
    for (size_t i = 0; i < a->n_entries; i++)
        if (a->entries[i]->key == key) {
            remove_at(a, i, true);
            return;
        }
}

void wac__attach_all_gone(struct wac__attach *a)
{
    a->n_rejected = 0;
    while (a->n_entries)
        remove_at(a, 0, true);
}

bool wac__attach_exited(struct wac__attach *a, uint32_t pid, const char *detail)
{
    if (!a->running || a->target_gone)
        return false;
    bool whole_target = pid_target(a) && pid == a->target_pid;
    if (!whole_target && !(name_target(a) && announced(a, pid)))
        return false;
    /* Streams of the process that are still attached go first (the whole
     * target's, when the target itself exited). */
    for (size_t i = 0; i < a->n_entries;) {
        if (whole_target || a->entries[i]->pid == pid)
            remove_at(a, i, true);
        else
            i++;
    }
    char why[320];
    if (!detail) {
        if (whole_target)
            snprintf(why, sizeof why, "pid %u exited", pid);
        else
            snprintf(why, sizeof why, "%s (pid %u) exited", a->name, pid);
        detail = why;
    }
    wac__stream_post(a->cap, WAC_EVENT_TARGET_DETACHED, pid, 0, 0, detail);
    if (!whole_target) {
        for (size_t i = 0; i < a->n_announced; i++)
            if (a->announced[i] == pid) {
                a->announced[i] = a->announced[--a->n_announced];
                break;
            }
        return false;
    }
    a->target_gone = true;
    return true;
}

bool wac__attach_device_gone(struct wac__attach *a, uint64_t key, const char *detail)
{
    if (!a->running || a->target_gone || a->kind != WAC_TARGET_DEVICE)
        return false;
    wac__attach_gone(a, key);
    if (a->follows_default)
        return false;
    char why[320];
    if (!detail) {
        snprintf(why, sizeof why, "device %s was removed", a->name);
        detail = why;
    }
    wac__stream_post(a->cap, WAC_EVENT_TARGET_DETACHED, 0, 0, 0, detail);
    a->target_gone = true;
    return true;
}

void wac__attach_check_names(struct wac__attach *a, bool (*alive)(uint32_t pid))
{
    for (size_t i = 0; i < a->n_announced;) {
        uint32_t pid = a->announced[i];
        if (!wac__attach_has_pid(a, pid) && !alive(pid)) {
            wac__attach_exited(a, pid, NULL); /* removes announced[i] */
            continue;
        }
        i++;
    }
}

bool wac__attach_fail_later(struct wac__attach *a, int error, const char *fmt, ...)
{
    if (!a->running || a->fail_error)
        return false;
    a->fail_error = error;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->fail_detail, sizeof a->fail_detail, fmt, ap);
    va_end(ap);
    return true;
}

const char *wac__attach_failure(const struct wac__attach *a, int *error)
{
    if (error)
        *error = a->fail_error;
    return a->fail_error ? a->fail_detail : NULL;
}

bool wac__attach_take_failure(struct wac__attach *a, int *error, char *detail, size_t detail_size)
{
    if (!a->running || !a->fail_error)
        return false;
    *error = a->fail_error;
    snprintf(detail, detail_size, "%s", a->fail_detail);
    a->fail_error = 0;
    return true;
}

void wac__attach_stop(struct wac__attach *a)
{
    a->running = false;
    a->fail_error = 0;
    drop_all(a);
}

void wac__attach_end(struct wac__attach *a, int error, const char *detail)
{
    wac__attach_stop(a);
    wac__stream_end(a->cap, error, detail);
}
