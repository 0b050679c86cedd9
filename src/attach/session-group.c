/* session-group.c — see session-group.h. */
#include "attach/session-group.h"
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>

#include "os/proctree.h"
#include "os/sandbox.h"

int wac__session_group_init(struct wac__session_group *g, size_t streams)
{
    g->count = 0;
    g->capacity = streams;
    g->items = wac__calloc(streams ? streams : 1, sizeof *g->items);
    return g->items ? 0 : WAC_ERR_NO_MEMORY;
}

void wac__session_group_add(struct wac__session_group *g, uint32_t pid, const char *app_name, const char *binary,
                            bool playing, float volume, bool muted)
{
    size_t i;
    for (i = 0; i < g->count; i++)
        if (g->items[i].pid == pid)
            break;
    if (i == g->count) {
        if (g->count == g->capacity)
            return;
        struct wac__session_group_item *s = &g->items[g->count++];
        s->pid = pid;
        snprintf(s->app_name, sizeof s->app_name, "%s", app_name ? app_name : "");
        snprintf(s->binary, sizeof s->binary, "%s", binary ? binary : "");
        s->volume = -1.0f;
        s->muted = true;
    }
    struct wac__session_group_item *s = &g->items[i];
    s->streams++;
    s->playing |= playing;
    if (volume > s->volume)
        s->volume = volume;
    s->muted = s->muted && muted && volume >= 0.0f;
}

int wac__session_group_finish(struct wac__session_group *g, struct wac__session_list_builder *list)
{
    int rc = 0;
    for (size_t i = 0; i < g->count && rc == 0; i++) {
        const struct wac__session_group_item *s = &g->items[i];
        char exe[256] = "", app_id[256] = "";
        if (s->pid) {
            wac__proc_exe_name(s->pid, exe, sizeof exe);
            wac__sandbox_app_id(s->pid, app_id, sizeof app_id);
        }
        rc = wac__session_list_add(list, s->pid, exe[0] ? exe : s->binary, s->app_name, app_id, s->streams,
                                   s->playing, s->volume, s->muted);
    }
    wac__free(g->items);
    g->items = NULL;
    g->count = g->capacity = 0;
    return rc;
}
