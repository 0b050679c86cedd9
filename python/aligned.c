/* aligned.c — pywac Aligned objects: several captures read on one timeline (see ext.h). */
#include "ext.h"

/* ---- aligned readers: several captures on one timeline ------------------------- */

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
    char detail[200];
    if (n < 1) {
        raise_wac(WAC_ERR_INVALID_ARGUMENT, "an aligned reader needs at least one capture");
        goto fail;
    }
    if (n > ALIGNED_MAX) {
        snprintf(detail, sizeof detail, "an aligned reader takes at most %d captures, not %zd", ALIGNED_MAX, n);
        raise_wac(WAC_ERR_INVALID_ARGUMENT, detail);
        goto fail;
    }
    if (max_frames == 0) {
        raise_wac(WAC_ERR_INVALID_ARGUMENT, "max_frames must be at least 1");
        goto fail;
    }
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

PyType_Spec aligned_spec = {
    .name = "pywac._wac.Aligned",
    .basicsize = sizeof(AlignedObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = aligned_slots,
};
