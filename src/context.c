/* context.c — contexts: choosing and connecting a backend, owning captures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *wac_backend_name(size_t index)
{
    for (size_t i = 0; wac__backends[i]; i++)
        if (i == index)
            return wac__backends[i]->name;
    return NULL;
}

static const struct wac__backend *find_backend(const char *name)
{
    for (size_t i = 0; wac__backends[i]; i++)
        if (strcmp(wac__backends[i]->name, name) == 0)
            return wac__backends[i];
    return NULL;
}

static void put_detail(char *detail, size_t size, const char *text)
{
    if (detail && size)
        snprintf(detail, size, "%s", text);
}

int wac_context_open(const char *backend, wac_context **out, char *detail, size_t detail_size)
{
    put_detail(detail, detail_size, "");
    if (!out) {
        put_detail(detail, detail_size, "out must not be NULL");
        return WAC_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    bool automatic = !backend || strcmp(backend, "auto") == 0;
    const struct wac__backend *chosen = NULL;
    if (!automatic) {
        chosen = find_backend(backend);
        if (!chosen) {
            char msg[WAC__DETAIL_SIZE];
            int len = snprintf(msg, sizeof msg, "backend \"%s\" is not one of:", backend);
            for (size_t i = 0; wac__backends[i] && len > 0 && (size_t)len < sizeof msg; i++)
                len += snprintf(msg + len, sizeof msg - (size_t)len, " %s", wac__backends[i]->name);
            put_detail(detail, detail_size, msg);
            return WAC_ERR_UNKNOWN_BACKEND;
        }
    }

    wac_context *ctx = wac__calloc(1, sizeof *ctx);
    if (!ctx) {
        put_detail(detail, detail_size, "no memory for a context");
        return WAC_ERR_NO_MEMORY;
    }
    if (wac__mutex_init(&ctx->lock)) {
        wac__free(ctx);
        put_detail(detail, detail_size, "cannot create a lock");
        return WAC_ERR_SYSTEM;
    }
    ctx->id = wac__handle_id();
    wac__wake_init_none(&ctx->dispatch_wake);

    int rc = WAC_ERR_BACKEND_UNAVAILABLE;
    char why[WAC__DETAIL_SIZE] = "";
    if (chosen) {
        rc = chosen->connect(ctx, &ctx->backend_data, why, sizeof why);
    } else {
        /* auto: the first backend that answers; say why each one did not. */
        size_t len = 0;
        for (size_t i = 0; wac__backends[i] && rc != 0; i++) {
            if (!wac__backends[i]->automatic)
                continue;
            char one[WAC__DETAIL_SIZE] = "";
            chosen = wac__backends[i];
            rc = chosen->connect(ctx, &ctx->backend_data, one, sizeof one);
            if (rc && len < sizeof why)
                len += (size_t)snprintf(why + len, sizeof why - len, "%s%s: %s", len ? "; " : "", chosen->name, one);
        }
        if (rc && !len)
            snprintf(why, sizeof why, "no audio backend is built into this libwac");
    }
    if (rc) {
        put_detail(detail, detail_size, why);
        wac__mutex_destroy(&ctx->lock);
        wac__free(ctx);
        return rc;
    }
    ctx->backend = chosen;
    *out = ctx;
    return 0;
}

int wac_context_close(wac_context *ctx)
{
    if (!ctx)
        return 0;
    if (ctx->dispatch_running && wac__thread_is_current(ctx->dispatch_thread))
        return wac__context_fail(ctx, WAC_ERR_STATE, "wac_context_close called from one of its own callbacks");
    for (wac_capture *cap = ctx->captures; cap; cap = cap->next)
        wac_capture_close(cap);
    wac__dispatch_stop(ctx);
    ctx->backend->disconnect(ctx->backend_data);
    wac_capture *cap = ctx->captures;
    while (cap) {
        wac_capture *next = cap->next;
        wac__capture_free(cap);
        cap = next;
    }
    wac__mutex_destroy(&ctx->lock);
    wac__free(ctx);
    return 0;
}

const char *wac_context_backend(const wac_context *ctx)
{
    return ctx ? ctx->backend->name : NULL;
}

int wac_context_set_reconnect(wac_context *ctx, bool reconnect)
{
    if (!ctx)
        return WAC_ERR_INVALID_ARGUMENT;
    if (!ctx->backend->set_reconnect)
        return wac__context_fail(ctx, WAC_ERR_NOT_SUPPORTED,
                                 "the %s backend ends its captures when the server goes; it does not reconnect yet",
                                 ctx->backend->name);
    return ctx->backend->set_reconnect(ctx->backend_data, reconnect);
}
