/* dispatch.c — the context's dispatch thread: one thread, whatever the number
 * of captures, waits on all their descriptors and runs their callbacks in
 * chunks of exactly chunk_frames frames, with their events in order. User code
 * runs here, never on an audio engine's thread. */
#include <string.h>

#include "internal.h"

/* Deliver everything ready for one capture. Returns when nothing is ready, or
 * the capture was closed by a callback. */
static void service(wac_capture *cap)
{
    const wac_capture_config *c = &cap->s->config;
    for (;;) {
        if (atomic_load(&cap->closed))
            return;
        wac__consumer_collect(cap);
        wac_event ev;
        if (wac__consumer_pop_event(cap, &ev)) {
            if (ev.type == WAC_EVENT_ENDED)
                cap->end_delivered = true;
            if (c->on_event)
                c->on_event(cap, &ev, c->userdata);
            continue;
        }
        if (cap->end_delivered)
            return;
        bool ended = atomic_load(&cap->end_posted);
        uint32_t fill = wac__ring_fill(&cap->s->ring);
        uint32_t n = fill >= cap->chunk_frames ? cap->chunk_frames : (ended ? fill : 0);
        if (n == 0)
            return;
        /* Straight from the ring when the chunk lies in one piece (all but
         * the chunks that wrap around its end): the callback's frames are
         * then the only copy a consumer makes. */
        wac_chunk_info info;
        const void *frames = wac__consumer_peek_frames(cap, n, &info);
        if (!frames) {
            wac__consumer_read_frames(cap, cap->chunk_buffer, n, &info);
            frames = cap->chunk_buffer;
        }
        if (n < cap->chunk_frames)
            info.flags |= WAC_CHUNK_LAST;
        c->on_audio(cap, frames, n, &info, c->userdata);
        if (frames != cap->chunk_buffer)
            wac__consumer_commit_frames(cap, n);
    }
}

static void *dispatch_main(void *arg)
{
    wac_context *ctx = arg;
    void *tags[32];
    while (!atomic_load(&ctx->dispatch_quit)) {
        int n = wac__poller_wait(ctx->poller, tags, 32, -1);
        for (int i = 0; i < n; i++) {
            if (tags[i] == ctx) {
                wac__wake_drain(&ctx->dispatch_wake);
                continue;
            }
            wac_capture *cap = tags[i];
            /* The handle outlives close(), so a stale tag is safe to look at. */
            if (wac__consumer_enter(cap))
                continue;
            atomic_store(&ctx->dispatching, cap);
            service(cap);
            atomic_store(&ctx->dispatching, NULL);
            if (cap->release_deferred) {
                wac__consumer_leave(cap);
                wac__mutex_lock(&cap->control_lock);
                wac__capture_release(cap);
                wac__mutex_unlock(&cap->control_lock);
                continue;
            }
            if (!atomic_load(&cap->closed))
                wac__consumer_rearm(cap);
            wac__consumer_leave(cap);
        }
    }
    return NULL;
}

static int start_locked(wac_context *ctx)
{
    int rc = wac__poller_create(&ctx->poller);
    if (rc)
        return rc;
    rc = wac__wake_init(&ctx->dispatch_wake);
    if (rc == 0)
        rc = wac__poller_add(ctx->poller, &ctx->dispatch_wake, ctx);
    if (rc == 0)
        rc = wac__thread_start(&ctx->dispatch_thread, dispatch_main, ctx);
    if (rc) {
        wac__wake_close(&ctx->dispatch_wake);
        wac__poller_destroy(ctx->poller);
        ctx->poller = NULL;
        return rc;
    }
    ctx->dispatch_running = true;
    return 0;
}

int wac__dispatch_add(wac_context *ctx, wac_capture *cap)
{
    wac__mutex_lock(&ctx->lock);
    int rc = ctx->dispatch_running ? 0 : start_locked(ctx);
    if (rc == 0) {
        atomic_store(&cap->fd_mode, true); /* the dispatch thread is an fd consumer */
        atomic_store(&cap->wanted, cap->chunk_frames);
        rc = wac__poller_add(ctx->poller, &cap->wake, cap);
        cap->in_poller = rc == 0;
    }
    wac__mutex_unlock(&ctx->lock);
    return rc;
}

void wac__dispatch_remove(wac_context *ctx, wac_capture *cap)
{
    wac__mutex_lock(&ctx->lock);
    wac__poller_remove(ctx->poller, &cap->wake);
    cap->in_poller = false;
    wac__mutex_unlock(&ctx->lock);
}

void wac__dispatch_stop(wac_context *ctx)
{
    if (!ctx->dispatch_running)
        return;
    atomic_store(&ctx->dispatch_quit, true);
    wac__wake_signal(&ctx->dispatch_wake);
    wac__thread_join(ctx->dispatch_thread);
    wac__wake_close(&ctx->dispatch_wake);
    wac__poller_destroy(ctx->poller);
    ctx->poller = NULL;
    ctx->dispatch_running = false;
}
