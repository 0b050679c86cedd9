/* arrival-clock.c — see arrival-clock.h. */
#include "attach/arrival-clock.h"
#include "timebase.h"

#include <string.h>

#define TIGHT_NS 1000000LL
#define RISE_NS 4000000000LL

void wac__arrival_clock_init(struct wac__arrival_clock *c, uint32_t rate)
{
    memset(c, 0, sizeof *c);
    c->rate = rate;
}

int64_t wac__arrival_clock_date(struct wac__arrival_clock *c, uint32_t frames, uint64_t held, int64_t now_ns)
{
    if (held < frames)
        held = frames;
    int64_t bound = now_ns - wac__frames_to_ns((int64_t)(c->frames + held), c->rate);
    if (!c->dated || bound <= c->t0_ns + TIGHT_NS) {
        if (!c->dated || bound < c->t0_ns)
            c->t0_ns = bound;
        c->dated = true;
        c->tight_ns = now_ns;
        c->loose_min_ns = INT64_MAX;
    } else {
        if (bound < c->loose_min_ns)
            c->loose_min_ns = bound;
        if (now_ns - c->tight_ns >= RISE_NS) {
            c->t0_ns = c->loose_min_ns;
            c->tight_ns = now_ns;
            c->loose_min_ns = INT64_MAX;
            c->rises++;
        }
    }
    int64_t first = c->t0_ns + wac__frames_to_ns((int64_t)c->frames, c->rate);
    c->frames += frames;
    return first;
}
