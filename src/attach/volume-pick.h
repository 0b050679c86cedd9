/* volume-pick.h — application volume on the Linux backends: from a snapshot
 * of the server's output streams (taken under the backend's lock), keep those
 * a target owns by the capture's own rules (target-match.h), and sum them up
 * as wac_volume. The backend then reads or sets the picked streams with its
 * engine's calls. Control path only; the /proc walks happen here, outside the
 * backend's lock. */
#ifndef WAC_VOLUME_PICK_H
#define WAC_VOLUME_PICK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wac.h"

struct wac__volume_stream {
    uint64_t key;      /* the backend's stream identity (PipeWire: object.serial) */
    uint32_t pid;      /* owner, 0 when unknown (never picked) */
    uint32_t channels; /* channels of its volume, 0 when unknown */
    float level;       /* linear, the loudest channel; negative when unknown */
    bool muted;
};

/* Keep, in place and in order, the streams the target (PID or NAME) owns.
 * 0, or WAC_ERR_TARGET_NOT_FOUND with the reason in detail when none is left,
 * or WAC_ERR_NO_MEMORY. */
int wac__volume_pick(const wac_target *target, struct wac__volume_stream *streams, size_t *count, char *detail,
                     size_t detail_size);

/* The loudest level and whether all are muted, over `count` picked streams. */
void wac__volume_total(const struct wac__volume_stream *streams, size_t count, wac_volume *out);

#endif
