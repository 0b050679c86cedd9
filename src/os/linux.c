/* linux.c — src/os/os.h for Linux: eventfd (pipe fallback), epoll, /proc. */
#include "os.h"
#include "alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "wac.h"

int64_t wac__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void wac__sleep_until(int64_t deadline_ns)
{
    struct timespec ts = {.tv_sec = deadline_ns / 1000000000, .tv_nsec = deadline_ns % 1000000000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

uint32_t wac__process_self(void)
{
    return (uint32_t)getpid();
}

int wac__wake_init(wac__wake *wake)
{
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd >= 0) {
        wake->read_fd = wake->write_fd = fd;
        return 0;
    }
    /* Kernels or sandboxes without eventfd: a non-blocking pipe does the same job. */
    return wac__wake_init_pipe(wake);
}

void wac__wake_init_none(wac__wake *wake)
{
    wake->read_fd = wake->write_fd = -1;
}

int wac__wake_init_pipe(wac__wake *wake)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
        return errno == ENOMEM ? WAC_ERR_NO_MEMORY : WAC_ERR_SYSTEM;
    wake->read_fd = fds[0];
    wake->write_fd = fds[1];
    return 0;
}

void wac__wake_close(wac__wake *wake)
{
    if (wake->read_fd >= 0)
        close(wake->read_fd);
    if (wake->write_fd >= 0 && wake->write_fd != wake->read_fd)
        close(wake->write_fd);
    wake->read_fd = wake->write_fd = -1;
}

void wac__wake_signal(wac__wake *wake)
{
    uint64_t one = 1;
    ssize_t r;
    /* EAGAIN means it is already readable: nothing to do. */
    do
        r = write(wake->write_fd, &one, wake->read_fd == wake->write_fd ? sizeof one : 1);
    while (r < 0 && errno == EINTR);
}

void wac__wake_drain(wac__wake *wake)
{
    uint64_t buf[8];
    ssize_t r;
    do
        r = read(wake->read_fd, buf, wake->read_fd == wake->write_fd ? sizeof(uint64_t) : sizeof buf);
    while (r > 0 ? wake->read_fd != wake->write_fd : (r < 0 && errno == EINTR));
}

int wac__wake_wait(wac__wake *wake, int timeout_ms)
{
    struct pollfd pfd = {.fd = wake->read_fd, .events = POLLIN};
    int r = poll(&pfd, 1, timeout_ms < 0 ? -1 : timeout_ms);
    if (r > 0)
        return 1;
    if (r == 0)
        return 0;
    return errno == EINTR ? WAC_ERR_INTERRUPTED : WAC_ERR_SYSTEM;
}

int wac__wake_fd(const wac__wake *wake)
{
    return wake->read_fd;
}

int wac__mutex_init(wac__mutex *m)
{
    return pthread_mutex_init(m, NULL) == 0 ? 0 : WAC_ERR_SYSTEM;
}
void wac__mutex_destroy(wac__mutex *m)
{
    pthread_mutex_destroy(m);
}
void wac__mutex_lock(wac__mutex *m)
{
    pthread_mutex_lock(m);
}
void wac__mutex_unlock(wac__mutex *m)
{
    pthread_mutex_unlock(m);
}

int wac__cond_init(wac__cond *c)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return WAC_ERR_SYSTEM;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int r = pthread_cond_init(c, &attr);
    pthread_condattr_destroy(&attr);
    return r == 0 ? 0 : WAC_ERR_SYSTEM;
}
void wac__cond_destroy(wac__cond *c)
{
    pthread_cond_destroy(c);
}
void wac__cond_wait(wac__cond *c, wac__mutex *m)
{
    pthread_cond_wait(c, m);
}
int wac__cond_wait_until(wac__cond *c, wac__mutex *m, int64_t deadline_ns)
{
    struct timespec ts = {.tv_sec = deadline_ns / 1000000000, .tv_nsec = deadline_ns % 1000000000};
    return pthread_cond_timedwait(c, m, &ts) == ETIMEDOUT ? 1 : 0;
}
void wac__cond_broadcast(wac__cond *c)
{
    pthread_cond_broadcast(c);
}

void wac__signals_block(wac__signal_mask *saved)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved->set);
}

void wac__signals_restore(const wac__signal_mask *saved)
{
    pthread_sigmask(SIG_SETMASK, &saved->set, NULL);
}

int wac__thread_start(wac__thread *t, void *(*fn)(void *), void *arg)
{
    wac__signal_mask saved;
    wac__signals_block(&saved);
    int r = pthread_create(t, NULL, fn, arg);
    wac__signals_restore(&saved);
    return r == 0 ? 0 : (r == EAGAIN ? WAC_ERR_NO_MEMORY : WAC_ERR_SYSTEM);
}
void wac__thread_join(wac__thread t)
{
    pthread_join(t, NULL);
}
bool wac__thread_is_current(wac__thread t)
{
    return pthread_equal(t, pthread_self()) != 0;
}

struct wac__poller {
    int epfd;
};

int wac__poller_create(wac__poller **out)
{
    wac__poller *p = wac__calloc(1, sizeof *p);
    if (!p)
        return WAC_ERR_NO_MEMORY;
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (p->epfd < 0) {
        wac__free(p);
        return WAC_ERR_SYSTEM;
    }
    *out = p;
    return 0;
}
void wac__poller_destroy(wac__poller *p)
{
    if (!p)
        return;
    close(p->epfd);
    wac__free(p);
}
int wac__poller_add(wac__poller *p, const wac__wake *wake, void *tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};
    return epoll_ctl(p->epfd, EPOLL_CTL_ADD, wake->read_fd, &ev) == 0 ? 0 : WAC_ERR_SYSTEM;
}
void wac__poller_remove(wac__poller *p, const wac__wake *wake)
{
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, wake->read_fd, NULL);
}
int wac__poller_wait(wac__poller *p, void **tags, int max, int timeout_ms)
{
    struct epoll_event evs[32];
    if (max > 32)
        max = 32;
    int n;
    do
        n = epoll_wait(p->epfd, evs, max, timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return WAC_ERR_SYSTEM;
    for (int i = 0; i < n; i++)
        tags[i] = evs[i].data.ptr;
    return n;
}

bool wac__process_exists(uint32_t pid)
{
    if (pid == 0 || pid > INT32_MAX)
        return false;
    /* EPERM means it exists but belongs to someone else: still a valid target. */
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}
