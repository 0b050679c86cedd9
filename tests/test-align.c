/* test-align.c — wac_aligned_* on the dummy backend, whose samples count the
 * frames each capture produced on its own clock (started at its own start):
 * two captures started 50 ms apart must come out with the second one 50 ms
 * of silence behind, frame for frame, and nothing may be lost or repeated. */
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

#define RATE 16000

static wac_capture *started_capture(wac_context *ctx, uint32_t channels)
{
    wac_capture_config c = speech_config();
    c.format.channels = channels;
    c.chunk_frames = 160;
    return open_started(ctx, &c);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void second_capture_is_padded_by_its_late_start(void)
{
    wac_context *ctx = open_dummy();
    /* Each start is bracketed by clock reads: on a loaded machine (ASan, other
     * jobs) a start took milliseconds, and which instant of it the stream
     * counts from is the backend's. */
    int64_t a0 = mono_ns();
    wac_capture *a = started_capture(ctx, 1);
    int64_t a1 = mono_ns();
    sleep_ms(50);
    int64_t b0 = mono_ns();
    wac_capture *b = started_capture(ctx, 2);
    int64_t b1 = mono_ns();
    wac_capture *caps[] = {a, b};
    wac_aligned *al = NULL;
    ASSERT_OK(wac_aligned_open(caps, 2, 800, &al));
    float xa[800], xb[1600];
    void *bufs[] = {xa, xb};
    long long last_a = -1, pad = -1;
    uint64_t expect_position = 0;
    for (int block = 0; block < 20; block++) {
        wac_aligned_info info;
        uint32_t flags[2];
        ASSERT_EQ(wac_aligned_read(al, bufs, 800, 2000, &info, flags), 800);
        ASSERT_EQ(info.position, expect_position);
        for (int k = 0; k < 800; k++) {
            long long ca = counter_of(xa[k]), cb = counter_of(xb[2 * k]);
            ASSERT(ca == last_a + 1); /* every frame of A, once, in order */
            last_a = ca;
            ASSERT(xb[2 * k] == xb[2 * k + 1]);
            if (cb < 0) {
                ASSERT(pad < 0); /* silence only before B's first frame */
                continue;
            }
            if (pad < 0)
                pad = ca - cb;
            ASSERT_EQ(ca - cb, pad); /* one offset, for good */
        }
        expect_position += 800;
    }
    double measured_ms = (double)pad * 1000 / RATE, least_ms = (double)(b0 - a1) / 1e6,
           most_ms = (double)(b1 - a0) / 1e6;
    printf("# B padded by %lld frames (%.2f ms); the starts were %.2f-%.2f ms apart\n", pad, measured_ms, least_ms,
           most_ms);
    ASSERT_CMP(measured_ms, >, least_ms - 2.0);
    ASSERT_CMP(measured_ms, <, most_ms + 2.0);
    wac_aligned_close(al);
    ASSERT_OK(wac_context_close(ctx));
}

/* B's stamps are 8 ms late through the dating (its server's clock had not
 * settled), then right: within the first 5 s its audio is moved 8 ms
 * earlier (128 frames dropped, the block flagged), and A is untouched. */
static void a_capture_dated_late_is_moved_earlier(void)
{
    wac_context *ctx = open_dummy();
    wac_capture *a = started_capture(ctx, 1), *b = started_capture(ctx, 1);
    ASSERT_OK(wac_dummy_inject(b, WAC_DUMMY_LATE_STAMPS, 8));
    wac_capture *caps[] = {a, b};
    wac_aligned *al = NULL;
    ASSERT_OK(wac_aligned_open(caps, 2, 800, &al));
    float xa[800], xb[800];
    void *bufs[] = {xa, xb};
    long long last_a = -1, first_pad = -1, last_pad = -1;
    int discontinuous_blocks = 0, steps = 0;
    for (int block = 0; block < 60; block++) { /* 3 s */
        if (block == 20)
            ASSERT_OK(wac_dummy_inject(b, WAC_DUMMY_LATE_STAMPS, 0));
        uint32_t flags[2];
        ASSERT_EQ(wac_aligned_read(al, bufs, 800, 2000, NULL, flags), 800);
        ASSERT_EQ(flags[0] & WAC_CHUNK_DISCONTINUOUS, 0);
        discontinuous_blocks += (flags[1] & WAC_CHUNK_DISCONTINUOUS) != 0;
        for (int k = 0; k < 800; k++) {
            long long ca = counter_of(xa[k]), cb = counter_of(xb[k]);
            ASSERT(ca == last_a + 1);
            last_a = ca;
            if (cb < 0)
                continue;
            if (first_pad < 0)
                first_pad = ca - cb;
            steps += last_pad >= 0 && ca - cb != last_pad;
            last_pad = ca - cb;
        }
    }
    printf("# B's offset: %lld frames, then %lld (%d step)\n", first_pad, last_pad, steps);
    ASSERT_EQ(steps, 1);
    ASSERT_EQ(discontinuous_blocks, 1);
    ASSERT_CMP(llabs(first_pad - last_pad - 128), <=, 1);
    wac_aligned_close(al);
    ASSERT_OK(wac_context_close(ctx));
}

static void timeout_keeps_what_was_read(void)
{
    wac_context *ctx = open_dummy();
    wac_capture *a = started_capture(ctx, 1), *b = started_capture(ctx, 1);
    wac_capture *caps[] = {a, b};
    wac_aligned *al = NULL;
    ASSERT_OK(wac_aligned_open(caps, 2, 16000, &al));
    float xa[16000], xb[16000];
    void *bufs[] = {xa, xb};
    /* A second is not there yet: time out, keep it. */
    ASSERT_RC(wac_aligned_read(al, bufs, 16000, 100, NULL, NULL), WAC_ERR_TIMEOUT);
    ASSERT_EQ(wac_aligned_read(al, bufs, 16000, 3000, NULL, NULL), 16000);
    long long first = counter_of(xa[0]);
    ASSERT(first == 0 || first == -1); /* nothing read before the timeout went missing */
    for (int k = 1; k < 16000; k++)
        if (counter_of(xa[k]) >= 0 && counter_of(xa[k - 1]) >= 0)
            ASSERT_EQ(counter_of(xa[k]), counter_of(xa[k - 1]) + 1);
    wac_aligned_close(al);
    ASSERT_OK(wac_context_close(ctx));
}

static void an_ended_capture_turns_to_silence(void)
{
    wac_context *ctx = open_dummy();
    wac_capture *a = started_capture(ctx, 1), *b = started_capture(ctx, 1);
    wac_capture *caps[] = {a, b};
    wac_aligned *al = NULL;
    ASSERT_OK(wac_aligned_open(caps, 2, 1600, &al));
    float xa[1600], xb[1600];
    void *bufs[] = {xa, xb};
    uint32_t flags[2];
    ASSERT_EQ(wac_aligned_read(al, bufs, 1600, 2000, NULL, flags), 1600);
    ASSERT_OK(wac_capture_stop(b));
    bool last_seen = false;
    for (int i = 0; i < 5; i++) {
        ASSERT_EQ(wac_aligned_read(al, bufs, 1600, 2000, NULL, flags), 1600);
        ASSERT(!(flags[0] & WAC_CHUNK_LAST));
        if (flags[1] & WAC_CHUNK_LAST) {
            ASSERT(!last_seen);
            last_seen = true;
        } else if (last_seen) {
            for (int k = 0; k < 1600; k++)
                ASSERT(xb[k] == 0.0f);
        }
    }
    ASSERT(last_seen);
    ASSERT_OK(wac_capture_stop(a));
    int rc;
    while ((rc = wac_aligned_read(al, bufs, 1600, 2000, NULL, flags)) > 0)
        ;
    ASSERT_RC(rc, WAC_ERR_ENDED);
    wac_aligned_close(al);
    ASSERT_OK(wac_context_close(ctx));
}

/* As many captures as a reader takes, and one more refused: every lane
 * keeps every frame of its capture, in order, on one timeline. */
static void sixty_four_captures_on_one_timeline(void)
{
    enum { N = WAC_ALIGNED_MAX_CAPTURES, FRAMES = 1600 };
    wac_context *ctx = open_dummy();
    wac_capture *caps[N + 1];
    for (int i = 0; i <= N; i++)
        caps[i] = started_capture(ctx, 1);
    wac_aligned *al = NULL;
    ASSERT_RC(wac_aligned_open(caps, N + 1, FRAMES, &al), WAC_ERR_INVALID_ARGUMENT);
    ASSERT(al == NULL);
    ASSERT_OK(wac_aligned_open(caps, N, FRAMES, &al));
    static float x[N][FRAMES];
    void *bufs[N];
    long long last[N];
    for (int i = 0; i < N; i++) {
        bufs[i] = x[i];
        last[i] = -1;
    }
    for (int block = 0; block < 10; block++) {
        ASSERT_EQ(wac_aligned_read(al, bufs, FRAMES, 3000, NULL, NULL), FRAMES);
        for (int i = 0; i < N; i++)
            for (int k = 0; k < FRAMES; k++) {
                long long c = counter_of(x[i][k]);
                if (c < 0) {
                    ASSERT(last[i] < 0); /* silence only before its first frame */
                    continue;
                }
                ASSERT_EQ(c, last[i] + 1);
                last[i] = c;
            }
    }
    for (int i = 0; i < N; i++)
        ASSERT(last[i] > 8 * FRAMES); /* each lane delivered its audio, not only silence */
    wac_aligned_close(al);
    ASSERT_OK(wac_context_close(ctx));
}

static void bad_arguments(void)
{
    wac_context *ctx = open_dummy();
    wac_capture *a = started_capture(ctx, 1);
    wac_capture_config c = speech_config();
    c.format.rate = 48000;
    wac_capture *other_rate = open_started(ctx, &c);
    wac_aligned *al = NULL;
    wac_capture *same_twice[] = {a, a}, *rates[] = {a, other_rate}, *nulls[] = {a, NULL};
    ASSERT_RC(wac_aligned_open(NULL, 1, 10, &al), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_aligned_open(same_twice, 2, 10, &al), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_aligned_open(nulls, 2, 10, &al), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_aligned_open(rates, 2, 10, &al), WAC_ERR_FORMAT_UNSUPPORTED);
    ASSERT_RC(wac_aligned_open(same_twice, 0, 10, &al), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_aligned_open(same_twice, 1, 0, &al), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_aligned_open(same_twice, 1, 10, NULL), WAC_ERR_INVALID_ARGUMENT);
    ASSERT(al == NULL);
    ASSERT_OK(wac_aligned_open(same_twice, 1, 10, &al));
    float x[20];
    void *bufs[] = {x}, *none[] = {NULL};
    ASSERT_RC(wac_aligned_read(al, bufs, 11, 0, NULL, NULL), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_aligned_read(al, bufs, 0, 0, NULL, NULL), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_aligned_read(al, none, 10, 0, NULL, NULL), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac_aligned_read(NULL, bufs, 10, 0, NULL, NULL), WAC_ERR_INVALID_ARGUMENT);
    wac_aligned_close(al);
    wac_aligned_close(NULL);
    ASSERT_OK(wac_context_close(ctx));
}

int main(void)
{
    RUN(second_capture_is_padded_by_its_late_start);
    RUN(a_capture_dated_late_is_moved_earlier);
    RUN(timeout_keeps_what_was_read);
    RUN(an_ended_capture_turns_to_silence);
    RUN(sixty_four_captures_on_one_timeline);
    RUN(bad_arguments);
    return tap_done();
}
