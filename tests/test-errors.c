/* test-errors.c — the detail strings of failures, read while other threads
 * fail on the same handle. Each thread must read the detail of its own
 * failure, whole, and never race with another thread's failure: under
 * ThreadSanitizer (scripts/test.sh runs the unit suite in build-tsan) a shared
 * buffer written by one thread and read by another is reported; without it a
 * detail that belongs to another thread's failure fails the assertions. */
#include <pthread.h>
#include <stdatomic.h>

#include "helpers.h"

#define RUN_MS 400

struct provoker {
    wac_context *ctx;
    wac_capture *cap;
    _Atomic bool stop;
    long failures;
};

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Fails on the capture as fast as it can, each time with its own detail. */
static void *fail_on_capture(void *arg)
{
    struct provoker *p = arg;
    while (!atomic_load(&p->stop)) {
        int rc = wac_capture_stop(p->cap);
        if (rc != WAC_ERR_STATE)
            FAIL("stop of an unstarted capture returned %s", wac_error_name(rc));
        if (strcmp(wac_capture_last_error(p->cap), "capture not started") != 0)
            FAIL("stop's detail is \"%s\"", wac_capture_last_error(p->cap));
        p->failures++;
    }
    return NULL;
}

/* Reads a capture's detail from one thread while another fails on it. */
static void capture_detail_read_while_another_thread_fails(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    struct provoker p = {.ctx = ctx, .cap = open_capture(ctx, &c)};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fail_on_capture, &p), 0);
    int64_t end = now_ms() + RUN_MS;
    long reads = 0, own = 0;
    float buf[16];
    while (now_ms() < end) {
        /* A pure reader: what it sees must be whole, whoever wrote it. */
        char copy[512];
        snprintf(copy, sizeof copy, "%s", wac_capture_last_error(p.cap));
        ASSERT(copy[0] == '\0' || strcmp(copy, "capture not started") == 0 || starts_with(copy, "read of 0"));
        reads++;
        /* And a failure of its own, whose detail it must get back. */
        ASSERT_RC(wac_capture_read(p.cap, buf, 0, 0, NULL), WAC_ERR_INVALID_ARGUMENT);
        const char *mine = wac_capture_last_error(p.cap);
        if (!starts_with(mine, "read of 0 frames"))
            FAIL("read's detail is \"%s\"", mine);
        own++;
    }
    atomic_store(&p.stop, true);
    pthread_join(t, NULL);
    printf("# %ld reads, %ld own failures here, %ld failures on the other thread\n", reads, own, p.failures);
    ASSERT_CMP(p.failures, >, 0);
    ASSERT_OK(wac_context_close(ctx));
}

/* Opens that fail on one context from two threads: each gets its own reason
 * (pywac opens from any Python thread on a shared context). */
static void *fail_opens(void *arg)
{
    struct provoker *p = arg;
    wac_capture_config c = speech_config();
    c.target.kind = WAC_TARGET_NAME;
    c.target.name = "";
    while (!atomic_load(&p->stop)) {
        wac_capture *cap = NULL;
        ASSERT_RC(wac_capture_open(p->ctx, &c, &cap), WAC_ERR_INVALID_ARGUMENT);
        if (strcmp(wac_context_last_error(p->ctx), "target name is empty") != 0)
            FAIL("open's detail is \"%s\"", wac_context_last_error(p->ctx));
        p->failures++;
    }
    return NULL;
}

static void context_detail_is_the_failing_threads(void)
{
    wac_context *ctx = open_dummy();
    struct provoker p = {.ctx = ctx};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fail_opens, &p), 0);
    wac_capture_config c = speech_config();
    c.format.rate = 7;
    int64_t end = now_ms() + RUN_MS;
    long own = 0;
    while (now_ms() < end) {
        wac_capture *cap = NULL;
        ASSERT_RC(wac_capture_open(ctx, &c, &cap), WAC_ERR_FORMAT_UNSUPPORTED);
        const char *mine = wac_context_last_error(ctx);
        if (!starts_with(mine, "rate 7 Hz"))
            FAIL("open's detail is \"%s\"", mine);
        own++;
    }
    atomic_store(&p.stop, true);
    pthread_join(t, NULL);
    printf("# %ld failed opens here, %ld on the other thread\n", own, p.failures);
    ASSERT_CMP(p.failures, >, 0);
    ASSERT_OK(wac_context_close(ctx));
}

/* A backend's failure (the dummy's, recorded by the backend under its own
 * lock) while another thread reads: the same rules. */
static void *fail_injections(void *arg)
{
    struct provoker *p = arg;
    while (!atomic_load(&p->stop)) {
        ASSERT_RC(wac_dummy_inject(p->cap, (wac_dummy_fault)99, 0), WAC_ERR_INVALID_ARGUMENT);
        if (strcmp(wac_capture_last_error(p->cap), "unknown dummy fault 99") != 0)
            FAIL("inject's detail is \"%s\"", wac_capture_last_error(p->cap));
        p->failures++;
    }
    return NULL;
}

static void backend_detail_read_while_another_thread_fails(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    struct provoker p = {.ctx = ctx, .cap = open_started(ctx, &c)};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fail_injections, &p), 0);
    int64_t end = now_ms() + RUN_MS;
    while (now_ms() < end) {
        char copy[512];
        snprintf(copy, sizeof copy, "%s", wac_capture_last_error(p.cap));
        ASSERT(copy[0] == '\0' || strcmp(copy, "unknown dummy fault 99") == 0 ||
               strcmp(copy, "capture already started") == 0);
        ASSERT_RC(wac_capture_start(p.cap), WAC_ERR_STATE);
        const char *mine = wac_capture_last_error(p.cap);
        if (strcmp(mine, "capture already started") != 0)
            FAIL("start's detail is \"%s\"", mine);
    }
    atomic_store(&p.stop, true);
    pthread_join(t, NULL);
    ASSERT_CMP(p.failures, >, 0);
    ASSERT_OK(wac_context_close(ctx));
}

int main(void)
{
    RUN(capture_detail_read_while_another_thread_fails);
    RUN(context_detail_is_the_failing_threads);
    RUN(backend_detail_read_while_another_thread_fails);
    return tap_done();
}
