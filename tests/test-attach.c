/* test-attach.c — the attach layer on its own: every TARGET_* / STREAM_* event
 * sequence, the stream count, rejections, deferred failures and the release
 * of adapters' blocks, driven by made-up streams. The core functions the layer
 * calls are replaced here by recorders (a logic test: no engine, no server). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach/attach.h"
#include "tap.h"

/* ---- the core, recorded ---- */

struct wac_capture {
    wac_capture_config config;
};

struct posted {
    int type; /* wac_event_type, or -1 for the stream's end */
    uint32_t pid, stream_id;
    int error;
    char detail[160];
};

static struct posted posts[256];
static int n_posts;
static int streams; /* the stats' stream count */

const wac_capture_config *wac__capture_config(const wac_capture *cap)
{
    return &cap->config;
}

void wac__stream_post(wac_capture *cap, wac_event_type type, uint32_t pid, uint32_t stream_id, int error,
                      const char *detail)
{
    (void)cap;
    if (n_posts == 256)
        FAIL("too many events");
    posts[n_posts] = (struct posted){.type = (int)type, .pid = pid, .stream_id = stream_id, .error = error};
    snprintf(posts[n_posts].detail, sizeof posts[n_posts].detail, "%s", detail ? detail : "");
    n_posts++;
}

void wac__capture_streams_changed(wac_capture *cap, int delta)
{
    (void)cap;
    streams += delta;
}

void wac__stream_end(wac_capture *cap, int error, const char *detail)
{
    wac__stream_post(cap, (wac_event_type)-1, 0, 0, error, detail);
}

/* ---- helpers ---- */

static wac_capture cap;

static void setup(wac_target_kind kind, uint32_t pid, const char *name, bool exclude)
{
    memset(&cap, 0, sizeof cap);
    cap.config.target.kind = kind;
    cap.config.target.pid = pid;
    cap.config.target.name = name;
    cap.config.target.exclude = exclude;
    n_posts = 0;
    streams = 0;
}

static void expect(int i, int type, uint32_t pid, uint32_t stream_id)
{
    if (i >= n_posts)
        FAIL("event %d missing (%d posted)", i, n_posts);
    if (posts[i].type != type || posts[i].pid != pid || posts[i].stream_id != stream_id)
        FAIL("event %d: type %d pid %u stream %u, expected type %d pid %u stream %u", i, posts[i].type,
             posts[i].pid, posts[i].stream_id, type, pid, stream_id);
}

/* ---- cases ---- */

static void pid_target_streams(void)
{
    setup(WAC_TARGET_PID, 100, NULL, false);
    struct wac__attach a;
    wac__attach_init(&a, &cap, NULL);
    ASSERT(wac__attach_add(&a, 10, 100) == NULL); /* not running yet */
    wac__attach_start(&a);
    struct wac__attach_entry *e10 = wac__attach_add(&a, 10, 100);
    struct wac__attach_entry *e11 = wac__attach_add(&a, 11, 101);
    ASSERT(e10 && e11);
    ASSERT(wac__attach_add(&a, 10, 100) == e10); /* the same entry */
    wac__attach_started(&a);
    expect(0, WAC_EVENT_TARGET_ATTACHED, 100, 0);
    ASSERT(strcmp(posts[0].detail, "pid 100: 2 audio stream(s)") == 0);
    ASSERT_EQ(streams, 0); /* nothing live yet */
    wac__attach_live(&a, e10, "node");
    wac__attach_live(&a, e10, "node"); /* once */
    wac__attach_live(&a, e11, NULL);
    ASSERT_EQ(n_posts, 3);
    expect(1, WAC_EVENT_STREAM_ADDED, 100, 10);
    ASSERT(strcmp(posts[1].detail, "node") == 0);
    expect(2, WAC_EVENT_STREAM_ADDED, 101, 11);
    ASSERT_EQ(streams, 2);
    wac__attach_gone(&a, 10);
    expect(3, WAC_EVENT_STREAM_REMOVED, 100, 10);
    ASSERT_EQ(streams, 1);
    wac__attach_gone(&a, 10); /* unknown now: nothing */
    ASSERT_EQ(n_posts, 4);
    ASSERT(wac__attach_has_pid(&a, 101) && !wac__attach_has_pid(&a, 100));
    wac__attach_free(&a);
    ASSERT_EQ(streams, 0);
}

static void pid_target_that_plays_nothing_yet(void)
{
    setup(WAC_TARGET_PID, 7, NULL, false);
    struct wac__attach a;
    wac__attach_init(&a, &cap, NULL);
    wac__attach_start(&a);
    wac__attach_started(&a);
    ASSERT_EQ(n_posts, 1);
    expect(0, WAC_EVENT_TARGET_ATTACHED, 7, 0);
    ASSERT(strstr(posts[0].detail, "plays no audio yet") != NULL);
    wac__attach_free(&a);
}

/* The target exits: what is still attached is removed first, then the target
 * detaches, once; the end follows when the adapter says so. */
static void pid_target_exit(void)
{
    setup(WAC_TARGET_PID, 100, NULL, false);
    struct wac__attach a;
    wac__attach_init(&a, &cap, NULL);
    wac__attach_start(&a);
    wac__attach_live(&a, wac__attach_add(&a, 1, 100), NULL);
    wac__attach_live(&a, wac__attach_add(&a, 2, 102), NULL); /* a child's */
    wac__attach_add(&a, 3, 100);                               /* never live: no event */
    n_posts = 0;
    ASSERT(!wac__attach_exited(&a, 555, NULL)); /* not the target */
    ASSERT_EQ(n_posts, 0);
    ASSERT(wac__attach_exited(&a, 100, NULL));
    ASSERT_EQ(n_posts, 3);
    expect(0, WAC_EVENT_STREAM_REMOVED, 100, 1);
    expect(1, WAC_EVENT_STREAM_REMOVED, 102, 2);
    expect(2, WAC_EVENT_TARGET_DETACHED, 100, 0);
    ASSERT(strcmp(posts[2].detail, "pid 100 exited") == 0);
    ASSERT_EQ(streams, 0);
    ASSERT_EQ(wac__attach_count(&a), 0);
    ASSERT(!wac__attach_exited(&a, 100, NULL)); /* once */
    ASSERT(wac__attach_add(&a, 4, 100) == NULL); /* its end is decided */
    wac__attach_end(&a, WAC_ERR_TARGET_EXITED, "gone");
    expect(3, -1, 0, 0);
    ASSERT_EQ(posts[3].error, WAC_ERR_TARGET_EXITED);
    wac__attach_free(&a);
}

/* A NAME target: each process is announced with its first live stream and
 * detached when it exits (seen by the adapter or by the periodic check);
 * the capture goes on and takes the next process. */
static bool nobody_alive(uint32_t pid)
{
    (void)pid;
    return false;
}

static void name_target_processes(void)
{
    setup(WAC_TARGET_NAME, 0, "player", false);
    struct wac__attach a;
    wac__attach_init(&a, &cap, NULL);
    wac__attach_start(&a);
    wac__attach_started(&a); /* nothing for a NAME target */
    ASSERT_EQ(n_posts, 0);
    wac__attach_live(&a, wac__attach_add(&a, 1, 200), NULL);
    wac__attach_live(&a, wac__attach_add(&a, 2, 200), NULL); /* same process: announced once */
    ASSERT_EQ(n_posts, 3);
    expect(0, WAC_EVENT_TARGET_ATTACHED, 200, 0);
    ASSERT(strcmp(posts[0].detail, "player (pid 200) plays audio") == 0);
    expect(1, WAC_EVENT_STREAM_ADDED, 200, 1);
    expect(2, WAC_EVENT_STREAM_ADDED, 200, 2);
    /* The adapter sees the exit. */
    ASSERT(!wac__attach_exited(&a, 200, NULL));
    expect(3, WAC_EVENT_STREAM_REMOVED, 200, 1);
    expect(4, WAC_EVENT_STREAM_REMOVED, 200, 2);
    expect(5, WAC_EVENT_TARGET_DETACHED, 200, 0);
    ASSERT(strcmp(posts[5].detail, "player (pid 200) exited") == 0);
    ASSERT_EQ(streams, 0);
    /* It restarts as another process; its stream goes first, then the
     * periodic check finds the process dead. */
    wac__attach_live(&a, wac__attach_add(&a, 3, 201), NULL);
    expect(6, WAC_EVENT_TARGET_ATTACHED, 201, 0);
    expect(7, WAC_EVENT_STREAM_ADDED, 201, 3);
    wac__attach_check_names(&a, nobody_alive); /* it still has a stream: stays */
    ASSERT_EQ(n_posts, 8);
    wac__attach_gone(&a, 3);
    expect(8, WAC_EVENT_STREAM_REMOVED, 201, 3);
    wac__attach_check_names(&a, nobody_alive);
    expect(9, WAC_EVENT_TARGET_DETACHED, 201, 0);
    wac__attach_check_names(&a, nobody_alive);
    ASSERT_EQ(n_posts, 10);
    ASSERT(!wac__attach_exited(&a, 201, NULL)); /* already detached */
    ASSERT_EQ(n_posts, 10);
    wac__attach_free(&a);
}

/* exclude and SYSTEM: streams only, never a TARGET_* event. */
static void exclude_and_system_have_no_target_events(void)
{
    wac_target_kind kinds[] = {WAC_TARGET_PID, WAC_TARGET_NAME, WAC_TARGET_SYSTEM};
    for (int k = 0; k < 3; k++) {
        setup(kinds[k], 100, "player", kinds[k] != WAC_TARGET_SYSTEM);
        struct wac__attach a;
        wac__attach_init(&a, &cap, NULL);
        wac__attach_start(&a);
        struct wac__attach_entry *e = wac__attach_add(&a, 5, 300);
        wac__attach_started(&a);
        wac__attach_live(&a, e, NULL);
        ASSERT(!wac__attach_exited(&a, 300, NULL));
        ASSERT(!wac__attach_exited(&a, 100, NULL));
        wac__attach_gone(&a, 5);
        ASSERT_EQ(n_posts, 2);
        expect(0, WAC_EVENT_STREAM_ADDED, 300, 5);
        expect(1, WAC_EVENT_STREAM_REMOVED, 300, 5);
        wac__attach_free(&a);
    }
}

static void rejections_last_until_the_stream_goes(void)
{
    setup(WAC_TARGET_SYSTEM, 0, NULL, false);
    struct wac__attach a;
    wac__attach_init(&a, &cap, NULL);
    wac__attach_start(&a);
    for (uint64_t k = 1000; k < 1200; k++) /* past the first allocation */
        wac__attach_reject(&a, k);
    ASSERT(wac__attach_known(&a, 1000) && wac__attach_known(&a, 1199));
    ASSERT(!wac__attach_known(&a, 1200));
    wac__attach_gone(&a, 1100);
    ASSERT(!wac__attach_known(&a, 1100));
    ASSERT(wac__attach_known(&a, 1101));
    wac__attach_add(&a, 7, 1);
    ASSERT(wac__attach_known(&a, 7));
    ASSERT_EQ(n_posts, 0);
    wac__attach_free(&a);
}

/* A lost connection takes every stream, and every verdict: the new one
 * numbers its streams from the start again, so an old rejection would keep
 * the target's new stream out. More entries than any fixed table held. */
static void all_gone_forgets_everything(void)
{
    setup(WAC_TARGET_PID, 100, NULL, false);
    struct wac__attach a;
    wac__attach_init(&a, &cap, NULL);
    wac__attach_start(&a);
    wac__attach_reject(&a, 5);
    for (uint64_t k = 10; k < 110; k++)
        wac__attach_live(&a, wac__attach_add(&a, k, 100), NULL);
    ASSERT_EQ(streams, 100);
    n_posts = 0;
    wac__attach_all_gone(&a);
    ASSERT_EQ(streams, 0);
    ASSERT_EQ(wac__attach_count(&a), 0);
    ASSERT_EQ(n_posts, 100); /* every one REMOVED, in order */
    expect(0, WAC_EVENT_STREAM_REMOVED, 100, 10);
    expect(99, WAC_EVENT_STREAM_REMOVED, 100, 109);
    ASSERT(!wac__attach_known(&a, 5));
    wac__attach_free(&a);
}

static void skipped_is_posted_once_until_live(void)
{
    setup(WAC_TARGET_SYSTEM, 0, NULL, false);
    struct wac__attach a;
    wac__attach_init(&a, &cap, NULL);
    wac__attach_start(&a);
    struct wac__attach_entry *e = wac__attach_add(&a, 9, 42);
    wac__attach_skipped(&a, e, WAC_ERR_BUSY, "no lane");
    wac__attach_skipped(&a, e, WAC_ERR_BUSY, "no lane");
    ASSERT_EQ(n_posts, 1);
    expect(0, WAC_EVENT_STREAM_SKIPPED, 42, 9);
    ASSERT_EQ(posts[0].error, WAC_ERR_BUSY);
    wac__attach_live(&a, e, NULL);
    wac__attach_skipped(&a, e, WAC_ERR_BUSY, "no lane"); /* live: nothing */
    ASSERT_EQ(n_posts, 2);
    wac__attach_free(&a);
}

/* Stop and the end are silent for the streams: the count returns to 0. */
static void stop_is_silent(void)
{
    setup(WAC_TARGET_SYSTEM, 0, NULL, false);
    struct wac__attach a;
    wac__attach_init(&a, &cap, NULL);
    wac__attach_start(&a);
    wac__attach_live(&a, wac__attach_add(&a, 1, 1), NULL);
    wac__attach_live(&a, wac__attach_add(&a, 2, 2), NULL);
    ASSERT_EQ(streams, 2);
    n_posts = 0;
    wac__attach_stop(&a);
    ASSERT_EQ(n_posts, 0);
    ASSERT_EQ(streams, 0);
    ASSERT(wac__attach_add(&a, 3, 3) == NULL);
    wac__attach_start(&a); /* a restart begins empty */
    wac__attach_live(&a, wac__attach_add(&a, 1, 1), NULL);
    wac__attach_end(&a, WAC_ERR_SERVER_LOST, "lost");
    ASSERT_EQ(n_posts, 2);
    expect(0, WAC_EVENT_STREAM_ADDED, 1, 1);
    expect(1, -1, 0, 0);
    ASSERT_EQ(posts[1].error, WAC_ERR_SERVER_LOST);
    ASSERT_EQ(streams, 0);
    wac__attach_free(&a);
}

static void failures_first_one_wins_taken_once(void)
{
    setup(WAC_TARGET_SYSTEM, 0, NULL, false);
    struct wac__attach a;
    wac__attach_init(&a, &cap, NULL);
    int error = 0;
    char detail[64];
    ASSERT(!wac__attach_fail_later(&a, WAC_ERR_BACKEND, "before start")); /* ignored */
    wac__attach_start(&a);
    ASSERT(wac__attach_failure(&a, &error) == NULL && error == 0);
    ASSERT(wac__attach_fail_later(&a, WAC_ERR_FORMAT_UNSUPPORTED, "format %d", 3));
    ASSERT(!wac__attach_fail_later(&a, WAC_ERR_BACKEND, "second"));
    ASSERT(strcmp(wac__attach_failure(&a, &error), "format 3") == 0);
    ASSERT_EQ(error, WAC_ERR_FORMAT_UNSUPPORTED);
    ASSERT(wac__attach_take_failure(&a, &error, detail, sizeof detail));
    ASSERT_EQ(error, WAC_ERR_FORMAT_UNSUPPORTED);
    ASSERT(strcmp(detail, "format 3") == 0);
    ASSERT(!wac__attach_take_failure(&a, &error, detail, sizeof detail));
    ASSERT(wac__attach_fail_later(&a, WAC_ERR_BACKEND, "again"));
    wac__attach_stop(&a); /* dropped with the stop */
    ASSERT(wac__attach_failure(&a, &error) == NULL);
    wac__attach_free(&a);
}

/* The adapter's block: zeroed, at a fixed address, released exactly once
 * whichever way the entry leaves. */
struct block {
    int value;
};
static int released[16];

static void release_block(void *user, struct wac__attach_entry *e)
{
    ASSERT(user == &cap);
    struct block *b = e->data;
    ASSERT(b != NULL);
    released[e->key]++;
    ASSERT_EQ(b->value, (int)e->key * 10);
}

static void blocks_are_released_once(void)
{
    setup(WAC_TARGET_SYSTEM, 0, NULL, false);
    memset(released, 0, sizeof released);
    struct wac__attach_config cfg = {.data_size = sizeof(struct block), .release = release_block, .user = &cap};
    struct wac__attach a;
    wac__attach_init(&a, &cap, &cfg);
    wac__attach_start(&a);
    struct block *first = NULL;
    for (uint64_t k = 1; k <= 12; k++) { /* the table grows past its first size */
        struct wac__attach_entry *e = wac__attach_add(&a, k, 1);
        struct block *b = e->data;
        ASSERT_EQ(b->value, 0);
        b->value = (int)k * 10;
        if (k == 1)
            first = b;
    }
    ASSERT(wac__attach_find(&a, 1)->data == first);
    wac__attach_gone(&a, 3);
    ASSERT_EQ(released[3], 1);
    size_t i = 0, seen = 0;
    uint64_t last = 0;
    for (struct wac__attach_entry *e; (e = wac__attach_next(&a, &i));) {
        ASSERT_CMP(e->key, >, last); /* the order they were added in */
        last = e->key;
        seen++;
    }
    ASSERT_EQ(seen, 11);
    wac__attach_stop(&a);
    for (int k = 1; k <= 12; k++)
        ASSERT_EQ(released[k], 1);
    wac__attach_start(&a);
    ((struct block *)wac__attach_add(&a, 5, 1)->data)->value = 50;
    wac__attach_free(&a);
    ASSERT_EQ(released[5], 2);
}

int main(void)
{
    RUN(pid_target_streams);
    RUN(pid_target_that_plays_nothing_yet);
    RUN(pid_target_exit);
    RUN(name_target_processes);
    RUN(exclude_and_system_have_no_target_events);
    RUN(rejections_last_until_the_stream_goes);
    RUN(all_gone_forgets_everything);
    RUN(skipped_is_posted_once_until_live);
    RUN(stop_is_silent);
    RUN(failures_first_one_wins_taken_once);
    RUN(blocks_are_released_once);
    return tap_done();
}
