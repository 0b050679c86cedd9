/* os.h — the few operating-system services the core needs: a monotonic clock,
 * wake-up objects, threads and locks, a poller for the dispatch thread, and
 * process facts. One implementation per platform in src/os/. */
#ifndef WAC_OS_H
#define WAC_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic time in nanoseconds (CLOCK_MONOTONIC). RT-safe. */
int64_t wac__now_ns(void);
/* Sleep until an absolute monotonic time. */
void wac__sleep_until(int64_t deadline_ns);
/* This process's id. */
uint32_t wac__process_self(void);

/* A wake-up object: level-triggered, "readable" until drained. On Linux an
 * eventfd where the kernel has one, else a pipe; on Windows a manual-reset
 * event HANDLE. Signals coalesce; the caller (see stream.c) keeps an atomic
 * "pending" flag so that only the 0->1 edge reaches the kernel. */
#ifdef _WIN32
typedef struct wac__wake {
    void *handle; /* HANDLE of a manual-reset event; NULL when none */
} wac__wake;
#else
typedef struct wac__wake {
    int read_fd;
    int write_fd; /* == read_fd for an eventfd */
} wac__wake;
#endif

int wac__wake_init(wac__wake *wake);
/* Mark as "no object yet", so that wac__wake_close() is a no-op. */
void wac__wake_init_none(wac__wake *wake);
#ifndef _WIN32
/* The fallback, always a pipe (exposed so the tests can exercise it). */
int wac__wake_init_pipe(wac__wake *wake);
#endif
void wac__wake_close(wac__wake *wake);
/* Make the descriptor readable. RT-safe: one write(2) or SetEvent, never blocks. */
void wac__wake_signal(wac__wake *wake);
/* Make it unreadable again. */
void wac__wake_drain(wac__wake *wake);
/* Wait until readable: 1 when readable, 0 on timeout, WAC_ERR_INTERRUPTED on a
 * signal. timeout_ms < 0 waits forever. */
int wac__wake_wait(wac__wake *wake, int timeout_ms);
#ifdef _WIN32
/* The event HANDLE (for WaitForSingleObject / WaitForMultipleObjects). */
void *wac__wake_handle(const wac__wake *wake);
#else
int wac__wake_fd(const wac__wake *wake);
#endif

/* Threads and locks: thin names over pthreads (Windows: SRW locks, condition
 * variables and native threads, so no pthreads emulation is needed and MSVC
 * builds it) so the rest reads the same on every platform. */
#ifdef _WIN32
typedef struct wac__mutex {
    void *srw; /* an SRWLOCK (one pointer, SRWLOCK_INIT is all zero) */
} wac__mutex;
typedef struct wac__cond {
    void *cv; /* a CONDITION_VARIABLE (one pointer, all zero initially) */
} wac__cond;
typedef struct wac__thread {
    void *handle;  /* HANDLE */
    unsigned long id; /* DWORD thread id */
} wac__thread;
#else
#include <pthread.h>
typedef pthread_mutex_t wac__mutex;
typedef pthread_cond_t wac__cond;
typedef pthread_t wac__thread;
#endif

/* Threads created between these two calls (ours, and the engines' own: a
 * libpipewire loop or data thread, libpulse's main loop) take none of the
 * host's signals: Python's SIGINT must reach its main thread, a CLI handles
 * them in its loop. block saves the caller's mask into *saved; restore puts
 * it back. No-ops on Windows, which has no per-thread signal masks. */
#ifdef _WIN32
typedef struct wac__signal_mask {
    int unused;
} wac__signal_mask;
#else
#include <signal.h>
typedef struct wac__signal_mask {
    sigset_t set;
} wac__signal_mask;
#endif
void wac__signals_block(wac__signal_mask *saved);
void wac__signals_restore(const wac__signal_mask *saved);

int wac__mutex_init(wac__mutex *m);
void wac__mutex_destroy(wac__mutex *m);
void wac__mutex_lock(wac__mutex *m);
void wac__mutex_unlock(wac__mutex *m);
int wac__cond_init(wac__cond *c);
void wac__cond_destroy(wac__cond *c);
void wac__cond_wait(wac__cond *c, wac__mutex *m);
/* Wait until signalled or until the absolute monotonic deadline: 0, or 1 on timeout. */
int wac__cond_wait_until(wac__cond *c, wac__mutex *m, int64_t deadline_ns);
void wac__cond_broadcast(wac__cond *c);
int wac__thread_start(wac__thread *t, void *(*fn)(void *), void *arg);
void wac__thread_join(wac__thread t);
bool wac__thread_is_current(wac__thread t);

/* The dispatch thread's poller: waits on many wake-up objects at once (epoll;
 * on Windows WaitForMultipleObjects, at most 63 objects). add and remove may be
 * called from other threads while one thread waits; when remove returns, the
 * waiting thread no longer waits on that object (it may still return its tag
 * from a wait that had already ended), so the object may then be closed. */
typedef struct wac__poller wac__poller;
int wac__poller_create(wac__poller **out);
void wac__poller_destroy(wac__poller *p);
int wac__poller_add(wac__poller *p, const wac__wake *wake, void *tag);
void wac__poller_remove(wac__poller *p, const wac__wake *wake);
/* Fills up to max tags of ready descriptors; returns their count, 0 on timeout,
 * or a negative wac_error. */
int wac__poller_wait(wac__poller *p, void **tags, int max, int timeout_ms);

/* Processes. */
bool wac__process_exists(uint32_t pid);

#endif
