/* report.h — how the wac tool talks to its user: "wac: error: ..." lines on
 * stderr, and the exit codes that scripts can rely on. */
#ifndef WAC_TOOL_REPORT_H
#define WAC_TOOL_REPORT_H

/* printf-style checking where the compiler has it (mingw-w64: its C99 stdio). */
#if defined(__MINGW32__)
#define REPORT_PRINTF(fmt, first) __attribute__((format(gnu_printf, fmt, first)))
#elif defined(__GNUC__) || defined(__clang__)
#define REPORT_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#else
#define REPORT_PRINTF(fmt, first)
#endif

/* Exit codes: documented in `wac --help` and wac(1); never renumber. */
enum wac_exit_code {
    WAC_EXIT_OK = 0,                  /* success, also after SIGINT/SIGTERM ended a recording */
    WAC_EXIT_RUNTIME = 1,             /* the capture failed while running (server lost, ...) */
    WAC_EXIT_USAGE = 2,               /* bad flags or values, including formats the library refuses */
    WAC_EXIT_TARGET_NOT_FOUND = 3,    /* no such pid, or no process of that name appeared in time */
    WAC_EXIT_BACKEND_UNAVAILABLE = 4, /* the backend is unknown, not built in, or its server is not running */
    WAC_EXIT_OUTPUT = 5,              /* an output file cannot be created or written */
};

/* The exit code that a libwac error code stands for. */
int report_exit_code_for(int wac_rc);

/* "wac: error: <message>" */
void report_error(const char *format, ...) REPORT_PRINTF(1, 2);

/* "wac: error: <what>: <wac_strerror(rc)> (<detail>)"; the parenthesis is left
 * out when detail is NULL or empty. */
void report_wac_error(int rc, const char *detail, const char *what_format, ...)
    REPORT_PRINTF(3, 4);

/* "wac: warning: <message>" */
void report_warning(const char *format, ...) REPORT_PRINTF(1, 2);

/* "wac: <message>" — a notice, for things that are not failures. */
void report_notice(const char *format, ...) REPORT_PRINTF(1, 2);

#endif
