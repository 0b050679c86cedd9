/* test-faults.c — the core under injected faults: stalls and skips (silence
 * fill or reported discontinuities), bursts, overruns from a burst or a stalled
 * consumer (counted exactly, then clean audio), the server dying, the target
 * exiting and coming back. Everything is checked from the dummy's counter. */
#include "helpers.h"

/* Reads `ms` of audio in 100 ms chunks, following the counter and positions.
 * Returns the frames whose counter is missing (lost), and counts silence. */
struct follow {
    long long last;
    uint64_t position; /* next expected position */
    uint64_t silent, missing, frames, discontinuous_chunks;
    uint64_t pos_jumps; /* frames the positions jumped over */
    int64_t last_time_ns, last_read_ms; /* the last chunk's time, and when it was read */
};

static int follow(wac_capture *cap, struct follow *f, int chunks)
{
    float buf[1600];
    for (int i = 0; i < chunks; i++) {
        wac_chunk_info info;
        int n = wac_capture_read(cap, buf, 1600, 3000, &info);
        if (n < 0)
            return n;
        if (info.flags & WAC_CHUNK_DISCONTINUOUS)
            f->discontinuous_chunks++;
        if (f->frames)
            ASSERT_CMP(info.position, >=, f->position);
        if (f->frames)
            f->pos_jumps += info.position - f->position;
        f->position = info.position + (uint64_t)n;
        f->last_time_ns = info.time_ns;
        f->last_read_ms = now_ms();
        for (int j = 0; j < n; j++) {
            long long c = counter_of(buf[j]);
            if (c < 0) {
                f->silent++;
                continue;
            }
            if (f->last >= 0) {
                if (c <= f->last)
                    FAIL("counter went from %lld to %lld", f->last, c);
                f->missing += (uint64_t)(c - f->last - 1);
            }
            f->last = c;
        }
        f->frames += (uint64_t)n;
    }
    return 0;
}

static int collect_events(wac_capture *cap, wac_event *evs, int max)
{
    int n = 0;
    while (n < max && wac_capture_next_event(cap, &evs[n], sizeof evs[n]) == 1)
        n++;
    return n;
}

static const wac_event *find_event(const wac_event *evs, int n, wac_event_type type)
{
    for (int i = 0; i < n; i++)
        if (evs[i].type == type)
            return &evs[i];
    return NULL;
}

static void stall_is_filled_with_silence(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_started(ctx, &c);
    struct follow f = {.last = -1};
    ASSERT_OK(follow(cap, &f, 3));
    ASSERT_OK(wac_dummy_inject(cap, WAC_DUMMY_STALL, 500));
    /* While stalled, the consumer still receives a clock: chunks keep coming. */
    int64_t t0 = now_ms();
    ASSERT_OK(follow(cap, &f, 3));
    ASSERT_CMP(now_ms() - t0, <, 1000);
    ASSERT_OK(follow(cap, &f, 10));
    printf("# silent %llu frames for a 500 ms stall\n", (unsigned long long)f.silent);
    ASSERT_EQ(f.missing, 0);  /* the counter continues after the silence */
    ASSERT_EQ(f.pos_jumps, 0); /* positions continuous */
    ASSERT_EQ(f.discontinuous_chunks, 0);
    /* 500 ms of silence, give or take the fill tolerance (40 ms here) and a period. */
    ASSERT_CMP(f.silent, >=, 8000 - 16000 * 60 / 1000);
    ASSERT_CMP(f.silent, <=, 8000 + 16000 * 60 / 1000);
    wac_capture_stats st;
    ASSERT_OK(wac_capture_get_stats(cap, &st, sizeof st));
    ASSERT_CMP(st.frames_silence, >=, f.silent);
    ASSERT_EQ(st.frames_lost, 0);
    ASSERT_OK(wac_context_close(ctx));
}

static void skip_with_fill_inserts_silence(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_started(ctx, &c);
    struct follow f = {.last = -1};
    ASSERT_OK(follow(cap, &f, 2));
    ASSERT_OK(wac_dummy_inject(cap, WAC_DUMMY_SKIP, 300));
    ASSERT_OK(follow(cap, &f, 10));
    ASSERT_EQ(f.missing, 0);
    ASSERT_EQ(f.pos_jumps, 0);
    ASSERT_CMP(f.silent, >=, 4800 - 16000 * 30 / 1000);
    ASSERT_CMP(f.silent, <=, 4800 + 16000 * 30 / 1000);
    ASSERT_OK(wac_context_close(ctx));
}

static void skip_without_fill_is_a_discontinuity(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    c.fill_silence = false;
    wac_capture *cap = open_started(ctx, &c);
    struct follow f = {.last = -1};
    ASSERT_OK(follow(cap, &f, 2));
    ASSERT_OK(wac_dummy_inject(cap, WAC_DUMMY_SKIP, 300));
    ASSERT_OK(follow(cap, &f, 10));
    ASSERT_EQ(f.silent, 0);
    ASSERT_EQ(f.missing, 0); /* skipped time, not lost data */
    ASSERT_EQ(f.discontinuous_chunks, 1);
    wac_event evs[16];
    int n = collect_events(cap, evs, 16);
    const wac_event *d = find_event(evs, n, WAC_EVENT_DISCONTINUITY);
    ASSERT(d != NULL);
    ASSERT_EQ(d->frames, f.pos_jumps); /* the positions jumped by exactly the reported frames */
    ASSERT_CMP(d->frames, >=, 4800 - 16000 * 30 / 1000);
    ASSERT_CMP(d->frames, <=, 4800 + 16000 * 30 / 1000);
    wac_capture_stats st;
    ASSERT_OK(wac_capture_get_stats(cap, &st, sizeof st));
    ASSERT_EQ(st.discontinuities, 1);
    ASSERT_EQ(st.frames_skipped, d->frames);
    ASSERT_OK(wac_context_close(ctx));
}

/* The engine reports a loss of known length (WASAPI's DATA_DISCONTINUITY with
 * device positions): exactly that many frames are skipped and reported, the
 * timestamps after it find no gap, and nothing is filled with silence even
 * though fill_silence is on. */
static void engine_loss_is_an_exact_discontinuity(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_started(ctx, &c);
    struct follow f = {.last = -1};
    ASSERT_OK(follow(cap, &f, 2));
    ASSERT_OK(wac_dummy_inject(cap, WAC_DUMMY_LOSS, 300));
    ASSERT_OK(follow(cap, &f, 10));
    ASSERT_EQ(f.silent, 0);
    ASSERT_EQ(f.pos_jumps, 4800);
    ASSERT_EQ(f.discontinuous_chunks, 1);
    wac_event evs[16];
    int n = collect_events(cap, evs, 16);
    const wac_event *d = find_event(evs, n, WAC_EVENT_DISCONTINUITY);
    ASSERT(d != NULL);
    ASSERT_EQ(d->frames, 4800);
    wac_capture_stats st;
    ASSERT_OK(wac_capture_get_stats(cap, &st, sizeof st));
    ASSERT_EQ(st.discontinuities, 1);
    ASSERT_EQ(st.frames_skipped, 4800);
    ASSERT_EQ(st.frames_silence, 0);
    ASSERT_OK(wac_context_close(ctx));
}

static void burst_arrives_whole(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_started(ctx, &c);
    struct follow f = {.last = -1};
    ASSERT_OK(follow(cap, &f, 2));
    ASSERT_OK(wac_dummy_inject(cap, WAC_DUMMY_BURST, 400));
    ASSERT_OK(follow(cap, &f, 10));
    /* Late data keeps its timestamps: no silence, nothing lost, no gap;
     * held back is not wrong, so none is rejected. */
    ASSERT_EQ(f.silent, 0);
    ASSERT_EQ(f.missing, 0);
    ASSERT_EQ(f.pos_jumps, 0);
    wac_capture_stats st;
    ASSERT_OK(wac_capture_get_stats(cap, &st, sizeof st));
    ASSERT_EQ(st.timestamps_rejected, 0);
    ASSERT_OK(wac_context_close(ctx));
}

static uint64_t overrun_frames(const wac_event *evs, int n, int *count)
{
    uint64_t total = 0;
    *count = 0;
    for (int i = 0; i < n; i++)
        if (evs[i].type == WAC_EVENT_OVERRUN) {
            total += evs[i].frames;
            (*count)++;
        }
    return total;
}

static void overrun_counted_exactly(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    c.ring_ms = 500; /* 8192 frames */
    wac_capture *cap = open_started(ctx, &c);
    struct follow f = {.last = -1};
    ASSERT_OK(follow(cap, &f, 1));
    ASSERT_OK(wac_dummy_inject(cap, WAC_DUMMY_OVERRUN, 20000)); /* far more than the ring holds */
    /* The consumer stays away while the engine writes the burst on its next
     * tick (10 ms), so at most a ring's worth of it can fit. */
    sleep_ms(200);
    ASSERT_OK(follow(cap, &f, 15));
    wac_event evs[32];
    int n = collect_events(cap, evs, 32), overruns;
    /* The loss may still be reported in more than one piece; each is exact. */
    uint64_t lost = overrun_frames(evs, n, &overruns);
    printf("# %d overrun(s), %llu frames; missing %llu\n", overruns, (unsigned long long)lost,
           (unsigned long long)f.missing);
    ASSERT_CMP(overruns, >=, 1);
    /* Should a slow scheduler delay the burst past the sleep (Wine), the
     * reader drains between the dummy's 4096-frame pieces: the bound allows a
     * second ring's worth. Exactness is what is checked below. */
    ASSERT_CMP(lost, >=, 20000 - 2 * 8192);
    ASSERT_EQ(lost, f.missing);   /* reported == missing from the signal */
    ASSERT_EQ(lost, f.pos_jumps); /* and the positions account for them */
    ASSERT_EQ(f.discontinuous_chunks, (uint64_t)overruns);
    wac_capture_stats st;
    ASSERT_OK(wac_capture_get_stats(cap, &st, sizeof st));
    ASSERT_EQ(st.frames_lost, lost);
    ASSERT_EQ(st.overruns, overruns);
    ASSERT_OK(wac_context_close(ctx));
}

static void stalled_consumer_gets_exact_overrun_then_clean_audio(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    c.ring_ms = 300; /* 8192 frames = 512 ms */
    wac_capture *cap = open_started(ctx, &c);
    struct follow f = {.last = -1};
    ASSERT_OK(follow(cap, &f, 2));
    sleep_ms(1500); /* the consumer stalls three times longer than the ring */
    ASSERT_OK(follow(cap, &f, 12));
    uint64_t missing_after_stall = f.missing;
    wac_event evs[16];
    int n = collect_events(cap, evs, 16);
    const wac_event *o = find_event(evs, n, WAC_EVENT_OVERRUN);
    ASSERT(o != NULL);
    printf("# stall: overrun %llu frames, missing %llu\n", (unsigned long long)o->frames,
           (unsigned long long)missing_after_stall);
    ASSERT_CMP(o->frames, >, 8000);
    ASSERT_EQ(o->frames, missing_after_stall);
    ASSERT_EQ(o->frames, f.pos_jumps);
    ASSERT_EQ(f.silent, 0);
    /* Clean again: nothing more goes missing. */
    ASSERT_OK(follow(cap, &f, 10));
    ASSERT_EQ(f.missing, missing_after_stall);
    ASSERT_OK(wac_context_close(ctx));
}

/* frames_silence counts the frames WAC filled in where the engine delivered
 * nothing (wac.h): a stall (filled by ticks) and a skip (filled when data
 * resumes late), and nothing else. Read to the end, it equals the silence the
 * consumer got, since the dummy's own audio is never zero. */
static void frames_silence_counts_exactly_what_wac_filled(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_started(ctx, &c);
    struct follow f = {.last = -1};
    ASSERT_OK(follow(cap, &f, 3));
    ASSERT_OK(wac_dummy_inject(cap, WAC_DUMMY_STALL, 300));
    ASSERT_OK(follow(cap, &f, 6));
    ASSERT_OK(wac_dummy_inject(cap, WAC_DUMMY_SKIP, 300));
    ASSERT_OK(follow(cap, &f, 6));
    ASSERT_OK(wac_capture_stop(cap));
    ASSERT_RC(follow(cap, &f, 100), WAC_ERR_ENDED);
    wac_capture_stats st;
    ASSERT_OK(wac_capture_get_stats(cap, &st, sizeof st));
    printf("# %llu silent frames delivered, frames_silence %llu\n", (unsigned long long)f.silent,
           (unsigned long long)st.frames_silence);
    ASSERT_CMP(f.silent, >=, 2 * (4800 - 16000 * 60 / 1000));
    ASSERT_EQ(st.frames_lost, 0);
    ASSERT_EQ(st.frames_delivered, f.frames);
    ASSERT_EQ(st.frames_silence, f.silent);
    ASSERT_OK(wac_context_close(ctx));
}

/* Stamps no clock of this machine could give (Wine's WASAPI: its QPC
 * positions overflow once the machine has been up 25.6 hours, 51 h early
 * and more) are dated by their arrival: the timeline neither skips the hours
 * nor fills them, the chunks' times stay near now, and the count says so.
 * Trusted, the early stamps had the ticks skip 51 h of positions. */
static void stamps_no_clock_gives_are_dated_by_arrival(void)
{
    const struct {
        wac_dummy_fault fault;
        uint32_t ms;
    } wrong[] = {{WAC_DUMMY_EARLY_STAMPS, 51u * 3600 * 1000}, {WAC_DUMMY_LATE_STAMPS, 3600u * 1000}};
    for (size_t w = 0; w < sizeof wrong / sizeof wrong[0]; w++) {
        wac_context *ctx = open_dummy();
        wac_capture_config c = speech_config();
        wac_capture *cap = open_started(ctx, &c);
        struct follow f = {.last = -1};
        ASSERT_OK(follow(cap, &f, 2));
        ASSERT_OK(wac_dummy_inject(cap, wrong[w].fault, wrong[w].ms));
        ASSERT_OK(follow(cap, &f, 10));
        int64_t age_ms = f.last_read_ms - f.last_time_ns / 1000000;
        ASSERT_OK(wac_dummy_inject(cap, wrong[w].fault, 0));
        ASSERT_OK(follow(cap, &f, 5));
        wac_capture_stats st;
        ASSERT_OK(wac_capture_get_stats(cap, &st, sizeof st));
        printf("# %s stamps: %llu rejected, chunk dated %lld ms ago, %llu silent, positions jumped %llu\n",
               wrong[w].fault == WAC_DUMMY_EARLY_STAMPS ? "early" : "late",
               (unsigned long long)st.timestamps_rejected, (long long)age_ms, (unsigned long long)f.silent,
               (unsigned long long)f.pos_jumps);
        ASSERT_CMP(age_ms, >=, 0);
        ASSERT_CMP(age_ms, <, 1000);
        ASSERT_EQ(f.pos_jumps, 0);
        ASSERT_EQ(f.missing, 0);
        ASSERT_EQ(f.discontinuous_chunks, 0);
        ASSERT_EQ(st.frames_skipped, 0);
        ASSERT_CMP(f.silent, <=, 16000 * 60 / 1000); /* the fill tolerance at most */
        /* A stamp every 10 ms (nominally) for the second and more of the
         * fault; a stalled engine thread pushes fewer, never none. */
        ASSERT_CMP(st.timestamps_rejected, >=, 10);
        ASSERT_CMP(st.timestamps_rejected, <=, 200);
        ASSERT_OK(wac_context_close(ctx));
    }
}

static void server_lost_ends_stream_cleanly(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    wac_capture *cap = open_started(ctx, &c);
    wac_capture *other = open_started(ctx, &c);
    struct follow f = {.last = -1};
    ASSERT_OK(follow(cap, &f, 3));
    ASSERT_OK(wac_dummy_inject(cap, WAC_DUMMY_DISCONNECT, 0));
    /* What was captured is still delivered, then the end. */
    int rc = follow(cap, &f, 100);
    ASSERT_RC(rc, WAC_ERR_ENDED);
    ASSERT_EQ(f.missing, 0);
    wac_event evs[16];
    int n = collect_events(cap, evs, 16);
    ASSERT_CMP(n, >=, 2);
    ASSERT_EQ(evs[n - 2].type, WAC_EVENT_SERVER_LOST);
    ASSERT_EQ(evs[n - 1].type, WAC_EVENT_ENDED);
    ASSERT_EQ(evs[n - 1].error, WAC_ERR_SERVER_LOST);
    ASSERT_EQ(evs[n - 1].position, f.position); /* after the last frame */
    ASSERT(strstr(evs[n - 1].detail, "lost"));
    ASSERT_EQ(wac_capture_get_state(cap), WAC_STATE_ENDED);
    /* Every capture of the context ends, not only the one injected into. */
    float buf[1600];
    while ((rc = wac_capture_read(other, buf, 1600, 3000, NULL)) > 0)
        ;
    ASSERT_RC(rc, WAC_ERR_ENDED);
    ASSERT_OK(wac_capture_stop(cap)); /* stopping an ended stream is fine */
    wac_capture *late = NULL;
    ASSERT_RC(wac_capture_open(ctx, &c, &late), WAC_ERR_SERVER_LOST);
    ASSERT_OK(wac_context_close(ctx));
}

static void pid_target_exit_ends_stream(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    c.target.kind = WAC_TARGET_PID;
    c.target.pid = (uint32_t)getpid();
    wac_capture *cap = open_started(ctx, &c);
    struct follow f = {.last = -1};
    ASSERT_OK(follow(cap, &f, 2));
    ASSERT_OK(wac_dummy_inject(cap, WAC_DUMMY_TARGET_EXIT, 0));
    ASSERT_RC(follow(cap, &f, 100), WAC_ERR_ENDED);
    wac_event evs[16];
    int n = collect_events(cap, evs, 16);
    const wac_event *d = find_event(evs, n, WAC_EVENT_TARGET_DETACHED);
    ASSERT(d != NULL);
    ASSERT_EQ(d->pid, getpid());
    ASSERT_EQ(evs[n - 1].type, WAC_EVENT_ENDED);
    ASSERT_EQ(evs[n - 1].error, WAC_ERR_TARGET_EXITED);
    /* A normal end: no ERROR event before it. */
    ASSERT(find_event(evs, n, WAC_EVENT_ERROR) == NULL);
    ASSERT_OK(wac_context_close(ctx));
}

static void name_target_restart_keeps_timeline(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    c.target.kind = WAC_TARGET_NAME;
    c.target.name = "player";
    wac_capture *cap = open_started(ctx, &c);
    struct follow f = {.last = -1};
    ASSERT_OK(follow(cap, &f, 2));
    ASSERT_OK(wac_dummy_inject(cap, WAC_DUMMY_TARGET_EXIT, 400));
    ASSERT_OK(follow(cap, &f, 12));
    /* The gap is silence, not a hole in the timeline. */
    ASSERT_EQ(f.pos_jumps, 0);
    ASSERT_EQ(f.missing, 0);
    ASSERT_CMP(f.silent, >=, 6400 - 16000 * 60 / 1000);
    wac_event evs[16];
    int n = collect_events(cap, evs, 16);
    int order[] = {WAC_EVENT_STARTED, WAC_EVENT_TARGET_ATTACHED, WAC_EVENT_STREAM_ADDED,
                   WAC_EVENT_STREAM_REMOVED, WAC_EVENT_TARGET_DETACHED, WAC_EVENT_TARGET_ATTACHED,
                   WAC_EVENT_STREAM_ADDED};
    ASSERT_EQ(n, 7);
    for (int i = 0; i < 7; i++)
        ASSERT_EQ(evs[i].type, order[i]);
    /* The reattach came about 400 ms (6400 frames) after the detach. */
    ASSERT_CMP(evs[5].position - evs[4].position, >=, 6400 - 800);
    ASSERT_CMP(evs[5].position - evs[4].position, <=, 6400 + 1600);
    ASSERT_EQ(wac_capture_get_state(cap), WAC_STATE_RUNNING);
    ASSERT_OK(wac_context_close(ctx));
}

static void unread_events_are_bounded_and_counted(void)
{
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    c.target.kind = WAC_TARGET_NAME;
    c.target.name = "player";
    wac_capture *cap = open_started(ctx, &c);
    struct follow f = {.last = -1};
    /* Each instant exit-and-return posts 4 events; nobody pulls them while
     * the audio is read past them. */
    enum { EXITS = 80 };
    for (int i = 0; i < EXITS; i++) {
        ASSERT_OK(wac_dummy_inject(cap, WAC_DUMMY_TARGET_EXIT, 0));
        sleep_ms(12);
        if (i % 8 == 7)
            ASSERT_OK(follow(cap, &f, 1));
    }
    ASSERT_OK(follow(cap, &f, 3));
    uint64_t posted = 3 + 4 * EXITS; /* STARTED, ATTACHED, ADDED first */
    wac_event ev;
    uint64_t pulled = 0, last_position = 0;
    while (wac_capture_next_event(cap, &ev, sizeof ev) == 1) {
        ASSERT_CMP(ev.position, >=, last_position);
        last_position = ev.position;
        pulled++;
    }
    wac_capture_stats st;
    ASSERT_OK(wac_capture_get_stats(cap, &st, sizeof st));
    printf("# posted %llu, pulled %llu, dropped %llu\n", (unsigned long long)posted, (unsigned long long)pulled,
           (unsigned long long)st.events_dropped);
    ASSERT_CMP(pulled, <=, 256);
    ASSERT_CMP(st.events_dropped, >, 0);
    ASSERT_EQ(pulled + st.events_dropped, posted); /* every event accounted for */
    ASSERT_EQ(f.missing, 0);
    ASSERT_OK(wac_context_close(ctx));
}

int main(void)
{
    RUN(stall_is_filled_with_silence);
    RUN(skip_with_fill_inserts_silence);
    RUN(skip_without_fill_is_a_discontinuity);
    RUN(engine_loss_is_an_exact_discontinuity);
    RUN(burst_arrives_whole);
    RUN(overrun_counted_exactly);
    RUN(stalled_consumer_gets_exact_overrun_then_clean_audio);
    RUN(frames_silence_counts_exactly_what_wac_filled);
    RUN(stamps_no_clock_gives_are_dated_by_arrival);
    RUN(server_lost_ends_stream_cleanly);
    RUN(pid_target_exit_ends_stream);
    RUN(name_target_restart_keeps_timeline);
    RUN(unread_events_are_bounded_and_counted);
    return tap_done();
}
