/* _wac.c — pywac's extension module: libwac's contexts, captures and chunks as
 * Python objects. The Python layer (pywac/_capture.py) builds the public API
 * on top; this file owns everything that touches threads, the GIL and memory.
 *
 * Built for the stable ABI of CPython 3.11+ (the first limited API with the
 * buffer protocol for heap types), so one binary serves later versions too.
 *
 * Threads and the GIL
 * -------------------
 * - Every libwac call that can block (open, start, stop, close, read, session
 *   listing) runs with the GIL released. close must: a callback in progress
 *   may be waiting for the GIL, and close waits for that callback.
 * - Callbacks run on the context's dispatch thread (never an audio thread);
 *   the trampolines take the GIL there with PyGILState_Ensure.
 * - After the interpreter starts shutting down (pywac's atexit hook calls
 *   _shutdown()), trampolines return without touching Python: a thread taking
 *   the GIL during finalisation would be stopped dead inside libwac.
 *
 * Lifetimes
 * ---------
 * A Capture holds a strong reference to its Context, so a libwac capture
 * handle (valid until its context is closed) is valid whenever a Capture
 * method runs. Context.close() (explicit, or at exit) first closes every
 * capture, then waits until no thread is inside a GIL-released libwac call on
 * it, then closes the libwac context; later calls raise pywac.Closed.
 */
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

/* The two things this file needs from the platform. */
static void sleep_1ms(void)
{
#ifdef _WIN32
    Sleep(1);
#else
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
#endif
}

static long long now_ms(void)
{
#ifdef _WIN32
    return (long long)GetTickCount64();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#endif
}

/* Events kept for events() when nobody pulls them: the core's own queue size. */
#define PENDING_EVENTS_MAX 256

static PyObject *error_classes; /* dict: code -> exception class (set by the Python layer) */
static PyObject *error_base;    /* pywac.Error */
static atomic_bool shutting_down;

static PyTypeObject *context_type, *capture_type, *chunk_type, *aligned_type;

/* ---- errors ---------------------------------------------------------------- */

/* Raise the exception class registered for `code` with the detail message. */
static PyObject *raise_wac(int code, const char *detail)
{
    PyObject *cls = NULL;
    if (error_classes) {
        PyObject *key = PyLong_FromLong(code);
        if (!key)
            return NULL;
        cls = PyDict_GetItemWithError(error_classes, key); /* borrowed */
        Py_DECREF(key);
        if (!cls && PyErr_Occurred())
            return NULL;
    }
    if (!cls)
        cls = error_base;
    if (!cls) {
        PyErr_Format(PyExc_RuntimeError, "%s (%s): %s", wac_strerror(code), wac_error_name(code),
                     detail ? detail : "");
        return NULL;
    }
    PyObject *exc = PyObject_CallFunction(cls, "is", code, detail ? detail : "");
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

/* Codes whose meaning is complete without a detail; the handle's detail
 * string may be left over from an earlier failure then. */
static bool code_speaks_for_itself(int code)
{
    return code == WAC_ERR_CLOSED || code == WAC_ERR_TIMEOUT || code == WAC_ERR_ENDED ||
           code == WAC_ERR_INTERRUPTED;
}

/* ---- chunks: a buffer the module owns ------------------------------------ */

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

static Py_ssize_t sample_size(int sample)
{
    return sample == WAC_SAMPLE_S16 ? 2 : 4;
}

static ChunkObject *chunk_new(Py_ssize_t frames, int channels, int sample)
{
    allocfunc alloc = (allocfunc)PyType_GetSlot(chunk_type, Py_tp_alloc);
    ChunkObject *chunk = (ChunkObject *)alloc(chunk_type, 0);
    if (!chunk)
        return NULL;
    chunk->data = PyMem_Malloc((size_t)(frames * channels * sample_size(sample)));
    if (!chunk->data) {
        Py_DECREF(chunk);
        return (ChunkObject *)PyErr_NoMemory();
    }
    chunk->channels = channels;
    chunk->sample = sample;
    chunk->frames = frames;
    return chunk;
}

static void chunk_set_info(ChunkObject *chunk, Py_ssize_t frames, const wac_chunk_info *info)
{
    chunk->frames = frames;
    chunk->shape[0] = frames;
    chunk->shape[1] = chunk->channels;
    chunk->strides[1] = sample_size(chunk->sample);
    chunk->strides[0] = chunk->strides[1] * chunk->channels;
    chunk->position = info->position;
    chunk->time_ns = info->time_ns;
    chunk->flags = info->flags;
}

static void chunk_dealloc(PyObject *self)
{
    ChunkObject *chunk = (ChunkObject *)self;
    PyTypeObject *tp = Py_TYPE(self);
    PyMem_Free(chunk->data);
    freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    tp_free(self);
    Py_DECREF(tp);
}

/* The samples, interleaved: 1-D (frames) for mono, 2-D (frames, channels)
 * otherwise, format "f" or "h", writable (the consumer owns the chunk). */
static int chunk_getbuffer(PyObject *self, Py_buffer *view, int flags)
{
    ChunkObject *chunk = (ChunkObject *)self;
    Py_ssize_t item = sample_size(chunk->sample);
    view->obj = Py_NewRef(self);
    view->buf = chunk->data;
    view->len = chunk->frames * chunk->channels * item;
    view->readonly = 0;
    view->itemsize = item;
    view->format = (flags & PyBUF_FORMAT) ? (chunk->sample == WAC_SAMPLE_S16 ? "h" : "f") : NULL;
    view->internal = NULL;
    view->suboffsets = NULL;
    if ((flags & PyBUF_ND) == PyBUF_ND) {
        view->ndim = chunk->channels == 1 ? 1 : 2;
        view->shape = chunk->shape;
        view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? chunk->strides : NULL;
    } else {
        /* Plain bytes: allowed because the samples are contiguous. */
        view->ndim = 1;
        view->shape = NULL;
        view->strides = NULL;
        if (!(flags & PyBUF_FORMAT))
            view->itemsize = 1;
    }
    return 0;
}

static void chunk_releasebuffer(PyObject *self, Py_buffer *view)
{
    (void)self;
    (void)view;
}

static PyObject *chunk_get_position(PyObject *self, void *unused)
{
    return PyLong_FromUnsignedLongLong(((ChunkObject *)self)->position);
}
static PyObject *chunk_get_time_ns(PyObject *self, void *unused)
{
    return PyLong_FromLongLong(((ChunkObject *)self)->time_ns);
}
static PyObject *chunk_get_flags(PyObject *self, void *unused)
{
    return PyLong_FromUnsignedLong(((ChunkObject *)self)->flags);
}
static PyObject *chunk_get_frames(PyObject *self, void *unused)
{
    return PyLong_FromSsize_t(((ChunkObject *)self)->frames);
}
static PyObject *chunk_get_channels(PyObject *self, void *unused)
{
    return PyLong_FromLong(((ChunkObject *)self)->channels);
}
static PyObject *chunk_get_format(PyObject *self, void *unused)
{
    return PyUnicode_FromString(((ChunkObject *)self)->sample == WAC_SAMPLE_S16 ? "s16" : "f32");
}

static Py_ssize_t chunk_length(PyObject *self)
{
    return ((ChunkObject *)self)->frames;
}

static PyGetSetDef chunk_getset[] = {
    {"position", chunk_get_position, NULL, "Stream position of the first frame (frames since start).", NULL},
    {"time_ns", chunk_get_time_ns, NULL, "CLOCK_MONOTONIC time of the first frame, in ns.", NULL},
    {"flags", chunk_get_flags, NULL, "WAC_CHUNK_* flags: 1 = discontinuous, 2 = last.", NULL},
    {"frames", chunk_get_frames, NULL, "Number of frames.", NULL},
    {"channels", chunk_get_channels, NULL, "Channels per frame.", NULL},
    {"format", chunk_get_format, NULL, "Sample format: 'f32' or 's16'.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot chunk_slots[] = {
    {Py_tp_doc, "One chunk of captured audio in a buffer the module owns (buffer protocol, writable).\n"
                "numpy.frombuffer(chunk, dtype) and memoryview(chunk) view it without copying."},
    {Py_tp_dealloc, chunk_dealloc},
    {Py_tp_getset, chunk_getset},
    {Py_bf_getbuffer, chunk_getbuffer},
    {Py_bf_releasebuffer, chunk_releasebuffer},
    {Py_sq_length, chunk_length},
    {0, NULL},
};

static PyType_Spec chunk_spec = {
    .name = "pywac._wac.Chunk",
    .basicsize = sizeof(ChunkObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION, /* only reads and callbacks make them */
    .slots = chunk_slots,
};

/* ---- contexts ---------------------------------------------------------------- */

typedef struct CaptureObject CaptureObject;

typedef struct {
    PyObject_HEAD
    PyObject *weakrefs;
    wac_context *ctx;
    PyThread_type_lock open_lock; /* one capture_open at a time: its detail is context-wide */
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

static int context_init(PyObject *self, PyObject *args, PyObject *kwargs)
{
    ContextObject *c = (ContextObject *)self;
    static char *keywords[] = {"backend", NULL};
    const char *backend = "auto";
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|s:Context", keywords, &backend))
        return -1;
    if (c->ctx || c->closed) {
        PyErr_SetString(PyExc_RuntimeError, "Context.__init__ called twice");
        return -1;
    }
    c->open_lock = PyThread_allocate_lock();
    if (!c->open_lock) {
        PyErr_NoMemory();
        return -1;
    }
    char detail[256] = "";
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = wac_context_open(backend, &c->ctx, detail, sizeof detail);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        raise_wac(rc, detail);
        return -1;
    }
    return 0;
}

static void capture_close_locked(CaptureObject *cap);

/* Close every capture, wait for GIL-released calls to leave libwac, then close
 * the libwac context. */
static void context_shutdown(ContextObject *c)
{
    if (c->closed)
        return;
    c->closed = true;
    if (!c->ctx)
        return;
    /* Take references first: closing releases the GIL, and the list may change. */
    PyObject *list = PyList_New(0);
    for (CaptureObject *cap = c->captures; list && cap; cap = cap->next) {
        if (cap->dying || Py_REFCNT((PyObject *)cap) == 0)
            continue;
        if (PyList_Append(list, (PyObject *)cap) < 0)
            Py_CLEAR(list);
    }
    if (list) {
        for (Py_ssize_t i = 0; i < PyList_Size(list); i++)
            capture_close_locked((CaptureObject *)PyList_GetItem(list, i));
        Py_DECREF(list);
    } else {
        PyErr_Clear(); /* no memory: wac_context_close closes the captures itself */
    }
    /* A thread that passed its closed-check just before we set the flag may
     * still be on its way into libwac; its call returns WAC_ERR_CLOSED at
     * once (the captures are closed), so this wait is short. */
    while (c->calls > 0) {
        Py_BEGIN_ALLOW_THREADS
        sleep_1ms();
        Py_END_ALLOW_THREADS
    }
    wac_context *ctx = c->ctx;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = wac_context_close(ctx);
    Py_END_ALLOW_THREADS
    if (rc == 0)
        c->ctx = NULL;
    /* rc != 0: called on the dispatch thread (the last reference went away in
     * a callback). The context cannot close itself from there; it stays open
     * until the process ends, and is otherwise unreachable. */
}

static PyObject *context_close(PyObject *self, PyObject *unused)
{
    context_shutdown((ContextObject *)self);
    Py_RETURN_NONE;
}

static void context_dealloc(PyObject *self)
{
    ContextObject *c = (ContextObject *)self;
    PyTypeObject *tp = Py_TYPE(self);
    if (c->weakrefs)
        PyObject_ClearWeakRefs(self);
    context_shutdown(c);
    if (c->open_lock)
        PyThread_free_lock(c->open_lock);
    freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    tp_free(self);
    Py_DECREF(tp);
}

static int context_check(ContextObject *c)
{
    if (c->closed || !c->ctx) {
        raise_wac(WAC_ERR_CLOSED, "the pywac context is closed");
        return -1;
    }
    return 0;
}

static PyObject *context_list_sessions(PyObject *self, PyObject *unused)
{
    ContextObject *c = (ContextObject *)self;
    if (context_check(c))
        return NULL;
    wac_session_list *sessions = NULL;
    int rc;
    WITHOUT_GIL(c, rc = wac_context_list_sessions(c->ctx, &sessions));
    if (rc < 0)
        return raise_wac(rc, wac_context_last_error(c->ctx));
    size_t n = wac_session_list_count(sessions);
    PyObject *result = PyList_New(0);
    for (size_t i = 0; result && i < n; i++) {
        const wac_session *s = wac_session_list_at(sessions, i);
        PyObject *volume = s->volume >= 0.0f ? PyFloat_FromDouble((double)s->volume) : Py_NewRef(Py_None);
        PyObject *item = volume ? Py_BuildValue("(IssIOOO)", s->pid, s->executable, s->app_name, s->streams,
                                                s->playing ? Py_True : Py_False, volume,
                                                s->muted ? Py_True : Py_False)
                                : NULL;
        Py_XDECREF(volume);
        if (!item || PyList_Append(result, item) < 0)
            Py_CLEAR(result);
        Py_XDECREF(item);
    }
    wac_session_list_free(sessions);
    return result;
}

/* list_devices() -> [(name, description, monitor, is_default, rate, channels)].
 * The failure detail lives on the context: read under the opener's lock. */
static PyObject *context_list_devices(PyObject *self, PyObject *unused)
{
    ContextObject *c = (ContextObject *)self;
    if (context_check(c))
        return NULL;
    wac_device_list *devices = NULL;
    char detail[256] = "";
    int rc;
    wac_context *ctx = c->ctx;
    PyThread_type_lock lock = c->open_lock;
    WITHOUT_GIL(c, {
        PyThread_acquire_lock(lock, WAIT_LOCK);
        rc = wac_context_list_devices(ctx, &devices);
        if (rc < 0)
            snprintf(detail, sizeof detail, "%s", wac_context_last_error(ctx));
        PyThread_release_lock(lock);
    });
    if (rc < 0)
        return raise_wac(rc, detail);
    size_t n = wac_device_list_count(devices);
    PyObject *result = PyList_New(0);
    for (size_t i = 0; result && i < n; i++) {
        const wac_device *d = wac_device_list_at(devices, i);
        PyObject *item = Py_BuildValue("(ssOOII)", d->name, d->description, d->monitor ? Py_True : Py_False,
                                       d->is_default ? Py_True : Py_False, d->rate, d->channels);
        if (!item || PyList_Append(result, item) < 0)
            Py_CLEAR(result);
        Py_XDECREF(item);
    }
    wac_device_list_free(devices);
    return result;
}

/* Volume calls: (kind, pid, name, tree[, value]). The failure detail lives
 * on the context: read under the opener's lock, as capture_open does. */
enum volume_op { VOLUME_GET, VOLUME_SET, VOLUME_MUTE };

static PyObject *context_volume(PyObject *self, PyObject *args, enum volume_op op)
{
    ContextObject *c = (ContextObject *)self;
    int kind, tree, muted = 0;
    unsigned int pid;
    const char *name = NULL;
    float level = 0.0f;
    bool ok;
    if (op == VOLUME_GET)
        ok = PyArg_ParseTuple(args, "iIzp:get_volume", &kind, &pid, &name, &tree);
    else if (op == VOLUME_SET)
        ok = PyArg_ParseTuple(args, "iIzpf:set_volume", &kind, &pid, &name, &tree, &level);
    else
        ok = PyArg_ParseTuple(args, "iIzpp:set_mute", &kind, &pid, &name, &tree, &muted);
    if (!ok || context_check(c))
        return NULL;
    wac_target target = {.kind = (wac_target_kind)kind, .pid = pid, .name = name, .include_tree = tree != 0};
    wac_volume volume = {0};
    char detail[256] = "";
    int rc;
    wac_context *ctx = c->ctx;
    PyThread_type_lock lock = c->open_lock;
    WITHOUT_GIL(c, {
        PyThread_acquire_lock(lock, WAIT_LOCK);
        if (op == VOLUME_GET)
            rc = wac_context_get_volume(ctx, &target, &volume);
        else if (op == VOLUME_SET)
            rc = wac_context_set_volume(ctx, &target, level);
        else
            rc = wac_context_set_mute(ctx, &target, muted != 0);
        if (rc < 0)
            snprintf(detail, sizeof detail, "%s", wac_context_last_error(ctx));
        PyThread_release_lock(lock);
    });
    if (rc < 0)
        return raise_wac(rc, detail);
    if (op != VOLUME_GET)
        Py_RETURN_NONE;
    return Py_BuildValue("(dOI)", (double)volume.level, volume.muted ? Py_True : Py_False, volume.streams);
}

static PyObject *context_get_volume(PyObject *self, PyObject *args)
{
    return context_volume(self, args, VOLUME_GET);
}
static PyObject *context_set_volume(PyObject *self, PyObject *args)
{
    return context_volume(self, args, VOLUME_SET);
}
static PyObject *context_set_mute(PyObject *self, PyObject *args)
{
    return context_volume(self, args, VOLUME_MUTE);
}

static PyObject *context_get_backend(PyObject *self, void *unused)
{
    ContextObject *c = (ContextObject *)self;
    if (context_check(c))
        return NULL;
    return PyUnicode_FromString(wac_context_backend(c->ctx));
}
static PyObject *context_get_closed(PyObject *self, void *unused)
{
    return PyBool_FromLong(((ContextObject *)self)->closed);
}
static PyObject *context_get_live(PyObject *self, void *unused)
{
    return PyLong_FromSsize_t(((ContextObject *)self)->live);
}
static PyObject *context_get_opened(PyObject *self, void *unused)
{
    return PyLong_FromSsize_t(((ContextObject *)self)->opened);
}

static PyMethodDef context_methods[] = {
    {"list_sessions", context_list_sessions, METH_NOARGS,
     "list_sessions() -> list of (pid, executable, app_name, streams, playing, volume or None, muted)"},
    {"list_devices", context_list_devices, METH_NOARGS,
     "list_devices() -> list of (name, description, monitor, is_default, rate, channels)"},
    {"get_volume", context_get_volume, METH_VARARGS,
     "get_volume(kind, pid, name, tree) -> (level, muted, streams)"},
    {"set_volume", context_set_volume, METH_VARARGS, "set_volume(kind, pid, name, tree, level) -> None"},
    {"set_mute", context_set_mute, METH_VARARGS, "set_mute(kind, pid, name, tree, muted) -> None"},
    {"close", context_close, METH_NOARGS, "Close every capture of this context, then the connection."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef context_getset[] = {
    {"backend", context_get_backend, NULL, "Name of the backend in use.", NULL},
    {"closed", context_get_closed, NULL, "True once closed.", NULL},
    {"live", context_get_live, NULL, "Captures of this context not closed yet.", NULL},
    {"opened", context_get_opened, NULL, "Captures ever opened on this context.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef context_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(ContextObject, weakrefs), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot context_slots[] = {
    {Py_tp_members, context_members},
    {Py_tp_doc, "Context(backend='auto'): one connection to the audio system, shared by captures."},
    {Py_tp_init, context_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, context_dealloc},
    {Py_tp_methods, context_methods},
    {Py_tp_getset, context_getset},
    {0, NULL},
};

static PyType_Spec context_spec = {
    .name = "pywac._wac.Context",
    .basicsize = sizeof(ContextObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = context_slots,
};

/* ---- captures: events ---------------------------------------------------------- */

static void note_end(CaptureObject *self, const wac_event *ev)
{
    if (self->ended)
        return;
    self->ended = true;
    self->end_error = ev ? ev->error : 0;
    snprintf(self->end_detail, sizeof self->end_detail, "%s", ev ? ev->detail : "");
}

/* Keep an event for events(); remember the end. Needs the GIL. */
static int keep_event(CaptureObject *self, const wac_event *ev)
{
    if (ev->type == WAC_EVENT_ENDED)
        note_end(self, ev);
    PyObject *item = Py_BuildValue("(sKLKIIis)", wac_event_name(ev->type), (unsigned long long)ev->position,
                                   (long long)ev->time_ns, (unsigned long long)ev->frames, ev->pid, ev->stream_id,
                                   ev->error, ev->detail);
    if (!item)
        return -1;
    if (PyList_Size(self->events) >= PENDING_EVENTS_MAX) {
        if (PyList_SetSlice(self->events, 0, 1, NULL) < 0) {
            Py_DECREF(item);
            return -1;
        }
        self->events_dropped++;
    }
    int rc = PyList_Append(self->events, item);
    Py_DECREF(item);
    return rc;
}

/* Read/fd style: move the core's pending events into self->events. */
static int pull_events(CaptureObject *self)
{
    if (self->callback || self->closed || self->ctx->closed)
        return 0;
    for (;;) {
        wac_event ev;
        int rc = wac_capture_next_event(self->cap, &ev, sizeof ev);
        if (rc == 0 || rc == WAC_ERR_CLOSED)
            return 0;
        if (rc < 0) {
            raise_wac(rc, wac_capture_last_error(self->cap));
            return -1;
        }
        if (keep_event(self, &ev) < 0)
            return -1;
    }
}

/* ---- captures: callbacks on the dispatch thread --------------------------------- */

/* Stop the capture after its callback raised: the exception is kept for the
 * next read/stop/close. Called with the GIL and the exception set. */
static void callback_failed(CaptureObject *self)
{
    PyErr_Fetch(&self->error_type, &self->error_value, &self->error_tb);
    PyErr_NormalizeException(&self->error_type, &self->error_value, &self->error_tb);
    if (self->error_tb && self->error_value)
        PyException_SetTraceback(self->error_value, self->error_tb);
    self->callback_failed = true;
    if (!self->stopped && !self->closed) {
        self->stopped = true;
        wac_capture *cap = self->cap;
        Py_BEGIN_ALLOW_THREADS
        wac_capture_stop(cap);
        Py_END_ALLOW_THREADS
    }
}

static void on_audio(wac_capture *cap, const void *frames, uint32_t n_frames, const wac_chunk_info *info,
                     void *userdata)
{
    if (atomic_load(&shutting_down))
        return;
    CaptureObject *self = userdata;
    PyGILState_STATE gil = PyGILState_Ensure();
    if (self->dying || self->closed || self->callback_failed || !self->callback || atomic_load(&shutting_down)) {
        PyGILState_Release(gil);
        return;
    }
    Py_INCREF((PyObject *)self); /* the callback may drop the last reference to its capture */
    PyObject *callback = Py_NewRef(self->callback);
    ChunkObject *chunk = chunk_new(n_frames, (int)self->channels, self->sample);
    PyObject *result = NULL;
    if (chunk) {
        memcpy(chunk->data, frames, (size_t)n_frames * self->channels * (size_t)sample_size(self->sample));
        chunk_set_info(chunk, n_frames, info);
        result = PyObject_CallFunctionObjArgs(callback, (PyObject *)chunk, NULL);
        Py_DECREF(chunk);
    }
    Py_DECREF(callback);
    if (result)
        Py_DECREF(result);
    else
        callback_failed(self);
    Py_DECREF((PyObject *)self);
    PyGILState_Release(gil);
}

static void on_event(wac_capture *cap, const wac_event *event, void *userdata)
{
    if (atomic_load(&shutting_down))
        return;
    CaptureObject *self = userdata;
    PyGILState_STATE gil = PyGILState_Ensure();
    if (!self->dying && !self->closed && !atomic_load(&shutting_down) && keep_event(self, event) < 0)
        PyErr_Clear(); /* only MemoryError; the event is counted as dropped */
    PyGILState_Release(gil);
}

/* ---- captures: lifecycle -------------------------------------------------------- */

static void link_capture(ContextObject *c, CaptureObject *cap)
{
    cap->next = c->captures;
    cap->prev = NULL;
    if (c->captures)
        c->captures->prev = cap;
    c->captures = cap;
}

static void unlink_capture(ContextObject *c, CaptureObject *cap)
{
    if (cap->prev)
        cap->prev->next = cap->next;
    else if (c->captures == cap)
        c->captures = cap->next;
    if (cap->next)
        cap->next->prev = cap->prev;
    cap->next = cap->prev = NULL;
}

static int capture_init(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    CaptureObject *self = (CaptureObject *)obj;
    static char *keywords[] = {"context",  "kind",         "pid",     "name",       "tree",     "exclude",
                               "rate",     "channels",     "sample",  "chunk_frames", "ring_ms", "fill_silence",
                               "latency_ms", "callback",   NULL};
    PyObject *ctxobj, *callback = Py_None;
    int kind, tree = 1, exclude = 0, fill_silence = 1, sample = WAC_SAMPLE_F32;
    unsigned int pid = 0, rate = 16000, channels = 1, chunk_frames = 0, ring_ms = 2000, latency_ms = 0;
    const char *name = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!i|Izpp$IIiIIpIO:Capture", keywords, context_type, &ctxobj,
                                     &kind, &pid, &name, &tree, &exclude, &rate, &channels, &sample, &chunk_frames,
                                     &ring_ms, &fill_silence, &latency_ms, &callback))
        return -1;
    if (self->ctx) {
        PyErr_SetString(PyExc_RuntimeError, "Capture.__init__ called twice");
        return -1;
    }
    if (callback != Py_None && !PyCallable_Check(callback)) {
        PyErr_SetString(PyExc_TypeError, "callback must be callable or None");
        return -1;
    }
    ContextObject *c = (ContextObject *)ctxobj;
    if (context_check(c))
        return -1;
    self->events = PyList_New(0);
    if (!self->events)
        return -1;
    self->ctx = (ContextObject *)Py_NewRef(ctxobj);
    self->closed = true; /* until open succeeds */
    link_capture(c, self);
    if (callback != Py_None)
        self->callback = Py_NewRef(callback);

    wac_capture_config cfg;
    wac_capture_config_init(&cfg);
    cfg.target.kind = (wac_target_kind)kind;
    cfg.target.pid = pid;
    cfg.target.name = name;
    cfg.target.include_tree = tree;
    cfg.target.exclude = exclude;
    cfg.format.rate = rate;
    cfg.format.channels = channels;
    cfg.format.sample = (wac_sample_type)sample;
    cfg.chunk_frames = chunk_frames;
    cfg.ring_ms = ring_ms;
    cfg.fill_silence = fill_silence;
    cfg.latency_ms = latency_ms;
    if (self->callback) {
        cfg.on_audio = on_audio;
        cfg.on_event = on_event;
        cfg.userdata = self;
    }

    /* The failure detail of capture_open lives on the context: one opener at a time. */
    int rc;
    char detail[256] = "";
    wac_capture *cap = NULL;
    wac_context *ctx = c->ctx;
    PyThread_type_lock lock = c->open_lock;
    WITHOUT_GIL(c, {
        PyThread_acquire_lock(lock, WAIT_LOCK);
        rc = wac_capture_open(ctx, &cfg, &cap);
        if (rc < 0)
            snprintf(detail, sizeof detail, "%s", wac_context_last_error(ctx));
        PyThread_release_lock(lock);
    });
    if (rc < 0) {
        raise_wac(rc, detail);
        return -1;
    }
    self->cap = cap;
    self->closed = false;
    c->live++;
    c->opened++;
    wac_format format;
    uint32_t frames = 0;
    if (wac_capture_get_format(cap, &format, &frames) == 0) {
        self->rate = format.rate;
        self->channels = format.channels;
        self->sample = format.sample;
        self->chunk_frames = frames;
    }
    return 0;
}

/* Raise the callback's exception if one is waiting (once). */
static int raise_callback_error(CaptureObject *self)
{
    if (!self->error_type)
        return 0;
    PyErr_Restore(self->error_type, self->error_value, self->error_tb);
    self->error_type = self->error_value = self->error_tb = NULL;
    return -1;
}

/* Ready for a libwac call on the handle? */
static int capture_check(CaptureObject *self)
{
    if (!self->ctx) {
        PyErr_SetString(PyExc_RuntimeError, "Capture is not initialised");
        return -1;
    }
    if (self->closed || self->ctx->closed) {
        raise_wac(WAC_ERR_CLOSED, self->closed ? "the capture is closed" : "the pywac context is closed");
        return -1;
    }
    return 0;
}

static PyObject *capture_error(CaptureObject *self, int rc)
{
    return raise_wac(rc, code_speaks_for_itself(rc) ? "" : wac_capture_last_error(self->cap));
}

static PyObject *capture_start(PyObject *obj, PyObject *unused)
{
    CaptureObject *self = (CaptureObject *)obj;
    if (capture_check(self))
        return NULL;
    int rc;
    wac_capture *cap = self->cap;
    WITHOUT_GIL(self->ctx, rc = wac_capture_start(cap));
    if (rc < 0)
        return capture_error(self, rc);
    Py_RETURN_NONE;
}

static PyObject *capture_stop(PyObject *obj, PyObject *unused)
{
    CaptureObject *self = (CaptureObject *)obj;
    if (raise_callback_error(self) || capture_check(self))
        return NULL;
    if (self->stopped && self->callback_failed)
        Py_RETURN_NONE; /* stopped on the callback's behalf; its error was raised already */
    int rc;
    wac_capture *cap = self->cap;
    WITHOUT_GIL(self->ctx, rc = wac_capture_stop(cap));
    if (rc < 0)
        return capture_error(self, rc);
    self->stopped = true;
    Py_RETURN_NONE;
}

/* Close the handle (idempotent); needs the GIL, releases it while closing. */
static void capture_close_locked(CaptureObject *self)
{
    if (self->closed || !self->ctx || !self->cap)
        return;
    self->closed = true;
    self->ctx->live--;
    if (self->ctx->closed && !self->ctx->ctx)
        return; /* the libwac context (and the handle) are gone */
    wac_capture *cap = self->cap;
    WITHOUT_GIL(self->ctx, wac_capture_close(cap));
}

static PyObject *capture_close(PyObject *obj, PyObject *unused)
{
    CaptureObject *self = (CaptureObject *)obj;
    capture_close_locked(self);
    if (raise_callback_error(self))
        return NULL;
    Py_RETURN_NONE;
}

/* The result of a read once the stream has ended: None for a clean end
 * (stopped), the error that ended it otherwise. */
static PyObject *end_result(CaptureObject *self)
{
    if (self->end_error == 0)
        Py_RETURN_NONE;
    return raise_wac(self->end_error, self->end_detail);
}

/* read(timeout_ms): one chunk of chunk_frames frames (fewer only at the end:
 * flag LAST), None on timeout or after a clean end; raises the error that
 * ended the stream otherwise. Signals are handled while waiting: a handler
 * that raises (KeyboardInterrupt) ends the read, otherwise it resumes. */
static PyObject *capture_read(PyObject *obj, PyObject *arg)
{
    CaptureObject *self = (CaptureObject *)obj;
    long timeout_ms = PyLong_AsLong(arg);
    if (timeout_ms == -1 && PyErr_Occurred())
        return NULL;
    if (timeout_ms < -1 || timeout_ms > 0x7fffffffL) {
        PyErr_SetString(PyExc_ValueError, "timeout_ms must be -1 (forever) or 0..2**31-1");
        return NULL;
    }
    if (raise_callback_error(self) || capture_check(self))
        return NULL;
    if (self->callback)
        return raise_wac(WAC_ERR_STATE, "this capture delivers audio to its on_audio callback");
    if (self->aligned)
        return raise_wac(WAC_ERR_BUSY, "this capture is read through a pywac Aligned reader");
    if (self->ended)
        return end_result(self);
    ChunkObject *chunk = chunk_new(self->chunk_frames, (int)self->channels, self->sample);
    if (!chunk)
        return NULL;
    long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    wac_capture *cap = self->cap;
    uint32_t frames = self->chunk_frames;
    wac_chunk_info info;
    int rc;
    for (;;) {
        int wait = (int)timeout_ms;
        if (timeout_ms > 0) {
            long long left = deadline - now_ms();
            wait = left > 0 ? (int)left : 0;
        }
        char *data = chunk->data;
        WITHOUT_GIL(self->ctx, rc = wac_capture_read(cap, data, frames, wait, &info));
        if (rc != WAC_ERR_INTERRUPTED)
            break;
        if (PyErr_CheckSignals() < 0) {
            Py_DECREF(chunk);
            return NULL;
        }
        if (self->closed || self->ctx->closed) { /* a signal handler closed it */
            rc = WAC_ERR_CLOSED;
            break;
        }
    }
    /* Move waiting events to events() now: a descriptor stays readable while
     * one waits, and an event loop must not spin on events nobody pulls. */
    if ((rc > 0 || rc == WAC_ERR_TIMEOUT) && pull_events(self) < 0) {
        Py_DECREF(chunk);
        return NULL;
    }
    if (rc > 0) {
        chunk_set_info(chunk, rc, &info);
        return (PyObject *)chunk;
    }
    Py_DECREF(chunk);
    if (rc == WAC_ERR_TIMEOUT)
        Py_RETURN_NONE;
    if (rc == WAC_ERR_ENDED) {
        /* The ENDED event says why; keep the events for events(). */
        if (pull_events(self) < 0)
            return NULL;
        if (!self->ended)
            note_end(self, NULL);
        return end_result(self);
    }
    return capture_error(self, rc);
}

static PyObject *capture_events(PyObject *obj, PyObject *unused)
{
    CaptureObject *self = (CaptureObject *)obj;
    if (!self->ctx)
        return capture_check(self), NULL;
    if (pull_events(self) < 0)
        return NULL;
    PyObject *events = self->events;
    self->events = PyList_New(0);
    if (!self->events) {
        self->events = events;
        return NULL;
    }
    return events;
}

static PyObject *capture_fileno(PyObject *obj, PyObject *unused)
{
    CaptureObject *self = (CaptureObject *)obj;
    if (capture_check(self))
        return NULL;
    int fd = wac_capture_fd(self->cap);
    if (fd < 0)
        return capture_error(self, fd);
    return PyLong_FromLong(fd);
}

/* The Win32 event HANDLE (an integer) with the descriptor's meaning, for
 * asyncio's Proactor loop on Windows; NotSupported elsewhere. */
static PyObject *capture_event_handle(PyObject *obj, PyObject *unused)
{
    CaptureObject *self = (CaptureObject *)obj;
    if (capture_check(self))
        return NULL;
    void *handle = NULL;
    int rc = wac_capture_event_handle(self->cap, &handle);
    if (rc < 0)
        return capture_error(self, rc);
    return PyLong_FromVoidPtr(handle);
}

static PyObject *capture_stats(PyObject *obj, PyObject *unused)
{
    CaptureObject *self = (CaptureObject *)obj;
    if (capture_check(self))
        return NULL;
    wac_capture_stats s;
    int rc = wac_capture_get_stats(self->cap, &s, sizeof s);
    if (rc < 0)
        return capture_error(self, rc);
    return Py_BuildValue("(KKKKIIIIIK)", (unsigned long long)s.frames_delivered, (unsigned long long)s.frames_lost,
                         (unsigned long long)s.frames_silence, (unsigned long long)s.frames_skipped, s.overruns,
                         s.discontinuities, s.ring_fill, s.ring_capacity, s.streams,
                         (unsigned long long)(s.events_dropped + self->events_dropped));
}

static PyObject *capture_available(PyObject *obj, PyObject *unused)
{
    CaptureObject *self = (CaptureObject *)obj;
    if (capture_check(self))
        return NULL;
    return PyLong_FromUnsignedLong(wac_capture_available(self->cap));
}

static PyObject *capture_inject(PyObject *obj, PyObject *args)
{
    CaptureObject *self = (CaptureObject *)obj;
    int fault;
    unsigned int amount;
    if (!PyArg_ParseTuple(args, "iI:inject", &fault, &amount) || capture_check(self))
        return NULL;
    int rc = wac_dummy_inject(self->cap, (wac_dummy_fault)fault, amount);
    if (rc < 0)
        return capture_error(self, rc);
    Py_RETURN_NONE;
}

static const char *state_name(wac_capture_state state)
{
    switch (state) {
    case WAC_STATE_OPEN:
        return "open";
    case WAC_STATE_RUNNING:
        return "running";
    case WAC_STATE_ENDED:
        return "ended";
    default:
        return "closed";
    }
}

static PyObject *capture_get_state(PyObject *obj, void *unused)
{
    CaptureObject *self = (CaptureObject *)obj;
    if (!self->cap || self->closed || self->ctx->closed)
        return PyUnicode_FromString("closed");
    return PyUnicode_FromString(state_name(wac_capture_get_state(self->cap)));
}
static PyObject *capture_get_ended(PyObject *obj, void *unused)
{
    CaptureObject *self = (CaptureObject *)obj;
    return PyBool_FromLong(self->ended);
}
static PyObject *capture_get_end_error(PyObject *obj, void *unused)
{
    CaptureObject *self = (CaptureObject *)obj;
    if (!self->ended)
        Py_RETURN_NONE;
    return PyLong_FromLong(self->end_error);
}
static PyObject *capture_get_rate(PyObject *obj, void *unused)
{
    return PyLong_FromUnsignedLong(((CaptureObject *)obj)->rate);
}
static PyObject *capture_get_channels(PyObject *obj, void *unused)
{
    return PyLong_FromUnsignedLong(((CaptureObject *)obj)->channels);
}
static PyObject *capture_get_format(PyObject *obj, void *unused)
{
    return PyUnicode_FromString(((CaptureObject *)obj)->sample == WAC_SAMPLE_S16 ? "s16" : "f32");
}
static PyObject *capture_get_chunk_frames(PyObject *obj, void *unused)
{
    return PyLong_FromUnsignedLong(((CaptureObject *)obj)->chunk_frames);
}
static PyObject *capture_get_closed(PyObject *obj, void *unused)
{
    CaptureObject *self = (CaptureObject *)obj;
    return PyBool_FromLong(self->closed || !self->ctx || self->ctx->closed);
}
static PyObject *capture_get_callback_failed(PyObject *obj, void *unused)
{
    return PyBool_FromLong(((CaptureObject *)obj)->callback_failed);
}

static int capture_traverse(PyObject *obj, visitproc visit, void *arg)
{
    CaptureObject *self = (CaptureObject *)obj;
    Py_VISIT(Py_TYPE(obj));
    Py_VISIT(self->callback);
    Py_VISIT(self->events);
    Py_VISIT(self->error_type);
    Py_VISIT(self->error_value);
    Py_VISIT(self->error_tb);
    return 0;
}

static int capture_clear(PyObject *obj)
{
    CaptureObject *self = (CaptureObject *)obj;
    /* Called by the garbage collector on a cycle (often callback <-> capture):
     * close first, so that no callback finds its callable gone. */
    capture_close_locked(self);
    Py_CLEAR(self->callback);
    Py_CLEAR(self->error_type);
    Py_CLEAR(self->error_value);
    Py_CLEAR(self->error_tb);
    return 0;
}

static void capture_dealloc(PyObject *obj)
{
    CaptureObject *self = (CaptureObject *)obj;
    PyTypeObject *tp = Py_TYPE(obj);
    PyObject_GC_UnTrack(obj);
    self->dying = true; /* a callback waiting for the GIL must not touch us */
    capture_close_locked(self);
    if (self->ctx)
        unlink_capture(self->ctx, self);
    Py_CLEAR(self->callback);
    Py_CLEAR(self->events);
    Py_CLEAR(self->error_type);
    Py_CLEAR(self->error_value);
    Py_CLEAR(self->error_tb);
    Py_CLEAR(self->ctx);
    freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    tp_free(obj);
    Py_DECREF(tp);
}

static PyMethodDef capture_methods[] = {
    {"start", capture_start, METH_NOARGS, "Start the stream."},
    {"stop", capture_stop, METH_NOARGS, "Stop the stream; buffered audio stays readable."},
    {"close", capture_close, METH_NOARGS, "Close the capture (idempotent)."},
    {"read", capture_read, METH_O, "read(timeout_ms) -> Chunk or None"},
    {"events", capture_events, METH_NOARGS, "events() -> list of event tuples since the last call"},
    {"fileno", capture_fileno, METH_NOARGS, "A descriptor readable when a chunk, an event or the end waits."},
    {"event_handle", capture_event_handle, METH_NOARGS,
     "Windows: the event HANDLE (an int) signalled when a chunk, an event or the end waits."},
    {"stats", capture_stats, METH_NOARGS, "stats() -> tuple of counters"},
    {"available", capture_available, METH_NOARGS, "Frames ready to read now."},
    {"inject", capture_inject, METH_VARARGS, "inject(fault, amount): dummy backend fault injection (tests)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef capture_getset[] = {
    {"state", capture_get_state, NULL, "'open', 'running', 'ended' or 'closed'.", NULL},
    {"ended", capture_get_ended, NULL, "True once the end of the stream has been read.", NULL},
    {"end_error", capture_get_end_error, NULL, "Why the stream ended (0 = stopped), None before.", NULL},
    {"rate", capture_get_rate, NULL, "Delivered rate (Hz).", NULL},
    {"channels", capture_get_channels, NULL, "Delivered channels.", NULL},
    {"format", capture_get_format, NULL, "Delivered sample format: 'f32' or 's16'.", NULL},
    {"chunk_frames", capture_get_chunk_frames, NULL, "Frames per chunk.", NULL},
    {"closed", capture_get_closed, NULL, "True once closed.", NULL},
    {"callback_failed", capture_get_callback_failed, NULL, "True once the callback raised.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot capture_slots[] = {
    {Py_tp_doc, "Capture(context, kind, pid=0, name=None, tree=True, exclude=False, *, rate=16000, channels=1,\n"
                "        sample=1, chunk_frames=0, ring_ms=2000, fill_silence=True, latency_ms=0, callback=None)\n"
                "The low-level capture; use pywac.Capture."},
    {Py_tp_init, capture_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, capture_dealloc},
    {Py_tp_traverse, capture_traverse},
    {Py_tp_clear, capture_clear},
    {Py_tp_methods, capture_methods},
    {Py_tp_getset, capture_getset},
    {0, NULL},
};

static PyType_Spec capture_spec = {
    .name = "pywac._wac.Capture",
    .basicsize = sizeof(CaptureObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = capture_slots,
};

/* ---- aligned readers: several captures on one timeline ------------------------- */

/* wac_aligned_open's limit on captures per reader. */
#define ALIGNED_MAX 16

/* The longest one wait inside read() lasts: a reader closed by another
 * thread notices within this. A timeout loses nothing (wac_aligned_read keeps
 * what it read for the next call), so waiting in slices costs nothing. */
#define ALIGNED_SLICE_MS 200

/* An Aligned holds strong references to its Captures, so their handles (and
 * contexts) outlive the libwac reader, which uses only the public read calls:
 * a Capture closed meanwhile makes read() raise Closed, never a crash. Like a
 * Capture's read, a read counts itself in the `calls` of every context it
 * enters, so Context.close() waits for it (after closing the captures, which
 * wakes it); before each wait it checks that no context is closed, since a
 * closed libwac context has freed the capture handles. The captures are
 * marked `aligned` while the reader is open: a Capture.read() on them would
 * steal frames from the timeline, so it raises Busy. One read at a time
 * (`busy`); close() during a read is finished by that read when it returns. */
typedef struct {
    PyObject_HEAD
    wac_aligned *aligned;                /* NULL once released */
    CaptureObject *caps[ALIGNED_MAX];    /* strong, until released */
    Py_ssize_t count;
    uint32_t max_frames, rate;
    bool busy;   /* a read is in progress, the GIL released */
    bool closed; /* close() was called */
    bool ended;  /* every capture ended and everything was read */
} AlignedObject;

/* Free the libwac reader and let the captures go. Needs the GIL; not while busy. */
static void aligned_release(AlignedObject *self)
{
    wac_aligned_close(self->aligned);
    self->aligned = NULL;
    for (Py_ssize_t i = 0; i < self->count; i++) {
        CaptureObject *cap = self->caps[i];
        self->caps[i] = NULL;
        if (cap) {
            cap->aligned = false;
            Py_DECREF((PyObject *)cap);
        }
    }
    self->count = 0;
}

static int aligned_init(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    AlignedObject *self = (AlignedObject *)obj;
    static char *keywords[] = {"captures", "max_frames", NULL};
    PyObject *seq;
    unsigned int max_frames;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OI:Aligned", keywords, &seq, &max_frames))
        return -1;
    if (self->aligned || self->closed) {
        PyErr_SetString(PyExc_RuntimeError, "Aligned.__init__ called twice");
        return -1;
    }
    PyObject *items = PySequence_Tuple(seq);
    if (!items)
        return -1;
    CaptureObject *caps[ALIGNED_MAX];
    wac_capture *handles[ALIGNED_MAX];
    Py_ssize_t n = PyTuple_Size(items);
    int rc = 0;
    if (n < 1 || n > ALIGNED_MAX) {
        raise_wac(WAC_ERR_INVALID_ARGUMENT, n < 1 ? "an aligned reader needs at least one capture"
                                                  : "an aligned reader takes at most 16 captures");
        goto fail;
    }
    if (max_frames == 0) {
        raise_wac(WAC_ERR_INVALID_ARGUMENT, "max_frames must be at least 1");
        goto fail;
    }
    char detail[200];
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GetItem(items, i); /* borrowed */
        if (!item)
            goto fail;
        if (!PyObject_TypeCheck(item, capture_type)) {
            PyErr_Format(PyExc_TypeError, "captures[%zd] must be a pywac._wac.Capture, not %R", i,
                         (PyObject *)Py_TYPE(item));
            goto fail;
        }
        CaptureObject *cap = (CaptureObject *)item;
        if (capture_check(cap))
            goto fail;
        if (cap->callback) {
            snprintf(detail, sizeof detail,
                     "capture %zd delivers audio to a callback; an aligned reader reads captures without one", i);
            raise_wac(WAC_ERR_INVALID_ARGUMENT, detail);
            goto fail;
        }
        for (Py_ssize_t k = 0; k < i; k++)
            if (caps[k] == cap) {
                snprintf(detail, sizeof detail, "capture %zd is capture %zd again", i, k);
                raise_wac(WAC_ERR_INVALID_ARGUMENT, detail);
                goto fail;
            }
        if (cap->aligned) {
            snprintf(detail, sizeof detail, "capture %zd is read by another aligned reader", i);
            raise_wac(WAC_ERR_BUSY, detail);
            goto fail;
        }
        if (i > 0 && cap->rate != caps[0]->rate) {
            snprintf(detail, sizeof detail,
                     "capture %zd delivers %u Hz, capture 0 %u Hz: an aligned reader does not resample; "
                     "open them at one rate", i, cap->rate, caps[0]->rate);
            raise_wac(WAC_ERR_FORMAT_UNSUPPORTED, detail);
            goto fail;
        }
        wac_capture_stats stats;
        if (wac_capture_get_stats(cap->cap, &stats, sizeof stats) == 0 && stats.ring_capacity < max_frames) {
            snprintf(detail, sizeof detail, "capture %zd's ring holds %u frames, less than one read of %u frames",
                     i, stats.ring_capacity, max_frames);
            raise_wac(WAC_ERR_INVALID_ARGUMENT, detail);
            goto fail;
        }
        caps[i] = cap;
        handles[i] = cap->cap;
    }
    rc = wac_aligned_open(handles, (size_t)n, max_frames, &self->aligned);
    if (rc < 0) {
        raise_wac(rc, "");
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        self->caps[i] = (CaptureObject *)Py_NewRef((PyObject *)caps[i]);
        caps[i]->aligned = true;
    }
    self->count = n;
    self->max_frames = max_frames;
    self->rate = caps[0]->rate;
    Py_DECREF(items);
    return 0;
fail:
    Py_DECREF(items);
    return -1;
}

static int aligned_check(AlignedObject *self)
{
    if (self->closed) {
        raise_wac(WAC_ERR_CLOSED, "the aligned reader is closed");
        return -1;
    }
    if (!self->aligned) {
        PyErr_SetString(PyExc_RuntimeError, "Aligned is not initialised");
        return -1;
    }
    if (self->busy) {
        raise_wac(WAC_ERR_BUSY, "another thread is reading this aligned reader");
        return -1;
    }
    return 0;
}

/* Move every capture's waiting events to its events(); notes their ends. */
static int aligned_pull_events(AlignedObject *self)
{
    for (Py_ssize_t i = 0; i < self->count; i++)
        if (pull_events(self->caps[i]) < 0)
            return -1;
    return 0;
}

/* After the end of everything: None if every capture was stopped, else the
 * error that ended the first capture that ended with one. */
static PyObject *aligned_end(AlignedObject *self)
{
    for (Py_ssize_t i = 0; i < self->count; i++) {
        CaptureObject *cap = self->caps[i];
        if (cap->ended && cap->end_error != 0) {
            char detail[220];
            snprintf(detail, sizeof detail, "capture %zd: %s", i, cap->end_detail);
            return raise_wac(cap->end_error, detail);
        }
    }
    Py_RETURN_NONE;
}

/* A read error: say which capture when it can be told. */
static PyObject *aligned_error(AlignedObject *self, int rc)
{
    char detail[300] = "";
    for (Py_ssize_t i = 0; i < self->count; i++) {
        CaptureObject *cap = self->caps[i];
        if (cap->closed || cap->ctx->closed) {
            snprintf(detail, sizeof detail, cap->closed ? "capture %zd is closed" : "capture %zd's context is closed",
                     i);
            break;
        }
        if (rc == WAC_ERR_CLOSED || code_speaks_for_itself(rc))
            continue;
        const char *last = wac_capture_last_error(cap->cap);
        if (last && last[0]) {
            snprintf(detail, sizeof detail, "capture %zd: %s", i, last);
            break;
        }
    }
    return raise_wac(rc, detail);
}

/* read(frames, timeout_ms): a tuple of one Chunk per capture, each of
 * `frames` frames; their position and time_ns are the block's (frames since
 * the common start, and its time), their flags the capture's own. None on
 * timeout, and at the end of everything when every capture was stopped;
 * raises the error that ended a capture otherwise. */
static PyObject *aligned_read(PyObject *obj, PyObject *args)
{
    AlignedObject *self = (AlignedObject *)obj;
    unsigned int frames;
    long timeout_ms;
    if (!PyArg_ParseTuple(args, "Il:read", &frames, &timeout_ms))
        return NULL;
    if (timeout_ms < -1 || timeout_ms > 0x7fffffffL) {
        PyErr_SetString(PyExc_ValueError, "timeout_ms must be -1 (forever) or 0..2**31-1");
        return NULL;
    }
    if (aligned_check(self))
        return NULL;
    if (frames == 0 || frames > self->max_frames) {
        char detail[120];
        snprintf(detail, sizeof detail, "read of %u frames: 1..%u (max_frames)", frames, self->max_frames);
        return raise_wac(WAC_ERR_INVALID_ARGUMENT, detail);
    }
    for (Py_ssize_t i = 0; i < self->count; i++) {
        CaptureObject *cap = self->caps[i];
        if (cap->closed || cap->ctx->closed) {
            char detail[80];
            snprintf(detail, sizeof detail, cap->closed ? "capture %zd is closed" : "capture %zd's context is closed",
                     i);
            return raise_wac(WAC_ERR_CLOSED, detail);
        }
    }
    if (self->ended)
        return aligned_end(self);
    Py_ssize_t count = self->count;
    PyObject *chunks = PyTuple_New(count);
    if (!chunks)
        return NULL;
    void *buffers[ALIGNED_MAX];
    for (Py_ssize_t i = 0; i < count; i++) {
        ChunkObject *chunk = chunk_new(frames, (int)self->caps[i]->channels, self->caps[i]->sample);
        if (!chunk || PyTuple_SetItem(chunks, i, (PyObject *)chunk) < 0) {
            Py_DECREF(chunks);
            return NULL;
        }
        buffers[i] = chunk->data;
    }
    long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    wac_aligned *aligned = self->aligned;
    wac_aligned_info info = {0, 0};
    uint32_t flags[ALIGNED_MAX];
    int rc;
    bool failed = false;
    self->busy = true;
    for (;;) {
        int wait = ALIGNED_SLICE_MS;
        if (timeout_ms == 0)
            wait = 0;
        else if (timeout_ms > 0) {
            long long left = deadline - now_ms();
            wait = left <= 0 ? 0 : left < ALIGNED_SLICE_MS ? (int)left : ALIGNED_SLICE_MS;
        }
        /* A closed context has freed its capture handles: never enter libwac then. */
        bool gone = false;
        for (Py_ssize_t i = 0; i < count; i++)
            gone |= self->caps[i]->ctx->closed;
        if (gone) {
            rc = WAC_ERR_CLOSED;
            break;
        }
        for (Py_ssize_t i = 0; i < count; i++)
            self->caps[i]->ctx->calls++;
        PyThreadState *saved = PyEval_SaveThread();
        rc = wac_aligned_read(aligned, buffers, frames, wait, &info, flags);
        PyEval_RestoreThread(saved);
        for (Py_ssize_t i = 0; i < count; i++)
            self->caps[i]->ctx->calls--;
        if (self->closed)
            break;
        if (rc == WAC_ERR_INTERRUPTED) {
            if (PyErr_CheckSignals() < 0) {
                failed = true;
                break;
            }
            continue;
        }
        if (rc == WAC_ERR_TIMEOUT && (timeout_ms < 0 || (timeout_ms > 0 && deadline - now_ms() > 0)))
            continue;
        break;
    }
    self->busy = false;
    if (self->closed) { /* closed by another thread meanwhile: finish its close */
        aligned_release(self);
        Py_DECREF(chunks);
        return failed ? NULL : raise_wac(WAC_ERR_CLOSED, "the aligned reader was closed while reading");
    }
    if (failed) {
        Py_DECREF(chunks);
        return NULL;
    }
    /* The events of the audio read so far, to each capture's events(). */
    if ((rc > 0 || rc == WAC_ERR_TIMEOUT || rc == WAC_ERR_ENDED) && aligned_pull_events(self) < 0) {
        Py_DECREF(chunks);
        return NULL;
    }
    if (rc > 0) {
        for (Py_ssize_t i = 0; i < count; i++) {
            wac_chunk_info ci = {info.position, info.time_ns, flags[i]};
            chunk_set_info((ChunkObject *)PyTuple_GetItem(chunks, i), rc, &ci);
        }
        return chunks;
    }
    Py_DECREF(chunks);
    if (rc == WAC_ERR_TIMEOUT)
        Py_RETURN_NONE;
    if (rc == WAC_ERR_ENDED) {
        self->ended = true;
        for (Py_ssize_t i = 0; i < count; i++)
            if (!self->caps[i]->ended)
                note_end(self->caps[i], NULL);
        return aligned_end(self);
    }
    return aligned_error(self, rc);
}

static PyObject *aligned_close(PyObject *obj, PyObject *unused)
{
    AlignedObject *self = (AlignedObject *)obj;
    self->closed = true;
    if (!self->busy)
        aligned_release(self);
    Py_RETURN_NONE;
}

static void aligned_dealloc(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    aligned_release((AlignedObject *)obj); /* never busy: a read holds a reference */
    freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    tp_free(obj);
    Py_DECREF(tp);
}

static PyObject *aligned_get_captures(PyObject *obj, void *unused)
{
    AlignedObject *self = (AlignedObject *)obj;
    PyObject *tuple = PyTuple_New(self->count);
    for (Py_ssize_t i = 0; tuple && i < self->count; i++)
        if (PyTuple_SetItem(tuple, i, Py_NewRef((PyObject *)self->caps[i])) < 0)
            Py_CLEAR(tuple);
    return tuple;
}
static PyObject *aligned_get_rate(PyObject *obj, void *unused)
{
    return PyLong_FromUnsignedLong(((AlignedObject *)obj)->rate);
}
static PyObject *aligned_get_max_frames(PyObject *obj, void *unused)
{
    return PyLong_FromUnsignedLong(((AlignedObject *)obj)->max_frames);
}
static PyObject *aligned_get_closed(PyObject *obj, void *unused)
{
    return PyBool_FromLong(((AlignedObject *)obj)->closed);
}
static PyObject *aligned_get_ended(PyObject *obj, void *unused)
{
    return PyBool_FromLong(((AlignedObject *)obj)->ended);
}

static PyMethodDef aligned_methods[] = {
    {"read", aligned_read, METH_VARARGS,
     "read(frames, timeout_ms) -> tuple of one Chunk per capture, or None (timeout, clean end)"},
    {"close", aligned_close, METH_NOARGS, "Free the reader (not the captures); idempotent."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef aligned_getset[] = {
    {"captures", aligned_get_captures, NULL, "The captures read (empty once closed).", NULL},
    {"rate", aligned_get_rate, NULL, "Their common rate (Hz).", NULL},
    {"max_frames", aligned_get_max_frames, NULL, "The most frames one read takes.", NULL},
    {"closed", aligned_get_closed, NULL, "True once closed.", NULL},
    {"ended", aligned_get_ended, NULL, "True once every capture ended and everything was read.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot aligned_slots[] = {
    {Py_tp_doc, "Aligned(captures, max_frames): several read-style captures read as one timeline\n"
                "(libwac's wac_aligned_*); use pywac.Aligned."},
    {Py_tp_init, aligned_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, aligned_dealloc},
    {Py_tp_methods, aligned_methods},
    {Py_tp_getset, aligned_getset},
    {0, NULL},
};

static PyType_Spec aligned_spec = {
    .name = "pywac._wac.Aligned",
    .basicsize = sizeof(AlignedObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = aligned_slots,
};

/* ---- module functions ----------------------------------------------------------- */

static PyObject *mod_set_errors(PyObject *mod, PyObject *args)
{
    PyObject *base, *classes;
    if (!PyArg_ParseTuple(args, "OO!:_set_errors", &base, &PyDict_Type, &classes))
        return NULL;
    Py_XDECREF(error_base);
    error_base = Py_NewRef(base);
    Py_XDECREF(error_classes);
    error_classes = Py_NewRef(classes);
    Py_RETURN_NONE;
}

static PyObject *mod_shutdown(PyObject *mod, PyObject *unused)
{
    atomic_store(&shutting_down, true);
    Py_RETURN_NONE;
}

static PyObject *mod_strerror(PyObject *mod, PyObject *arg)
{
    int code = PyLong_AsLong(arg);
    if (code == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(wac_strerror(code));
}

static PyObject *mod_error_name(PyObject *mod, PyObject *arg)
{
    int code = PyLong_AsLong(arg);
    if (code == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(wac_error_name(code));
}

static PyObject *mod_backends(PyObject *mod, PyObject *unused)
{
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list && wac_backend_name(i); i++) {
        PyObject *name = PyUnicode_FromString(wac_backend_name(i));
        if (!name || PyList_Append(list, name) < 0)
            Py_CLEAR(list);
        Py_XDECREF(name);
    }
    return list;
}

static PyMethodDef module_methods[] = {
    {"_set_errors", mod_set_errors, METH_VARARGS, "_set_errors(base, {code: class}): the exception tree to raise."},
    {"_shutdown", mod_shutdown, METH_NOARGS, "From now on callbacks never enter Python (interpreter exit)."},
    {"strerror", mod_strerror, METH_O, "strerror(code) -> the library's message for an error code"},
    {"error_name", mod_error_name, METH_O, "error_name(code) -> e.g. 'TARGET_NOT_FOUND'"},
    {"backends", mod_backends, METH_NOARGS, "backends() -> names of the backends built in"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "pywac._wac", "libwac for Python: the low-level layer under pywac.", -1, module_methods,
    NULL, NULL, NULL, NULL,
};

static int add_type(PyObject *mod, PyType_Spec *spec, PyTypeObject **out, const char *name)
{
    *out = (PyTypeObject *)PyType_FromSpec(spec);
    if (!*out)
        return -1;
    return PyModule_AddObjectRef(mod, name, (PyObject *)*out);
}

PyMODINIT_FUNC PyInit__wac(void);

PyMODINIT_FUNC PyInit__wac(void)
{
    PyObject *mod = PyModule_Create(&module_def);
    if (!mod)
        return NULL;
    if (add_type(mod, &chunk_spec, &chunk_type, "Chunk") < 0 ||
        add_type(mod, &context_spec, &context_type, "Context") < 0 ||
        add_type(mod, &capture_spec, &capture_type, "Capture") < 0 ||
        add_type(mod, &aligned_spec, &aligned_type, "Aligned") < 0)
        goto fail;
    PyObject *codes = PyDict_New();
    if (!codes)
        goto fail;
#define ADD_CODE(name, value, message)                                                                           \
    if (PyModule_AddIntConstant(mod, "ERR_" #name, value) < 0) {                                                 \
        Py_DECREF(codes);                                                                                        \
        goto fail;                                                                                               \
    }
    WAC_ERROR_MAP(ADD_CODE)
#undef ADD_CODE
    Py_DECREF(codes);
    if (PyModule_AddIntConstant(mod, "TARGET_PID", WAC_TARGET_PID) < 0 ||
        PyModule_AddIntConstant(mod, "TARGET_NAME", WAC_TARGET_NAME) < 0 ||
        PyModule_AddIntConstant(mod, "TARGET_SYSTEM", WAC_TARGET_SYSTEM) < 0 ||
        PyModule_AddIntConstant(mod, "TARGET_DEVICE", WAC_TARGET_DEVICE) < 0 ||
        PyModule_AddIntConstant(mod, "ALIGNED_MAX", ALIGNED_MAX) < 0 ||
        PyModule_AddIntConstant(mod, "SAMPLE_F32", WAC_SAMPLE_F32) < 0 ||
        PyModule_AddIntConstant(mod, "SAMPLE_S16", WAC_SAMPLE_S16) < 0 ||
        PyModule_AddIntConstant(mod, "CHUNK_DISCONTINUOUS", WAC_CHUNK_DISCONTINUOUS) < 0 ||
        PyModule_AddIntConstant(mod, "CHUNK_LAST", WAC_CHUNK_LAST) < 0 ||
        PyModule_AddIntConstant(mod, "DUMMY_STALL", WAC_DUMMY_STALL) < 0 ||
        PyModule_AddIntConstant(mod, "DUMMY_OVERRUN", WAC_DUMMY_OVERRUN) < 0 ||
        PyModule_AddIntConstant(mod, "DUMMY_DISCONNECT", WAC_DUMMY_DISCONNECT) < 0 ||
        PyModule_AddIntConstant(mod, "DUMMY_TARGET_EXIT", WAC_DUMMY_TARGET_EXIT) < 0 ||
        PyModule_AddStringConstant(mod, "version", wac_version()) < 0)
        goto fail;
    return mod;
fail:
    Py_DECREF(mod);
    return NULL;
}
