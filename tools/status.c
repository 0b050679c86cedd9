/* status.c — status lines redrawn in place on stderr. */
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _WIN32
#include <io.h>
#include <windows.h>
#else
#include <sys/ioctl.h>
#include <unistd.h>
#endif

#define STATUS_REDRAW_NS 100000000LL
#define METER_WIDTH 12
#define METER_FLOOR_DBFS (-60.0)

struct status_board {
    bool enabled;
    size_t n_lines;
    status_source *lines;
    size_t lines_on_screen; /* how far up the next redraw must go */
    int64_t last_draw_ns;
};

#ifdef _WIN32
static int64_t monotonic_ns(void)
{
    LARGE_INTEGER t, f;
    QueryPerformanceCounter(&t);
    QueryPerformanceFrequency(&f);
    return t.QuadPart / f.QuadPart * 1000000000LL + t.QuadPart % f.QuadPart * 1000000000LL / f.QuadPart;
}

static bool terminal_wants_status(bool quiet)
{
    /* A console that understands the cursor movements (Windows 10+). */
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    DWORD mode = 0;
    if (quiet || !_isatty(_fileno(stderr)) || !GetConsoleMode(err, &mode))
        return false;
    return SetConsoleMode(err, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0;
}
#else
static int64_t monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static bool terminal_wants_status(bool quiet)
{
    const char *term = getenv("TERM");
    return !quiet && isatty(STDERR_FILENO) && !(term && strcmp(term, "dumb") == 0);
}
#endif

status_board *status_board_create(size_t n_lines, bool quiet)
{
    status_board *board = calloc(1, sizeof *board);
    if (!board)
        return NULL;
    board->lines = calloc(n_lines ? n_lines : 1, sizeof *board->lines);
    if (!board->lines) {
        free(board);
        return NULL;
    }
    board->n_lines = n_lines;
    board->enabled = terminal_wants_status(quiet);
    return board;
}

bool status_board_enabled(const status_board *board)
{
    return board && board->enabled;
}

void status_board_set(status_board *board, size_t index, const status_source *source)
{
    if (board && index < board->n_lines)
        board->lines[index] = *source;
}

/* Lines longer than the terminal would wrap and break the cursor arithmetic. */
static size_t terminal_width(void)
{
#ifdef _WIN32
    CONSOLE_SCREEN_BUFFER_INFO info;
    if (GetConsoleScreenBufferInfo(GetStdHandle(STD_ERROR_HANDLE), &info)) {
        int cols = info.srWindow.Right - info.srWindow.Left + 1;
        if (cols > 1)
            return (size_t)cols - 1;
    }
#else
    struct winsize size;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 1)
        return size.ws_col - 1;
#endif
    return 79;
}

static int meter_cells(double dbfs)
{
    double fraction = (dbfs - METER_FLOOR_DBFS) / -METER_FLOOR_DBFS;
    return fraction <= 0 ? 0 : fraction >= 1 ? METER_WIDTH : (int)(fraction * METER_WIDTH + 0.5);
}

static void format_db(char *out, size_t out_size, double dbfs)
{
    if (dbfs <= LEVEL_FLOOR_DBFS)
        snprintf(out, out_size, " -inf");
    else
        snprintf(out, out_size, "%5.1f", dbfs);
}

/* An RMS bar with a '|' where the peak is, on a -60..0 dBFS scale. */
static void format_meter(const level *lvl, char *meter)
{
    int rms_cells = meter_cells(lvl->rms_dbfs), peak_cell = meter_cells(lvl->peak_dbfs) - 1;
    for (int i = 0; i < METER_WIDTH; i++)
        meter[i] = i < rms_cells ? '#' : '-';
    if (peak_cell >= 0)
        meter[peak_cell] = '|';
    meter[METER_WIDTH] = '\0';
}

static void format_line(const status_source *line, char *out, size_t out_size)
{
    char meter[METER_WIDTH + 1], peak[16];
    format_meter(&line->level, meter);
    format_db(peak, sizeof peak, line->level.peak_dbfs);
    unsigned tenths = (unsigned)(line->elapsed_s * 10.0);
    bool busy = line->state && strcmp(line->state, "recording") == 0;
    snprintf(out, out_size, "%-14.14s %2u:%02u.%u [%s] %s dBFS  %u stream%s  %u overrun%s%s%s",
             line->label ? line->label : "", tenths / 600, tenths / 10 % 60, tenths % 10, meter, peak, line->streams,
             line->streams == 1 ? "" : "s", line->overruns, line->overruns == 1 ? "" : "s", busy ? "" : "  ",
             busy || !line->state ? "" : line->state);
}

void status_board_draw(status_board *board, bool force)
{
    if (!board || !board->enabled)
        return;
    int64_t now = monotonic_ns();
    if (!force && board->lines_on_screen && now - board->last_draw_ns < STATUS_REDRAW_NS)
        return;
    board->last_draw_ns = now;
    size_t width = terminal_width();
    if (board->lines_on_screen)
        fprintf(stderr, "\033[%zuA", board->lines_on_screen);
    for (size_t i = 0; i < board->n_lines; i++) {
        char text[512];
        format_line(&board->lines[i], text, sizeof text);
        if (strlen(text) > width)
            text[width] = '\0';
        fprintf(stderr, "\r\033[K%s\n", text);
    }
    board->lines_on_screen = board->n_lines;
    fflush(stderr);
}

void status_board_hide(status_board *board)
{
    if (!board || !board->enabled || !board->lines_on_screen)
        return;
    fprintf(stderr, "\033[%zuA\r\033[J", board->lines_on_screen);
    board->lines_on_screen = 0;
    fflush(stderr);
}

void status_board_destroy(status_board *board)
{
    if (!board)
        return;
    free(board->lines);
    free(board);
}
