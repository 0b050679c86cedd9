/* test-wake.c — the wake-up object, both kinds: eventfd and the pipe
 * fallback. Signals coalesce into one readable state; draining clears it. */
#include "os/os.h"
#include "tap.h"
#include "wac.h"

#ifdef _WIN32
#include <windows.h>
#endif

static void exercise(int (*init)(wac__wake *))
{
    wac__wake w;
    ASSERT_OK(init(&w));
#ifdef _WIN32
    ASSERT(wac__wake_handle(&w) != NULL);
#else
    ASSERT_CMP(wac__wake_fd(&w), >=, 0);
#endif
    ASSERT_EQ(wac__wake_wait(&w, 0), 0);
    for (int i = 0; i < 1000; i++) /* never blocks, however many */
        wac__wake_signal(&w);
    ASSERT_EQ(wac__wake_wait(&w, 0), 1);
    ASSERT_EQ(wac__wake_wait(&w, 1000), 1);
    wac__wake_drain(&w);
    ASSERT_EQ(wac__wake_wait(&w, 0), 0);
    int64_t t0 = wac__now_ns();
    ASSERT_EQ(wac__wake_wait(&w, 30), 0);
    ASSERT_CMP(wac__now_ns() - t0, >=, 29000000);
    wac__wake_signal(&w);
    ASSERT_EQ(wac__wake_wait(&w, -1), 1);
    wac__wake_drain(&w);
    ASSERT_EQ(wac__wake_wait(&w, 0), 0);
    wac__wake_close(&w);
#ifdef _WIN32
    ASSERT(w.handle == NULL);
#else
    ASSERT_EQ(w.read_fd, -1);
#endif
}

#ifdef _WIN32
static void event_wake(void)
{
    exercise(wac__wake_init);
}

static void *signal_later(void *arg)
{
    wac__sleep_until(wac__now_ns() + 50000000);
    wac__wake_signal(arg);
    return NULL;
}

/* The dispatch thread's poller: add while another thread waits, remove waits
 * for the wait in progress to end. */
static void poller(void)
{
    wac__poller *p;
    ASSERT_OK(wac__poller_create(&p));
    wac__wake a, b;
    ASSERT_OK(wac__wake_init(&a));
    ASSERT_OK(wac__wake_init(&b));
    void *tags[4];
    ASSERT_EQ(wac__poller_wait(p, tags, 4, 0), 0);
    ASSERT_OK(wac__poller_add(p, &a, &a));
    ASSERT_OK(wac__poller_add(p, &b, &b));
    wac__wake_signal(&b);
    wac__wake_signal(&a);
    int n;
    do /* the first wait may only report "the set changed" */
        n = wac__poller_wait(p, tags, 4, 1000);
    while (n == 0);
    ASSERT_EQ(n, 2);
    ASSERT((tags[0] == &a && tags[1] == &b) || (tags[0] == &b && tags[1] == &a));
    wac__wake_drain(&a);
    wac__wake_drain(&b);
    wac__thread t;
    ASSERT_OK(wac__thread_start(&t, signal_later, &b));
    n = wac__poller_wait(p, tags, 4, 2000);
    ASSERT_EQ(n, 1);
    ASSERT(tags[0] == &b);
    wac__thread_join(t);
    wac__poller_remove(p, &b);
    ASSERT_EQ(wac__poller_wait(p, tags, 4, 0), 0); /* b is still signalled, but gone */
    wac__poller_remove(p, &a);
    wac__poller_destroy(p);
    wac__wake_close(&a);
    wac__wake_close(&b);
}

int main(void)
{
    RUN(event_wake);
    RUN(poller);
    return tap_done();
}
#else
static void eventfd_wake(void)
{
    exercise(wac__wake_init);
}

static void pipe_wake(void)
{
    wac__wake w;
    ASSERT_OK(wac__wake_init_pipe(&w));
    ASSERT(w.read_fd != w.write_fd);
    wac__wake_close(&w);
    exercise(wac__wake_init_pipe);
}

int main(void)
{
    RUN(eventfd_wake);
    RUN(pipe_wake);
    return tap_done();
}
#endif
