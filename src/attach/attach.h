/* attach.h — what every engine adapter shares about one capture: the table of
 * the engine's streams attached to it (keyed by the adapter's own stream key:
 * a node serial, a sink-input index, 1 for an engine that isolates the target
 * itself), the verdicts on streams judged not wanted, every TARGET_* and
 * STREAM_* event, and a failure recorded now and acted on later.
 *
 * An adapter says what it sees: "this stream exists and belongs to pid"
 * (add), "it now feeds the capture" (live), "it cannot be taken now"
 * (skipped), "it is gone" (gone), "the target process exited" (exited); the
 * layer posts the events, so their sequence is the same on every engine by
 * construction:
 * - start: a PID target (not exclude) gets TARGET_ATTACHED once the first pass
 *   over the engine's streams is done (wac__attach_started), saying how many
 *   streams it has or that it plays nothing yet;
 * - a stream that goes live: for a NAME target the first stream of each
 *   process posts TARGET_ATTACHED(pid); then the stats' stream count goes up
 *   and STREAM_ADDED(pid, key) is posted. Once per stream, however often the
 *   engine re-creates what feeds it;
 * - a live stream that goes: the count goes down, then STREAM_REMOVED;
 * - a process that exits: its remaining live streams are REMOVED, then
 *   TARGET_DETACHED(pid); for a PID target the stream then ends
 *   (WAC_ERR_TARGET_EXITED), for a NAME target the capture goes on;
 * - stop and every other end: the streams leave silently (ENDED says it all)
 *   and the count returns to 0.
 * Exclude and SYSTEM captures get no TARGET_* events (wac.h).
 *
 * Each entry may carry a block of the adapter's own per-stream state (links,
 * a record stream, a mix lane), zeroed at add, at a fixed address, released
 * through the adapter's release callback when the entry leaves the table.
 *
 * Threads: no locks. Every call for one capture comes from the context that
 * already serialises the adapter's control work (the PipeWire or PulseAudio
 * loop thread or its lock, WASAPI's control thread, the dummy's lock). Never
 * from a real-time callback: calls allocate and post events. */
#ifndef WAC_ATTACH_H
#define WAC_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"

struct wac__attach_entry {
    uint64_t key;
    uint32_t pid;
    bool live;        /* STREAM_ADDED posted and counted */
    bool skip_posted; /* STREAM_SKIPPED posted since the last live */
    void *data;       /* the adapter's block (NULL when data_size is 0) */
};

struct wac__attach_config {
    size_t data_size; /* the adapter's per-stream block; 0 for none */
    /* An entry leaves the table (gone, stop, end, free): free what its block
     * holds. Must not call back into the layer. May be NULL. */
    void (*release)(void *user, struct wac__attach_entry *entry);
    void *user;
};

struct wac__attach {
    wac_capture *cap;
    struct wac__attach_config cfg;
    wac_target_kind kind;
    bool exclude;
    uint32_t target_pid;
    char name[256]; /* NAME target; DEVICE target: the device */
    bool follows_default; /* DEVICE target: the default input, followed */

    struct wac__attach_entry **entries; /* in the order they were added */
    size_t n_entries, cap_entries;
    /* Keys judged not wanted. A stream's owner never joins a target it was
     * outside of when judged (a parent chain only loses links), so a verdict
     * holds until the stream goes; without it every pass re-read /proc for
     * every foreign stream (captures x streams x ancestors: 64 captures took
     * 22 s to start, bench/FINDINGS.md). */
    uint64_t *rejected;
    size_t n_rejected, cap_rejected;
    uint32_t *announced; /* NAME target: pids with TARGET_ATTACHED posted */
    size_t n_announced, cap_announced;

    bool running;
    bool target_gone; /* a PID target exited: its end is decided */
    unsigned missed_seen; /* the engine's untracked objects already reported */
    int fail_error;
    char fail_detail[160];
};

/* Set up for the capture's target (wac__capture_config(cap)). */
void wac__attach_init(struct wac__attach *a, wac_capture *cap, const struct wac__attach_config *cfg);
/* Releases every entry left, silently. */
void wac__attach_free(struct wac__attach *a);

/* capture_start: streams may be added from now on; clears an old failure. */
void wac__attach_start(struct wac__attach *a);
bool wac__attach_running(const struct wac__attach *a);

/* Is the key in the table, or judged not wanted? (The adapter need not look
 * up the owner of such a stream again.) */
bool wac__attach_known(const struct wac__attach *a, uint64_t key);
/* Remember that the stream is not wanted, until wac__attach_gone(key).
 * Without memory it is judged again next time: slower, not wrong. */
void wac__attach_reject(struct wac__attach *a, uint64_t key);

/* A wanted stream of pid exists (not live yet). Returns its entry (existing or
 * new; a new one has its zeroed data block), or NULL when not running or out
 * of memory (offer it again on a later pass). */
struct wac__attach_entry *wac__attach_add(struct wac__attach *a, uint64_t key, uint32_t pid);
struct wac__attach_entry *wac__attach_find(const struct wac__attach *a, uint64_t key);
/* Iterate: for (size_t i = 0; (e = wac__attach_next(a, &i));) — without
 * adding or removing entries inside the loop. */
struct wac__attach_entry *wac__attach_next(const struct wac__attach *a, size_t *i);
size_t wac__attach_count(const struct wac__attach *a);
bool wac__attach_has_pid(const struct wac__attach *a, uint32_t pid);

/* After the first pass over the engine's streams at start: a PID target
 * (not exclude) posts TARGET_ATTACHED with the number of entries. */
void wac__attach_started(struct wac__attach *a);
/* The stream now feeds the capture. The first time: TARGET_ATTACHED for a NAME
 * target's process not yet announced, the stream count +1, STREAM_ADDED with
 * detail (may be NULL). Later calls: nothing. */
void wac__attach_live(struct wac__attach *a, struct wac__attach_entry *e, const char *detail);
/* The stream cannot be taken now (e.g. no mix lane): STREAM_SKIPPED once
 * until it goes live. */
void wac__attach_skipped(struct wac__attach *a, struct wac__attach_entry *e, int error, const char *detail);
/* The engine's tables lack `missed` objects the server announced, for want of
 * memory (0 again after a reconnect): while running, each rise is posted as
 * STREAM_SKIPPED (pid 0, stream 0, WAC_ERR_NO_MEMORY), since a stream of the
 * target may be among them. Adapters call it on every pass. */
void wac__attach_engine_missed(struct wac__attach *a, unsigned missed);
/* A stream that could not be added for want of memory is posted by
 * wac__attach_add itself (STREAM_SKIPPED, WAC_ERR_NO_MEMORY) and is offered
 * again at the next pass. */
/* The engine's stream is gone: a live one is counted out and REMOVED (while
 * running); the entry is released; a rejection of the key is forgotten. */
void wac__attach_gone(struct wac__attach *a, uint64_t key);
/* The engine's connection is gone, and every key with it (a new connection
 * numbers its streams anew): every entry goes as by wac__attach_gone, in the
 * order they came, and every rejection is forgotten. Announced NAME pids are
 * kept: their processes may still run and play again. */
void wac__attach_all_gone(struct wac__attach *a);

/* The process pid exited (the adapter saw it, or wac__attach_check did).
 * Its live streams are REMOVED, then:
 * - a NAME target's process that was announced: TARGET_DETACHED(pid, detail);
 *   returns false (the capture goes on);
 * - a PID target (not exclude) whose pid is the target: TARGET_DETACHED and
 *   returns true, once: the adapter quiesces its producer, then calls
 *   wac__attach_end(a, WAC_ERR_TARGET_EXITED, detail).
 * detail may be NULL: "<name> (pid N) exited" / "pid N exited". */
bool wac__attach_exited(struct wac__attach *a, uint32_t pid, const char *detail);
/* A DEVICE target's device went away (key: its entry; any live stream is
 * REMOVED). The default input is followed: returns false, the capture waits
 * for the next default. A named device: TARGET_DETACHED(pid 0, detail, or
 * "device NAME was removed") and returns true, once: the adapter quiesces its
 * producer, then calls wac__attach_end(a, WAC_ERR_TARGET_EXITED, detail). */
bool wac__attach_device_gone(struct wac__attach *a, uint64_t key, const char *detail);
/* A NAME target's announced processes that have no stream left and are no
 * longer alive (alive(pid) false) are detached as by wac__attach_exited. */
void wac__attach_check_names(struct wac__attach *a, bool (*alive)(uint32_t pid));

/* Record a failure to act on later, from a callback that cannot tear the
 * capture down. The first one wins; ignored unless running. Returns true when
 * recorded (the adapter then schedules its deferred work). */
bool wac__attach_fail_later(struct wac__attach *a, int error, const char *fmt, ...) WAC__PRINTF(3, 4);
/* The recorded failure (detail or NULL), without taking it. */
const char *wac__attach_failure(const struct wac__attach *a, int *error);
/* Take the recorded failure: true once, while running. */
bool wac__attach_take_failure(struct wac__attach *a, int *error, char *detail, size_t detail_size);

/* capture_stop: not running; a pending failure is dropped; every entry leaves
 * silently (the stream count returns to 0, no STREAM_REMOVED). */
void wac__attach_stop(struct wac__attach *a);
/* The stream ends by itself, its producer quiescent: stop, then
 * wac__stream_end(cap, error, detail). */
void wac__attach_end(struct wac__attach *a, int error, const char *detail);

#endif
