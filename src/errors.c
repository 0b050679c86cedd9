/* errors.c — error codes, names and messages from WAC_ERROR_MAP; the detail
 * messages kept on each handle; the version. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char *wac_version(void)
{
#define WAC__STR2(x) #x
#define WAC__STR(x) WAC__STR2(x)
    return WAC__STR(WAC_VERSION_MAJOR) "." WAC__STR(WAC_VERSION_MINOR) "." WAC__STR(WAC_VERSION_PATCH);
}

unsigned wac_version_number(void)
{
    return WAC_VERSION_NUMBER;
}

const char *wac_strerror(int error)
{
    switch (error) {
    case 0:
        return "success";
#define WAC__ERROR_MESSAGE(name, value, message) \
    case value:                                  \
        return message;
        WAC_ERROR_MAP(WAC__ERROR_MESSAGE)
#undef WAC__ERROR_MESSAGE
    }
    return "unknown error";
}

const char *wac_error_name(int error)
{
    switch (error) {
    case 0:
        return "OK";
#define WAC__ERROR_NAME(name, value, message) \
    case value:                               \
        return #name;
        WAC_ERROR_MAP(WAC__ERROR_NAME)
#undef WAC__ERROR_NAME
    }
    return "UNKNOWN";
}

const char *wac_event_name(wac_event_type type)
{
    switch (type) {
    case WAC_EVENT_STARTED: return "started";
    case WAC_EVENT_TARGET_ATTACHED: return "target-attached";
    case WAC_EVENT_TARGET_DETACHED: return "target-detached";
    case WAC_EVENT_STREAM_ADDED: return "stream-added";
    case WAC_EVENT_STREAM_REMOVED: return "stream-removed";
    case WAC_EVENT_OVERRUN: return "overrun";
    case WAC_EVENT_DISCONTINUITY: return "discontinuity";
    case WAC_EVENT_SERVER_LOST: return "server-lost";
    case WAC_EVENT_ERROR: return "error";
    case WAC_EVENT_ENDED: return "ended";
    case WAC_EVENT_STREAM_SKIPPED: return "stream-skipped";
    }
    return "unknown";
}

void wac__set_detail(char *buf, const char *fmt, va_list ap)
{
    vsnprintf(buf, WAC__DETAIL_SIZE, fmt, ap);
}

int wac__context_fail(wac_context *ctx, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wac__set_detail(ctx->last_error, fmt, ap);
    va_end(ap);
    return error;
}

int wac__capture_fail(wac_capture *cap, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wac__set_detail(cap->last_error, fmt, ap);
    va_end(ap);
    return error;
}

int wac__capture_error(wac_capture *cap, int error, const char *fmt, ...)
{
    /* Before the capture is handed out, its failures are the context's. */
    char *dst = atomic_load(&cap->state) == 0 ? cap->ctx->last_error : cap->last_error;
    va_list ap;
    va_start(ap, fmt);
    wac__set_detail(dst, fmt, ap);
    va_end(ap);
    return error;
}

const char *wac_context_last_error(const wac_context *ctx)
{
    return ctx ? ctx->last_error : "";
}

const char *wac_capture_last_error(const wac_capture *cap)
{
    return cap ? cap->last_error : "";
}
