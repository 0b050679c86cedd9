/* capture.c (PulseAudio) — one capture on PulseAudio: a record stream per target
 * sink-input, attached to it with pa_stream_set_monitor_stream() (the server
 * then records that sink-input alone, through its sink's monitor source),
 * and the mix of those streams into the capture's one stream (src/attach/mix.c:
 * the sum, sample-aligned).
 *
 * Format. Every record stream asks the server's resampler for float samples
 * at the capture's rate, with the capture's channels, or two for a mono
 * capture: WAC's downmix rule is the average of the channels, while the
 * server's remixer (PulseAudio's, or PipeWire's -3 dB law under
 * pipewire-pulse) would not agree. The mix sums in float; the average to
 * mono and the conversion to s16 (saturating) happen when frames leave the
 * mix. What the server set up is checked when each stream is ready
 * (pa_stream_get_sample_spec); a difference ends the capture with
 * WAC_ERR_FORMAT_UNSUPPORTED and both formats in the detail.
 *
 * Latency. A record stream's default fragment is the source's whole latency:
 * 2 s on a null sink, so audio would arrive in 2-second lumps. Each stream
 * asks for fragsize = latency_ms (default 25 ms, see DEFAULT_FRAGMENT_MS)
 * with ADJUST_LATENCY, which also makes the sink render in blocks that
 * small. Timing updates are automatic and interpolated: the time of each
 * block of frames is "now - pa_stream_get_latency()", bounded by its arrival
 * (see feed()), which places a stream in the mix.
 *
 * More streams than the mix takes. The mix has WAC__MIX_MAX_LANES (32)
 * lanes. A further stream of the target is not captured: the capture goes on
 * with the others and posts WAC_EVENT_STREAM_SKIPPED (error WAC_ERR_BUSY,
 * the limit in the detail) once for it; it is attached, with STREAM_ADDED,
 * as soon as a lane is free again (another stream ended and drained).
 *
 * Continuity. The context's timer releases what the mix held for a stream
 * that stalled (it wakes when one would, not at a fixed rate) and, once no
 * stream is live, lets the core fill silence (wac__stream_tick) at the
 * stream rate, waking a period and 10 ms apart.
 *
 * Devices. A DEVICE target is one record stream on the source (an input, or
 * "SINK.monitor"), with DONT_MOVE: when a named source goes, its stream is
 * killed and the capture ends. The default source is the server's, read
 * again at every pass: when the user picks another, the old stream goes and a
 * stream on the new one takes a lane of the mix.
 *
 * Threads: everything runs on the loop thread or under its lock. on_read()
 * and the mix's emit callback feed the ring: no allocation, lock or log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach/arrival-clock.h"
#include "attach/attach.h"
#include "alloc.h"
#include "attach/convert.h"
#include "attach/mix.h"
#include "attach/target-match.h"
#include "backend/pulse/mirror.h"
#include "backend/test-hooks.h"
#include "os/os.h"

/* The fragment without latency_ms. 50 or 100 ms would keep a PipeWire
 * graph's quantum of 2048 behind pipewire-pulse, where 25 ms halves it, and
 * at 100 ms the servers' cost per source is parec's; but audio then comes
 * in lumps that long, and captures of one context were misaligned by a
 * quantum in 3 runs of 24 at 50 ms, and by up to 4.9 ms at 100 ms (2.12 ms
 * at most at 25 ms). Latency and alignment win; latency_ms asks for the
 * other trade (FINDINGS sections 11 and 13).
 * Monitor streams come in bursts on a loaded machine (up to 341 ms apart at
 * 50 ms): the mix learns each stream's gaps (STALL_MAX_MS). FINDINGS
 * section 7. */
#define DEFAULT_FRAGMENT_MS 25
/* The longest a bursty stream is waited for before it counts as stopped. */
#define STALL_MAX_MS 750
#define MAX_ATTEMPTS 3
#define CHECK_INTERVAL_NS 500000000LL
/* Behind pipewire-pulse 0.3.65 a sink-input's monitor stream connected on a
 * connection right after another closed on it was often fed zeros for its
 * whole life (11 of 19 immediate reopens; none of 12 with 0.1-1 s between):
 * such a stream waits until this long after the last close. */
#define REOPEN_GAP_NS 200000000LL

/* A target sink-input attached to a capture: the block of its attach entry
 * (whose key is the sink-input index, the events' stream_id): its monitor
 * record stream and its lane in the capture's mix. */
struct wac__pulse_entry {
    struct wac__pulse_capture *pc;
    struct wac__attach_entry *ae; /* the entry this block belongs to */
    int lane;          /* -1: no lane was free (more streams than the mix takes) */
    pa_stream *stream;
    bool dead;         /* the stream failed or was killed (the input moved or ended) */
    uint32_t attempts; /* streams created without one becoming ready */
    bool device;       /* a source (DEVICE target), not a sink-input */
    int64_t open_at_ns; /* nonzero: its stream opens then (REOPEN_GAP_NS) */
    char source[WAC__PULSE_NAME_SIZE]; /* the source's name */
    struct wac__arrival_clock arrivals; /* behind pipewire-pulse: its frames' times (see feed()) */
};

struct wac__pulse_capture {
    struct wac__pulse_mirror *b;
    struct wac__pulse_listener listener; /* on the mirror */
    wac_capture *cap;
    struct wac__target_match match; /* which pids the target covers */
    struct wac__attach attach;      /* the sink-inputs attached, their events, a deferred failure */

    wac_format format;     /* delivered */
    pa_sample_spec spec;   /* asked of the server: float, format.rate, pa channels */
    uint32_t stride;       /* bytes per frame from the server */
    uint32_t fragment_ms;  /* the record streams' fragsize */
    bool test_ask_s16;     /* test hook: ask the server for s16 (see capture_open) */
    struct wac__mix mix;
    uint8_t *converted;    /* one mix emit in the delivered format */
    int64_t next_check_ns; /* next target check */

    bool running; /* between start and stop */
    bool device_ended; /* a named source went: end at the next deferred work */
    int64_t pipewire_cycle_ns; /* behind pipewire-pulse: the graph cycle our fragment gives */
    uint64_t filled_counted, late_counted; /* the mix's counters, as far as in the stats */
};

/* ---- the data path (real-time rules) ---- */

static void on_mix_emit(void *user, const float *frames, uint32_t n, int64_t time_ns)
{
    struct wac__pulse_capture *pc = user;
    wac__convert_frames(frames, pc->spec.channels, n, pc->converted, pc->format.channels, pc->format.sample);
    wac__stream_push(pc->cap, pc->converted, n, time_ns);
    /* What the mix made up or dropped so far is in the stats once its frames leave. */
    wac__stream_count_mixed(pc->cap, pc->mix.frames_filled - pc->filled_counted, pc->mix.frames_late - pc->late_counted);
    pc->filled_counted = pc->mix.frames_filled;
    pc->late_counted = pc->mix.frames_late;
}

/* The time of the first of `bytes` just peeked, `held` bytes being in hand
 * (these included). The PulseAudio daemon's record latency is exact to about
 * a render block: the first frame not yet dropped is that old. Behind
 * pipewire-pulse the latency it reports was off by 20-85 ms either way for
 * seconds at a time (captures of one context misaligned by 33-38 ms in 2 runs
 * of 8): there the frames are dated by their arrivals (arrival-clock.h),
 * which its streams share. */
static int64_t date_frames(struct wac__pulse_capture *pc, struct wac__pulse_entry *e, pa_stream *s, size_t bytes,
                           size_t held, int64_t now)
{
    uint32_t frames = (uint32_t)(bytes / pc->stride);
    if (pc->b->on_pipewire)
        return wac__arrival_clock_date(&e->arrivals, frames, held / pc->stride, now);
    pa_usec_t latency;
    int negative = 0;
    int64_t arrived_ns = now - (int64_t)pa_bytes_to_usec(bytes, &pc->spec) * 1000;
    if (pa_stream_get_latency(s, &latency, &negative) != 0)
        return arrived_ns; /* no timing info yet: assume the frames just arrived */
    int64_t first_ns = now - (negative ? -1 : 1) * (int64_t)latency * 1000;
    return first_ns > arrived_ns ? arrived_ns : first_ns; /* no frame was recorded after it arrived */
}

static void feed(struct wac__pulse_capture *pc, struct wac__pulse_entry *e, pa_stream *s, const void *data, size_t bytes,
                 size_t held)
{
    int64_t now = wac__now_ns();
    int64_t first_ns = date_frames(pc, e, s, bytes, held, now);
    /* Behind pipewire-pulse a sink-input's monitor taps the stream before its
     * sink, which plays it one graph cycle later: date it when heard, as the
     * PipeWire backend does (measured against the sink's monitor: 22.6 ms
     * early at the 1024-frame cycle otherwise). The cycle is not visible
     * through the protocol; PipeWire takes the lowest latency asked, as a
     * power of two of frames at 48 kHz, and ours (the fragment) is the
     * lowest unless a client asks for less. */
    if (!e->device && pc->b->on_pipewire)
        first_ns += pc->pipewire_cycle_ns;
    /* Record data comes in whole frames; a torn one would be dropped here. */
    uint32_t frames = (uint32_t)(bytes / pc->stride);
    wac__mix_write(&pc->mix, e->lane, data, frames, first_ns, now);
}

static void on_read(pa_stream *s, size_t nbytes, void *userdata)
{
    struct wac__pulse_entry *e = userdata;
    for (;;) {
        const void *data;
        size_t bytes, held = pa_stream_readable_size(s);
        if (pa_stream_peek(s, &data, &bytes) < 0 || bytes == 0)
            return;
        /* data NULL: a hole in the stream, which counts as silence. */
        if (e->pc->running)
            feed(e->pc, e, s, data, bytes, held == (size_t)-1 ? bytes : held);
        pa_stream_drop(s);
    }
}

/* ---- record streams ---- */

static uint32_t input_of(const struct wac__pulse_entry *e)
{
    return (uint32_t)e->ae->key;
}

static void announce(struct wac__pulse_capture *pc, struct wac__pulse_entry *e)
{
    if (e->ae->live)
        return;
    char why[WAC__PULSE_NAME_SIZE + 48];
    if (e->device) {
        snprintf(why, sizeof why, "source %s", e->source);
        wac__attach_live(&pc->attach, e->ae, why);
        return;
    }
    const struct wac__pulse_input *in = wac__pulse_mirror_find_input(pc->b, input_of(e));
    snprintf(why, sizeof why, "%s: sink-input %u", in && in->app_name[0] ? in->app_name : "?", input_of(e));
    wac__attach_live(&pc->attach, e->ae, why);
}

static void fail(struct wac__pulse_capture *pc, int error, const char *detail)
{
    if (wac__attach_fail_later(&pc->attach, error, "%s", detail))
        wac__pulse_mirror_schedule(pc->b);
}

static void on_stream_state(pa_stream *s, void *userdata)
{
    struct wac__pulse_entry *e = userdata;
    struct wac__pulse_capture *pc = e->pc;
    struct wac__pulse_mirror *b = pc->b;
    switch (pa_stream_get_state(s)) {
    case PA_STREAM_READY: {
        e->attempts = 0;
        const pa_sample_spec *got = pa_stream_get_sample_spec(s);
        if (!got || !pa_sample_spec_equal(got, &pc->spec)) {
            char want[PA_SAMPLE_SPEC_SNPRINT_MAX], have[PA_SAMPLE_SPEC_SNPRINT_MAX], why[160];
            pa_sample_spec_snprint(want, sizeof want, &pc->spec);
            if (got)
                pa_sample_spec_snprint(have, sizeof have, got);
            else
                snprintf(have, sizeof have, "nothing");
            snprintf(why, sizeof why, "PulseAudio set up %s instead of %s", have, want);
            fail(pc, WAC_ERR_FORMAT_UNSUPPORTED, why);
            return;
        }
        /* A volume the server restores for "wac" streams would scale ours. */
        pa_cvolume unity;
        pa_cvolume_reset(&unity, got->channels);
        pa_operation *o = pa_context_set_source_output_volume(b->pa, pa_stream_get_index(s), &unity, NULL, NULL);
        if (o)
            pa_operation_unref(o);
        o = pa_context_set_source_output_mute(b->pa, pa_stream_get_index(s), 0, NULL, NULL);
        if (o)
            pa_operation_unref(o);
        if (pc->running)
            announce(pc, e);
        break;
    }
    case PA_STREAM_FAILED:
    case PA_STREAM_TERMINATED:
        /* Killed: the sink-input ended or moved to another sink. The
         * deferred work recreates it while the sink-input exists. */
        e->dead = true;
        wac__pulse_mirror_schedule(b);
        break;
    default: break;
    }
}

static void close_stream(struct wac__pulse_entry *e)
{
    e->open_at_ns = 0;
    if (!e->stream)
        return;
    pa_stream_set_state_callback(e->stream, NULL, NULL);
    pa_stream_set_read_callback(e->stream, NULL, NULL);
    if (PA_STREAM_IS_GOOD(pa_stream_get_state(e->stream))) {
        pa_stream_disconnect(e->stream);
        if (!e->device)
            e->pc->b->monitor_closed_ns = wac__now_ns();
    }
    pa_stream_unref(e->stream);
    e->stream = NULL;
}

static void open_stream(struct wac__pulse_capture *pc, struct wac__pulse_entry *e)
{
    struct wac__pulse_mirror *b = pc->b;
    int64_t ready_ns = b->monitor_closed_ns + REOPEN_GAP_NS;
    if (!e->device && b->on_pipewire && b->monitor_closed_ns && wac__now_ns() < ready_ns) {
        e->open_at_ns = ready_ns; /* on_tick opens it */
        e->dead = false;
        wac__pulse_mirror_tick_soon(b);
        return;
    }
    e->open_at_ns = 0;
    e->attempts++;
    e->dead = true; /* until it is connecting */
    wac__arrival_clock_init(&e->arrivals, pc->spec.rate);
    pa_proplist *props = pa_proplist_new();
    if (props)
        pa_proplist_sets(props, PA_PROP_MEDIA_NAME, "WAC capture");
    pa_channel_map map;
    pa_channel_map_init_extend(&map, pc->spec.channels, PA_CHANNEL_MAP_DEFAULT);
    pa_sample_spec ask = pc->spec;
    if (pc->test_ask_s16)
        ask.format = PA_SAMPLE_S16NE; /* the server then sets up what the capture did not expect */
    pa_stream *s = pa_stream_new_with_proplist(b->pa, "WAC capture", &ask, &map, props);
    if (props)
        pa_proplist_free(props);
    if (!s)
        return;
    pa_stream_set_state_callback(s, on_stream_state, e);
    pa_stream_set_read_callback(s, on_read, e);
    pa_buffer_attr attr;
    memset(&attr, 0xff, sizeof attr); /* (uint32_t)-1: the server's choice */
    attr.fragsize = (uint32_t)pa_usec_to_bytes((pa_usec_t)pc->fragment_ms * PA_USEC_PER_MSEC, &pc->spec);
    /* Timing updates are a request to the server every 100 ms per stream;
     * behind pipewire-pulse streams are dated by their arrivals, not by them. */
    pa_stream_flags_t flags = PA_STREAM_ADJUST_LATENCY | PA_STREAM_DONT_MOVE;
    if (!pc->b->on_pipewire)
        flags |= PA_STREAM_AUTO_TIMING_UPDATE | PA_STREAM_INTERPOLATE_TIMING;
    int r = e->device ? pa_stream_connect_record(s, e->source, &attr, flags)
                      : pa_stream_set_monitor_stream(s, input_of(e)) < 0 ? -1
                                                                        : pa_stream_connect_record(s, NULL, &attr, flags);
    if (r < 0) {
        pa_stream_set_state_callback(s, NULL, NULL);
        pa_stream_set_read_callback(s, NULL, NULL);
        pa_stream_unref(s);
        return;
    }
    e->stream = s;
    e->dead = false;
}

/* The attach layer lets an entry go (gone, stop, end): its stream closes. */
static void release_entry(void *user, struct wac__attach_entry *ae)
{
    struct wac__pulse_capture *pc = user;
    struct wac__pulse_entry *e = ae->data;
    close_stream(e);
    /* What it delivered is still mixed; the lane drains, then goes. */
    if (e->lane >= 0) {
        wac__mix_lane_remove(&pc->mix, e->lane);
        wac__pulse_mirror_tick_soon(pc->b); /* what it held back goes now, not at the next check */
    }
}

static void on_input_removed(void *data, uint32_t input)
{
    struct wac__pulse_capture *pc = data;
    wac__attach_gone(&pc->attach, input);
}

/* Give an entry a lane of the mix and its record stream. False when no lane
 * is free: it is skipped (reported once) and tried again on later passes. */
static bool attach_lane(struct wac__pulse_capture *pc, struct wac__pulse_entry *e)
{
    int lane = wac__mix_lane_add(&pc->mix, wac__now_ns());
    if (lane == WAC_ERR_BUSY && !e->ae->skip_posted) {
        const struct wac__pulse_input *in = wac__pulse_mirror_find_input(pc->b, input_of(e));
        char why[WAC__PULSE_NAME_SIZE + 96];
        snprintf(why, sizeof why, "%s: sink-input %u not captured: the capture mixes at most %d streams",
                 in && in->app_name[0] ? in->app_name : "?", input_of(e), WAC__MIX_MAX_LANES);
        wac__attach_skipped(&pc->attach, e->ae, WAC_ERR_BUSY, why);
    }
    if (lane == WAC_ERR_NO_MEMORY && !e->ae->skip_posted)
        wac__attach_skipped(&pc->attach, e->ae, WAC_ERR_NO_MEMORY,
                            "no memory for this stream's mix lane; tried again at the server's next change");
    if (lane < 0)
        return false; /* no lane free, or no memory: the next pass tries again */
    e->lane = lane;
    open_stream(pc, e);
    wac__pulse_mirror_tick_soon(pc->b); /* the timer may sleep past the new lane's stall */
    return true;
}

static void on_source_removed(void *data, uint32_t index)
{
    struct wac__pulse_capture *pc = data;
    if (!wac__attach_find(&pc->attach, index))
        return;
    if (wac__attach_device_gone(&pc->attach, index, NULL))
        pc->device_ended = true;
    wac__pulse_mirror_schedule(pc->b);
}

/* A DEVICE target: the source it names now (the default may have moved):
 * entries of any other source go, the named one is attached. */
static void offer_source(struct wac__pulse_capture *pc)
{
    const struct wac__pulse_source *src = wac__pulse_mirror_find_source(pc->b, wac__capture_config(pc->cap)->target.name);
    uint64_t stale[4];
    size_t n_stale = 0, i = 0;
    for (struct wac__attach_entry *ae; (ae = wac__attach_next(&pc->attach, &i));)
        if ((!src || ae->key != src->index) && n_stale < 4)
            stale[n_stale++] = ae->key;
    for (size_t k = 0; k < n_stale; k++)
        wac__attach_gone(&pc->attach, stale[k]);
    if (!src || wac__attach_known(&pc->attach, src->index))
        return;
    struct wac__attach_entry *ae = wac__attach_add(&pc->attach, src->index, 0);
    if (!ae)
        return;
    struct wac__pulse_entry *e = ae->data;
    e->pc = pc;
    e->ae = ae;
    e->lane = -1;
    e->device = true;
    snprintf(e->source, sizeof e->source, "%s", src->name);
    attach_lane(pc, e);
}

static void reconcile(struct wac__pulse_capture *pc)
{
    struct wac__pulse_mirror *b = pc->b;
    if (!pc->running || b->lost)
        return;
    wac__attach_engine_missed(&pc->attach, b->missed);
    if (wac__capture_config(pc->cap)->target.kind == WAC_TARGET_DEVICE) {
        offer_source(pc);
        size_t i = 0;
        for (struct wac__attach_entry *ae; (ae = wac__attach_next(&pc->attach, &i));) {
            struct wac__pulse_entry *e = ae->data;
            if (e->lane < 0)
                attach_lane(pc, e);
            else if (e->dead && e->attempts < MAX_ATTEMPTS) {
                close_stream(e);
                open_stream(pc, e);
            }
        }
        return;
    }
    /* New sink-inputs, newest first (the order b->inputs has): when more
     * come than the mix takes, the oldest are the ones skipped. */
    for (struct wac__pulse_input *in = b->inputs; in; in = in->next) {
        uint32_t pid;
        if (wac__attach_known(&pc->attach, in->index) || !wac__pulse_mirror_input_owner(b, in, &pid))
            continue;
        if (!wac__target_match_wants(&pc->match, pid)) {
            wac__attach_reject(&pc->attach, in->index);
            continue;
        }
        struct wac__attach_entry *ae = wac__attach_add(&pc->attach, in->index, pid);
        if (!ae)
            continue;
        struct wac__pulse_entry *e = ae->data;
        e->pc = pc;
        e->ae = ae;
        e->lane = -1;
        attach_lane(pc, e);
    }
    size_t i = 0;
    for (struct wac__attach_entry *ae; (ae = wac__attach_next(&pc->attach, &i));) {
        struct wac__pulse_entry *e = ae->data;
        if (e->lane < 0) {
            attach_lane(pc, e); /* a lane may have been freed since */
            continue;
        }
        if (!e->dead || e->attempts >= MAX_ATTEMPTS || !wac__pulse_mirror_find_input(b, input_of(e)))
            continue;
        /* Same lane: the new stream is placed by time after its stall. */
        close_stream(e);
        open_stream(pc, e);
    }
}

/* ---- timers, the end ---- */

static void stop_locked(struct wac__pulse_capture *pc)
{
    pc->running = false;
    wac__attach_stop(&pc->attach);
}

/* The stream ends by itself (server lost, failure, target gone). */
static void end_capture(struct wac__pulse_capture *pc, int error, const char *detail)
{
    /* Everything captured before the end is delivered before it. */
    wac__mix_pull(&pc->mix, wac__now_ns(), true);
    stop_locked(pc);
    wac__stream_end(pc->cap, error, detail);
}

/* ---- what the mirror tells a capture (loop thread) ---- */

/* A failure a stream callback recorded ends the capture here. */
static void handle_failure(struct wac__pulse_capture *pc)
{
    int error;
    char detail[160];
    if (pc->running && wac__attach_take_failure(&pc->attach, &error, detail, sizeof detail))
        end_capture(pc, error, detail);
}

static void on_lost(void *data)
{
    struct wac__pulse_capture *pc = data;
    if (!pc->running)
        return;
    if (!atomic_load(&pc->b->reconnect)) {
        end_capture(pc, WAC_ERR_SERVER_LOST, pc->b->lost_detail);
        return;
    }
    /* Reconnecting: what the streams delivered goes out before the mark,
     * the streams go with the connection, and silence runs on (on_tick)
     * until on_restored. */
    wac__mix_pull(&pc->mix, wac__now_ns(), true);
    wac__stream_post(pc->cap, WAC_EVENT_SERVER_LOST, 0, 0, WAC_ERR_SERVER_LOST, pc->b->lost_detail);
    wac__attach_all_gone(&pc->attach);
    wac__pulse_mirror_tick_soon(pc->b);
}

static void on_restored(void *data)
{
    struct wac__pulse_capture *pc = data;
    if (pc->running)
        wac__stream_post(pc->cap, WAC_EVENT_SERVER_RESTORED, 0, 0, 0, "the PulseAudio server is back");
}

static void end_if_device_gone(struct wac__pulse_capture *pc)
{
    if (!pc->device_ended || !pc->running)
        return;
    pc->device_ended = false;
    char why[WAC__PULSE_NAME_SIZE + 32];
    snprintf(why, sizeof why, "device %s was removed", wac__capture_config(pc->cap)->target.name);
    end_capture(pc, WAC_ERR_TARGET_EXITED, why);
}

static void on_changed(void *data)
{
    struct wac__pulse_capture *pc = data;
    handle_failure(pc);
    end_if_device_gone(pc);
    reconcile(pc);
}

/* Release held mix frames, fill silence, check the target; returns when to
 * run next. */
static int64_t on_tick(void *data, int64_t now_ns)
{
    struct wac__pulse_capture *pc = data;
    handle_failure(pc);
    end_if_device_gone(pc);
    if (!pc->running)
        return INT64_MAX;
    int64_t open_next = INT64_MAX; /* the earliest stream still waiting to open */
    size_t i = 0;
    /* While the connection is lost they wait for it (the tick after the
     * restore opens them). */
    for (struct wac__attach_entry *ae; !pc->b->lost && (ae = wac__attach_next(&pc->attach, &i));) {
        struct wac__pulse_entry *e = ae->data;
        if (e->open_at_ns && e->open_at_ns <= now_ns)
            open_stream(pc, e);
        if (e->open_at_ns && e->open_at_ns < open_next)
            open_next = e->open_at_ns;
    }
    wac__mix_pull(&pc->mix, now_ns, false);
    wac__mix_collect(&pc->mix);
    bool pending = wac__mix_pending(&pc->mix, now_ns);
    if (!pending)
        wac__stream_tick(pc->cap, now_ns);
    if (now_ns >= pc->next_check_ns) {
        pc->next_check_ns = now_ns + CHECK_INTERVAL_NS;
        char why[160];
        if (!wac__target_match_alive(&pc->match, why, sizeof why) &&
            wac__attach_exited(&pc->attach, wac__capture_config(pc->cap)->target.pid, why)) {
            end_capture(pc, WAC_ERR_TARGET_EXITED, why); /* nothing of the target is left */
            return INT64_MAX;
        }
        wac__attach_check_names(&pc->attach, wac__proc_alive);
        reconcile(pc); /* tree members found since, and streams to recreate */
    }
    /* Silence is filled once the stream is a period and a little behind:
     * ticking more often than that would only wake up to do nothing. */
    int64_t next = pending ? wac__mix_next_change(&pc->mix, now_ns)
                           : now_ns + ((int64_t)pc->fragment_ms + 10) * 1000000;
    if (open_next < next)
        next = open_next;
    return next < pc->next_check_ns ? next : pc->next_check_ns;
}

static const struct wac__pulse_mirror_events mirror_events = {
    .lost = on_lost,
    .changed = on_changed,
    .tick = on_tick,
    .input_removed = on_input_removed,
    .source_removed = on_source_removed,
    .restored = on_restored,
};

/* ---- the backend's capture functions ---- */

static uint32_t round_up_pow2(uint32_t n)
{
    uint32_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

static int capture_open(void *data, wac_capture *cap, void **cap_data)
{
    struct wac__pulse_mirror *b = data;
    const wac_capture_config *c = wac__capture_config(cap);
    pa_threaded_mainloop_lock(b->ml);
    bool lost = b->lost;
    bool named = c->target.kind == WAC_TARGET_DEVICE && !wac__pulse_device_name_is_default(c->target.name) &&
                 strcmp(c->target.name, "default.monitor") != 0;
    bool found = named && wac__pulse_mirror_find_source(b, c->target.name) != NULL;
    pa_threaded_mainloop_unlock(b->ml);
    if (lost)
        return wac__capture_error(cap, WAC_ERR_SERVER_LOST, "%s", b->lost_detail);
    if (named && !found)
        return wac__capture_error(cap, WAC_ERR_TARGET_NOT_FOUND,
                                  "no input device or monitor named \"%s\" (wac list --devices shows them)",
                                  c->target.name);

    struct wac__pulse_capture *pc = wac__calloc(1, sizeof *pc);
    if (!pc)
        return wac__capture_error(cap, WAC_ERR_NO_MEMORY, "no memory");
    pc->b = b;
    pc->cap = cap;
    pc->format = c->format;
    pc->spec.format = PA_SAMPLE_FLOAT32NE;
    pc->spec.rate = c->format.rate;
    pc->spec.channels = (uint8_t)(c->format.channels == 1 ? 2 : c->format.channels);
    if (!pa_sample_spec_valid(&pc->spec)) {
        wac__free(pc);
        return wac__capture_error(cap, WAC_ERR_FORMAT_UNSUPPORTED, "PulseAudio cannot record %u Hz, %u channels",
                                  c->format.rate, c->format.channels);
    }
    pc->stride = (uint32_t)pa_frame_size(&pc->spec);
    /* Test hook: the server never sets up another format than asked for, so
     * the integration tests make it do so by asking for s16 while expecting
     * float; the path that checks what the server set up is then the real
     * one. */
    pc->test_ask_s16 = wac__test_hooks().pulse_format_mismatch;
    pc->fragment_ms = c->latency_ms ? (c->latency_ms < 5 ? 5 : c->latency_ms > 1000 ? 1000 : c->latency_ms)
                                    : DEFAULT_FRAGMENT_MS;
    /* The cycle is capped by the graph's largest quantum, 2048 frames unless
     * configured otherwise (default.clock.max-quantum): fragments of 86 ms
     * and more were dated a 4096-frame cycle late, 43 ms off. */
    uint32_t cycle = 1;
    while (cycle * 2 <= pc->fragment_ms * 48 && cycle < 2048)
        cycle *= 2;
    pc->pipewire_cycle_ns = (int64_t)cycle * 1000000000 / 48000;
    /* A stream is live while deliveries keep coming: pipewire-pulse was seen
     * delivering one stream in bursts of 3 to 5 fragments up to 150 ms apart
     * while another flowed steadily, so 250 ms (or 4 fragments and slack).
     * No stream holds the mix back longer than that. A stream is re-placed
     * when its clock stays off by 2 fragments and 10 ms, or 150 ms if more:
     * the PulseAudio daemon's timing jitters by about a render block (~1 ms),
     * but pipewire-pulse's latency reports for a monitor stream shift by
     * 40-75 ms for seconds at a time while the audio stays contiguous, and
     * re-placing on that put up to 62 ms of zeros into a stream. Streams on
     * two devices whose clocks drift apart are realigned at 150 ms. */
    uint32_t rate = c->format.rate, stall_ms = 4 * pc->fragment_ms + 50, resync_ms = 2 * pc->fragment_ms + 10;
    if (stall_ms < 250)
        stall_ms = 250;
    if (resync_ms < 150)
        resync_ms = 150;
    struct wac__mix_config mc = {
        .channels = pc->spec.channels,
        .rate = rate,
        .max_hold_frames = (uint32_t)((uint64_t)rate * stall_ms / 1000),
        .resync_frames = (uint32_t)((uint64_t)rate * resync_ms / 1000),
        .stall_ns = (int64_t)stall_ms * 1000000,
        .stall_max_ns = (int64_t)(stall_ms > STALL_MAX_MS ? stall_ms : STALL_MAX_MS) * 1000000,
        .emit = on_mix_emit,
        .user = pc,
    };
    /* Room for what the other lanes bring while the mix waits for a bursty one. */
    mc.lane_frames = round_up_pow2((uint32_t)((uint64_t)rate * (uint64_t)mc.stall_max_ns / 1000000000) +
                                   (uint32_t)((uint64_t)rate * 4 * pc->fragment_ms / 1000));
    struct wac__attach_config attach = {.data_size = sizeof(struct wac__pulse_entry), .release = release_entry, .user = pc};
    wac__attach_init(&pc->attach, cap, &attach);
    int rc = wac__target_match_init(&pc->match, &c->target);
    if (rc == 0)
        rc = wac__mix_init(&pc->mix, &mc);
    if (rc == 0) {
        pc->converted = wac__malloc((size_t)pc->mix.out_frames * wac__capture_frame_bytes(cap));
        if (!pc->converted)
            rc = WAC_ERR_NO_MEMORY;
    }
    if (rc) {
        wac__mix_free(&pc->mix);
        wac__target_match_free(&pc->match);
        wac__free(pc);
        return wac__capture_error(cap, rc, "no memory");
    }
    wac__capture_set_period(cap, (int64_t)pc->fragment_ms * 1000000);
    pa_threaded_mainloop_lock(b->ml);
    wac__pulse_mirror_add_listener(b, &pc->listener, &mirror_events, pc);
    pa_threaded_mainloop_unlock(b->ml);
    *cap_data = pc;
    return 0;
}

static int capture_start(void *cap_data)
{
    struct wac__pulse_capture *pc = cap_data;
    struct wac__pulse_mirror *b = pc->b;
    pa_threaded_mainloop_lock(b->ml);
    if (b->lost) {
        pa_threaded_mainloop_unlock(b->ml);
        return wac__capture_error(pc->cap, WAC_ERR_SERVER_LOST, "%s", b->lost_detail);
    }
    pc->running = true;
    wac__attach_start(&pc->attach);
    pc->next_check_ns = wac__now_ns() + CHECK_INTERVAL_NS;
    /* The target's streams as the server has them now, then the target's
     * attach event saying how many (their STREAM_ADDED follow when ready). */
    reconcile(pc);
    wac__attach_started(&pc->attach);
    wac__pulse_mirror_tick_soon(b);
    pa_threaded_mainloop_unlock(b->ml);
    return 0;
}

static void capture_stop(void *cap_data)
{
    struct wac__pulse_capture *pc = cap_data;
    pa_threaded_mainloop_lock(pc->b->ml);
    stop_locked(pc);
    pa_threaded_mainloop_unlock(pc->b->ml);
}

static void capture_close(void *cap_data)
{
    struct wac__pulse_capture *pc = cap_data;
    struct wac__pulse_mirror *b = pc->b;
    pa_threaded_mainloop_lock(b->ml);
    stop_locked(pc);
    wac__attach_free(&pc->attach);
    wac__pulse_mirror_remove_listener(b, &pc->listener);
    pa_threaded_mainloop_unlock(b->ml);
    wac__target_match_free(&pc->match);
    wac__mix_free(&pc->mix);
    wac__free(pc->converted);
    wac__free(pc);
}

const struct wac__backend wac__backend_pulse = {
    .name = "pulse",
    .automatic = true,
    .connect = wac__pulse_mirror_connect,
    .disconnect = wac__pulse_mirror_disconnect,
    .capture_open = capture_open,
    .capture_start = capture_start,
    .capture_stop = capture_stop,
    .capture_close = capture_close,
    .list_sessions = wac__pulse_mirror_list_sessions,
    .list_devices = wac__pulse_mirror_list_devices,
    .set_reconnect = wac__pulse_mirror_set_reconnect,
    .get_volume = wac__pulse_get_volume,
    .set_volume = wac__pulse_set_volume,
    .inject = NULL,
};
