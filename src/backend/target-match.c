/* target-match.c — see target-match.h for the rules. */
#include "target-match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

int wac__target_match_init(struct wac__target_match *m, const wac_target *target)
{
    memset(m, 0, sizeof *m);
    m->target = *target;
    if (target->kind == WAC_TARGET_NAME && target->name)
        snprintf(m->name, sizeof m->name, "%s", target->name);
    m->target.name = m->name;
    if (target->kind == WAC_TARGET_PID && target->include_tree) {
        if (wac__proctree_init(&m->tree, target->pid))
            return WAC_ERR_NO_MEMORY;
        m->has_tree = true;
        wac__proctree_refresh(&m->tree);
    }
    return 0;
}

void wac__target_match_free(struct wac__target_match *m)
{
    if (m->has_tree)
        wac__proctree_free(&m->tree);
    free(m->announced);
    m->announced = NULL;
    free(m->rejected);
    m->rejected = NULL;
    m->n_rejected = m->cap_rejected = 0;
    m->has_tree = false;
}

bool wac__target_match_rejected(const struct wac__target_match *m, uint64_t key)
{
    for (size_t i = 0; i < m->n_rejected; i++)
        if (m->rejected[i] == key)
            return true;
    return false;
}

void wac__target_match_reject(struct wac__target_match *m, uint64_t key)
{
    if (m->n_rejected == m->cap_rejected) {
        size_t capacity = m->cap_rejected ? m->cap_rejected * 2 : 64;
        uint64_t *grown = realloc(m->rejected, capacity * sizeof *grown);
        if (!grown)
            return;
        m->rejected = grown;
        m->cap_rejected = capacity;
    }
    m->rejected[m->n_rejected++] = key;
}

void wac__target_match_forget(struct wac__target_match *m, uint64_t key)
{
    for (size_t i = 0; i < m->n_rejected; i++)
        if (m->rejected[i] == key) {
            m->rejected[i] = m->rejected[--m->n_rejected];
            return;
        }
}

static bool name_matches(const struct wac__target_match *m, uint32_t pid)
{
    uint32_t p = pid;
    for (int depth = 0; p > 1 && depth < 64; depth++) {
        if (wac__proc_has_name(p, m->name))
            return true;
        if (!m->target.include_tree)
            break;
        p = wac__proc_parent(p);
    }
    return false;
}

/* Is pid the target (or in its tree)? */
static bool target_hit(struct wac__target_match *m, uint32_t pid)
{
    if (pid == 0)
        return false;
    switch (m->target.kind) {
    case WAC_TARGET_PID: return m->has_tree ? wac__proctree_match(&m->tree, pid) : pid == m->target.pid;
    case WAC_TARGET_NAME: return name_matches(m, pid);
    default: return false;
    }
}

bool wac__target_match_wants(struct wac__target_match *m, uint32_t pid)
{
    if (m->target.kind == WAC_TARGET_SYSTEM)
        return true;
    bool hit = target_hit(m, pid);
    return m->target.exclude ? !hit : hit;
}

void wac__target_match_started(struct wac__target_match *m, wac_capture *cap, uint32_t n_streams)
{
    if (m->target.kind != WAC_TARGET_PID || m->target.exclude)
        return;
    char why[128];
    if (n_streams)
        snprintf(why, sizeof why, "pid %u: %u audio stream(s)", m->target.pid, n_streams);
    else
        snprintf(why, sizeof why, "pid %u plays no audio yet: delivering silence until it does", m->target.pid);
    wac__stream_post(cap, WAC_EVENT_TARGET_ATTACHED, m->target.pid, 0, 0, why);
}

static bool announced(struct wac__target_match *m, uint32_t pid, bool remove)
{
    for (size_t i = 0; i < m->n_announced; i++)
        if (m->announced[i] == pid) {
            if (remove)
                m->announced[i] = m->announced[--m->n_announced];
            return true;
        }
    return false;
}

void wac__target_match_stream_attached(struct wac__target_match *m, wac_capture *cap, uint32_t pid)
{
    if (m->target.kind != WAC_TARGET_NAME || m->target.exclude || pid == 0 || announced(m, pid, false))
        return;
    if (m->n_announced == m->cap_announced) {
        size_t capacity = m->cap_announced ? m->cap_announced * 2 : 8;
        uint32_t *grown = realloc(m->announced, capacity * sizeof *grown);
        if (!grown)
            return; /* the event is lost, the audio is not */
        m->announced = grown;
        m->cap_announced = capacity;
    }
    m->announced[m->n_announced++] = pid;
    char why[320];
    snprintf(why, sizeof why, "%s (pid %u) plays audio", m->name, pid);
    wac__stream_post(cap, WAC_EVENT_TARGET_ATTACHED, pid, 0, 0, why);
}

bool wac__target_match_alive(struct wac__target_match *m, char *why, size_t why_size)
{
    if (m->target.kind != WAC_TARGET_PID || m->target.exclude)
        return true;
    bool alive;
    if (m->has_tree) {
        wac__proctree_refresh(&m->tree);
        alive = wac__proctree_any_alive(&m->tree);
    } else {
        alive = wac__proc_alive(m->target.pid);
    }
    if (!alive)
        snprintf(why, why_size, "pid %u%s exited", m->target.pid, m->has_tree ? " and its process tree" : "");
    return alive;
}

bool wac__target_match_check(struct wac__target_match *m, wac_capture *cap,
                             bool (*has_stream)(void *user, uint32_t pid), void *user, char *why,
                             size_t why_size)
{
    if (m->target.kind == WAC_TARGET_PID && !m->target.exclude && !m->gone) {
        bool alive;
        if (m->has_tree) {
            wac__proctree_refresh(&m->tree);
            alive = wac__proctree_any_alive(&m->tree);
        } else {
            alive = wac__proc_alive(m->target.pid);
        }
        if (!alive) {
            m->gone = true;
            snprintf(why, why_size, "pid %u%s exited", m->target.pid, m->has_tree ? " and its process tree" : "");
            wac__stream_post(cap, WAC_EVENT_TARGET_DETACHED, m->target.pid, 0, 0, why);
            return true;
        }
    }
    for (size_t i = 0; i < m->n_announced;) {
        uint32_t pid = m->announced[i];
        if (!has_stream(user, pid) && !wac__proc_alive(pid)) {
            announced(m, pid, true);
            char detail[320];
            snprintf(detail, sizeof detail, "%s (pid %u) exited", m->name, pid);
            wac__stream_post(cap, WAC_EVENT_TARGET_DETACHED, pid, 0, 0, detail);
            continue;
        }
        i++;
    }
    return false;
}
