/* session-group.h — the session listing of the Linux backends: the streams a
 * server reports are grouped by owner pid (one session per process, counting
 * its streams, playing if any of them plays), then each process's executable
 * is read from /proc. Grouping happens under the backend's lock, from its
 * own tables; the /proc reads happen after the lock is released, so a long
 * listing never holds up the server's loop thread. Control path only. */
#ifndef WAC_SESSION_GROUP_H
#define WAC_SESSION_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"

#define WAC__SESSION_NAME_SIZE 128

struct wac__session_group_item {
    uint32_t pid;
    uint32_t streams;
    bool playing;
    float volume; /* the loudest stream's; negative while none is known */
    bool muted;   /* every stream muted */
    char app_name[WAC__SESSION_NAME_SIZE];
    char binary[WAC__SESSION_NAME_SIZE]; /* the server's idea of it; /proc wins */
};

struct wac__session_group {
    struct wac__session_group_item *items;
    size_t count, capacity;
};

/* Room for `streams` streams (each may be its own session), so that adding
 * under the backend's lock never allocates. 0, or WAC_ERR_NO_MEMORY. */
int wac__session_group_init(struct wac__session_group *g, size_t streams);
/* Count one stream of pid (0: owner unknown; those share one session).
 * app_name / binary (may be NULL or empty) name the session when it is new.
 * volume: the stream's linear level, negative when unknown (its mute flag
 * then counts as unmuted). Ignored past the room reserved by init. */
void wac__session_group_add(struct wac__session_group *g, uint32_t pid, const char *app_name, const char *binary,
                            bool playing, float volume, bool muted);
/* Hand the sessions to the listing, with executables from /proc where the
 * process is still there, and free the group. 0, or WAC_ERR_NO_MEMORY. */
int wac__session_group_finish(struct wac__session_group *g, struct wac__session_list_builder *list);

#endif
