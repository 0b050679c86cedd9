/* target-match.c — see target-match.h for the rules. */
#include "attach/target-match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "os/sandbox.h"

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
    m->has_tree = false;
}

/* A Flatpak app id, exactly (ids are case-sensitive reverse-DNS names). */
static bool app_id_is(uint32_t pid, const char *name)
{
    char id[256];
    return strchr(name, '.') && wac__sandbox_app_id(pid, id, sizeof id) && strcmp(id, name) == 0;
}

static bool name_matches(const struct wac__target_match *m, uint32_t pid)
{
    uint32_t p = pid;
    for (int depth = 0; p > 1 && depth < 64; depth++) {
        if (wac__proc_has_name(p, m->name) || app_id_is(p, m->name))
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
