/* ext.h — what the files of pywac's extension module share: the CPython
 * limited API, libwac, the object layouts (Chunk, Context, Capture), the
 * WITHOUT_GIL rule, and the few helpers one file offers the others.
 *
 *   _wac.c      the module: errors, module functions, init (and the overview
 *               of threads, the GIL and lifetimes)
 *   chunk.c     Chunk: a buffer the module owns (buffer protocol)
 *   context.c   Context: a libwac context, sessions, devices, volume
 *   capture.c   Capture: events, callbacks, lifecycle, reads
 *   aligned.c   Aligned: several captures on one timeline
 * aligned.c uses capture.c, which uses chunk.c and context.c; all use
 * _wac.c's helpers. The one call back up: a context closing closes its
 * captures (capture_close_locked). */
#ifndef PYWAC_EXT_H
#define PYWAC_EXT_H

#define Py_LIMITED_API 0x030B0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <time.h>
#endif

#include <wac.h>

/* Events kept for events() when nobody pulls them: the core's own queue size. */
#define PENDING_EVENTS_MAX 256

extern PyObject *error_classes; /* dict: code -> exception class (set by the Python layer) */
extern PyObject *error_base;    /* pywac.Error */
extern atomic_bool shutting_down;

extern PyTypeObject *context_type, *capture_type, *chunk_type, *aligned_type;
extern PyType_Spec chunk_spec, context_spec, capture_spec, aligned_spec;

/* ---- chunks ---- */

typedef struct {
    PyObject_HEAD
    char *data;
    Py_ssize_t frames;
    Py_ssize_t shape[2];   /* frames, channels */
    Py_ssize_t strides[2];
    int channels;
    int sample; /* WAC_SAMPLE_* */
    unsigned long long position;
    long long time_ns;
    unsigned flags;
} ChunkObject;

/* ---- contexts and captures ---- */

typedef struct CaptureObject CaptureObject;

typedef struct {
    PyObject_HEAD
    PyObject *weakrefs;
    wac_context *ctx;
    CaptureObject *captures;      /* every Capture of this context (borrowed; unlinked in dealloc) */
    Py_ssize_t live;              /* captures not closed yet */
    Py_ssize_t opened;            /* captures ever opened (closed ones stay as shells) */
    int calls;                    /* threads inside a GIL-released libwac call */
    bool closed;
} ContextObject;

struct CaptureObject {
    PyObject_HEAD
    ContextObject *ctx; /* strong */
    wac_capture *cap;   /* NULL if open failed */
    CaptureObject *next, *prev;
    PyObject *callback;  /* callable or NULL */
    PyObject *events;    /* list of event tuples not yet handed out */
    unsigned long long events_dropped;
    /* An exception raised by the callback, waiting for read/stop/close. */
    PyObject *error_type, *error_value, *error_tb;
    bool callback_failed;
    bool stopped;    /* stop() succeeded, or the callback failed and we stopped it */
    bool closed;     /* close() done */
    bool dying;      /* being deallocated: trampolines must not touch it */
    bool ended;      /* the stream's end was seen (ENDED event or WAC_ERR_ENDED) */
    bool aligned;    /* an Aligned reads it: read() refuses (Busy) */
    int end_error;   /* why it ended: 0 = stopped */
    char end_detail[160];
    uint32_t chunk_frames, rate, channels;
    int sample;
};

/* Run a blocking libwac call with the GIL released, counted so that
 * Context.close() can wait for it to return. */
#define WITHOUT_GIL(ctxobj, stmt)                                                                               \
    do {                                                                                                         \
        (ctxobj)->calls++;                                                                                       \
        PyThreadState *saved_ = PyEval_SaveThread();                                                             \
        stmt;                                                                                                    \
        PyEval_RestoreThread(saved_);                                                                            \
        (ctxobj)->calls--;                                                                                       \
    } while (0)

/* wac_aligned_open's limit on captures per reader (exported as ALIGNED_MAX). */
#define ALIGNED_MAX WAC_ALIGNED_MAX_CAPTURES

/* ---- what one file offers the others ---- */

/* _wac.c */
long long now_ms(void);
void sleep_1ms(void);
bool code_speaks_for_itself(int code);
PyObject *raise_wac(int code, const char *detail);
/* chunk.c */
ChunkObject *chunk_new(Py_ssize_t frames, int channels, int sample);
void chunk_set_info(ChunkObject *chunk, Py_ssize_t frames, const wac_chunk_info *info);
Py_ssize_t sample_size(int sample);
/* context.c */
int context_check(ContextObject *c);
/* capture.c */
int capture_check(CaptureObject *self);
void capture_close_locked(CaptureObject *self);
void note_end(CaptureObject *self, const wac_event *ev);
int pull_events(CaptureObject *self);

#endif
