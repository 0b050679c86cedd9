/* internal.h (PulseAudio) — what the halves of the PulseAudio backend share:
 * pulse.c (the connection, the sink-inputs and clients the server announces,
 * timers, failures, the session listing) and capture.c (a capture: one
 * monitor record stream per target sink-input, mixed by src/attach/mix.c).
 *
 * Threads: everything runs on the pa_threaded_mainloop's thread or under its
 * lock. The read callbacks, which feed the ring, run there too: they follow
 * the real-time rules (no allocation, no lock of ours, no logging). */
#ifndef WAC_PULSE_INTERNAL_H
#define WAC_PULSE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <pulse/pulseaudio.h>

#include "backend/backend.h"
#include "attach/mix.h"
#include "attach/attach.h"
#include "attach/target-match.h"

#define PAB_NAME_SIZE 128
#define PAB_WAIT_S 5

struct pab_client {
    struct pab_client *next;
    uint32_t index;
    uint32_t pid; /* application.process.id, 0 if none */
    char app_name[PAB_NAME_SIZE];
    char binary[PAB_NAME_SIZE];
};

/* An application playback stream. */
struct pab_input {
    struct pab_input *next;
    uint32_t index;
    uint32_t client; /* PA_INVALID_INDEX for none */
    uint32_t prop_pid; /* its own application.process.id, 0 if none */
    bool corked;
    char app_name[PAB_NAME_SIZE];
    char binary[PAB_NAME_SIZE];
};

/* A target sink-input attached to a capture: the block of its attach entry
 * (whose key is the sink-input index, the events' stream_id): its monitor
 * record stream and its lane in the capture's mix. */
struct pab_entry {
    struct pacap *pc;
    struct wac__attach_entry *ae; /* the entry this block belongs to */
    int lane;          /* -1: no lane was free (more streams than the mix takes) */
    pa_stream *stream;
    bool dead;      /* the stream failed or was killed (the input moved or ended) */
    uint32_t attempts; /* streams created without one becoming ready */
};

struct pacap {
    struct pacap *next; /* in pab->captures */
    struct pab *b;
    wac_capture *cap;
    struct wac__target_match match; /* which pids the target covers */
    struct wac__attach attach;      /* the sink-inputs attached, their events, a deferred failure */

    wac_format format;        /* delivered */
    pa_sample_spec spec;      /* asked of the server: float, format.rate, pa channels */
    uint32_t stride;          /* bytes per frame from the server */
    uint32_t fragment_ms;     /* the record streams' fragsize */
    bool test_ask_s16;        /* test hook: ask the server for s16 (see pacap_open) */
    struct wac__mix mix;
    uint8_t *converted;       /* one mix emit in the delivered format */
    int64_t next_check_ns;    /* next target check */

    bool running; /* between start and stop */
};

struct pab {
    wac_context *ctx;
    pa_threaded_mainloop *ml;
    pa_mainloop_api *api;
    pa_context *pa;
    pa_context_state_t state;
    pa_time_event *timer;
    pa_defer_event *deferred;
    bool wait_timed_out;
    struct pab_client *clients;
    struct pab_input *inputs;
    struct pacap *captures;
    bool lost, lost_handled;
    char lost_detail[160];
};

/* ---- pulse.c ---- */
/* Run the deferred work (attaching, failures) soon on the loop thread. */
void pab_schedule(struct pab *b);
/* Run the captures' timer work within a few ms (a capture started, a stream
 * came or went); the timer then sleeps until the work asks for it. */
void pab_tick_soon(struct pab *b);
struct pab_input *pab_find_input(struct pab *b, uint32_t index);
/* The process that owns a sink-input. False while its client is not known yet. */
bool pab_input_owner(struct pab *b, const struct pab_input *in, uint32_t *pid);

/* ---- capture.c ---- */
/* Attach the target's new sink-inputs, recreate killed streams. */
void pacap_reconcile(struct pacap *pc);
/* A sink-input is gone: detach it (STREAM_REMOVED when reported). */
void pacap_input_removed(struct pacap *pc, uint32_t input);
/* Timer work: release held mix frames, fill silence, check the target.
 * Returns when it needs to run next (monotonic ns; INT64_MAX: not at all). */
int64_t pacap_tick(struct pacap *pc, int64_t now_ns);
/* End the stream by itself (server lost, failure): emits what the mix holds. */
void pacap_end(struct pacap *pc, int error, const char *detail);

int pacap_open(void *data, wac_capture *cap, void **cap_data);
int pacap_start(void *cap_data);
void pacap_stop(void *cap_data);
void pacap_close(void *cap_data);

#endif
