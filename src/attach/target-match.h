/* target-match.h — which processes a capture's target covers, from the
 * process facts of the Linux backends (PipeWire, PulseAudio): a backend knows
 * each stream's owner pid, and this decides whether the stream is wanted and
 * whether a PID target still runs. What follows from it — attaching the
 * stream, the target and stream events, forgetting verdicts — is the attach
 * layer's (src/attach/attach.h).
 *
 * Rules (the same for every Linux backend):
 * - PID target: the pid, and with include_tree its whole process tree, which
 *   is recomputed as streams appear (browsers play from children) and keeps
 *   pids once seen (children re-parented when their parent exits still
 *   belong). When every process of the target has exited, nothing more can
 *   ever be captured.
 * - NAME target: any process going by that executable name (basename of
 *   /proc/<pid>/exe, argv[0] or comm) or, in a Flatpak sandbox, by its app
 *   id (a name with a dot, compared exactly), and with include_tree its
 *   descendants.
 * - exclude: every application stream except the target's.
 * - SYSTEM: every application stream.
 *
 * Not thread-safe: one control thread (the backend's loop) uses a matcher. */
#ifndef WAC_TARGET_MATCH_H
#define WAC_TARGET_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/proctree.h"
#include "wac.h"

struct wac__target_match {
    wac_target target; /* .name points at name[] */
    char name[256];
    bool has_tree;
    struct wac__proctree tree;
};

/* 0, or WAC_ERR_NO_MEMORY. Copies the target (and its name). */
int wac__target_match_init(struct wac__target_match *m, const wac_target *target);
void wac__target_match_free(struct wac__target_match *m);

/* Should a stream owned by pid be captured? pid 0 (unknown owner) matches no
 * target, so it is captured only by SYSTEM and exclude captures. A judgement
 * walks /proc for each ancestor of the owner: keep verdicts (the attach
 * layer's rejections) rather than asking again. */
bool wac__target_match_wants(struct wac__target_match *m, uint32_t pid);

/* Is a PID target (not exclude) still running, its tree included? When not,
 * why says so ("pid N[ and its process tree] exited"). Other targets: true. */
bool wac__target_match_alive(struct wac__target_match *m, char *why, size_t why_size);

#endif
