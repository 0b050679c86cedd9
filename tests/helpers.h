/* helpers.h — shared pieces of the core tests: opening dummy captures and
 * decoding the dummy's frame counter. */
#ifndef WAC_TEST_HELPERS_H
#define WAC_TEST_HELPERS_H

#include <math.h>
#include <time.h>

#include "tap.h"
#include "wac.h"

static inline wac_context *open_dummy(void)
{
    wac_context *ctx = NULL;
    char detail[256];
    int rc = wac_context_open("dummy", &ctx, detail, sizeof detail);
    if (rc)
        FAIL("dummy context: %s (%s)", wac_strerror(rc), detail);
    return ctx;
}

/* A 16 kHz mono float capture of the whole "system" (the dummy's player). */
static inline wac_capture_config speech_config(void)
{
    wac_capture_config c;
    wac_capture_config_init(&c);
    c.format.rate = 16000;
    c.format.channels = 1;
    c.format.sample = WAC_SAMPLE_F32;
    return c;
}

static inline wac_capture *open_capture(wac_context *ctx, const wac_capture_config *c)
{
    wac_capture *cap = NULL;
    int rc = wac_capture_open(ctx, c, &cap);
    if (rc)
        FAIL("capture open: %s (%s)", wac_strerror(rc), wac_context_last_error(ctx));
    return cap;
}

static inline wac_capture *open_started(wac_context *ctx, const wac_capture_config *c)
{
    wac_capture *cap = open_capture(ctx, c);
    int rc = wac_capture_start(cap);
    if (rc)
        FAIL("capture start: %s (%s)", wac_strerror(rc), wac_capture_last_error(cap));
    return cap;
}

/* The dummy's counter from a float sample: n mod (2^24 - 1), or -1 for silence. */
static inline long long counter_of(float sample)
{
    if (sample == 0.0f)
        return -1;
    return (long long)lrintf(sample * (float)(1u << 24)) - 1;
}

#ifdef _WIN32
/* POSIX names the tests use. Tests run in-process on Windows: a test that
 * sets a variable must unset it. */
#define getpid() ((int)GetCurrentProcessId())
#define setenv(name, value, overwrite) _putenv_s(name, value)
#define unsetenv(name) _putenv_s(name, "")

static inline int64_t now_ms(void)
{
    LARGE_INTEGER t, f;
    QueryPerformanceCounter(&t);
    QueryPerformanceFrequency(&f);
    return t.QuadPart / f.QuadPart * 1000 + t.QuadPart % f.QuadPart * 1000 / f.QuadPart;
}

static inline void sleep_ms(int ms)
{
    Sleep((DWORD)ms);
}

/* What a capture's readiness is waited on with: a HANDLE here, an fd elsewhere. */
typedef void *waitable;

static inline waitable capture_waitable(wac_capture *cap)
{
    void *h = NULL;
    int rc = wac_capture_event_handle(cap, &h);
    if (rc)
        FAIL("wac_capture_event_handle: %s", wac_strerror(rc));
    return h;
}

/* 1 when ready, 0 on timeout. */
static inline int wait_ready(waitable w, int timeout_ms)
{
    DWORD r = WaitForSingleObject(w, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
    return r == WAIT_OBJECT_0 ? 1 : r == WAIT_TIMEOUT ? 0 : -1;
}
#else
#include <poll.h>

static inline int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

typedef int waitable;

static inline waitable capture_waitable(wac_capture *cap)
{
    int fd = wac_capture_fd(cap);
    if (fd < 0)
        FAIL("wac_capture_fd: %s", wac_strerror(fd));
    return fd;
}

static inline int wait_ready(waitable fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, timeout_ms);
}
#endif

#endif
