/* test-delivery.c — the three consumer styles over the dummy backend: blocking
 * reads with timeouts, descriptor readiness, callbacks with exact chunk sizes,
 * and positions and events in order with the audio. */
#include <pthread.h>
#include <stdatomic.h>

#include "helpers.h"

/* Walks a stream of chunks and checks the dummy's counter: every non-silent
 * frame must follow the previous one, except across reported gaps. */
struct checker {
    long long last;       /* last counter seen, -1 none */
    uint64_t next_position;
    uint64_t frames, silent, gaps_allowed;
};

static void check_chunk(struct checker *k, const float *f, uint32_t n, const wac_chunk_info *info)
{
    if (k->frames && !(info->flags & WAC_CHUNK_DISCONTINUOUS))
        ASSERT_EQ(info->position, k->next_position);
    k->next_position = info->position + n;
    for (uint32_t i = 0; i < n; i++) {
        long long c = counter_of(f[i]);
        if (c < 0) {
            k->silent++;
            continue;
        }
        if (k->last >= 0 && c != k->last + 1) {
            if (k->gaps_allowed == 0)
                FAIL("counter jumped from %lld to %lld at position %llu", k->last, c,
                     (unsigned long long)(info->position + i));
            k->gaps_allowed--;
        }
        k->last = c;
    }
    k->frames += n;
}

static void read_returns_exact_chunks_in_order(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_started(ctx, &c);
    struct checker k = {.last = -1};
    float buf[1600];
    int64_t t0 = now_ms();
    int64_t prev_time = 0;
    for (int i = 0; i < 15; i++) {
        wac_chunk_info info;
        ASSERT_RC(wac_capture_read(cap, buf, 1600, 2000, &info), 1600);
        check_chunk(&k, buf, 1600, &info);
        ASSERT_EQ(info.position, (uint64_t)i * 1600);
        if (i > 0) /* timestamps advance by the chunk's duration */
            ASSERT_CMP(llabs(info.time_ns - prev_time - 100000000), <, 5000000);
        prev_time = info.time_ns;
    }
    /* 1.5 s of audio cannot arrive much sooner than 1.5 s after start. */
    ASSERT_CMP(now_ms() - t0, >=, 1350);
    ASSERT_EQ(k.silent, 0);
    wac_capture_stats st;
    ASSERT_OK(wac_capture_get_stats(cap, &st, sizeof st));
    ASSERT_EQ(st.frames_delivered, 15 * 1600);
    ASSERT_EQ(st.frames_lost, 0);
    ASSERT_OK(wac_context_close(ctx));
}

static void read_times_out_and_consumes_nothing(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_started(ctx, &c);
    static float buf[16000];
    ASSERT_RC(wac_capture_read(cap, buf, 16000, 0, NULL), WAC_ERR_TIMEOUT);
    int64_t t0 = now_ms();
    ASSERT_RC(wac_capture_read(cap, buf, 16000, 150, NULL), WAC_ERR_TIMEOUT);
    int64_t waited = now_ms() - t0;
    ASSERT_CMP(waited, >=, 149);
    ASSERT_CMP(waited, <, 900); /* well before a whole second of audio exists */
    /* Nothing was consumed: the first frames read are still the first ones. */
    wac_chunk_info info;
    ASSERT_RC(wac_capture_read(cap, buf, 160, 1000, &info), 160);
    ASSERT_EQ(info.position, 0);
    ASSERT_EQ(counter_of(buf[0]), 0);
    ASSERT_OK(wac_context_close(ctx));
}

struct blocked_reader {
    wac_capture *cap;
    uint32_t frames;
    int rc;
    _Atomic bool entered;
};

static void *blocked_read(void *arg)
{
    struct blocked_reader *r = arg;
    static float buf[32768];
    atomic_store(&r->entered, true);
    r->rc = wac_capture_read(r->cap, buf, r->frames, -1, NULL);
    return NULL;
}

static void read_returns_on_close(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_started(ctx, &c);
    struct blocked_reader r = {.cap = cap, .frames = 32000}; /* 2 s: won't come in time */
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, blocked_read, &r), 0);
    while (!atomic_load(&r.entered))
        sleep_ms(1);
    sleep_ms(100);
    ASSERT_OK(wac_capture_close(cap));
    pthread_join(t, NULL);
    ASSERT_RC(r.rc, WAC_ERR_CLOSED);
    ASSERT_OK(wac_context_close(ctx));
}

static void read_returns_rest_on_stop_then_ended(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_started(ctx, &c);
    struct blocked_reader r = {.cap = cap, .frames = 32000};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, blocked_read, &r), 0);
    sleep_ms(300);
    ASSERT_OK(wac_capture_stop(cap));
    pthread_join(t, NULL);
    /* The partial rest of the stream, then the end. */
    ASSERT_CMP(r.rc, >, 0);
    ASSERT_CMP(r.rc, <, 32000);
    float buf[16];
    ASSERT_RC(wac_capture_read(cap, buf, 16, 1000, NULL), WAC_ERR_ENDED);
    wac_event ev;
    int last = 0;
    while (wac_capture_next_event(cap, &ev, sizeof ev) == 1)
        last = ev.type;
    ASSERT_EQ(last, WAC_EVENT_ENDED);
    ASSERT_OK(wac_context_close(ctx));
}

static void second_reader_is_busy(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_started(ctx, &c);
    struct blocked_reader r = {.cap = cap, .frames = 32000};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, blocked_read, &r), 0);
    while (!atomic_load(&r.entered))
        sleep_ms(1);
    sleep_ms(50);
    float buf[16];
    ASSERT_RC(wac_capture_read(cap, buf, 16, 0, NULL), WAC_ERR_BUSY);
    ASSERT_OK(wac_capture_close(cap));
    pthread_join(t, NULL);
    ASSERT_OK(wac_context_close(ctx));
}

static void events_pulled_in_order(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    c.target.kind = WAC_TARGET_PID;
    c.target.pid = (uint32_t)getpid();
    wac_capture *cap = open_started(ctx, &c);
    float buf[1600];
    ASSERT_RC(wac_capture_read(cap, buf, 1600, 2000, NULL), 1600);
    wac_event ev;
    int types[8], n = 0;
    while (n < 8 && wac_capture_next_event(cap, &ev, sizeof ev) == 1) {
        ASSERT_CMP(ev.position, <=, 1600);
        types[n++] = ev.type;
    }
    ASSERT_EQ(n, 3);
    ASSERT_EQ(types[0], WAC_EVENT_STARTED);
    ASSERT_EQ(types[1], WAC_EVENT_TARGET_ATTACHED);
    ASSERT_EQ(types[2], WAC_EVENT_STREAM_ADDED);
    ASSERT_RC(wac_capture_next_event(cap, &ev, sizeof ev), 0);
    /* A shorter caller struct gets only what it knows. */
    ASSERT_OK(wac_context_close(ctx));
}

static void fd_readable_once_per_chunk(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_started(ctx, &c);
    waitable w = capture_waitable(cap);
    ASSERT(capture_waitable(cap) == w); /* stable */
    float buf[1600];
    int wakeups = 0, empty_wakeups = 0, chunks = 0, events = 0;
    int64_t t0 = now_ms();
    while (now_ms() - t0 < 1500) {
        int r = wait_ready(w, 1000);
        ASSERT_EQ(r, 1);
        wakeups++;
        int got = 0, rc;
        while ((rc = wac_capture_read(cap, buf, 1600, 0, NULL)) == 1600) {
            chunks++;
            got++;
        }
        ASSERT_RC(rc, WAC_ERR_TIMEOUT);
        wac_event ev;
        while (wac_capture_next_event(cap, &ev, sizeof ev) == 1) {
            events++;
            got++;
        }
        if (!got)
            empty_wakeups++;
        /* Re-armed: not readable until the next chunk. */
        ASSERT_EQ(wait_ready(w, 0), 0);
    }
    printf("# %d wake-ups, %d empty, %d chunks, %d events\n", wakeups, empty_wakeups, chunks, events);
    ASSERT_CMP(chunks, >=, 12);
    /* One wake-up per delivered chunk (plus the one at arming): never per engine period. */
    ASSERT_CMP(wakeups, <=, chunks + 2);
    ASSERT_CMP(empty_wakeups, <=, 1);
    ASSERT_OK(wac_context_close(ctx));
}

static void fd_readable_at_end(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_started(ctx, &c);
    waitable w = capture_waitable(cap);
    ASSERT_OK(wac_capture_stop(cap));
    ASSERT_EQ(wait_ready(w, 1000), 1);
    ASSERT_OK(wac_context_close(ctx));
}

/* ---- callbacks ---- */

struct cb_log {
    pthread_t thread;
    _Atomic int chunks;
    uint32_t chunk_frames;
    struct checker k;
    int event_types[64];
    uint64_t event_positions[64];
    int n_events;
    uint64_t audio_position; /* position after the last chunk when each event came */
    bool order_ok;
    int close_at, stop_at;
    _Atomic int close_rc, stop_rc;
    _Atomic int ended;
    _Atomic int after_end;
    _Atomic int ctx_close_rc;
    wac_context *ctx;
    const void *last_frames; /* where the previous chunk lay */
    int moved;               /* chunks that lay elsewhere than the one before */
};

static void log_audio(wac_capture *cap, const void *frames, uint32_t n, const wac_chunk_info *info, void *u)
{
    struct cb_log *l = u;
    l->thread = pthread_self();
    if (atomic_load(&l->ended))
        atomic_fetch_add(&l->after_end, 1);
    if (!(info->flags & WAC_CHUNK_LAST) && n != l->chunk_frames)
        FAIL("chunk of %u frames, expected %u", n, l->chunk_frames);
    check_chunk(&l->k, frames, n, info);
    l->moved += l->last_frames && frames != l->last_frames;
    l->last_frames = frames;
    l->audio_position = info->position + n;
    int c = atomic_fetch_add(&l->chunks, 1) + 1;
    if (c == l->close_at)
        l->close_rc = wac_capture_close(cap);
    if (c == l->stop_at)
        l->stop_rc = wac_capture_stop(cap);
    if (c == 2 && l->ctx)
        l->ctx_close_rc = wac_context_close(l->ctx);
}

static void log_event(wac_capture *cap, const wac_event *ev, void *u)
{
    struct cb_log *l = u;
    if (atomic_load(&l->ended))
        atomic_fetch_add(&l->after_end, 1);
    if (l->n_events < 64) {
        l->event_types[l->n_events] = ev->type;
        l->event_positions[l->n_events] = ev->position;
        /* In order with the audio: never behind what was delivered, never ahead. */
        if (ev->position > l->audio_position)
            l->order_ok = false;
        l->n_events++;
    }
    if (ev->type == WAC_EVENT_ENDED)
        atomic_store(&l->ended, 1);
}

static wac_capture_config callback_config(struct cb_log *l, uint32_t chunk)
{
    wac_capture_config c = speech_config();
    c.chunk_frames = chunk;
    c.on_audio = log_audio;
    c.on_event = log_event;
    c.userdata = l;
    l->chunk_frames = chunk;
    l->k.last = -1;
    l->order_ok = true;
    return c;
}

static void callback_chunks_exact_across_wrap(void)
{
    static struct cb_log l;
    wac_context *ctx = open_dummy();
    /* 1000-frame chunks in a 32768-frame ring: chunks straddle the wrap. */
    wac_capture_config c = callback_config(&l, 1000);
    c.ring_ms = 2000;
    wac_capture *cap = open_started(ctx, &c);
    int64_t t0 = now_ms();
    while (atomic_load(&l.chunks) < 40 && now_ms() - t0 < 8000)
        sleep_ms(20);
    ASSERT_OK(wac_capture_stop(cap));
    t0 = now_ms();
    while (!atomic_load(&l.ended) && now_ms() - t0 < 2000)
        sleep_ms(5);
    ASSERT(atomic_load(&l.ended));
    ASSERT_CMP(atomic_load(&l.chunks), >=, 40);
    ASSERT(!pthread_equal(l.thread, pthread_self())); /* never the caller's thread */
    ASSERT(l.order_ok);
    ASSERT_EQ(l.event_types[0], WAC_EVENT_STARTED);
    ASSERT_EQ(l.event_positions[0], 0);
    ASSERT_EQ(l.event_types[l.n_events - 1], WAC_EVENT_ENDED);
    ASSERT_EQ(l.event_positions[l.n_events - 1], l.k.frames); /* after the last frame */
    ASSERT_EQ(l.k.silent, 0);
    ASSERT_EQ(atomic_load(&l.after_end), 0);
    /* Chunks come straight from the ring (one copy in all, the callback's
     * own), so they lie where the ring holds them, one after another; only
     * one straddling the wrap is copied into a buffer. */
    printf("# %d of %d chunks lay elsewhere than the one before\n", l.moved, atomic_load(&l.chunks));
    ASSERT_CMP(l.moved, >=, atomic_load(&l.chunks) - 3);
    ASSERT_OK(wac_context_close(ctx));
}

static void close_from_own_callback(void)
{
    static struct cb_log l;
    wac_context *ctx = open_dummy();
    wac_capture_config c = callback_config(&l, 800);
    l.close_at = 3;
    wac_capture *cap = open_started(ctx, &c);
    int64_t t0 = now_ms();
    while (atomic_load(&l.chunks) < 3 && now_ms() - t0 < 5000)
        sleep_ms(10);
    sleep_ms(300); /* three more chunks' worth of time */
    ASSERT_EQ(atomic_load(&l.chunks), 3); /* no callback after close */
    ASSERT_OK(l.close_rc);
    ASSERT_EQ(wac_capture_get_state(cap), WAC_STATE_CLOSED);
    float buf[16];
    ASSERT_RC(wac_capture_read(cap, buf, 16, 0, NULL), WAC_ERR_CLOSED);
    ASSERT_OK(wac_context_close(ctx));
}

static void stop_from_own_callback(void)
{
    static struct cb_log l;
    wac_context *ctx = open_dummy();
    wac_capture_config c = callback_config(&l, 800);
    l.stop_at = 3;
    open_started(ctx, &c);
    int64_t t0 = now_ms();
    while (!atomic_load(&l.ended) && now_ms() - t0 < 5000)
        sleep_ms(10);
    ASSERT(atomic_load(&l.ended));
    ASSERT_OK(l.stop_rc);
    sleep_ms(100);
    ASSERT_EQ(atomic_load(&l.after_end), 0);
    ASSERT_EQ(l.event_types[l.n_events - 1], WAC_EVENT_ENDED);
    ASSERT_CMP(atomic_load(&l.chunks), >=, 3);
    ASSERT_OK(wac_context_close(ctx));
}

static void context_close_from_callback_refused(void)
{
    static struct cb_log l;
    wac_context *ctx = open_dummy();
    wac_capture_config c = callback_config(&l, 800);
    l.ctx = ctx;
    l.ctx_close_rc = 1;
    open_started(ctx, &c);
    int64_t t0 = now_ms();
    while (atomic_load(&l.chunks) < 3 && now_ms() - t0 < 5000)
        sleep_ms(10);
    ASSERT_RC(l.ctx_close_rc, WAC_ERR_STATE);
    ASSERT_OK(wac_context_close(ctx));
}

static void many_captures_one_dispatch_thread(void)
{
    enum { N = 8 };
    static struct cb_log logs[N];
    wac_context *ctx = open_dummy();
    for (int i = 0; i < N; i++) {
        wac_capture_config c = callback_config(&logs[i], 400);
        open_started(ctx, &c);
    }
    int64_t t0 = now_ms();
    bool all = false;
    while (!all && now_ms() - t0 < 5000) {
        sleep_ms(20);
        all = true;
        for (int i = 0; i < N; i++)
            all &= atomic_load(&logs[i].chunks) >= 5;
    }
    ASSERT(all);
    ASSERT_OK(wac_context_close(ctx));
    for (int i = 1; i < N; i++)
        ASSERT(pthread_equal(logs[i].thread, logs[0].thread));
}

static void close_while_callbacks_run_elsewhere(void)
{
    static struct cb_log l;
    wac_context *ctx = open_dummy();
    wac_capture_config c = callback_config(&l, 160);
    wac_capture *cap = open_started(ctx, &c);
    sleep_ms(150);
    ASSERT_OK(wac_capture_close(cap));
    int after = atomic_load(&l.chunks);
    sleep_ms(100);
    ASSERT_EQ(atomic_load(&l.chunks), after); /* close returned: no callback runs any more */
    ASSERT_OK(wac_context_close(ctx));
}

static void s16_and_stereo_frames(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    c.format.sample = WAC_SAMPLE_S16;
    c.format.channels = 2;
    wac_capture *cap = open_started(ctx, &c);
    int16_t buf[2 * 1600];
    ASSERT_RC(wac_capture_read(cap, buf, 1600, 2000, NULL), 1600);
    for (int i = 0; i < 1600; i++) {
        ASSERT_EQ(buf[2 * i], i % 32767 + 1);
        ASSERT_EQ(buf[2 * i + 1], buf[2 * i]);
    }
    ASSERT_OK(wac_context_close(ctx));
}

int main(void)
{
    RUN(read_returns_exact_chunks_in_order);
    RUN(read_times_out_and_consumes_nothing);
    RUN(read_returns_on_close);
    RUN(read_returns_rest_on_stop_then_ended);
    RUN(second_reader_is_busy);
    RUN(events_pulled_in_order);
    RUN(fd_readable_once_per_chunk);
    RUN(fd_readable_at_end);
    RUN(callback_chunks_exact_across_wrap);
    RUN(close_from_own_callback);
    RUN(stop_from_own_callback);
    RUN(context_close_from_callback_refused);
    RUN(many_captures_one_dispatch_thread);
    RUN(close_while_callbacks_run_elsewhere);
    RUN(s16_and_stereo_frames);
    return tap_done();
}
