/* test-wake.c — the wake-up object, both kinds: eventfd and the pipe
 * fallback. Signals coalesce into one readable state; draining clears it. */
#include "os/os.h"
#include "tap.h"
#include "wac.h"

static void exercise(int (*init)(wac__wake *))
{
    wac__wake w;
    ASSERT_OK(init(&w));
    ASSERT_CMP(wac__wake_fd(&w), >=, 0);
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
    ASSERT_EQ(w.read_fd, -1);
}

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
