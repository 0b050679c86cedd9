/* session.c — the list of processes playing audio, filled by the backend. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct wac_session_list {
    wac_session *items;
    size_t count, capacity;
};

struct wac__session_list_builder {
    struct wac_session_list list;
};

static char *copy_or_empty(const char *s)
{
    return wac__strdup(s ? s : "");
}

int wac__session_list_add(struct wac__session_list_builder *b, uint32_t pid, const char *executable,
                          const char *app_name, const char *app_id, uint32_t streams, bool playing, float volume,
                          bool muted)
{
    struct wac_session_list *l = &b->list;
    if (l->count == l->capacity) {
        size_t capacity = l->capacity ? l->capacity * 2 : 8;
        wac_session *grown = wac__realloc(l->items, capacity * sizeof *grown);
        if (!grown)
            return WAC_ERR_NO_MEMORY;
        l->items = grown;
        l->capacity = capacity;
    }
    wac_session *s = &l->items[l->count];
    s->pid = pid;
    s->executable = copy_or_empty(executable);
    s->app_name = copy_or_empty(app_name);
    s->app_id = copy_or_empty(app_id);
    s->streams = streams;
    s->playing = playing;
    s->volume = volume >= 0.0f ? volume : -1.0f;
    s->muted = muted;
    if (!s->executable || !s->app_name || !s->app_id) {
        wac__free((char *)s->executable);
        wac__free((char *)s->app_name);
        wac__free((char *)s->app_id);
        return WAC_ERR_NO_MEMORY;
    }
    l->count++;
    return 0;
}

static void free_items(struct wac_session_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        wac__free((char *)l->items[i].executable);
        wac__free((char *)l->items[i].app_name);
        wac__free((char *)l->items[i].app_id);
    }
    wac__free(l->items);
}

int wac_context_list_sessions(wac_context *ctx, wac_session_list **out)
{
    if (out)
        *out = NULL;
    if (!ctx)
        return WAC_ERR_INVALID_ARGUMENT;
    if (!out)
        return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "out must not be NULL");
    struct wac__session_list_builder *b = wac__calloc(1, sizeof *b);
    if (!b)
        return wac__context_fail(ctx, WAC_ERR_NO_MEMORY, "no memory for a session list");
    int rc = ctx->backend->list_sessions(ctx->backend_data, b);
    if (rc) {
        free_items(&b->list);
        wac__free(b);
        return wac__context_fail(ctx, rc, "listing sessions failed: %s", wac_strerror(rc));
    }
    /* The builder's only member is the list: hand it out as is. */
    *out = &b->list;
    return 0;
}

size_t wac_session_list_count(const wac_session_list *list)
{
    return list ? list->count : 0;
}

const wac_session *wac_session_list_at(const wac_session_list *list, size_t index)
{
    return list && index < list->count ? &list->items[index] : NULL;
}

void wac_session_list_free(wac_session_list *list)
{
    if (!list)
        return;
    free_items(list);
    wac__free(list); /* it is the builder's first and only member */
}
