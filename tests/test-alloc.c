/* test-alloc.c — allocation failures: a counting allocator, installed with
 * wac_replace_allocator(), fails the n-th allocation, for every n a whole run
 * on the dummy backend makes (context open, listings, capture open, start,
 * reads, stop, close, context close). Each run must succeed or fail with
 * WAC_ERR_NO_MEMORY, and leave no block behind; ASan checks the rest (double
 * frees, use after an error path freed something).
 *
 * `test-alloc --backend pipewire|pulse` loops the same run against a real
 * server (tests/integration starts a private one, and the suite's player
 * plays a tone by name, so that streams attach): libwac's own allocations
 * fail in turn, the engines' (libpipewire's, libpulse's) do not, as the hook
 * does not reach them. There a run's allocation count varies with what the
 * server sends, so n runs up to the most any run made. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#ifndef _WIN32
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

static const char *backend = "dummy";
static bool on_dummy(void)
{
    return strcmp(backend, "dummy") == 0;
}

/* ---- the counting allocator ---- */

static atomic_long calls;   /* allocation attempts since the run began */
static atomic_long fail_at; /* the attempt that fails (1-based); 0: none */
static atomic_long failed;  /* attempts failed on purpose */
static atomic_long live;    /* blocks handed out and not freed */

static bool should_fail(void)
{
    long n = atomic_fetch_add(&calls, 1) + 1;
    if (n == atomic_load(&fail_at)) {
        atomic_fetch_add(&failed, 1);
        return true;
    }
    return false;
}

static void *t_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    void *p = malloc(size);
    if (p)
        atomic_fetch_add(&live, 1);
    return p;
}

static void *t_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    void *p = calloc(count, size);
    if (p)
        atomic_fetch_add(&live, 1);
    return p;
}

static void *t_realloc(void *ptr, size_t size)
{
    /* The header promises a block to resize and a size: realloc's other
     * meanings (malloc, free) never reach the hook. */
    if (!ptr || size == 0)
        FAIL("realloc(%p, %zu) reached the allocator", ptr, size);
    if (should_fail())
        return NULL;
    return realloc(ptr, size);
}

static void t_free(void *ptr)
{
    if (!ptr)
        FAIL("free(NULL) reached the allocator");
    atomic_fetch_sub(&live, 1);
    free(ptr);
}

static void install(void)
{
    ASSERT_OK(wac_replace_allocator(t_malloc, t_realloc, t_calloc, t_free));
}

static void arm(long n)
{
    atomic_store(&fail_at, n);
    atomic_store(&failed, 0);
    atomic_store(&calls, 0);
}

/* ---- one run ---- */

#define CHUNK 160 /* 10 ms at 16 kHz: a few chunks take a few dummy periods */
#define READS 4

static const char *failed_in; /* the call that failed in this run, if any */
static const char *player = "pw-cat"; /* what a real server's name target takes */

/* A call that may fail only for want of memory, and says why. */
#define EXPECT_NOMEM(rc, what, detail)                                                                  \
    do {                                                                                                \
        failed_in = what;                                                                               \
        if ((rc) != WAC_ERR_NO_MEMORY)                                                                  \
            FAIL("fail_at %ld: %s returned %s (%s), expected NO_MEMORY", atomic_load(&fail_at), what,   \
                 wac_error_name(rc), detail);                                                           \
        if (!(detail)[0])                                                                               \
            FAIL("fail_at %ld: %s failed with no detail", atomic_load(&fail_at), what);                 \
    } while (0)

/* A failure a run survived must still be seen: an event that says so. */
static atomic_bool reported;

static void saw_event(const wac_event *ev)
{
    if (ev->error == WAC_ERR_NO_MEMORY) {
        atomic_store(&reported, true);
        printf("#   %s: %s\n", wac_event_name(ev->type), ev->detail);
    }
}

static void read_chunks(wac_capture *cap)
{
    float buf[CHUNK];
    uint64_t expect_position = 0;
    for (int i = 0; i < READS; i++) {
        wac_chunk_info info;
        int rc = wac_capture_read(cap, buf, CHUNK, 5000, &info);
        if (rc != CHUNK)
            FAIL("fail_at %ld: read %d returned %d (%s: %s)", atomic_load(&fail_at), i, rc, wac_error_name(rc),
                 wac_capture_last_error(cap));
        /* A capture that survived a failed allocation is still a continuous
         * timeline of the dummy's counter (or a server's audio) or silence. */
        if (!(info.flags & WAC_CHUNK_DISCONTINUOUS))
            ASSERT_EQ(info.position, expect_position);
        expect_position = info.position + CHUNK;
        for (int k = 0; k < CHUNK; k++)
            if (on_dummy())
                ASSERT(buf[k] == 0.0f || (buf[k] > 0.0f && buf[k] < 1.0f));
            else
                ASSERT(buf[k] >= -1.0f && buf[k] <= 1.0f);
    }
    /* A start that succeeded said so: its STARTED event was not lost. */
    wac_event ev;
    int rc = wac_capture_next_event(cap, &ev, sizeof ev);
    if (rc != 1 || ev.type != WAC_EVENT_STARTED)
        FAIL("fail_at %ld: the first event is %s, not started", atomic_load(&fail_at),
             rc == 1 ? wac_event_name(ev.type) : "missing");
    while ((rc = wac_capture_next_event(cap, &ev, sizeof ev)) == 1)
        saw_event(&ev);
    ASSERT_EQ(rc, 0);
}

/* Callback style: the dispatch thread delivers; the test waits for a few chunks. */
static atomic_int delivered;

static void on_audio(wac_capture *cap, const void *frames, uint32_t n_frames, const wac_chunk_info *info,
                     void *userdata)
{
    (void)cap, (void)frames, (void)info, (void)userdata;
    if (n_frames)
        atomic_fetch_add(&delivered, 1);
}

static atomic_int first_event; /* type of the callback capture's first event; 0: none yet */

static void on_event(wac_capture *cap, const wac_event *event, void *userdata)
{
    (void)cap, (void)userdata;
    saw_event(event);
    int none = 0;
    atomic_compare_exchange_strong(&first_event, &none, (int)event->type);
}

/* Open and start; false (after checking the error) when memory ran out. */
static bool open_and_start(wac_context *ctx, const wac_capture_config *c, wac_capture **cap)
{
    int rc = wac_capture_open(ctx, c, cap);
    if (rc) {
        EXPECT_NOMEM(rc, "wac_capture_open", wac_context_last_error(ctx));
        ASSERT(*cap == NULL);
        return false;
    }
    rc = wac_capture_start(*cap);
    if (rc) {
        EXPECT_NOMEM(rc, "wac_capture_start", wac_capture_last_error(*cap));
        return false;
    }
    return true;
}

static bool lists(wac_context *ctx)
{
    wac_session_list *sessions = NULL;
    int rc = wac_context_list_sessions(ctx, &sessions);
    if (rc) {
        EXPECT_NOMEM(rc, "wac_context_list_sessions", wac_context_last_error(ctx));
        ASSERT(sessions == NULL);
        return false;
    }
    if (on_dummy()) {
        ASSERT_EQ(wac_session_list_count(sessions), 1);
        ASSERT(strcmp(wac_session_list_at(sessions, 0)->executable, "wac-dummy-player") == 0);
    }
    wac_session_list_free(sessions);
    wac_device_list *devices = NULL;
    rc = wac_context_list_devices(ctx, &devices);
    if (rc) {
        EXPECT_NOMEM(rc, "wac_context_list_devices", wac_context_last_error(ctx));
        ASSERT(devices == NULL);
        return false;
    }
    if (on_dummy())
        ASSERT_EQ(wac_device_list_count(devices), 1);
    wac_device_list_free(devices);
    return true;
}

/* Two read captures on one timeline. */
static bool aligned(wac_capture *a, wac_capture *b)
{
    wac_capture *caps[2] = {a, b};
    wac_aligned *al = NULL;
    int rc = wac_aligned_open(caps, 2, CHUNK, &al);
    if (rc) {
        EXPECT_NOMEM(rc, "wac_aligned_open", "(aligned readers have no detail)");
        ASSERT(al == NULL);
        return false;
    }
    float one[CHUNK], two[CHUNK];
    void *bufs[2] = {one, two};
    for (int i = 0; i < 2; i++) {
        rc = wac_aligned_read(al, bufs, CHUNK, 5000, NULL, NULL);
        if (rc != CHUNK)
            FAIL("fail_at %ld: aligned read returned %d (%s)", atomic_load(&fail_at), rc, wac_error_name(rc));
    }
    wac_aligned_close(al);
    return true;
}

/* Returns true when every step succeeded. Each step runs only if the one
 * before it succeeded, so a failure is seen where it happened. */
static bool run_once(void)
{
    failed_in = NULL;
    atomic_store(&reported, false);
    wac_context *ctx = NULL;
    char detail[256] = "";
    int rc = wac_context_open(backend, &ctx, detail, sizeof detail);
    if (rc) {
        EXPECT_NOMEM(rc, "wac_context_open", detail);
        ASSERT(ctx == NULL);
        return false;
    }

    wac_capture *cap = NULL, *named = NULL, *called = NULL;
    wac_capture_config c = speech_config();
    c.chunk_frames = CHUNK;
    bool ok = lists(ctx) && open_and_start(ctx, &c, &cap);
    if (ok) {
        read_chunks(cap);
        /* A name target (its name is copied) read on one timeline with the first. */
        wac_capture_config n = c;
        n.target.kind = WAC_TARGET_NAME;
        n.target.name = on_dummy() ? "wac-dummy-player" : player;
        ok = open_and_start(ctx, &n, &named) && aligned(cap, named);
    }
    if (ok) {
        /* Callback style: the context's dispatch thread, its poller, a chunk buffer. */
        wac_capture_config cb = c;
        cb.on_audio = on_audio;
        cb.on_event = on_event;
        atomic_store(&delivered, 0);
        atomic_store(&first_event, 0);
        ok = open_and_start(ctx, &cb, &called);
        if (ok) {
            int64_t until = now_ms() + 5000;
            while (atomic_load(&delivered) < READS && now_ms() < until)
                sleep_ms(2);
            if (atomic_load(&delivered) < READS)
                FAIL("fail_at %ld: the callback capture delivered %d chunks", atomic_load(&fail_at),
                     atomic_load(&delivered));
            if (atomic_load(&first_event) != WAC_EVENT_STARTED)
                FAIL("fail_at %ld: the callback capture's first event is %d, not started", atomic_load(&fail_at),
                     atomic_load(&first_event));
        }
    }
    wac_capture *all[] = {cap, named, called};
    for (size_t i = 0; i < 3; i++) {
        if (!all[i])
            continue;
        wac_event ev;
        while (all[i] != called && wac_capture_next_event(all[i], &ev, sizeof ev) == 1)
            saw_event(&ev);
        if (wac_capture_get_state(all[i]) == WAC_STATE_RUNNING)
            ASSERT_OK(wac_capture_stop(all[i]));
        ASSERT_OK(wac_capture_close(all[i]));
    }
    ASSERT_OK(wac_context_close(ctx));
    return ok;
}

static void fail_every_allocation(void)
{
    install();
    arm(0);
    ASSERT(run_once());
    long needed = atomic_load(&calls);
    ASSERT_EQ(atomic_load(&live), 0);
    ASSERT_CMP(needed, >, 5);
    printf("# a whole run makes %ld allocations\n", needed);
    long clean_failures = 0;
    for (long n = 1; n <= needed; n++) {
        arm(n);
        bool complete = run_once();
        if (atomic_load(&live) != 0)
            FAIL("fail_at %ld: %ld blocks leaked", n, atomic_load(&live));
        /* On the dummy every run gets as far as its n-th allocation, so every
         * n fails one; a server's run may make fewer or more. */
        if (on_dummy())
            ASSERT_EQ(atomic_load(&failed), 1);
        else if (atomic_load(&calls) > needed)
            needed = atomic_load(&calls);
        bool hit = atomic_load(&failed) == 1;
        clean_failures += !complete;
        printf("# allocation %ld: %s\n", n,
               !hit ? "not reached (this run made fewer)"
               : !complete ? failed_in
               : atomic_load(&reported) ? "survived, reported by an event"
                                        : "survived");
        /* On a server every failure WAC survived is a stream or an object it
         * could not take: an event must say so. (The dummy's are counted,
         * not classified.) */
        if (!on_dummy() && hit && complete && !atomic_load(&reported))
            FAIL("fail_at %ld: a failed allocation was survived without a word", n);
    }
    printf("# %ld of %ld failed allocations ended a call with NO_MEMORY; the others were survived\n",
           clean_failures, needed);
    /* At least the context's own allocation is one nobody can do without. */
    ASSERT_CMP(clean_failures, >, 0);
    ASSERT_OK(wac_replace_allocator(malloc, realloc, calloc, free));
}

static void replace_rules(void)
{
    ASSERT_RC(wac_replace_allocator(NULL, t_realloc, t_calloc, t_free), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_replace_allocator(t_malloc, NULL, t_calloc, t_free), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_replace_allocator(t_malloc, t_realloc, NULL, t_free), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_replace_allocator(t_malloc, t_realloc, t_calloc, NULL), WAC_ERR_INVALID_ARGUMENT);
    install();
    arm(0);
    wac_context *ctx = open_dummy();
    ASSERT_CMP(atomic_load(&live), >, 0); /* the hook is in use */
    /* Blocks of this allocator are out: another must not be asked to free them. */
    ASSERT_RC(wac_replace_allocator(malloc, realloc, calloc, free), WAC_ERR_BUSY);
    wac_session_list *sessions = NULL;
    ASSERT_OK(wac_context_list_sessions(ctx, &sessions));
    ASSERT_OK(wac_context_close(ctx));
    /* A list outlives its context, and holds its allocator too. */
    ASSERT_RC(wac_replace_allocator(malloc, realloc, calloc, free), WAC_ERR_BUSY);
    wac_session_list_free(sessions);
    ASSERT_EQ(atomic_load(&live), 0);
    ASSERT_OK(wac_replace_allocator(malloc, realloc, calloc, free));
    /* Back on the C library's: the hook sees nothing any more. */
    long before = atomic_load(&calls);
    wac_context_close(open_dummy());
    ASSERT_EQ(atomic_load(&calls), before);
}

int main(int argc, char **argv)
{
#ifndef _WIN32
    pid_t tone = 0;
    if (argc == 4 && strcmp(argv[1], "--backend") == 0) {
        backend = argv[2];
        const char *p = getenv("WAC_PLAYER");
        /* pw-play and paplay run as pw-cat and pacat. */
        player = p && strcmp(p, "paplay") == 0 ? "pacat" : "pw-cat";
        /* argv[3]: play-tone.sh, which plays a tone with the suite's player. */
        tone = fork();
        if (tone == 0) {
            execl(argv[3], argv[3], "440", "600", (char *)NULL);
            _exit(127);
        }
        ASSERT(tone > 0);
        sleep_ms(1000);
    } else
#endif
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--backend NAME PLAY-TONE]\n", argv[0]);
        return 2;
    }
    if (on_dummy())
        tap_run("replace_rules", replace_rules, 60);
    tap_run("fail_every_allocation", fail_every_allocation, 600);
#ifndef _WIN32
    if (tone > 0) {
        kill(tone, SIGTERM);
        waitpid(tone, NULL, 0);
    }
#endif
    return tap_done();
}
