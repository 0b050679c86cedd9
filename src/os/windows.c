/* windows.c — src/os/os.h for Windows: QueryPerformanceCounter, manual-reset
 * events as wake-ups, SRW locks and condition variables, native threads, and a
 * WaitForMultipleObjects poller. Plain Win32 (no pthreads emulation), so the
 * same file builds with mingw-w64 and MSVC. */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <process.h>
#include <stdlib.h>

#include "os.h"
#include "alloc.h"
#include "wac.h"

_Static_assert(sizeof(SRWLOCK) == sizeof(void *), "wac__mutex holds one SRWLOCK");
_Static_assert(sizeof(CONDITION_VARIABLE) == sizeof(void *), "wac__cond holds one CONDITION_VARIABLE");

/* ---- clock ------------------------------------------------------------------ */

static int64_t qpc_frequency(void)
{
    /* Fixed at boot; reading it is cheap but caching it keeps wac__now_ns to
     * one system call. A benign race: every thread computes the same value. */
    static volatile LONGLONG freq;
    LONGLONG f = freq;
    if (f == 0) {
        LARGE_INTEGER li;
        QueryPerformanceFrequency(&li);
        f = li.QuadPart;
        freq = f;
    }
    return f;
}

int64_t wac__now_ns(void)
{
    LARGE_INTEGER li;
    QueryPerformanceCounter(&li);
    int64_t f = qpc_frequency();
    int64_t t = li.QuadPart;
    /* Split so that t * 1e9 cannot overflow. */
    return t / f * 1000000000 + t % f * 1000000000 / f;
}

void wac__sleep_until(int64_t deadline_ns)
{
    for (;;) {
        int64_t left = deadline_ns - wac__now_ns();
        if (left <= 0)
            return;
        DWORD ms = (DWORD)((left + 999999) / 1000000);
        Sleep(ms);
    }
}

uint32_t wac__process_self(void)
{
    return (uint32_t)GetCurrentProcessId();
}

/* ---- wake-ups: manual-reset events ------------------------------------------ */

int wac__wake_init(wac__wake *wake)
{
    HANDLE h = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!h) {
        wake->handle = NULL;
        return GetLastError() == ERROR_NOT_ENOUGH_MEMORY ? WAC_ERR_NO_MEMORY : WAC_ERR_SYSTEM;
    }
    wake->handle = h;
    return 0;
}

void wac__wake_init_none(wac__wake *wake)
{
    wake->handle = NULL;
}

void wac__wake_close(wac__wake *wake)
{
    if (wake->handle)
        CloseHandle(wake->handle);
    wake->handle = NULL;
}

void wac__wake_signal(wac__wake *wake)
{
    SetEvent(wake->handle);
}

void wac__wake_drain(wac__wake *wake)
{
    ResetEvent(wake->handle);
}

int wac__wake_wait(wac__wake *wake, int timeout_ms)
{
    DWORD r = WaitForSingleObject(wake->handle, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
    if (r == WAIT_OBJECT_0)
        return 1;
    if (r == WAIT_TIMEOUT)
        return 0;
    return WAC_ERR_SYSTEM;
}

void *wac__wake_handle(const wac__wake *wake)
{
    return wake->handle;
}

/* ---- locks and threads -------------------------------------------------------- */

int wac__mutex_init(wac__mutex *m)
{
    InitializeSRWLock((PSRWLOCK)&m->srw);
    return 0;
}
void wac__mutex_destroy(wac__mutex *m)
{
    (void)m; /* SRW locks own no resources */
}
void wac__mutex_lock(wac__mutex *m)
{
    AcquireSRWLockExclusive((PSRWLOCK)&m->srw);
}
void wac__mutex_unlock(wac__mutex *m)
{
    ReleaseSRWLockExclusive((PSRWLOCK)&m->srw);
}

int wac__cond_init(wac__cond *c)
{
    InitializeConditionVariable((PCONDITION_VARIABLE)&c->cv);
    return 0;
}
void wac__cond_destroy(wac__cond *c)
{
    (void)c;
}
void wac__cond_wait(wac__cond *c, wac__mutex *m)
{
    SleepConditionVariableSRW((PCONDITION_VARIABLE)&c->cv, (PSRWLOCK)&m->srw, INFINITE, 0);
}
int wac__cond_wait_until(wac__cond *c, wac__mutex *m, int64_t deadline_ns)
{
    int64_t left = deadline_ns - wac__now_ns();
    if (left <= 0)
        return 1;
    DWORD ms = left / 1000000 >= INFINITE ? INFINITE - 1 : (DWORD)((left + 999999) / 1000000);
    if (SleepConditionVariableSRW((PCONDITION_VARIABLE)&c->cv, (PSRWLOCK)&m->srw, ms, 0))
        return 0;
    return GetLastError() == ERROR_TIMEOUT ? 1 : 0;
}
void wac__cond_broadcast(wac__cond *c)
{
    WakeAllConditionVariable((PCONDITION_VARIABLE)&c->cv);
}

struct thread_start {
    void *(*fn)(void *);
    void *arg;
};

static unsigned __stdcall thread_main(void *p)
{
    struct thread_start s = *(struct thread_start *)p;
    wac__free(p);
    s.fn(s.arg);
    return 0;
}

void wac__signals_block(wac__signal_mask *saved)
{
    (void)saved;
}

void wac__signals_restore(const wac__signal_mask *saved)
{
    (void)saved;
}

int wac__thread_start(wac__thread *t, void *(*fn)(void *), void *arg)
{
    struct thread_start *s = wac__malloc(sizeof *s);
    if (!s)
        return WAC_ERR_NO_MEMORY;
    s->fn = fn;
    s->arg = arg;
    unsigned id = 0;
    uintptr_t h = _beginthreadex(NULL, 0, thread_main, s, 0, &id);
    if (h == 0) {
        wac__free(s);
        return WAC_ERR_SYSTEM;
    }
    t->handle = (void *)h;
    t->id = id;
    return 0;
}
void wac__thread_join(wac__thread t)
{
    WaitForSingleObject(t.handle, INFINITE);
    CloseHandle(t.handle);
}
bool wac__thread_is_current(wac__thread t)
{
    return GetCurrentThreadId() == t.id;
}

/* ---- the poller ------------------------------------------------------------------
 * WaitForMultipleObjects on a snapshot of the registered events plus the
 * poller's own auto-reset "changed" event. add/remove set "changed" so the
 * waiter takes a new snapshot; remove also waits until the wait in progress
 * (if any) has ended, because closing a handle that a wait is blocked on is
 * undefined. */

#define POLLER_MAX (MAXIMUM_WAIT_OBJECTS - 1)

struct wac__poller {
    SRWLOCK lock;
    CONDITION_VARIABLE idle;
    HANDLE changed;
    HANDLE handles[POLLER_MAX];
    void *tags[POLLER_MAX];
    int count;
    bool waiting;      /* a thread is inside WaitForMultipleObjects */
    uint64_t wait_seq; /* counts waits begun */
};

int wac__poller_create(wac__poller **out)
{
    wac__poller *p = wac__calloc(1, sizeof *p);
    if (!p)
        return WAC_ERR_NO_MEMORY;
    InitializeSRWLock(&p->lock);
    InitializeConditionVariable(&p->idle);
    p->changed = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (!p->changed) {
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
    CloseHandle(p->changed);
    wac__free(p);
}

int wac__poller_add(wac__poller *p, const wac__wake *wake, void *tag)
{
    int rc = 0;
    AcquireSRWLockExclusive(&p->lock);
    if (p->count == POLLER_MAX) {
        rc = WAC_ERR_SYSTEM; /* WaitForMultipleObjects' limit */
    } else {
        p->handles[p->count] = wake->handle;
        p->tags[p->count] = tag;
        p->count++;
        SetEvent(p->changed);
    }
    ReleaseSRWLockExclusive(&p->lock);
    return rc;
}

void wac__poller_remove(wac__poller *p, const wac__wake *wake)
{
    AcquireSRWLockExclusive(&p->lock);
    for (int i = 0; i < p->count; i++) {
        if (p->handles[i] == wake->handle) {
            p->count--;
            p->handles[i] = p->handles[p->count];
            p->tags[i] = p->tags[p->count];
            break;
        }
    }
    if (p->waiting) {
        /* Wait for the wait that may hold the handle to end (not for later
         * ones: they took a snapshot without it). */
        uint64_t seq = p->wait_seq;
        SetEvent(p->changed);
        while (p->waiting && p->wait_seq == seq)
            SleepConditionVariableSRW(&p->idle, &p->lock, INFINITE, 0);
    }
    ReleaseSRWLockExclusive(&p->lock);
}

int wac__poller_wait(wac__poller *p, void **tags, int max, int timeout_ms)
{
    HANDLE handles[MAXIMUM_WAIT_OBJECTS];
    void *snap_tags[MAXIMUM_WAIT_OBJECTS];
    AcquireSRWLockExclusive(&p->lock);
    int n = p->count;
    handles[0] = p->changed;
    snap_tags[0] = NULL;
    for (int i = 0; i < n; i++) {
        handles[i + 1] = p->handles[i];
        snap_tags[i + 1] = p->tags[i];
    }
    p->waiting = true;
    p->wait_seq++;
    ReleaseSRWLockExclusive(&p->lock);

    DWORD r = WaitForMultipleObjects((DWORD)n + 1, handles, FALSE, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
    int found = 0;
    if (r < WAIT_OBJECT_0 + (DWORD)n + 1) {
        /* The lowest signalled index is r; the others may be signalled too:
         * collect every ready one (the events are manual-reset, so testing
         * them consumes nothing). */
        for (int i = (int)(r - WAIT_OBJECT_0); i <= n && found < max; i++) {
            if (i == 0)
                continue; /* "changed" (auto-reset, now consumed): take a new snapshot next time */
            if (i == (int)(r - WAIT_OBJECT_0) || WaitForSingleObject(handles[i], 0) == WAIT_OBJECT_0)
                tags[found++] = snap_tags[i];
        }
    }

    AcquireSRWLockExclusive(&p->lock);
    p->waiting = false;
    ReleaseSRWLockExclusive(&p->lock);
    WakeAllConditionVariable(&p->idle);
    if (r == WAIT_FAILED)
        return WAC_ERR_SYSTEM;
    return found;
}

/* ---- processes ---------------------------------------------------------------- */

bool wac__process_exists(uint32_t pid)
{
    if (pid == 0)
        return false;
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, pid);
    if (!h) {
        /* Access denied means it exists but belongs to someone else (or is
         * protected): still a valid target. */
        return GetLastError() == ERROR_ACCESS_DENIED;
    }
    /* A handle can outlive the process: ask whether it has exited. */
    bool alive = WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
    CloseHandle(h);
    return alive;
}
