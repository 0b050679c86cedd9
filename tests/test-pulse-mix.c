/* test-pulse-mix.c — the PulseAudio backend's mixer on its own, with made-up
 * lanes and times: sums are exact, lanes stay sample-aligned through jittery
 * deliveries, slow lanes hold the mix back only while they are live, and the
 * delivered format averages and saturates as documented. And the arrival
 * clock that dates streams behind pipewire-pulse. */
#include <math.h>

#include "attach/arrival-clock.h"
#include "attach/convert.h"
#include "attach/mix.h"
#include "tap.h"

#define RATE 1000 /* one frame per millisecond keeps the arithmetic readable */
#define MS 1000000LL
#define T0 (1000 * MS) /* when the lanes are added and start */

struct sink {
    float x[200000];
    int64_t t[200000]; /* emit time of each frame */
    size_t n;
    int calls;
};

static struct sink out;

static void collect(void *user, const float *frames, uint32_t n, int64_t time_ns)
{
    struct sink *s = user;
    for (uint32_t i = 0; i < n && s->n < 200000; i++) {
        s->x[s->n] = frames[i];
        s->t[s->n] = time_ns + (int64_t)i * MS;
        s->n++;
    }
    s->calls++;
}

static void mix_open(struct wac__mix *m, uint32_t channels)
{
    memset(&out, 0, sizeof out);
    struct wac__mix_config c = {
        .channels = channels,
        .rate = RATE,
        .lane_frames = 512,
        .max_hold_frames = 150,
        .resync_frames = 40,
        .stall_ns = 100 * MS,
        .emit = collect,
        .user = &out,
    };
    ASSERT_OK(wac__mix_init(m, &c));
}

/* Lane content: value k * 1000 + frame index, distinct per lane and frame. */
static void ramp(float *buf, uint32_t n, int lane_tag, uint32_t first)
{
    for (uint32_t i = 0; i < n; i++)
        buf[i] = (float)(lane_tag * 100000 + (int)(first + i));
}

static void one_lane_passes_straight_through(void)
{
    struct wac__mix m;
    mix_open(&m, 1);
    int a = wac__mix_lane_add(&m, T0);
    ASSERT(a >= 0);
    float buf[40];
    for (uint32_t k = 0; k < 10; k++) {
        ramp(buf, 40, 1, k * 40);
        /* jitter of up to 3 ms in the time estimates must not matter */
        int64_t jitter = (k % 3) * MS - MS;
        wac__mix_write(&m, a, buf, 40, (int64_t)(1000 + k * 40) * MS + jitter, (int64_t)(1040 + k * 40) * MS);
        ASSERT_EQ(out.n, (k + 1) * 40); /* nothing held back */
    }
    for (size_t i = 0; i < out.n; i++)
        ASSERT_EQ(out.x[i], 100000 + (int)i);
    ASSERT_EQ(m.resyncs, 0);
    ASSERT_EQ(m.frames_filled, 0);
    wac__mix_free(&m);
}

/* Two lanes, B starting 10 ms after A, delivering 40 ms chunks at different
 * moments with jittery times: the output is exactly A(i) + B(i - 10). */
static void two_lanes_sum_sample_aligned(void)
{
    struct wac__mix m;
    mix_open(&m, 1);
    int a = wac__mix_lane_add(&m, T0), b = wac__mix_lane_add(&m, T0);
    float buf[40];
    const int64_t t0 = T0;
    for (uint32_t k = 0; k < 25; k++) {
        int64_t ja = ((int64_t)(k * 7 % 5) - 2) * MS, jb = ((int64_t)(k * 3 % 5) - 2) * MS;
        ramp(buf, 40, 1, k * 40);
        wac__mix_write(&m, a, buf, 40, t0 + (int64_t)k * 40 * MS + ja, t0 + (int64_t)(k * 40 + 45) * MS);
        ramp(buf, 40, 2, k * 40);
        /* B arrives 20 ms after A each time */
        wac__mix_write(&m, b, buf, 40, t0 + (int64_t)(k * 40 + 10) * MS + jb, t0 + (int64_t)(k * 40 + 65) * MS);
    }
    wac__mix_pull(&m, t0 + 2000 * MS, true);
    ASSERT_EQ(out.n, 25 * 40 + 10);
    for (size_t i = 0; i < out.n; i++) {
        double want = 0;
        if (i < 1000)
            want += 100000 + (double)i;
        if (i >= 10)
            want += 200000 + (double)(i - 10);
        if (out.x[i] != (float)want)
            FAIL("frame %zu: %f, expected %f", i, out.x[i], want);
    }
    ASSERT_EQ(m.resyncs, 0);
    ASSERT_EQ(m.frames_late, 0);
    /* Emit times follow the frames: frame i is at t0 + i ms, give or take the jitter. */
    ASSERT_CMP(llabs(out.t[500] - (t0 + 500 * MS)), <=, 3 * MS);
    wac__mix_free(&m);
}

/* A live lane holds the mix back; once it stalls it holds nothing. */
static void slow_lane_holds_until_it_stalls(void)
{
    struct wac__mix m;
    mix_open(&m, 1);
    int a = wac__mix_lane_add(&m, T0), b = wac__mix_lane_add(&m, T0);
    float buf[40];
    int64_t t0 = T0;
    ramp(buf, 40, 1, 0);
    wac__mix_write(&m, a, buf, 40, t0, t0 + 40 * MS);
    ramp(buf, 40, 2, 0);
    wac__mix_write(&m, b, buf, 40, t0, t0 + 41 * MS);
    ASSERT_EQ(out.n, 40);
    /* A goes on, B is silent: held while B is live (written within 100 ms). */
    ramp(buf, 40, 1, 40);
    wac__mix_write(&m, a, buf, 40, t0 + 40 * MS, t0 + 80 * MS);
    ASSERT_EQ(out.n, 40);
    ASSERT(wac__mix_pending(&m, t0 + 100 * MS));
    wac__mix_pull(&m, t0 + 120 * MS, false);
    ASSERT_EQ(out.n, 40);
    /* 100 ms after B's last write it is no longer waited for. */
    wac__mix_pull(&m, t0 + 142 * MS, false);
    ASSERT_EQ(out.n, 80);
    ASSERT_EQ(out.x[60], 100060);
    /* No lane live, nothing queued: the core may fill silence now. */
    ASSERT(!wac__mix_pending(&m, t0 + 300 * MS));
    wac__mix_free(&m);
}

/* A lane the server delivers in bursts further and further apart, beside a
 * lane that flows evenly every 20 ms (as pipewire-pulse did with 50 ms
 * fragments on a loaded machine). With its own threshold (stall_max_ns) the
 * bursty lane is waited for and the output is the exact sum; with the fixed
 * rule it stalls, the mix goes on without it, and it is delayed (stall_max_ns
 * 0, the old behaviour: the counters say so). */
static int bursty_run(int64_t stall_max_ns, struct wac__mix *m)
{
    memset(&out, 0, sizeof out);
    struct wac__mix_config c = {
        .channels = 1, .rate = RATE, .lane_frames = 2048, .max_hold_frames = 150, .resync_frames = 40,
        .stall_ns = 100 * MS, .stall_max_ns = stall_max_ns, .emit = collect, .user = &out,
    };
    ASSERT_OK(wac__mix_init(m, &c));
    int a = wac__mix_lane_add(m, T0), b = wac__mix_lane_add(m, T0);
    static const int gaps[] = {40, 60, 90, 130, 180, 250, 340, 340, 200, 340};
    float buf[400];
    uint32_t a_done = 0, b_done = 0;
    int64_t now = T0;
    for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
        /* A writes every 20 ms until B's next burst is due. */
        for (int64_t until = now + gaps[g] * MS; now + 20 * MS <= until;) {
            now += 20 * MS;
            ramp(buf, 20, 1, a_done);
            wac__mix_write(m, a, buf, 20, T0 + (int64_t)a_done * MS, now);
            a_done += 20;
            wac__mix_pull(m, now, false);
        }
        /* B's burst: everything since its last, its times contiguous. */
        uint32_t n = (uint32_t)((now - T0) / MS) - b_done;
        ramp(buf, n, 2, b_done);
        wac__mix_write(m, b, buf, n, T0 + (int64_t)b_done * MS, now);
        b_done += n;
    }
    return (int)b_done;
}

static void bursty_lane_is_waited_for(void)
{
    struct wac__mix m;
    int b_done = bursty_run(750 * MS, &m);
    printf("# learnt: %llu stalls, %llu bursts, %llu unheld, %zu frames out\n", (unsigned long long)m.stalls,
           (unsigned long long)m.bursts, (unsigned long long)m.frames_unheld, out.n);
    ASSERT_EQ(m.stalls, 0);
    ASSERT_EQ(m.frames_unheld, 0);
    ASSERT_CMP(out.n, >=, (size_t)b_done - 20);
    for (size_t i = 0; i < out.n; i++)
        if (out.x[i] != (float)(100000 + (int)i + 200000 + (int)i))
            FAIL("frame %zu is %.0f, not the sum of both lanes' frame %zu", i, (double)out.x[i], i);
    wac__mix_free(&m);

    b_done = bursty_run(0, &m);
    printf("# fixed rule: %llu stalls, %llu bursts, %llu unheld\n", (unsigned long long)m.stalls,
           (unsigned long long)m.bursts, (unsigned long long)m.frames_unheld);
    ASSERT_CMP(m.stalls, >, 0);
    wac__mix_free(&m);
}

/* Never more than max_hold frames held back, even behind a live lane. */
static void hold_is_bounded(void)
{
    struct wac__mix m;
    mix_open(&m, 1);
    int a = wac__mix_lane_add(&m, T0), b = wac__mix_lane_add(&m, T0);
    float buf[100];
    int64_t t0 = T0;
    ramp(buf, 10, 2, 0);
    wac__mix_write(&m, b, buf, 10, t0, t0 + 10 * MS);
    for (uint32_t k = 0; k < 4; k++) {
        ramp(buf, 100, 1, k * 100);
        wac__mix_write(&m, a, buf, 100, t0 + (int64_t)k * 100 * MS, t0 + 20 * MS); /* all at once */
    }
    ASSERT_EQ(out.n, 400 - 150);
    wac__mix_free(&m);
}

/* Two lanes whose time estimates disagree by 30 ms (less than resync_frames,
 * so both stay sample-contiguous): the clock is re-based by each in turn,
 * yet contiguous output must be timed contiguously, or the consumer's stream
 * would read the jumps as gaps and insert silence (seen under pipewire-pulse:
 * a two-stream mix with a third of a second of inserted silence). A real
 * drift is still followed, by at most 2 ms per emit. */
static void emit_times_ignore_lane_disagreement(void)
{
    struct wac__mix m;
    mix_open(&m, 1);
    int a = wac__mix_lane_add(&m, T0), b = wac__mix_lane_add(&m, T0);
    float buf[20];
    const int64_t t0 = T0;
    for (uint32_t k = 0; k < 50; k++) {
        int64_t late_b = k == 0 ? 0 : 30 * MS; /* B's estimate wanders after its first write */
        ramp(buf, 20, 1, k * 20);
        wac__mix_write(&m, a, buf, 20, t0 + (int64_t)k * 20 * MS, t0 + (int64_t)(k * 20 + 25) * MS);
        ramp(buf, 20, 2, k * 20);
        wac__mix_write(&m, b, buf, 20, t0 + (int64_t)k * 20 * MS + late_b, t0 + (int64_t)(k * 20 + 30) * MS);
    }
    wac__mix_pull(&m, t0 + 1100 * MS, true);
    ASSERT_EQ(out.n, 1000);
    ASSERT_EQ(m.resyncs, 0);
    int64_t worst = 0;
    for (size_t i = 1; i < out.n; i++) {
        int64_t step = out.t[i] - out.t[i - 1] - MS;
        worst = llabs(step) > worst ? llabs(step) : worst;
        ASSERT_EQ(out.x[i], 100000 + 200000 + 2 * (int)i);
    }
    printf("# largest step between frames' times: %.3f ms beyond the frame period\n", (double)worst / MS);
    ASSERT_CMP(worst, <=, 2 * MS);
    /* The clock is followed, never jumped to: between A's and B's estimates. */
    ASSERT_CMP(out.t[999], >=, t0 + 999 * MS - 2 * MS);
    ASSERT_CMP(out.t[999], <=, t0 + 999 * MS + 32 * MS);
    wac__mix_free(&m);
}

/* The backend's timer sleeps until a lane would stop being live: that time is
 * the earliest last write plus stall_ns, and there is none once no lane is
 * live. */
static void next_change_is_the_earliest_stall(void)
{
    struct wac__mix m;
    mix_open(&m, 1);
    ASSERT_EQ(wac__mix_next_change(&m, T0), INT64_MAX);
    int a = wac__mix_lane_add(&m, T0), b = wac__mix_lane_add(&m, T0 + 30 * MS);
    ASSERT_EQ(wac__mix_next_change(&m, T0 + 30 * MS), T0 + 100 * MS + 1); /* a, added first, stalls first */
    float buf[40];
    ramp(buf, 40, 1, 0);
    wac__mix_write(&m, a, buf, 40, T0, T0 + 50 * MS);
    ASSERT_EQ(wac__mix_next_change(&m, T0 + 50 * MS), T0 + 130 * MS + 1); /* now b */
    ASSERT_EQ(wac__mix_next_change(&m, T0 + 140 * MS), T0 + 150 * MS + 1); /* b stalled: a */
    ASSERT_EQ(wac__mix_next_change(&m, T0 + 160 * MS), INT64_MAX);
    wac__mix_lane_remove(&m, b);
    wac__mix_free(&m);
}

/* A corked lane comes back a second later: placed by time, no second of
 * zeros in the output, and the emit time jumps with it. */
static void stalled_lane_is_placed_by_time(void)
{
    struct wac__mix m;
    mix_open(&m, 1);
    int a = wac__mix_lane_add(&m, T0);
    float buf[40];
    int64_t t0 = T0;
    for (uint32_t k = 0; k < 5; k++) {
        ramp(buf, 40, 1, k * 40);
        wac__mix_write(&m, a, buf, 40, t0 + (int64_t)k * 40 * MS, t0 + (int64_t)(k + 1) * 40 * MS);
    }
    ASSERT_EQ(out.n, 200);
    int64_t t1 = t0 + 1200 * MS;
    ramp(buf, 40, 1, 1000);
    wac__mix_write(&m, a, buf, 40, t1, t1 + 40 * MS);
    ASSERT_EQ(out.n, 240); /* the pause is the core's to fill, not ours */
    ASSERT_EQ(out.x[200], 101000);
    ASSERT_EQ(out.t[200], t1);
    ASSERT_EQ(m.head, 1240);
    wac__mix_free(&m);
}

/* A lane added while another plays holds the head at the moment it was
 * added, so its first frames land aligned, not delayed. */
static void new_lane_joins_aligned(void)
{
    struct wac__mix m;
    mix_open(&m, 1);
    int a = wac__mix_lane_add(&m, T0);
    float buf[40];
    int64_t t0 = T0;
    for (uint32_t k = 0; k < 5; k++) {
        ramp(buf, 40, 1, k * 40);
        wac__mix_write(&m, a, buf, 40, t0 + (int64_t)k * 40 * MS, t0 + (int64_t)(k + 1) * 40 * MS);
    }
    /* B's stream is created at t0 + 205 ms; its first frame is from t0 + 212 ms
     * and reaches us 45 ms later, after A delivered past it. */
    int b = wac__mix_lane_add(&m, t0 + 205 * MS);
    ramp(buf, 40, 1, 200);
    wac__mix_write(&m, a, buf, 40, t0 + 200 * MS, t0 + 240 * MS);
    ASSERT_EQ(out.n, 205); /* held at B's start */
    ramp(buf, 40, 2, 0);
    wac__mix_write(&m, b, buf, 40, t0 + 212 * MS, t0 + 257 * MS);
    ASSERT_EQ(out.n, 240);
    ASSERT_EQ(out.x[211], 100211);
    ASSERT_EQ(out.x[212], 100212 + 200000);
    ASSERT_EQ(out.x[239], 100239 + 200027);
    ASSERT_EQ(m.lanes[b].skew, 0);
    wac__mix_free(&m);
}

/* A removed lane's queued frames are still mixed; then its slot is freed. */
static void removed_lane_drains(void)
{
    struct wac__mix m;
    mix_open(&m, 1);
    int a = wac__mix_lane_add(&m, T0), b = wac__mix_lane_add(&m, T0);
    float buf[40];
    int64_t t0 = T0;
    ramp(buf, 20, 1, 0);
    wac__mix_write(&m, a, buf, 20, t0, t0 + 20 * MS);
    ramp(buf, 40, 2, 0);
    wac__mix_write(&m, b, buf, 40, t0, t0 + 21 * MS);
    ASSERT_EQ(out.n, 20);
    wac__mix_lane_remove(&m, b);
    wac__mix_collect(&m); /* not drained: kept */
    ASSERT(m.lanes[b].fifo != NULL);
    ramp(buf, 40, 1, 20);
    wac__mix_write(&m, a, buf, 40, t0 + 20 * MS, t0 + 60 * MS);
    ASSERT_EQ(out.n, 60);
    ASSERT_EQ(out.x[39], 100039 + 200039);
    wac__mix_collect(&m);
    ASSERT(m.lanes[b].fifo == NULL);
    ASSERT_EQ(wac__mix_lane_add(&m, T0), b); /* the slot is reused */
    wac__mix_free(&m);
}

/* Holes (NULL) are silence that keeps the lane's count; a burst larger than
 * the FIFO loses nothing. */
static void holes_and_bursts(void)
{
    struct wac__mix m;
    mix_open(&m, 1);
    int a = wac__mix_lane_add(&m, T0), b = wac__mix_lane_add(&m, T0);
    static float big[2000];
    ramp(big, 2000, 1, 0);
    int64_t t0 = T0;
    ramp(big, 10, 2, 0);
    wac__mix_write(&m, b, big, 10, t0, t0 + MS);
    wac__mix_write(&m, a, NULL, 30, t0, t0 + 2 * MS);
    ramp(big, 2000, 1, 30);
    wac__mix_write(&m, a, big, 2000, t0 + 30 * MS, t0 + 3 * MS); /* 2 s at once, B still live */
    wac__mix_pull(&m, t0 + 3 * MS, true);
    ASSERT_EQ(out.n, 2030);
    ASSERT_EQ(out.x[5], 200005);
    ASSERT_EQ(out.x[20], 0);
    ASSERT_EQ(out.x[30], 100030);
    ASSERT_EQ(out.x[2029], 102029);
    ASSERT_CMP(m.frames_forced, >, 0);
    ASSERT_EQ(m.frames_filled, 30); /* the hole, and nothing else, is made up */
    wac__mix_free(&m);
}

/* A lane whose clock runs away from the mix's is re-placed by time. */
static void drifting_lane_resyncs(void)
{
    struct wac__mix m;
    mix_open(&m, 1);
    int a = wac__mix_lane_add(&m, T0), b = wac__mix_lane_add(&m, T0);
    float buf[40];
    int64_t t0 = T0;
    for (uint32_t k = 0; k < 40; k++) {
        ramp(buf, 40, 1, k * 40);
        wac__mix_write(&m, a, buf, 40, t0 + (int64_t)k * 40 * MS, t0 + (int64_t)(k + 1) * 40 * MS);
        /* B delivers 40 frames per 42 ms of A's clock (a slower device) */
        ramp(buf, 40, 2, k * 40);
        wac__mix_write(&m, b, buf, 40, t0 + (int64_t)k * 42 * MS, t0 + (int64_t)(k + 1) * 40 * MS + MS);
    }
    ASSERT_CMP(m.resyncs, >=, 1);
    ASSERT_CMP(m.resyncs, <=, 3);
    wac__mix_free(&m);
}

/* One estimate off by more than resync_frames is jitter: the lane stays
 * sample-contiguous (no zeros, no drops). An offset that persists for
 * WAC__MIX_RESYNC_WRITES writes is a real gap: the lane is placed by time. */
static void one_wild_estimate_is_not_a_resync(void)
{
    struct wac__mix m;
    mix_open(&m, 1);
    int a = wac__mix_lane_add(&m, T0);
    float buf[40];
    const int64_t t0 = T0;
    for (uint32_t k = 0; k < 20; k++) {
        int64_t wild = k == 10 ? 60 * MS : 0; /* resync_frames is 40 */
        ramp(buf, 40, 1, k * 40);
        wac__mix_write(&m, a, buf, 40, t0 + (int64_t)k * 40 * MS + wild, t0 + (int64_t)(k + 1) * 40 * MS);
    }
    ASSERT_EQ(m.resyncs, 0);
    ASSERT_EQ(m.frames_filled, 0);
    ASSERT_EQ(out.n, 800);
    for (size_t i = 0; i < out.n; i++)
        ASSERT_EQ(out.x[i], 100000 + (int)i);
    /* From here on the lane's frames really come 60 ms later. */
    for (uint32_t k = 20; k < 30; k++) {
        ramp(buf, 40, 1, k * 40);
        wac__mix_write(&m, a, buf, 40, t0 + (int64_t)k * 40 * MS + 60 * MS, t0 + (int64_t)(k + 1) * 40 * MS + 60 * MS);
    }
    ASSERT_EQ(m.resyncs, 1);
    ASSERT_EQ(m.frames_filled, 60); /* the gap it was re-placed over, counted */
    ASSERT_EQ(m.frames_late, 0);
    wac__mix_free(&m);
}

/* A live lane that falls more than max_hold behind is left behind; when it
 * goes on contiguously it is delayed from the head on, never indexed back. */
static void lagging_lane_is_delayed_not_cut(void)
{
    struct wac__mix m;
    mix_open(&m, 1);
    int a = wac__mix_lane_add(&m, T0), b = wac__mix_lane_add(&m, T0);
    float buf[100];
    int64_t t0 = T0;
    ramp(buf, 20, 2, 0);
    wac__mix_write(&m, b, buf, 20, t0, t0 + 20 * MS);
    for (uint32_t k = 0; k < 3; k++) {
        ramp(buf, 100, 1, k * 100);
        wac__mix_write(&m, a, buf, 100, t0 + (int64_t)k * 100 * MS, t0 + 30 * MS);
    }
    ASSERT_EQ(out.n, 300 - 150); /* B (live, at 20) held A back by max_hold only */
    ramp(buf, 20, 2, 20);
    wac__mix_write(&m, b, buf, 20, t0 + 20 * MS, t0 + 40 * MS); /* contiguous, but behind the head */
    ASSERT_EQ(m.lanes[b].skew, 130);
    wac__mix_pull(&m, t0 + 40 * MS, true);
    ASSERT_EQ(out.n, 300);
    ASSERT_EQ(out.x[150], 100150 + 200020); /* B's next frame lands at the head */
    ASSERT_EQ(m.frames_late, 0);
    wac__mix_free(&m);
}

static void sums_do_not_clip_in_float_and_saturate_in_s16(void)
{
    /* Two stereo lanes at 0.8 and 0.7: 1.5 in float. */
    struct wac__mix m;
    mix_open(&m, 2);
    int a = wac__mix_lane_add(&m, T0), b = wac__mix_lane_add(&m, T0);
    float x[8] = {0.8f, 0.8f, 0.8f, 0.8f, 0.8f, 0.8f, 0.8f, 0.8f};
    float y[8] = {0.7f, 0.7f, 0.7f, 0.7f, 0.7f, 0.7f, 0.7f, 0.7f};
    wac__mix_write(&m, a, x, 4, 1000 * MS, 1001 * MS);
    wac__mix_write(&m, b, y, 4, 1000 * MS, 1001 * MS);
    ASSERT_EQ(out.n, 4); /* collect() keeps n floats of the n frames: enough here */
    ASSERT(fabsf(out.x[0] - 1.5f) < 1e-6f);
    wac__mix_free(&m);

    float in[8] = {1.5f, 1.5f, 0.4f, 0.4f, 1.0f, -1.0f, -3.0f, -3.0f};
    float mono[4];
    wac__convert_frames(in, 2, 4, mono, 1, WAC_SAMPLE_F32);
    ASSERT(fabsf(mono[0] - 1.5f) < 1e-6f); /* no clipping in float */
    ASSERT(fabsf(mono[1] - 0.4f) < 1e-6f); /* average, not sum */
    ASSERT(mono[2] == 0.0f);
    int16_t s[8];
    wac__convert_frames(in, 2, 4, s, 2, WAC_SAMPLE_S16);
    ASSERT_EQ(s[0], 32767); /* saturated, not wrapped */
    ASSERT_EQ(s[2], (int16_t)lrintf(0.4f * 32767.0f));
    ASSERT_EQ(s[5], -32767);
    ASSERT_EQ(s[6], -32768);
    wac__convert_frames(in, 2, 4, s, 1, WAC_SAMPLE_S16);
    ASSERT_EQ(s[0], 32767);
    ASSERT_EQ(s[3], -32768);
    float nan_in[2] = {NAN, NAN};
    wac__convert_frames(nan_in, 2, 1, s, 1, WAC_SAMPLE_S16);
    ASSERT_EQ(s[0], 0);
}

static void bad_configs_rejected(void)
{
    struct wac__mix m;
    struct wac__mix_config c = {.channels = 2, .rate = 48000, .lane_frames = 100, .max_hold_frames = 100,
                                .resync_frames = 10, .stall_ns = MS, .emit = collect, .user = &out};
    ASSERT_RC(wac__mix_init(&m, &c), WAC_ERR_INVALID_ARGUMENT); /* FIFO not above the hold */
    c.lane_frames = 1000;
    c.channels = 9;
    ASSERT_RC(wac__mix_init(&m, &c), WAC_ERR_INVALID_ARGUMENT);
    c.channels = 2;
    ASSERT_OK(wac__mix_init(&m, &c));
    for (int i = 0; i < WAC__MIX_MAX_LANES; i++)
        ASSERT_EQ(wac__mix_lane_add(&m, 0), i);
    ASSERT_RC(wac__mix_lane_add(&m, 0), WAC_ERR_BUSY);
    wac__mix_write(&m, -1, NULL, 10, 0, 0); /* ignored */
    wac__mix_write(&m, WAC__MIX_MAX_LANES, NULL, 10, 0, 0);
    wac__mix_free(&m);
}

/* A server that records in 21 ms cycles and sends 25 ms fragments, with a
 * 100 ms backlog at the start and late wake-ups: the estimate is never
 * earlier than the truth, and reaches it within a millisecond once a
 * fragment leaves right after the cycle that completed it. */
static void arrival_clock_finds_the_tight_bound(void)
{
    struct wac__arrival_clock c;
    wac__arrival_clock_init(&c, RATE);
    const int64_t truth = T0; /* frame 0 was recorded then */
    uint64_t recorded = 100, sent = 0; /* the backlog */
    int64_t now = T0 + 100 * MS, first = 0, worst_late = 0;
    for (int cycle = 0; cycle < 200; cycle++) {
        now += 21 * MS;
        recorded += 21;
        while (recorded - sent >= 25) {
            int64_t wake = (cycle * 7 + (int)sent) % 5 * MS; /* 0-4 ms late */
            first = wac__arrival_clock_date(&c, 25, 25, now + wake);
            int64_t late = first - (truth + (int64_t)sent * MS);
            ASSERT_CMP(late, >=, 0);
            if (cycle > 100 && late > worst_late)
                worst_late = late;
            sent += 25;
        }
    }
    printf("# after 2 s: dated at most %.1f ms late\n", (double)worst_late / MS);
    ASSERT_CMP(worst_late, <=, MS);
    ASSERT_EQ(c.rises, 0);
}

/* The server drops 60 ms of the stream: every bound is then 60 ms later,
 * and after RISE (4 s) the estimate follows, once. */
static void arrival_clock_follows_a_drop(void)
{
    struct wac__arrival_clock c;
    wac__arrival_clock_init(&c, RATE);
    int64_t first = 0;
    for (int k = 0; k < 100; k++) /* 2.5 s in time */
        first = wac__arrival_clock_date(&c, 25, 25, T0 + (int64_t)(k + 1) * 25 * MS);
    ASSERT_EQ(first, T0 + 99 * 25 * MS);
    for (int k = 100; k < 400; k++) /* 7.5 s more, 60 ms late */
        first = wac__arrival_clock_date(&c, 25, 25, T0 + (int64_t)(k + 1) * 25 * MS + 60 * MS);
    ASSERT_EQ(c.rises, 1);
    ASSERT_EQ(first, T0 + 399 * 25 * MS + 60 * MS);
}

int main(void)
{
    RUN(arrival_clock_finds_the_tight_bound);
    RUN(arrival_clock_follows_a_drop);
    RUN(one_lane_passes_straight_through);
    RUN(two_lanes_sum_sample_aligned);
    RUN(slow_lane_holds_until_it_stalls);
    RUN(hold_is_bounded);
    RUN(bursty_lane_is_waited_for);
    RUN(stalled_lane_is_placed_by_time);
    RUN(new_lane_joins_aligned);
    RUN(removed_lane_drains);
    RUN(holes_and_bursts);
    RUN(drifting_lane_resyncs);
    RUN(one_wild_estimate_is_not_a_resync);
    RUN(emit_times_ignore_lane_disagreement);
    RUN(next_change_is_the_earliest_stall);
    RUN(lagging_lane_is_delayed_not_cut);
    RUN(sums_do_not_clip_in_float_and_saturate_in_s16);
    RUN(bad_configs_rejected);
    return tap_done();
}
