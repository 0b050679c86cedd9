/* target-match.h — which audio streams belong to a capture's target, and the
 * target events that follow from it, shared by the Linux backends (PipeWire,
 * PulseAudio). A backend knows each stream's owner pid; this decides whether
 * the stream is wanted and says when the target appears or goes away.
 *
 * Rules (the same for every Linux backend):
 * - PID target: the pid, and with include_tree its whole process tree, which
 *   is recomputed as streams appear (browsers play from children) and keeps
 *   pids once seen (children re-parented when their parent exits still
 *   belong). At start the capture says whether the target plays yet
 *   (TARGET_ATTACHED, "delivering silence until it does" when not). When every
 *   process of the target has exited, nothing more can ever be captured: the
 *   backend posts TARGET_DETACHED and ends the stream with
 *   WAC_ERR_TARGET_EXITED.
 * - NAME target: any process going by that executable name (basename of
 *   /proc/<pid>/exe, argv[0] or comm), and with include_tree its
 *   descendants. It may start after the capture and may restart: each process
 *   gets TARGET_ATTACHED with its first stream and TARGET_DETACHED when it has
 *   exited; the capture goes on, delivering silence in between.
 * - exclude: every application stream except the target's (no target events).
 * - SYSTEM: every application stream.
 *
 * Not thread-safe: one control thread (the backend's loop) uses a matcher. */
#ifndef WAC_TARGET_MATCH_H
#define WAC_TARGET_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../os/proctree.h"
#include "wac.h"

struct wac__target_match {
    wac_target target; /* .name points at name[] */
    char name[256];
    bool has_tree;
    struct wac__proctree tree;
    uint32_t *announced; /* NAME targets: pids with a TARGET_ATTACHED posted */
    size_t n_announced, cap_announced;
    bool gone; /* a PID target whose processes have all exited */
    uint64_t *rejected; /* keys of streams judged not wanted (see below) */
    size_t n_rejected, cap_rejected;
};

/* 0, or WAC_ERR_NO_MEMORY. Copies the target (and its name). */
int wac__target_match_init(struct wac__target_match *m, const wac_target *target);
void wac__target_match_free(struct wac__target_match *m);

/* Should a stream owned by pid be captured? pid 0 (unknown owner) matches no
 * target, so it is captured only by SYSTEM and exclude captures. */
bool wac__target_match_wants(struct wac__target_match *m, uint32_t pid);

/* Streams judged not wanted, by the backend's key for them (a node serial, a
 * sink-input index), so that periodic passes over the server's streams do
 * not judge them again: a judgement walks /proc for each ancestor of the
 * owner, and with N captures of N players that was N^2 walks every pass
 * (it cost more than the audio). A stream's owner never joins a target it
 * was not part of when judged (a parent chain only loses links), so a
 * rejection holds until the stream goes; forget it then. */
bool wac__target_match_rejected(const struct wac__target_match *m, uint64_t key);
/* Remember a rejection (without memory: it is judged again; slower, not wrong). */
void wac__target_match_reject(struct wac__target_match *m, uint64_t key);
void wac__target_match_forget(struct wac__target_match *m, uint64_t key);

/* Is a PID target (not exclude) still running, its tree included? When not,
 * why says so ("pid N[ and its process tree] exited"). Other targets: true. */
bool wac__target_match_alive(struct wac__target_match *m, char *why, size_t why_size);

/* At start (a PID target, not exclude): say whether the target plays yet. */
void wac__target_match_started(struct wac__target_match *m, wac_capture *cap, uint32_t n_streams);

/* A stream of pid was attached: a NAME target's process is announced once. */
void wac__target_match_stream_attached(struct wac__target_match *m, wac_capture *cap, uint32_t pid);

/* Periodic check on the control thread. has_stream(user, pid) tells whether
 * any stream of pid is still attached to the capture. Posts TARGET_DETACHED
 * for NAME processes that exited. Returns true once, when a PID target has
 * exited: the caller stops producing and ends the stream with
 * WAC_ERR_TARGET_EXITED and the detail written to why. */
bool wac__target_match_check(struct wac__target_match *m, wac_capture *cap,
                             bool (*has_stream)(void *user, uint32_t pid), void *user, char *why,
                             size_t why_size);

#endif
