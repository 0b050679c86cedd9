/* device.c — the list of input devices and monitors, filled by the backend. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct wac_device_list {
    wac_device *items;
    size_t count, capacity;
};

struct wac__device_list_builder {
    struct wac_device_list list;
};

int wac__device_list_add(struct wac__device_list_builder *b, const char *name, const char *description, bool monitor,
                         bool is_default, uint32_t rate, uint32_t channels)
{
    struct wac_device_list *l = &b->list;
    if (l->count == l->capacity) {
        size_t capacity = l->capacity ? l->capacity * 2 : 8;
        wac_device *grown = wac__realloc(l->items, capacity * sizeof *grown);
        if (!grown)
            return WAC_ERR_NO_MEMORY;
        l->items = grown;
        l->capacity = capacity;
    }
    char *n = wac__strdup(name ? name : ""), *d = wac__strdup(description ? description : "");
    if (!n || !d) {
        wac__free(n);
        wac__free(d);
        return WAC_ERR_NO_MEMORY;
    }
    l->items[l->count++] = (wac_device){n, d, monitor, is_default, rate, channels};
    return 0;
}

static void free_items(struct wac_device_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        wac__free((char *)l->items[i].name);
        wac__free((char *)l->items[i].description);
    }
    wac__free(l->items);
}

int wac_context_list_devices(wac_context *ctx, wac_device_list **out)
{
    if (out)
        *out = NULL;
    if (!ctx)
        return WAC_ERR_INVALID_ARGUMENT;
    if (!out)
        return wac__context_fail(ctx, WAC_ERR_INVALID_ARGUMENT, "out must not be NULL");
    if (!ctx->backend->list_devices)
        return wac__context_fail(ctx, WAC_ERR_NOT_SUPPORTED, "the %s backend has no input devices",
                                 ctx->backend->name);
    struct wac__device_list_builder *b = wac__calloc(1, sizeof *b);
    if (!b)
        return wac__context_fail(ctx, WAC_ERR_NO_MEMORY, "no memory for a device list");
    int rc = ctx->backend->list_devices(ctx->backend_data, b);
    if (rc) {
        free_items(&b->list);
        wac__free(b);
        return wac__context_fail(ctx, rc, "listing devices failed: %s", wac_strerror(rc));
    }
    *out = &b->list; /* the builder's only member */
    return 0;
}

size_t wac_device_list_count(const wac_device_list *list)
{
    return list ? list->count : 0;
}

const wac_device *wac_device_list_at(const wac_device_list *list, size_t index)
{
    return list && index < list->count ? &list->items[index] : NULL;
}

void wac_device_list_free(wac_device_list *list)
{
    if (!list)
        return;
    free_items(list);
    wac__free(list);
}
