/* tap.h — a small TAP test harness: each test runs in its own process with a
 * timeout (WAC_TEST_NOFORK=1 runs them in-process, for a debugger), and short
 * assertion macros that say what differed. */
#ifndef WAC_TAP_H
#define WAC_TAP_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int tap__count;
static int tap__failed;

#define FAIL(...)                                                   \
    do {                                                            \
        printf("# %s:%d: ", __FILE__, __LINE__);                    \
        printf(__VA_ARGS__);                                        \
        printf("\n");                                               \
        fflush(stdout);                                             \
        exit(1);                                                    \
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

/* A libwac call that must return `expected` (a wac_error). */
#define ASSERT_RC(call, expected)                                                              \
    do {                                                                                       \
        int tap__rc = (call);                                                                  \
        if (tap__rc != (expected))                                                             \
            FAIL("%s returned %d (%s), expected %s", #call, tap__rc, wac_error_name(tap__rc), #expected); \
    } while (0)

#define ASSERT_OK(call) ASSERT_RC(call, 0)

static void tap_run(const char *name, void (*fn)(void), unsigned timeout_s)
{
    tap__count++;
    fflush(stdout);
    const char *nofork = getenv("WAC_TEST_NOFORK");
    const char *only = getenv("WAC_TEST_ONLY");
    if (only && strcmp(only, name) != 0) {
        printf("ok %d - %s # SKIP not selected by WAC_TEST_ONLY\n", tap__count, name);
        return;
    }
    if (nofork && nofork[0] == '1') {
        fn();
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
}

#define RUN(fn) tap_run(#fn, fn, 60)
#define RUN_T(fn, seconds) tap_run(#fn, fn, seconds)

static inline int tap_done(void)
{
    printf("1..%d\n", tap__count);
    return tap__failed ? 1 : 0;
}

#endif
