/* test-continuity.c — a Linux backend against a real, private server: the
 * stream's continuity and timing. A tone-player's tones are read block by
 * block at their positions for 60 s (one stream) and 20 s (two streams mixed):
 * nothing lost, skipped or made up, no tone broken off or slipped in phase.
 * And the latency a capture asks for is the one it gets: audio reaches the
 * consumer well within the server's default, dated where it played.
 *
 * The same cases run in every backend suite (tests/integration/meson.build),
 * like test-backends.c's, with the same environment and players. Without a
 * private session the whole program is skipped. */
#ifndef WAC_SWITCH_PLAYER
#error "WAC_SWITCH_PLAYER must name the switch-player executable"
#endif
#ifndef WAC_TONE_PLAYER
#error "WAC_TONE_PLAYER must name the tone-player executable"
#endif

#include "backend-harness.h"

/* ---- continuity ---- */

/* One process playing tones given as FREQ[:AMP] on streams of their own
 * (b: NULL for one). */
static pid_t play_tone_specs(int secs, const char *a, const char *b)
{
    char s[16];
    snprintf(s, sizeof s, "%d", secs);
    char *argv[] = {(char *)WAC_TONE_PLAYER, s, (char *)a, (char *)b, NULL};
    return spawn_argv(argv);
}

/* A continuity measurement: `blocks` blocks of 100 ms from a capture of one
 * tone-player, and what the capture said about them. */
struct blocks {
    float *x;
    size_t block, blocks;
    struct rec r;
    wac_capture_stats st;
    unsigned discontinuous;
};

/* One tone along the blocks from 1 s on (the streams are linked by then):
 * its amplitude at block 10 (the reference), the least and most after, and
 * the largest turn of its phase from block 10's. */
struct track {
    double ref_amp, min_amp, max_amp, worst_turn;
    size_t worst_block;
};

static struct track track_tone(const struct blocks *m, double freq)
{
    struct track t = {0, 1, 0, 0, 0};
    double ref_phase = 0;
    for (size_t i = 10; i < m->blocks; i++) {
        double ph, amp;
        tone_phase(m->x + i * m->block, m->block, freq, &ph, &amp);
        if (i == 10) {
            ref_phase = ph;
            t.ref_amp = amp;
        }
        double turn = fabs(remainder(ph - ref_phase, 2 * M_PI)) * 180 / M_PI;
        if (turn > t.worst_turn) {
            t.worst_turn = turn;
            t.worst_block = i;
        }
        t.min_amp = amp < t.min_amp ? amp : t.min_amp;
        t.max_amp = amp > t.max_amp ? amp : t.max_amp;
    }
    return t;
}

/* The tone never broke off and never slipped (the cases' own bounds). */
static bool tone_whole(const struct blocks *m, double freq)
{
    struct track t = track_tone(m, freq);
    return t.min_amp * 1000 > t.ref_amp * 970 && t.max_amp * 1000 < t.ref_amp * 1030 && t.worst_turn < 5;
}

/* Plays the tones (FREQ[:AMP], b may be NULL) in one tone-player, captures its
 * pid once all its streams play, and reads every block, each at its
 * position. A player that underflowed played a gap the capture rightly
 * records: the measurement is void and taken again, three times at most. */
static void measure_blocks(wac_context *ctx, struct blocks *m, size_t blocks, const char *a, const char *b)
{
    m->block = RATE / 10;
    m->blocks = blocks;
    m->x = calloc(m->block * blocks, sizeof *m->x);
    ASSERT(m->x);
    int holes = 0;
    for (int attempt = 1;; attempt++) {
        player_underflows_reset();
        pid_t app = play_tone_specs((int)(blocks / 10) + 15, a, b);
        wait_playing(ctx, (uint32_t)app, b ? 2 : 1);
        wac_capture_config c = pid_config((uint32_t)app, false, false);
        wac_capture *cap = open_capture(ctx, &c);
        ASSERT_OK(wac_capture_start(cap));
        memset(&m->r, 0, sizeof m->r);
        m->discontinuous = 0;
        /* What WAC made up before the judged blocks (from 1 s on): the core
         * fills the start until the first data, on every pipewire-pulse run. */
        wac_capture_stats before = {0};
        for (size_t i = 0; i < blocks; i++) {
            if (i == 10)
                ASSERT_OK(wac_capture_get_stats(cap, &before, sizeof before));
            wac_chunk_info info;
            int got = wac_capture_read(cap, m->x + i * m->block, (uint32_t)m->block, 3000, &info);
            drain_events(cap, &m->r);
            if (got != (int)m->block)
                FAIL("block %zu: read gave %d (%s)", i, got, got < 0 ? wac_error_name(got) : "short");
            ASSERT_EQ(info.position, i * m->block);
            m->discontinuous += (info.flags & WAC_CHUNK_DISCONTINUOUS) != 0;
        }
        ASSERT_OK(wac_capture_get_stats(cap, &m->st, sizeof m->st));
        ASSERT_OK(wac_capture_close(cap));
        kill_player(app);
        unsigned underflows = player_underflows();
        if (underflows) {
            if (attempt == 3)
                FAIL("the player underflowed in %d attempts: the machine is too busy to judge continuity", attempt);
            printf("# attempt %d: the player underflowed %u time(s), a gap the capture rightly records: "
                   "measured again\n", attempt, underflows);
            continue;
        }
        /* A hole in a tone while WAC lost, skipped, made up and dropped
         * nothing and saw no discontinuity: on this 2-core machine the graph
         * or the player was seen to leave one (pipewire-pulse does not always
         * report its underruns). Measured once more; two such runs of three,
         * or any loss WAC counted, fail the case with the last run's data.
         * A run in which WAC's mix re-placed a stream because the server
         * dated it off (PulseAudio backend: zeros or dropped frames, both
         * counted) says nothing of continuity either: measured again, and
         * the third run is judged as it is. */
        bool clean = m->st.frames_lost == 0 && m->st.frames_skipped == 0 && m->discontinuous == 0;
        bool replaced = m->st.frames_silence > before.frames_silence ||
                        m->st.frames_discarded > before.frames_discarded;
        struct track t = track_tone(m, atof(a));
        bool whole = tone_whole(m, atof(a)) && (!b || tone_whole(m, atof(b)));
        /* On stderr too: what meson shows of a failed case in a CI log. */
        char line[320];
        snprintf(line, sizeof line,
                 "# attempt %d: %llu lost, %llu made up (%llu from 1 s on), %llu dropped by the mix, %llu skipped, "
                 "%u discontinuous; "
                 "%.0f Hz amplitude %.4f..%.4f (block 10: %.4f), phase turn %.2f deg at block %zu",
                 attempt, (unsigned long long)m->st.frames_lost, (unsigned long long)m->st.frames_silence,
                 (unsigned long long)(m->st.frames_silence - before.frames_silence),
                 (unsigned long long)m->st.frames_discarded, (unsigned long long)m->st.frames_skipped,
                 m->discontinuous, atof(a), t.min_amp, t.max_amp, t.ref_amp, t.worst_turn, t.worst_block);
        printf("%s\n", line);
        fprintf(stderr, "%s\n", line);
        if (whole || !clean || attempt == 3)
            return;
        if (replaced) {
            printf("# attempt %d: WAC re-placed the stream by the server's dates (counted): measured again\n",
                   attempt);
            continue;
        }
        if (++holes >= 2)
            return;
        printf("# attempt %d: a tone broke off while WAC's accounting stayed clean: measured again "
               "(a second time fails)\n", attempt);
    }
}

static void sixty_seconds_lose_nothing(void)
{
    /* A 1 kHz tone is 16 samples a cycle at 16 kHz, so every 100 ms block of
     * a continuous capture holds it at the same phase. One frame lost or
     * doubled anywhere turns the phase by 22.5 degrees from that block on.
     * The player is tone-player on every server: it reports its underflows. */
    wac_context *ctx = open_pw();
    struct blocks m;
    measure_blocks(ctx, &m, 600, "1000:0.4", NULL);
    const size_t block = m.block, blocks = m.blocks;
    float *x = m.x;
    struct rec r = m.r;
    wac_capture_stats st = m.st;
    unsigned discontinuous = m.discontinuous;

    double ref_phase = 0, ref_amp = 0, worst_turn = 0, min_amp = 1, max_amp = 0;
    size_t worst_block = 0;
    for (size_t i = 10; i < blocks; i++) { /* from 1 s on: the stream is linked by then */
        double ph, amp;
        tone_phase(x + i * block, block, 1000, &ph, &amp);
        if (i == 10) {
            ref_phase = ph;
            ref_amp = amp;
        }
        double turn = fabs(remainder(ph - ref_phase, 2 * M_PI)) * 180 / M_PI;
        if (turn > worst_turn) {
            worst_turn = turn;
            worst_block = i;
        }
        min_amp = amp < min_amp ? amp : min_amp;
        max_amp = amp > max_amp ? amp : max_amp;
    }
    printf("# %llu frames delivered, %llu lost, %llu silence, %u discontinuous chunks; amplitude %.4f..%.4f, "
           "worst phase turn %.3f deg at block %zu\n",
           (unsigned long long)st.frames_delivered, (unsigned long long)st.frames_lost,
           (unsigned long long)st.frames_silence, discontinuous, min_amp, max_amp, worst_turn, worst_block);
    ASSERT_EQ(st.frames_lost, 0);
    ASSERT_EQ(discontinuous, 0);
    ASSERT_CMP(st.frames_delivered, >=, (uint64_t)(block * blocks));
    ASSERT(!saw_event(&r, WAC_EVENT_OVERRUN, 0));
    ASSERT(!saw_event(&r, WAC_EVENT_DISCONTINUITY, 0));
    /* The signal agrees: the tone never broke off and never slipped. */
    ASSERT_CMP(ref_amp * 1000, >, 370);
    ASSERT_CMP(min_amp * 1000, >, ref_amp * 970);
    ASSERT_CMP(max_amp * 1000, <, ref_amp * 1030);
    ASSERT_CMP(worst_turn * 1000, <, 5000); /* millidegrees */
    free(x);
    ASSERT_OK(wac_context_close(ctx));
}

static void two_streams_mixed_lose_nothing(void)
{
    /* One process, two streams: 1000 Hz at 0.2 and 2000 Hz at 0.1, both whole
     * cycles in every 100 ms block at 16 kHz, so in a continuous capture each
     * tone has the same phase and amplitude in every block. One frame lost,
     * doubled, or shifted in either stream's lane of the mix turns that
     * tone's phase (22.5 or 45 degrees) from there on; a stretch of one
     * stream missing from the mix (a lane not waited for, a lane placed on
     * top of itself) changes its amplitude in that block. Each tone is
     * checked on its own, for 20 s. */
    wac_context *ctx = open_pw();
    struct blocks m;
    measure_blocks(ctx, &m, 200, "1000:0.2", "2000:0.1");
    const size_t blocks = m.blocks, block = m.block;
    float *x = m.x;
    struct rec r = m.r;
    wac_capture_stats st = m.st;
    unsigned discontinuous = m.discontinuous;

    const double freq[2] = {1000, 2000}, level[2] = {0.2, 0.1};
    double worst_turn[2] = {0, 0}, min_amp[2] = {1, 1}, max_amp[2] = {0, 0}, ref_phase[2], ref_amp[2];
    size_t worst_block[2] = {0, 0};
    for (size_t i = 10; i < blocks; i++) /* from 1 s on: both streams are attached by then */
        for (int k = 0; k < 2; k++) {
            double ph, amp;
            tone_phase(x + i * block, block, freq[k], &ph, &amp);
            if (i == 10) {
                ref_phase[k] = ph;
                ref_amp[k] = amp;
            }
            double turn = fabs(remainder(ph - ref_phase[k], 2 * M_PI)) * 180 / M_PI;
            if (turn > worst_turn[k]) {
                worst_turn[k] = turn;
                worst_block[k] = i;
            }
            min_amp[k] = amp < min_amp[k] ? amp : min_amp[k];
            max_amp[k] = amp > max_amp[k] ? amp : max_amp[k];
        }
    printf("# %llu frames delivered, %llu lost, %llu silence, %llu skipped, %u discontinuous chunks\n",
           (unsigned long long)st.frames_delivered, (unsigned long long)st.frames_lost,
           (unsigned long long)st.frames_silence, (unsigned long long)st.frames_skipped, discontinuous);
    for (int k = 0; k < 2; k++)
        printf("# %.0f Hz: amplitude %.4f..%.4f, worst phase turn %.3f deg at block %zu\n", freq[k], min_amp[k],
               max_amp[k], worst_turn[k], worst_block[k]);
    ASSERT_EQ(st.frames_lost, 0);
    ASSERT_EQ(st.frames_skipped, 0);
    ASSERT_EQ(discontinuous, 0);
    ASSERT(!saw_event(&r, WAC_EVENT_OVERRUN, 0));
    ASSERT(!saw_event(&r, WAC_EVENT_DISCONTINUITY, 0));
    ASSERT_EQ(count_events(&r, WAC_EVENT_STREAM_ADDED), 2);
    ASSERT(!saw_event(&r, WAC_EVENT_STREAM_REMOVED, 0));
    for (int k = 0; k < 2; k++) {
        /* Each at its own level (mono average of equal channels: the level). */
        ASSERT_CMP(ref_amp[k] * 1000, >, level[k] * 920);
        ASSERT_CMP(ref_amp[k] * 1000, <, level[k] * 1080);
        ASSERT_CMP(min_amp[k] * 1000, >, ref_amp[k] * 970);
        ASSERT_CMP(max_amp[k] * 1000, <, ref_amp[k] * 1030);
        ASSERT_CMP(worst_turn[k] * 1000, <, 5000); /* millidegrees */
    }
    free(x);
    ASSERT_OK(wac_context_close(ctx));
}

/* ---- latency ---- */

/* One read of a timed recording: where its frames sit and when they came. */
struct timed_read {
    uint64_t position;
    int64_t time_ns;  /* the chunk's time_ns: when its first frame played */
    int64_t got_ns;   /* wall clock (CLOCK_MONOTONIC) when the read returned */
    uint32_t n;
};

struct timed_rec {
    float *x;
    size_t n;
    struct timed_read *reads;
    size_t n_reads;
};

/* Record `secs` seconds in 10 ms reads: a read returns as soon as 10 ms are
 * there, so got_ns is when the data reached the consumer (within a read). */
static void record_timed(wac_context *ctx, const wac_capture_config *c, double secs, struct timed_rec *t)
{
    const uint32_t piece = RATE / 100;
    size_t want = (size_t)(secs * RATE) / piece * piece;
    memset(t, 0, sizeof *t);
    t->x = calloc(want, sizeof *t->x);
    t->reads = calloc(want / piece, sizeof *t->reads);
    ASSERT(t->x && t->reads);
    wac_capture *cap = open_capture(ctx, c);
    struct rec r;
    memset(&r, 0, sizeof r);
    ASSERT_OK(wac_capture_start(cap));
    while (t->n < want) {
        wac_chunk_info info;
        int got = wac_capture_read(cap, t->x + t->n, piece, 3000, &info);
        int64_t got_ns = now_ms() * 1000000; /* ms resolution is plenty here */
        drain_events(cap, &r);
        if (got != (int)piece)
            FAIL("read gave %d (%s)", got, got < 0 ? wac_error_name(got) : "short");
        t->reads[t->n_reads++] = (struct timed_read){info.position, info.time_ns, got_ns, (uint32_t)got};
        t->n += (size_t)got;
    }
    ASSERT_OK(wac_capture_close(cap));
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* How old the newest frame of each read was when the read returned (ms),
 * from `skip_s` of the recording on: the median and the 95th percentile. */
static void delivery_age(const struct timed_rec *t, double skip_s, double *median_ms, double *p95_ms)
{
    int64_t *age = calloc(t->n_reads, sizeof *age);
    ASSERT(age);
    size_t k = 0;
    for (size_t i = 0; i < t->n_reads; i++) {
        const struct timed_read *r = &t->reads[i];
        if (r->position < (uint64_t)(skip_s * RATE))
            continue;
        int64_t newest_ns = r->time_ns + (int64_t)(r->n - 1) * 1000000000 / RATE;
        age[k++] = r->got_ns - newest_ns;
    }
    ASSERT(k > 10);
    qsort(age, k, sizeof *age, compare_i64);
    *median_ms = (double)age[k / 2] / 1e6;
    *p95_ms = (double)age[k * 95 / 100] / 1e6;
    free(age);
}

/* The sample position where a tone switches from f1 to f2 (after at least
 * 100 ms of f1), to a sample or so: the first 10 ms block where f2 is the
 * stronger is where it happens, and within that block the share of f1 tells
 * where (both have whole cycles in 10 ms, so the block sees them apart).
 * -1 when no such switch is in the recording. */
static double find_switch(const struct timed_rec *t, double f1, double f2)
{
    const size_t block = RATE / 100;
    int blocks_of_f1 = 0;
    for (size_t b = 0; (b + 1) * block <= t->n; b++) {
        double ph, a1, a2;
        tone_phase(t->x + b * block, block, f1, &ph, &a1);
        tone_phase(t->x + b * block, block, f2, &ph, &a2);
        if (a2 > a1 && a2 > 0.1 && blocks_of_f1 >= 10)
            return (double)(b * block) + (double)block * a1 / (a1 + a2);
        blocks_of_f1 = a1 > 0.1 && a1 > a2 ? blocks_of_f1 + 1 : 0;
    }
    return -1;
}

static pid_t play_switch(const char *sink, int secs, int switch_s, int f1, int f2, const char *outfile,
                         int tlength_ms)
{
    char s[16], w[16], a[16], b[16], t[16];
    snprintf(s, sizeof s, "%d", secs);
    snprintf(w, sizeof w, "%d", switch_s);
    snprintf(a, sizeof a, "%d", f1);
    snprintf(b, sizeof b, "%d", f2);
    snprintf(t, sizeof t, "%d", tlength_ms);
    char *argv[] = {(char *)WAC_SWITCH_PLAYER, (char *)sink, s, w, a, b, (char *)outfile, t, NULL};
    return spawn_argv(argv);
}

static void latency_is_not_the_servers_default(void)
{
    /* What is claimed: the audio reaches WAC's consumer within a fraction of
     * a second of being played, even from a sink running at a high latency.
     * On the PulseAudio daemon the player uses wac_idle_sink, a null sink
     * with PulseAudio's defaults, and buffers 4 s without asking for low
     * latency: alone, it leaves that sink at its full default latency, 2 s
     * (measured: "configured 2000000 usec"), and a monitor record stream with
     * the server's default fragment then gets the audio in 2 s lumps. (With
     * the server's default player buffers the sink would run at ~200 ms.)
     *
     * Two measurements, each able to fail on its own:
     *  - Age at delivery: for every 10 ms read, wall clock at its return
     *    minus the chunk's own time_ns of its newest frame. Delivery in 2 s
     *    lumps makes the 95th percentile ~1.9 s. A control capture asking
     *    for latency_ms = 1000 must show lumps (the measurement sees them).
     *  - The time stamps are true: the player switches from 500 Hz to
     *    1500 Hz at a frame whose play time it computes from its own
     *    stream's timing (switch-player.c). WAC's time of the switch (found
     *    in the captured signal, to a sample, placed by the chunk's
     *    position and time_ns) must agree with it, and the read that
     *    delivered the switch must have returned soon after it played.
     *    Without this check a wrong time_ns (say, "now" on arrival) would
     *    make any age look small.
     * Under PipeWire (the other suites) the sink runs at the graph's quantum
     * whatever the player buffers; the same bounds hold there. */
    wac_context *ctx = open_pw();
    const char *idle = getenv("WAC_PULSE_IDLE_SINK");
    const char *sink = on_pulseaudio_daemon() ? idle : "-";
    ASSERT(sink && *sink);
    char outfile[] = "/tmp/wac-switch.XXXXXX";
    int fd = mkstemp(outfile);
    ASSERT(fd >= 0);
    close(fd);
    pid_t p = play_switch(sink, 16, 10, 500, 1500, outfile, 4000);
    wait_playing(ctx, (uint32_t)p, 0);
    wac_capture_config c = pid_config((uint32_t)p, false, false);

/* The control: a capture that asks for 1 s fragments (0.3 s ... 4.3 s). */
    c.latency_ms = 1000;
    struct timed_rec t;
    record_timed(ctx, &c, 4.0, &t);
    double control_median, control_p95;
    delivery_age(&t, 1.0, &control_median, &control_p95);
    printf("# control (latency_ms 1000): age at delivery median %.1f ms, 95th percentile %.1f ms\n",
           control_median, control_p95);
    free(t.x);
    free(t.reads);

    /* The capture under test, with the default latency (~4.5 s ... 13.5 s:
     * the switch plays at 10 s, or up to 2 s later while the sink's first
     * block runs out). */
    c.latency_ms = 0;
    record_timed(ctx, &c, 9.0, &t);
    double median, p95;
    delivery_age(&t, 2.5, &median, &p95);
    double at = find_switch(&t, 500, 1500);
    int status = 0;
    waitpid(p, &status, 0);
    long long play_ns = 0;
    unsigned long long player_latency_us = 0;
    FILE *f = fopen(outfile, "r");
    ASSERT(f);
    ASSERT_EQ(fscanf(f, "%lld %llu", &play_ns, &player_latency_us), 2);
    fclose(f);
    unlink(outfile);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    printf("# age at delivery: median %.1f ms, 95th percentile %.1f ms (player's own latency %.0f ms)\n", median,
           p95, player_latency_us / 1000.0);
    /* On PipeWire the lowest latency in the graph wins: 1000 ms changes
     * nothing there, so the control applies to the PulseAudio backend: its
     * lumps must fail the bound the capture under test meets (p95 < 200).
     * The daemon sends 1 s lumps (p95 ~1.9 s); pipewire-pulse sends less at
     * a time, and behind it the backend dates frames by their arrival, a
     * bound that can only make ages look smaller (p95 315 ms measured). */
    if (strcmp(backend_under_test(), "pulse") == 0)
        ASSERT_CMP(control_p95, >, on_pulseaudio_daemon() ? 500 : 250); /* lumps are seen when they happen */
    ASSERT_CMP(median, <, 100);
    ASSERT_CMP(p95, <, 200);
    /* No frame is stamped later than it will be heard: through pipewire-pulse
     * the record latency it reports put stamps 20-85 ms in the future (a
     * negative age) until the PulseAudio backend bounded them by arrival.
     * Under PipeWire an application's audio reaches WAC a graph cycle (at
     * most 2048 frames, 42.7 ms) before its sink plays it, and is stamped
     * when played (wac.h): its age may be down to minus one cycle there. */
    ASSERT_CMP(median * 1000, >=, on_pulseaudio_daemon() ? 0 : -43 * 1000);
    ASSERT(at >= 0);
    const struct timed_read *r = NULL;
    for (size_t i = 0; i < t.n_reads && !r; i++)
        if (t.reads[i].position + t.reads[i].n > (uint64_t)at)
            r = &t.reads[i];
    ASSERT(r);
    double wac_ns = (double)r->time_ns + (at - (double)r->position) * 1e9 / RATE;
    double stamp_error_ms = (wac_ns - (double)play_ns) / 1e6, delivered_ms = ((double)r->got_ns - (double)play_ns) / 1e6;
    printf("# switch at position %.1f: WAC's time minus the player's %.1f ms; delivered %.1f ms after it played\n",
           at, stamp_error_ms, delivered_ms);
    free(t.x);
    free(t.reads);
    ASSERT_OK(wac_context_close(ctx));
    /* On the PulseAudio daemon WAC's time of the switch was measured 15-20 ms
     * after the player's, and 2 ms before it since stamps are bounded by
     * arrival. Under PipeWire the player's reference itself is
     * off: the native backend received the switch 35-40 ms before the play
     * time pipewire-pulse gave the player (a monitor cannot hear a frame
     * before it is rendered), and its stamps came out 60 ms earlier than that
     * reference; so the bound is looser there. The PulseAudio backend through
     * pipewire-pulse took its stamps from the record latency pipewire-pulse
     * reports (bounded by arrival): -27...-30 ms in 3 runs, -67 ms in a
     * fourth, where pipewire-pulse reported 40 ms more for the whole capture
     * (with 50 ms fragments that excess was 75 ms: -114 ms); it now dates
     * them by their arrival (bench/FINDINGS.md section 10). */
    ASSERT_CMP(fabs(stamp_error_ms), <, on_pulseaudio_daemon() ? 50 : 100);
    ASSERT_CMP(delivered_ms, <, 200);
}

int main(void)
{
    if (!harness_begin())
        return 0;
    RUN_T(latency_is_not_the_servers_default, 60);
    RUN_T(two_streams_mixed_lose_nothing, 150);
    RUN_T(sixty_seconds_lose_nothing, 300);
    return tap_done();
}
