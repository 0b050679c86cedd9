/* proctree.h — process facts the backends need to match audio streams to a
 * target: a process tree that remembers every pid once seen in it, and the
 * names a process goes by.
 *
 * A tree starts at a root pid and grows with refresh(): the live descendants
 * of every pid already in it are added. Pids are never removed: when a parent
 * exits, its children are re-parented (to pid 1 or a subreaper) and would drop
 * out of a tree recomputed from the root, but they still belong to the target.
 * Not thread-safe: one tree is used by one thread at a time. */
#ifndef WAC_PROCTREE_H
#define WAC_PROCTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wac__proctree {
    uint32_t root;
    uint32_t *pids; /* pids[0] == root */
    size_t count, capacity;
};

/* 0, or WAC_ERR_NO_MEMORY. */
int wac__proctree_init(struct wac__proctree *t, uint32_t root);
void wac__proctree_free(struct wac__proctree *t);
/* Add the live descendants of every pid in the tree. Returns how many pids were
 * added, or a negative wac_error. Reads /proc/<pid>/task/<tid>/children, and
 * falls back to one scan of /proc/<pid>/stat when the kernel lacks it. */
int wac__proctree_refresh(struct wac__proctree *t);
bool wac__proctree_contains(const struct wac__proctree *t, uint32_t pid);
/* Does pid belong to the tree? Either it is in it, or one of its ancestors is
 * (then pid and the ancestors in between are added). */
bool wac__proctree_match(struct wac__proctree *t, uint32_t pid);
/* Is any process of the tree still running? */
bool wac__proctree_any_alive(const struct wac__proctree *t);

/* Is the process running (exists and is not a zombie)? */
bool wac__proc_alive(uint32_t pid);
/* The parent of pid, or 0 when unknown (exited, or no permission). */
uint32_t wac__proc_parent(uint32_t pid);
/* Does the process go by `name`: the basename of its executable
 * (/proc/<pid>/exe), of its argv[0], or its comm (truncated by the kernel to
 * 15 bytes, so a 15-byte comm matches a longer name by prefix)? */
bool wac__proc_has_name(uint32_t pid, const char *name);
/* The basename of the process's executable into buf (empty when unknown):
 * /proc/<pid>/exe, else argv[0], else comm. Returns buf. */
char *wac__proc_exe_name(uint32_t pid, char *buf, size_t size);

#endif
