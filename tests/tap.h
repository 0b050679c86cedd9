/* tap.h — a small TAP test harness: each test runs in its own process with a
 * timeout (WAC_TEST_NOFORK=1 runs them in-process, for a debugger), and short
 * assertion macros that say what differed. Windows has no fork: there every
 * test runs in-process, a watchdog thread enforces the timeout, and the first
 * failure ends the program after its "not ok" line (the plan is then missing,
 * so the run fails). */
#ifndef WAC_TAP_H
#define WAC_TAP_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <sys/wait.h>
#include <unistd.h>
#endif

static int tap__count;
static int tap__failed;
static const char *tap__current; /* the test running in-process, if any */
static const char *tap__running; /* the test running, in-process or forked */

static inline void tap__fail_exit(void)
{
    if (tap__current)
        printf("not ok %d - %s\n", tap__count, tap__current);
    fflush(stdout);
    exit(1);
}

/* The message goes to stdout (TAP) and to stderr, which is what meson's
 * --print-errorlogs shows of a failed test in a CI log. */
#define FAIL(...)                                                   \
    do {                                                            \
        printf("# %s:%d: ", __FILE__, __LINE__);                    \
        printf(__VA_ARGS__);                                        \
        printf("\n");                                               \
        fflush(stdout);                                             \
        fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__,          \
                tap__running ? tap__running : "test");              \
        fprintf(stderr, __VA_ARGS__);                               \
        fprintf(stderr, "\n");                                      \
        tap__fail_exit();                                           \
    } while (0)

#define ASSERT(cond)                          \
    do {                                      \
        if (!(cond))                          \
            FAIL("assertion failed: %s", #cond); \
    } while (0)

#define ASSERT_EQ(a, b)                                                                           \
    do {                                                                                          \
        long long tap__a = (long long)(a), tap__b = (long long)(b);                               \
        if (tap__a != tap__b)                                                                     \
            FAIL("%s == %s: %lld != %lld", #a, #b, tap__a, tap__b);                               \
    } while (0)

#define ASSERT_CMP(a, op, b)                                                                      \
    do {                                                                                          \
        long long tap__a = (long long)(a), tap__b = (long long)(b);                               \
        if (!(tap__a op tap__b))                                                                  \
            FAIL("%s %s %s: %lld vs %lld", #a, #op, #b, tap__a, tap__b);                          \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                                       \
    do {                                                                                          \
        const char *tap__a = (a), *tap__b = (b);                                                  \
        if (strcmp(tap__a, tap__b) != 0)                                                          \
            FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, tap__a, tap__b);                             \
    } while (0)

/* A libwac call that must return `expected` (a wac_error). */
#define ASSERT_RC(call, expected)                                                              \
    do {                                                                                       \
        int tap__rc = (call);                                                                  \
        if (tap__rc != (expected))                                                             \
            FAIL("%s returned %d (%s), expected %s", #call, tap__rc, wac_error_name(tap__rc), #expected); \
    } while (0)

#define ASSERT_OK(call) ASSERT_RC(call, 0)

#ifdef _WIN32
struct tap__watchdog {
    HANDLE done;
    DWORD timeout_ms;
    const char *name;
    int number;
};

static DWORD WINAPI tap__watch(void *arg)
{
    struct tap__watchdog *w = arg;
    if (WaitForSingleObject(w->done, w->timeout_ms) == WAIT_TIMEOUT) {
        printf("not ok %d - %s # timeout after %lu s\n", w->number, w->name, (unsigned long)(w->timeout_ms / 1000));
        fflush(stdout);
        TerminateProcess(GetCurrentProcess(), 1);
    }
    return 0;
}

/* In-process, under a watchdog. */
static inline void tap__run_here(const char *name, void (*fn)(void), unsigned timeout_s)
{
    struct tap__watchdog w = {CreateEventW(NULL, TRUE, FALSE, NULL), timeout_s * 1000u, name, tap__count};
    HANDLE t = w.done ? CreateThread(NULL, 0, tap__watch, &w, 0, NULL) : NULL;
    tap__current = name;
    fn();
    tap__current = NULL;
    if (t) {
        SetEvent(w.done);
        WaitForSingleObject(t, INFINITE);
        CloseHandle(t);
    }
    if (w.done)
        CloseHandle(w.done);
    printf("ok %d - %s\n", tap__count, name);
    fflush(stdout);
}
#endif

static inline void tap_run(const char *name, void (*fn)(void), unsigned timeout_s)
{
    tap__count++;
    tap__running = name;
    fflush(stdout);
    const char *nofork = getenv("WAC_TEST_NOFORK");
    const char *only = getenv("WAC_TEST_ONLY");
    if (only && strcmp(only, name) != 0) {
        printf("ok %d - %s # SKIP not selected by WAC_TEST_ONLY\n", tap__count, name);
        return;
    }
#ifdef _WIN32
    (void)nofork;
    tap__run_here(name, fn, timeout_s);
#else
    if (nofork && nofork[0] == '1') {
        tap__current = name;
        fn();
        tap__current = NULL;
        printf("ok %d - %s\n", tap__count, name);
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        printf("not ok %d - %s # fork failed\n", tap__count, name);
        tap__failed++;
        return;
    }
    if (pid == 0) {
        alarm(timeout_s);
        fn();
        fflush(stdout);
        exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("ok %d - %s\n", tap__count, name);
    } else {
        tap__failed++;
        if (WIFSIGNALED(status))
            printf("not ok %d - %s # killed by signal %d%s\n", tap__count, name, WTERMSIG(status),
                   WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
        else
            printf("not ok %d - %s\n", tap__count, name);
    }
    fflush(stdout);
#endif
}

#define RUN(fn) tap_run(#fn, fn, 60)
#define RUN_T(fn, seconds) tap_run(#fn, fn, seconds)

static inline int tap_done(void)
{
    printf("1..%d\n", tap__count);
    return tap__failed ? 1 : 0;
}

#endif
