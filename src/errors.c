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
    case WAC_EVENT_SERVER_RESTORED: return "server-restored";
    }
    return "unknown";
}

/* Thread-local storage in C11, or MSVC's spelling of it. */
#if defined(_MSC_VER) && !defined(__clang__)
#define WAC__THREAD_LOCAL __declspec(thread)
#else
#define WAC__THREAD_LOCAL _Thread_local
#endif

/* One record per thread, like errno: the detail of the thread's last failure
 * and the handle it was on. Ids, not pointers: a handle freed and another
 * allocated at its address must not inherit the old detail. */
static WAC__THREAD_LOCAL struct {
    uint64_t owner;
    char text[WAC__DETAIL_SIZE];
} wac__thread_detail;

static _Atomic uint64_t wac__next_id = 1;

uint64_t wac__handle_id(void)
{
    return atomic_fetch_add_explicit(&wac__next_id, 1, memory_order_relaxed);
}

const char *wac__detail_of(uint64_t id)
{
    return wac__thread_detail.owner == id ? wac__thread_detail.text : NULL;
}

static void set_detail(uint64_t owner, const char *fmt, va_list ap) WAC__PRINTF(2, 0);

static void set_detail(uint64_t owner, const char *fmt, va_list ap)
{
    wac__thread_detail.owner = owner;
    vsnprintf(wac__thread_detail.text, sizeof wac__thread_detail.text, fmt, ap);
}

int wac__context_fail(wac_context *ctx, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_detail(ctx->id, fmt, ap);
    va_end(ap);
    return error;
}

int wac__capture_fail(wac_capture *cap, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_detail(cap->id, fmt, ap);
    va_end(ap);
    return error;
}

int wac__capture_error(wac_capture *cap, int error, const char *fmt, ...)
{
    /* Before the capture is handed out, its failures are the context's. */
    uint64_t owner = atomic_load(&cap->state) == 0 ? cap->ctx->id : cap->id;
    va_list ap;
    va_start(ap, fmt);
    set_detail(owner, fmt, ap);
    va_end(ap);
    return error;
}

const char *wac_context_last_error(const wac_context *ctx)
{
    const char *detail = ctx ? wac__detail_of(ctx->id) : NULL;
    return detail ? detail : "";
}

const char *wac_capture_last_error(const wac_capture *cap)
{
    const char *detail = cap ? wac__detail_of(cap->id) : NULL;
    return detail ? detail : "";
}
