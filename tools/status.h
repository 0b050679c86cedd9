/* status.h — live status lines on a terminal, one per recorded source:
 * elapsed time, level meter, attached streams, overruns. Redrawn in place
 * with ANSI cursor movement; entirely off (every call does nothing) when
 * stderr is not a terminal, TERM is "dumb", or the user asked for quiet. */
#ifndef WAC_TOOL_STATUS_H
#define WAC_TOOL_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "level.h"

/* What one line shows. */
typedef struct status_source {
    const char *label;  /* e.g. "pid 4242", "name firefox" */
    double elapsed_s;   /* audio time written so far */
    level level;        /* of the last chunk */
    uint32_t streams;   /* target streams attached now */
    uint32_t overruns;  /* overrun events so far */
    const char *state;  /* "recording", "waiting", "done", ... */
} status_source;

typedef struct status_board status_board;

/* A board of @p n_lines lines; NULL only when out of memory (then the caller
 * goes on without status lines: they are a convenience). */
status_board *status_board_create(size_t n_lines, bool quiet);

/* True if the lines are shown (stderr is a terminal, not quiet). */
bool status_board_enabled(const status_board *board);

/* Set what line @p index shows; drawn on the next status_board_draw(). */
void status_board_set(status_board *board, size_t index, const status_source *source);

/* Redraw the lines in place, at most ten times a second unless @p force. */
void status_board_draw(status_board *board, bool force);

/* Erase the lines so that a message can be printed; the next draw puts them
 * back below it. */
void status_board_hide(status_board *board);

/* Free the board; the lines last drawn stay on the screen. NULL does nothing. */
void status_board_destroy(status_board *board);

#endif
