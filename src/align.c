/* align.c — several captures read as one timeline (wac_aligned_*, wac.h).
 *
 * Each capture is a lane. Before the first block every lane reads what it
 * has, which dates its first frame (the chunk's time stamp); the earliest of
 * those is the common start, and every other lane owes silence for the time
 * between (rounded to a frame: the offsets are exact to half a frame plus
 * the time stamps' own error). A lane is dated by the earliest of what its
 * reads say over its first DATING_MS of audio (or less when its buffer is
 * half full, or it ended). A stamp is the capture's latest clock applied to
 * that read's position, and a clock settles only in the first tenths of a
 * second: a server's backlog at a stream's start comes in faster than real
 * time (behind pipewire-pulse it drained 3.7 ms per graph cycle, the first
 * reads being dated up to 55 ms late, never early: its streams are dated by
 * when their frames arrive), and the PulseAudio daemon's stamps follow its
 * latency reports in a sawtooth of 4 ms every third of a second. The
 * earliest date is the settled clock in the one case and the sawtooth's foot,
 * which is alike for every stream of the daemon, in the other; the latest
 * read alone was 7 ms off on the daemon, the first five reads' median up to
 * 55 ms behind pipewire-pulse. From then on a lane's output is that silence,
 * then its frames one for one. A block is handed out once every lane holds it;
 * until then what a lane read stays in its buffer, so a timeout loses
 * nothing. Only the public read calls are used: a lane is an ordinary
 * consumer of its capture. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "timebase.h"

#define DATING_MS 500
/* For this long from the start a lane whose reads date it earlier by more
 * than REFINE_NS is moved earlier by as much (see wac.h). */
#define REFINE_MS 5000
#define REFINE_NS 1000000

struct lane {
    wac_capture *cap;
    uint32_t frame_bytes, chunk_frames;
    uint8_t *held;        /* frames read or owed, not handed out yet */
    uint32_t held_frames; /* <= the buffer's capacity */
    uint64_t silence_owed; /* leading silence not in held yet */
    uint64_t skip_owed;    /* frames of its capture still to drop (its date was refined) */
    uint64_t base_position; /* its capture's position of the first frame it read */
    bool dated;           /* its first frame's time is known */
    int64_t first_ns;     /* that time */
    int64_t earliest_ns;  /* the earliest its reads said it was */
    uint32_t n_dates;     /* reads that said it */
    bool ended;           /* its stream ended and is drained */
    bool last_posted;     /* WAC_CHUNK_LAST was handed out */
    uint32_t flags;       /* for the block being gathered */
};

struct wac_aligned {
    size_t count;
    uint32_t max_frames, rate;
    uint32_t capacity; /* of each lane's buffer: max_frames, the audio read to date it, owed silence */
    bool started; /* the common start is fixed */
    int64_t start_ns;
    uint64_t position;
    struct lane lanes[];
};

void wac_aligned_close(wac_aligned *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->count; i++)
        wac__free(a->lanes[i].held);
    wac__free(a);
}

int wac_aligned_open(wac_capture *const *captures, size_t count, uint32_t max_frames, wac_aligned **out)
{
    if (out)
        *out = NULL;
    if (!captures || !out || count == 0 || count > WAC_ALIGNED_MAX_CAPTURES || max_frames == 0)
        return WAC_ERR_INVALID_ARGUMENT;
    wac_aligned *a = wac__calloc(1, sizeof *a + count * sizeof a->lanes[0]);
    if (!a)
        return WAC_ERR_NO_MEMORY;
    a->count = count;
    a->max_frames = max_frames;
    for (size_t i = 0; i < count; i++) {
        struct lane *l = &a->lanes[i];
        wac_format format;
        if (!captures[i] || wac_capture_get_format(captures[i], &format, &l->chunk_frames) < 0 ||
            wac__capture_config(captures[i])->on_audio) {
            wac_aligned_close(a);
            return WAC_ERR_INVALID_ARGUMENT;
        }
        for (size_t k = 0; k < i; k++)
            if (a->lanes[k].cap == captures[i]) {
                wac_aligned_close(a);
                return WAC_ERR_INVALID_ARGUMENT;
            }
        if (i == 0)
            a->rate = format.rate;
        if (format.rate != a->rate) {
            wac_aligned_close(a);
            return WAC_ERR_FORMAT_UNSUPPORTED;
        }
        l->cap = captures[i];
        l->frame_bytes = format.channels * (format.sample == WAC_SAMPLE_S16 ? 2u : 4u);
        /* Room to date it (DATING_MS in half of it) and a second of silence owed. */
        a->capacity = max_frames + 2 * (DATING_MS * format.rate / 1000) + format.rate;
        l->held = wac__malloc((size_t)a->capacity * l->frame_bytes);
        if (!l->held) {
            wac_aligned_close(a);
            return WAC_ERR_NO_MEMORY;
        }
    }
    *out = a;
    return 0;
}

/* Move owed silence into held, up to `want` frames held. */
static void pay_silence(struct lane *l, uint32_t want)
{
    if (!l->silence_owed || l->held_frames >= want)
        return;
    uint32_t n = want - l->held_frames;
    if (n > l->silence_owed)
        n = (uint32_t)l->silence_owed;
    memset(l->held + (size_t)l->held_frames * l->frame_bytes, 0, (size_t)n * l->frame_bytes);
    l->held_frames += n;
    l->silence_owed -= n;
}

/* Date the lane once it read DATING_MS (or can read no more before the start). */
static void date_lane(struct lane *l, bool enough_room, uint32_t rate)
{
    if (l->dated || l->n_dates == 0)
        return;
    if ((uint64_t)l->held_frames * 1000 < (uint64_t)rate * DATING_MS && enough_room && !l->ended)
        return;
    l->first_ns = l->earliest_ns;
    l->dated = true;
}

/* Drop the lane's next `frames` frames of output: held first, then owed
 * silence, then what its capture delivers next. */
static void drop_front(struct lane *l, uint64_t frames)
{
    uint32_t h = frames < l->held_frames ? (uint32_t)frames : l->held_frames;
    memmove(l->held, l->held + (size_t)h * l->frame_bytes, (size_t)(l->held_frames - h) * l->frame_bytes);
    l->held_frames -= h;
    frames -= h;
    uint64_t s = frames < l->silence_owed ? frames : l->silence_owed;
    l->silence_owed -= s;
    l->skip_owed += frames - s;
}

/* A read dated the lane's first frame at date_ns: before the start the
 * earliest date is kept; while refining, a date earlier than the lane's by
 * more than REFINE_NS moves the lane's audio earlier by as much. */
static void note_date(struct lane *l, int64_t date_ns, bool refine, uint32_t rate)
{
    if (!l->dated) {
        l->earliest_ns = l->n_dates++ == 0 || date_ns < l->earliest_ns ? date_ns : l->earliest_ns;
        return;
    }
    if (!refine || date_ns >= l->first_ns - REFINE_NS)
        return;
    int64_t frames = wac__ns_to_frames(l->first_ns - date_ns, rate);
    l->first_ns -= wac__frames_to_ns(frames, rate);
    drop_front(l, (uint64_t)frames);
    l->flags |= WAC_CHUNK_DISCONTINUOUS;
}

/* Read into held: with wait_ms < 0 forever, 0 what is there now, else up to
 * wait_ms for exactly the frames missing. 0, or a read error other than
 * timeout; ENDED marks the lane. */
static int fill(struct lane *l, uint32_t want, int wait_ms, uint32_t rate, bool refine)
{
    pay_silence(l, want);
    if (l->ended || l->held_frames >= want || l->silence_owed)
        return 0;
    uint32_t missing = want - l->held_frames;
    if (wait_ms == 0) {
        /* Nothing there: a read of one frame still tells an ended stream. */
        uint32_t available = wac_capture_available(l->cap);
        missing = available == 0 ? 1 : available < missing ? available : missing;
    }
    wac_chunk_info info;
    int n = wac_capture_read(l->cap, l->held + (size_t)l->held_frames * l->frame_bytes, missing, wait_ms, &info);
    if (n == WAC_ERR_TIMEOUT)
        return 0;
    if (n == WAC_ERR_ENDED) {
        l->ended = true;
        return 0;
    }
    if (n < 0)
        return n;
    if (l->n_dates == 0)
        l->base_position = info.position - l->held_frames;
    l->held_frames += (uint32_t)n;
    if (l->skip_owed) {
        uint64_t skip = l->skip_owed;
        l->skip_owed = 0;
        drop_front(l, skip);
    }
    /* The time of the first frame it read, by this read's stamp. */
    note_date(l, info.time_ns - wac__frames_to_ns((int64_t)(info.position - l->base_position), rate), refine, rate);
    l->flags |= info.flags & WAC_CHUNK_DISCONTINUOUS;
    if (info.flags & WAC_CHUNK_LAST)
        l->ended = true;
    return 0;
}

/* Fix the common start once every lane is dated or ended. */
static void try_start(wac_aligned *a)
{
    int64_t start = INT64_MAX;
    for (size_t i = 0; i < a->count; i++) {
        const struct lane *l = &a->lanes[i];
        if (!l->dated && !l->ended)
            return;
        if (l->dated && l->first_ns < start)
            start = l->first_ns;
    }
    a->started = true;
    a->start_ns = start == INT64_MAX ? wac__now_ns() : start;
    for (size_t i = 0; i < a->count; i++) {
        struct lane *l = &a->lanes[i];
        if (!l->dated)
            continue;
        uint64_t owed = (uint64_t)wac__ns_to_frames(l->first_ns - a->start_ns, a->rate);
        if (!owed)
            continue;
        /* The owed silence goes before what the lane holds already (what
         * it read to date it). */
        uint32_t now_held = l->held_frames;
        if (owed + now_held <= a->capacity) {
            memmove(l->held + (size_t)owed * l->frame_bytes, l->held, (size_t)now_held * l->frame_bytes);
            memset(l->held, 0, (size_t)owed * l->frame_bytes);
            l->held_frames += (uint32_t)owed;
        } else {
            /* A start later than the buffer holds after the others: its first chunk
             * is dropped to keep time (said by the flag), the rest follows
             * the silence. */
            l->held_frames = 0;
            l->silence_owed = owed + now_held;
            l->flags |= WAC_CHUNK_DISCONTINUOUS;
        }
    }
}

static int64_t ms_left(int64_t deadline_ns)
{
    int64_t left = (deadline_ns - wac__now_ns()) / 1000000;
    return left < 0 ? 0 : left;
}

int wac_aligned_read(wac_aligned *a, void *const *buffers, uint32_t frames, int timeout_ms, wac_aligned_info *info,
                     uint32_t *flags)
{
    if (!a || !buffers || frames == 0 || frames > a->max_frames)
        return WAC_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < a->count; i++)
        if (!buffers[i])
            return WAC_ERR_INVALID_ARGUMENT;
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : wac__now_ns() + (int64_t)timeout_ms * 1000000;
    bool refining = a->started && a->position * 1000 < (uint64_t)a->rate * REFINE_MS;
    for (;;) {
        /* What every lane has now, without waiting. */
        for (size_t i = 0; i < a->count; i++) {
            struct lane *l = &a->lanes[i];
            /* Before the start a lane reads one chunk, to date it. */
            uint32_t want = a->started ? frames : l->dated ? l->held_frames : l->held_frames + l->chunk_frames;
            int rc = fill(l, want < a->capacity ? want : a->capacity, 0, a->rate, refining);
            if (rc < 0)
                return rc;
        }
        if (!a->started) {
            for (size_t i = 0; i < a->count; i++) {
                struct lane *l = &a->lanes[i];
                date_lane(l, l->held_frames + l->chunk_frames <= a->capacity / 2, a->rate);
            }
            try_start(a);
        }
        bool complete = a->started, all_ended = true;
        for (size_t i = 0; i < a->count; i++) {
            const struct lane *l = &a->lanes[i];
            complete &= l->ended || l->held_frames >= frames;
            all_ended &= l->ended && l->held_frames == 0 && !l->silence_owed;
        }
        if (all_ended && a->started)
            return WAC_ERR_ENDED;
        if (complete)
            break;
        if (timeout_ms == 0 || (timeout_ms > 0 && ms_left(deadline) == 0))
            return WAC_ERR_TIMEOUT;
        /* Wait on the first lane that lacks frames (they advance together). */
        for (size_t i = 0; i < a->count; i++) {
            struct lane *l = &a->lanes[i];
            if (l->ended || (a->started && l->held_frames >= frames) || (!a->started && l->dated))
                continue;
            int wait = timeout_ms < 0 ? 1000 : (int)(ms_left(deadline) < 1000 ? ms_left(deadline) : 1000);
            /* Before the start: one more chunk, to date the lane. */
            uint32_t want = a->started ? frames : l->held_frames + l->chunk_frames;
            if (want > a->capacity)
                want = a->capacity;
            int rc = fill(l, want, wait ? wait : 1, a->rate, refining);
            if (rc < 0)
                return rc;
            break;
        }
    }
    for (size_t i = 0; i < a->count; i++) {
        struct lane *l = &a->lanes[i];
        uint32_t have = l->held_frames < frames ? l->held_frames : frames;
        memcpy(buffers[i], l->held, (size_t)have * l->frame_bytes);
        memset((uint8_t *)buffers[i] + (size_t)have * l->frame_bytes, 0, (size_t)(frames - have) * l->frame_bytes);
        memmove(l->held, l->held + (size_t)have * l->frame_bytes, (size_t)(l->held_frames - have) * l->frame_bytes);
        l->held_frames -= have;
        uint32_t f = l->flags;
        l->flags = 0;
        if (l->ended && !l->last_posted && l->held_frames == 0) {
            f |= WAC_CHUNK_LAST;
            l->last_posted = true;
        }
        if (flags)
            flags[i] = f;
    }
    if (info) {
        info->position = a->position;
        info->time_ns = a->start_ns + wac__frames_to_ns((int64_t)a->position, a->rate);
    }
    a->position += frames;
    return (int)frames;
}
