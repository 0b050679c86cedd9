/* report.c — messages on stderr and the mapping from libwac errors to exit codes. */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>

#include <wac.h>

int report_exit_code_for(int wac_rc)
{
    switch (wac_rc) {
    case WAC_OK:
        return WAC_EXIT_OK;
    case WAC_ERR_INVALID_ARGUMENT:
    case WAC_ERR_FORMAT_UNSUPPORTED:
        /* Both come from what the user typed: a value the library refuses. */
        return WAC_EXIT_USAGE;
    case WAC_ERR_TARGET_NOT_FOUND:
        return WAC_EXIT_TARGET_NOT_FOUND;
    case WAC_ERR_UNKNOWN_BACKEND:
    case WAC_ERR_BACKEND_UNAVAILABLE:
        return WAC_EXIT_BACKEND_UNAVAILABLE;
    default:
        return WAC_EXIT_RUNTIME;
    }
}

REPORT_PRINTF(2, 0) static void vreport(const char *prefix, const char *format, va_list args)
{
    fprintf(stderr, "wac: %s", prefix);
    vfprintf(stderr, format, args);
}

void report_error(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vreport("error: ", format, args);
    va_end(args);
    fputc('\n', stderr);
}

void report_wac_error(int rc, const char *detail, const char *what_format, ...)
{
    va_list args;
    va_start(args, what_format);
    vreport("error: ", what_format, args);
    va_end(args);
    fprintf(stderr, ": %s", wac_strerror(rc));
    if (detail && detail[0])
        fprintf(stderr, " (%s)", detail);
    fputc('\n', stderr);
}

void report_warning(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vreport("warning: ", format, args);
    va_end(args);
    fputc('\n', stderr);
}

void report_notice(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vreport("", format, args);
    va_end(args);
    fputc('\n', stderr);
}
