/* test-ring-stress.c — a producer and a consumer thread hammer one ring; every
 * frame's value is checked, and with forced overruns the producer's count of
 * dropped frames must equal exactly the frames missing at the consumer. Meant
 * to run under ThreadSanitizer too. */
#include <pthread.h>
#include <sched.h>

#include "ring.h"
#include "tap.h"
#include "wac.h"

#define FRAMES_TOTAL 3000000ull

struct shared {
    struct wac__ring ring;
    _Atomic bool done;
    uint64_t dropped; /* producer's count, read after join */
    bool wait_for_space;
};

static uint32_t next_rand(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void *producer(void *arg)
{
    struct shared *sh = arg;
    uint64_t frame[2]; /* frames of 16 bytes: counter and its complement */
    uint64_t buf[2 * 300];
    uint32_t seed = 1;
    uint64_t next = 0;
    while (next < FRAMES_TOTAL) {
        uint32_t n = 1 + next_rand(&seed) % 300;
        if (n > FRAMES_TOTAL - next)
            n = (uint32_t)(FRAMES_TOTAL - next);
        for (uint32_t i = 0; i < n; i++) {
            frame[0] = next + i;
            frame[1] = ~(next + i);
            buf[2 * i] = frame[0];
            buf[2 * i + 1] = frame[1];
        }
        uint32_t written = wac__ring_write(&sh->ring, buf, n);
        if (sh->wait_for_space) {
            /* Lossless mode: retry the rest. */
            uint32_t off = written;
            while (off < n) {
                sched_yield();
                off += wac__ring_write(&sh->ring, buf + 2 * off, n - off);
            }
        } else {
            sh->dropped += n - written;
        }
        next += n;
    }
    atomic_store(&sh->done, true);
    return NULL;
}

/* Reads until the producer is done and the ring is empty; returns the frames
 * seen and checks each, counting the gaps. */
static uint64_t consume(struct shared *sh, uint64_t *missing, bool slow)
{
    uint64_t buf[2 * 512];
    uint64_t expected = 0, seen = 0;
    uint32_t seed = 7;
    *missing = 0;
    for (;;) {
        bool done = atomic_load(&sh->done);
        uint32_t n = wac__ring_read(&sh->ring, buf, 1 + next_rand(&seed) % 512);
        for (uint32_t i = 0; i < n; i++) {
            uint64_t v = buf[2 * i];
            if (buf[2 * i + 1] != ~v)
                FAIL("torn frame at %llu", (unsigned long long)v);
            if (v < expected)
                FAIL("frame %llu went backwards (expected %llu)", (unsigned long long)v,
                     (unsigned long long)expected);
            *missing += v - expected;
            expected = v + 1;
        }
        seen += n;
        if (n == 0 && done)
            break;
        if (slow && next_rand(&seed) % 4 == 0)
            sched_yield();
    }
    *missing += FRAMES_TOTAL - expected;
    return seen;
}

static void run(bool wait_for_space, bool slow_consumer)
{
    static struct shared sh;
    memset(&sh, 0, sizeof sh);
    sh.wait_for_space = wait_for_space;
    ASSERT_OK(wac__ring_init(&sh.ring, 1024, 16));
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, producer, &sh), 0);
    uint64_t missing;
    uint64_t seen = consume(&sh, &missing, slow_consumer);
    pthread_join(t, NULL);
    printf("# seen %llu, missing %llu, dropped %llu\n", (unsigned long long)seen, (unsigned long long)missing,
           (unsigned long long)sh.dropped);
    ASSERT_EQ(seen + missing, FRAMES_TOTAL);
    ASSERT_EQ(missing, sh.dropped);
    if (wait_for_space)
        ASSERT_EQ(missing, 0);
    wac__ring_free(&sh.ring);
}

static void lossless_every_frame_in_order(void)
{
    run(true, true);
}

static void overruns_counted_exactly(void)
{
    run(false, true);
}

static void overruns_with_fast_consumer(void)
{
    run(false, false);
}

int main(void)
{
    RUN_T(lossless_every_frame_in_order, 100);
    RUN_T(overruns_counted_exactly, 100);
    RUN_T(overruns_with_fast_consumer, 100);
    return tap_done();
}
