/* capture.c — pywac Capture objects: events, callbacks on the dispatch thread, lifecycle and reads (see ext.h). */
#include "ext.h"

/* ---- captures: events ---------------------------------------------------------- */

void note_end(CaptureObject *self, const wac_event *ev)
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
int pull_events(CaptureObject *self)
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

    /* The failure's detail is this thread's (libwac keeps it per thread), so
     * opens from several Python threads on one context need no lock. */
    int rc;
    char detail[256] = "";
    wac_capture *cap = NULL;
    wac_context *ctx = c->ctx;
    WITHOUT_GIL(c, {
        rc = wac_capture_open(ctx, &cfg, &cap);
        if (rc < 0)
            snprintf(detail, sizeof detail, "%s", wac_context_last_error(ctx));
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
int capture_check(CaptureObject *self)
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
void capture_close_locked(CaptureObject *self)
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
    return Py_BuildValue("(KKKKIIIIIKKK)", (unsigned long long)s.frames_delivered, (unsigned long long)s.frames_lost,
                         (unsigned long long)s.frames_silence, (unsigned long long)s.frames_skipped, s.overruns,
                         s.discontinuities, s.ring_fill, s.ring_capacity, s.streams,
                         (unsigned long long)(s.events_dropped + self->events_dropped),
                         (unsigned long long)s.frames_discarded, (unsigned long long)s.timestamps_rejected);
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

PyType_Spec capture_spec = {
    .name = "pywac._wac.Capture",
    .basicsize = sizeof(CaptureObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = capture_slots,
};
