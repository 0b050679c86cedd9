/* mix.c — see mix.h for the mix rule and the alignment rules.
 *
 * One more rule lives here: a lane that is placed by time behind the head
 * (it joined, or came back from a stall, after the mix had already emitted
 * that moment) is moved forward to the head rather than cut: its audio is
 * delayed by that much (its skew, kept while it writes contiguously) and
 * nothing of it is lost. A lane just added holds the head back to the moment
 * it was added, for up to stall_ns, so that its first frames normally arrive
 * in time and need no skew at all. */
#include "attach/mix.h"
#include "alloc.h"
#include "timebase.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OUT_FRAMES 1024u
/* The most the time of contiguous output moves toward the clock per emit. */
#define EMIT_SLEW_NS 2000000LL

/* The mix position the clock gives for a monotonic time (never negative). */
static uint64_t position_at(const struct wac__mix *m, int64_t time_ns)
{
    int64_t p = (int64_t)m->clock_position + wac__ns_to_frames(time_ns - m->clock_ns, m->cfg.rate);
    return p < 0 ? 0 : (uint64_t)p;
}

static int64_t time_at(const struct wac__mix *m, uint64_t position)
{
    return m->clock_ns + wac__frames_to_ns((int64_t)(position - m->clock_position), m->cfg.rate);
}

static uint64_t lane_end(const struct wac__mix_lane *l)
{
    return l->start + l->count;
}

static bool lane_used(const struct wac__mix_lane *l)
{
    return l->fifo != NULL;
}

/* Waited for: it writes (or was just added) and has not stalled. */
static bool lane_live(const struct wac__mix *m, const struct wac__mix_lane *l, int64_t now_ns)
{
    (void)m;
    return lane_used(l) && !l->removed && now_ns - l->last_write_ns <= l->stall_ns;
}

/* A gap between two writes of the lane: its threshold stays at least twice
 * the longest (see "Stall thresholds" in mix.h). */
static void learn_gap(const struct wac__mix *m, struct wac__mix_lane *l, int64_t gap_ns)
{
    int64_t want = 2 * gap_ns, most = m->cfg.stall_max_ns > m->cfg.stall_ns ? m->cfg.stall_max_ns : m->cfg.stall_ns;
    if (want > l->stall_ns)
        l->stall_ns = want < most ? want : most;
}

int wac__mix_init(struct wac__mix *m, const struct wac__mix_config *cfg)
{
    memset(m, 0, sizeof *m);
    if (!cfg || cfg->channels < 1 || cfg->channels > 8 || cfg->rate == 0 || !cfg->emit ||
        cfg->lane_frames <= cfg->max_hold_frames || cfg->max_hold_frames == 0)
        return WAC_ERR_INVALID_ARGUMENT;
    m->cfg = *cfg;
    m->out_frames = OUT_FRAMES;
    m->out = wac__calloc((size_t)OUT_FRAMES * cfg->channels, sizeof *m->out);
    return m->out ? 0 : WAC_ERR_NO_MEMORY;
}

void wac__mix_free(struct wac__mix *m)
{
    for (int i = 0; i < WAC__MIX_MAX_LANES; i++)
        wac__free(m->lanes[i].fifo);
    wac__free(m->out);
    memset(m, 0, sizeof *m);
}

int wac__mix_lane_add(struct wac__mix *m, int64_t now_ns)
{
    for (int i = 0; i < WAC__MIX_MAX_LANES; i++) {
        struct wac__mix_lane *l = &m->lanes[i];
        if (lane_used(l))
            continue;
        memset(l, 0, sizeof *l);
        l->fifo = wac__malloc((size_t)m->cfg.lane_frames * m->cfg.channels * sizeof *l->fifo);
        if (!l->fifo)
            return WAC_ERR_NO_MEMORY;
        l->last_write_ns = now_ns;
        l->added_ns = now_ns;
        l->stall_ns = m->cfg.stall_ns;
        return i;
    }
    return WAC_ERR_BUSY;
}

void wac__mix_lane_remove(struct wac__mix *m, int lane)
{
    if (lane < 0 || lane >= WAC__MIX_MAX_LANES || !lane_used(&m->lanes[lane]))
        return;
    m->lanes[lane].removed = true;
}

void wac__mix_collect(struct wac__mix *m)
{
    for (int i = 0; i < WAC__MIX_MAX_LANES; i++) {
        struct wac__mix_lane *l = &m->lanes[i];
        if (lane_used(l) && l->removed && l->count == 0) {
            wac__free(l->fifo);
            memset(l, 0, sizeof *l);
        }
    }
}

/* ---- emitting ---- */

/* The time of the n frames about to leave at the head (see "Emit times" in
 * mix.h): the clock's, after a jump; else right after the previous
 * frames, moved toward the clock by an eighth of their disagreement, at most
 * EMIT_SLEW_NS. */
static int64_t emit_time(struct wac__mix *m, uint32_t n)
{
    int64_t t = time_at(m, m->head);
    if (m->emit_continues) {
        int64_t step = (t - m->emit_next_ns) / 8;
        step = step > EMIT_SLEW_NS ? EMIT_SLEW_NS : step < -EMIT_SLEW_NS ? -EMIT_SLEW_NS : step;
        t = m->emit_next_ns + step;
    }
    m->emit_next_ns = t + wac__frames_to_ns(n, m->cfg.rate);
    m->emit_continues = true;
    return t;
}

/* Emit every mix position below `target`: sums of the lanes' frames, zeros
 * for short stretches without data, a jump over long ones. */
static void emit_until(struct wac__mix *m, uint64_t target)
{
    const uint32_t ch = m->cfg.channels, cap = m->cfg.lane_frames;
    while (m->head < target) {
        /* [head, covered) has frames of some lane; `next` is where data
         * resumes when none covers the head. */
        uint64_t covered = m->head, next = UINT64_MAX;
        for (int i = 0; i < WAC__MIX_MAX_LANES; i++) {
            const struct wac__mix_lane *l = &m->lanes[i];
            if (!lane_used(l) || l->count == 0)
                continue;
            if (l->start <= m->head) {
                if (lane_end(l) > covered)
                    covered = lane_end(l);
            } else if (l->start < next) {
                next = l->start;
            }
        }
        uint64_t piece_end;
        if (covered > m->head) {
            piece_end = covered < target ? covered : target;
        } else if (next == UINT64_MAX) {
            m->head = target; /* nothing queued at all */
            m->emit_continues = false;
            return;
        } else if (next - m->head > m->cfg.max_hold_frames) {
            m->head = next < target ? next : target; /* a long pause: the emit time jumps */
            m->emit_continues = false;
            continue;
        } else {
            piece_end = next < target ? next : target; /* a short hole: zeros */
        }
        uint32_t n = (uint32_t)(piece_end - m->head < m->out_frames ? piece_end - m->head : m->out_frames);
        if (covered == m->head)
            m->frames_filled += n;
        memset(m->out, 0, (size_t)n * ch * sizeof *m->out);
        for (int i = 0; i < WAC__MIX_MAX_LANES; i++) {
            struct wac__mix_lane *l = &m->lanes[i];
            if (!lane_used(l) || l->count == 0 || l->start >= m->head + n)
                continue;
            if (l->start < m->head) {
                /* Cannot happen (writes never queue behind the head); if it
                 * did, those frames are late: drop them, never index back. */
                uint32_t late = (uint32_t)(m->head - l->start < l->count ? m->head - l->start : l->count);
                l->first = (l->first + late) % cap;
                l->count -= late;
                l->start += late;
                m->frames_late += late;
                if (l->count == 0)
                    continue;
            }
            uint32_t skip = (uint32_t)(l->start - m->head);
            uint32_t take = n - skip < l->count ? n - skip : l->count;
            float *dst = m->out + (size_t)skip * ch;
            for (uint32_t f = 0; f < take; f++) {
                const float *src = l->fifo + (size_t)((l->first + f) % cap) * ch;
                for (uint32_t c = 0; c < ch; c++)
                    dst[(size_t)f * ch + c] += src[c];
            }
            l->first = (l->first + take) % cap;
            l->count -= take;
            l->start += take;
        }
        m->cfg.emit(m->cfg.user, m->out, n, emit_time(m, n));
        m->head += n;
    }
}

void wac__mix_pull(struct wac__mix *m, int64_t now_ns, bool flush_all)
{
    uint64_t max_end = 0, live_end = UINT64_MAX;
    bool queued = false;
    for (int i = 0; i < WAC__MIX_MAX_LANES; i++) {
        const struct wac__mix_lane *l = &m->lanes[i];
        if (!lane_used(l))
            continue;
        if (l->count) {
            queued = true;
            if (lane_end(l) > max_end)
                max_end = lane_end(l);
        }
        if (!lane_live(m, l, now_ns))
            continue;
        /* A lane not placed yet holds the head at the moment it was added. */
        uint64_t end = l->placed ? lane_end(l) : m->clock_set ? position_at(m, l->added_ns) : UINT64_MAX;
        if (end < live_end)
            live_end = end;
    }
    if (!queued)
        return;
    uint64_t target = flush_all || live_end > max_end ? max_end : live_end;
    uint64_t hold = m->cfg.max_hold_frames;
    for (int i = 0; i < WAC__MIX_MAX_LANES; i++) {
        /* A live lane that learnt to be bursty is held for as long. */
        const struct wac__mix_lane *l = &m->lanes[i];
        uint64_t frames = (uint64_t)(l->stall_ns / 1000) * m->cfg.rate / 1000000;
        if (lane_live(m, l, now_ns) && frames > hold)
            hold = frames;
    }
    if (max_end > hold && target < max_end - hold) {
        uint64_t forced = max_end - hold;
        if (forced > m->head)
            m->frames_unheld += forced - (target > m->head ? target : m->head);
        target = forced;
    }
    if (target > m->head)
        emit_until(m, target);
}

bool wac__mix_pending(const struct wac__mix *m, int64_t now_ns)
{
    for (int i = 0; i < WAC__MIX_MAX_LANES; i++)
        if (lane_used(&m->lanes[i]) && (m->lanes[i].count || lane_live(m, &m->lanes[i], now_ns)))
            return true;
    return false;
}

int64_t wac__mix_next_change(const struct wac__mix *m, int64_t now_ns)
{
    int64_t next = INT64_MAX;
    for (int i = 0; i < WAC__MIX_MAX_LANES; i++) {
        const struct wac__mix_lane *l = &m->lanes[i];
        if (lane_live(m, l, now_ns) && l->last_write_ns + l->stall_ns + 1 < next)
            next = l->last_write_ns + l->stall_ns + 1;
    }
    return next;
}

/* ---- writing ---- */

/* Append n frames (NULL: zeros) to a lane, emitting early if its FIFO is full. */
static void append(struct wac__mix *m, struct wac__mix_lane *l, const float *src, uint32_t n)
{
    const uint32_t ch = m->cfg.channels, cap = m->cfg.lane_frames;
    while (n) {
        uint32_t room = cap - l->count;
        if (room == 0) {
            /* Only a burst larger than the FIFO gets here: let a quarter go. */
            uint64_t before = m->head;
            emit_until(m, l->start + cap / 4);
            m->frames_forced += m->head - before;
            continue;
        }
        uint32_t k = n < room ? n : room;
        for (uint32_t f = 0; f < k; f++) {
            float *dst = l->fifo + (size_t)((l->first + l->count + f) % cap) * ch;
            if (src)
                memcpy(dst, src + (size_t)f * ch, ch * sizeof *dst);
            else
                memset(dst, 0, ch * sizeof *dst);
        }
        l->count += k;
        n -= k;
        if (src)
            src += (size_t)k * ch;
        else
            m->frames_filled += k;
    }
}

void wac__mix_write(struct wac__mix *m, int lane, const float *frames, uint32_t n, int64_t time_ns, int64_t now_ns)
{
    if (lane < 0 || lane >= WAC__MIX_MAX_LANES || n == 0)
        return;
    struct wac__mix_lane *l = &m->lanes[lane];
    if (!lane_used(l) || l->removed)
        return;
    const uint32_t ch = m->cfg.channels;
    int64_t write_gap = now_ns - l->last_write_ns;
    bool stalled = l->placed && write_gap > l->stall_ns;
    if (l->placed && write_gap > m->max_write_gap_ns)
        m->max_write_gap_ns = write_gap;
    m->stalls += stalled;
    l->last_write_ns = now_ns;
    if (!m->clock_set) {
        /* The first frames ever define the clock. */
        m->clock_set = true;
        m->clock_position = m->head;
        m->clock_ns = time_ns;
    }
    uint64_t by_time = position_at(m, time_ns);
    if (stalled) {
        /* Its time continues where it left off: the server held the frames
         * back (a burst), the stream did not stop. */
        int64_t off = (int64_t)lane_end(l) - (int64_t)(by_time + (uint64_t)l->skew);
        if (off <= (int64_t)m->cfg.resync_frames && -off <= (int64_t)m->cfg.resync_frames) {
            stalled = false;
            m->bursts++;
        }
    }
    if (l->placed && !stalled) /* a real stop teaches nothing */
        learn_gap(m, l, write_gap);
    bool contiguous = l->placed && !stalled, agrees = true;
    if (contiguous) {
        int64_t disagreement = (int64_t)lane_end(l) - (int64_t)(by_time + (uint64_t)l->skew);
        agrees = disagreement <= (int64_t)m->cfg.resync_frames && -disagreement <= (int64_t)m->cfg.resync_frames;
        l->disagreements = agrees ? 0 : l->disagreements + 1;
        if (l->disagreements >= WAC__MIX_RESYNC_WRITES) {
            contiguous = false;
            l->disagreements = 0;
            m->resyncs++;
        }
    } else {
        l->disagreements = 0;
    }
    if (contiguous) {
        /* Sample-contiguous; the clock follows the audio (not an estimate
         * that disagrees: it may be jitter). */
        if (agrees) {
            m->clock_position = lane_end(l) - (uint64_t)l->skew;
            m->clock_ns = time_ns;
        }
        if (l->count == 0 && l->start < m->head) {
            /* The mix went on without it (it lagged more than max_hold):
             * delayed from here, never cut. */
            l->skew += (int64_t)(m->head - l->start);
            l->start = m->head;
        }
        append(m, l, frames, n);
    } else {
        uint64_t pos = by_time, dropped = 0;
        if (l->count && pos < lane_end(l)) {
            /* Ahead of its clock: the frames already queued win. */
            dropped = lane_end(l) - pos;
            if (dropped >= n) {
                m->frames_late += n;
                return;
            }
            m->frames_late += dropped;
            pos = lane_end(l);
            if (frames)
                frames += (size_t)dropped * ch;
            n -= (uint32_t)dropped;
        } else if (l->count && pos > lane_end(l)) {
            uint64_t gap = pos - lane_end(l);
            if (gap <= m->cfg.max_hold_frames) {
                append(m, l, NULL, (uint32_t)gap);
            } else {
                emit_until(m, lane_end(l)); /* let its old frames go first */
                l->start = pos;
            }
        } else if (l->count == 0) {
            if (pos < m->head)
                pos = m->head; /* late: delayed, never cut (see the file comment) */
            l->start = pos;
        }
        l->skew = (int64_t)(pos - (by_time + dropped));
        l->placed = true;
        append(m, l, frames, n);
    }
    wac__mix_pull(m, now_ns, false);
}
