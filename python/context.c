/* context.c — pywac Context objects: a libwac context, its sessions, devices and volume (see ext.h). */
#include "ext.h"

static int context_init(PyObject *self, PyObject *args, PyObject *kwargs)
{
    ContextObject *c = (ContextObject *)self;
    static char *keywords[] = {"backend", "reconnect", NULL};
    const char *backend = "auto";
    int reconnect = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|sp:Context", keywords, &backend, &reconnect))
        return -1;
    if (c->ctx || c->closed) {
        PyErr_SetString(PyExc_RuntimeError, "Context.__init__ called twice");
        return -1;
    }
    char detail[256] = "";
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = wac_context_open(backend, &c->ctx, detail, sizeof detail);
    /* On by default, as in `wac record`: a capture outlives a restart of the
     * audio server (wac.h). Backends that cannot reconnect end as before. */
    if (rc == 0)
        (void)wac_context_set_reconnect(c->ctx, reconnect != 0);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        raise_wac(rc, detail);
        return -1;
    }
    return 0;
}


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
    freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    tp_free(self);
    Py_DECREF(tp);
}

int context_check(ContextObject *c)
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
        PyObject *item = volume ? Py_BuildValue("(IssIOOOs)", s->pid, s->executable, s->app_name, s->streams,
                                                s->playing ? Py_True : Py_False, volume,
                                                s->muted ? Py_True : Py_False, s->app_id)
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
 * A failure's detail is this thread's (libwac keeps it per thread): copied
 * before the GIL comes back, as every libwac detail here. */
static PyObject *context_list_devices(PyObject *self, PyObject *unused)
{
    ContextObject *c = (ContextObject *)self;
    if (context_check(c))
        return NULL;
    wac_device_list *devices = NULL;
    char detail[256] = "";
    int rc;
    wac_context *ctx = c->ctx;
    WITHOUT_GIL(c, {
        rc = wac_context_list_devices(ctx, &devices);
        if (rc < 0)
            snprintf(detail, sizeof detail, "%s", wac_context_last_error(ctx));
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

/* Volume calls: (kind, pid, name, tree[, value]). */
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
    WITHOUT_GIL(c, {
        if (op == VOLUME_GET)
            rc = wac_context_get_volume(ctx, &target, &volume);
        else if (op == VOLUME_SET)
            rc = wac_context_set_volume(ctx, &target, level);
        else
            rc = wac_context_set_mute(ctx, &target, muted != 0);
        if (rc < 0)
            snprintf(detail, sizeof detail, "%s", wac_context_last_error(ctx));
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
     "list_sessions() -> list of (pid, executable, app_name, streams, playing, volume or None, muted, app_id)"},
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

PyType_Spec context_spec = {
    .name = "pywac._wac.Context",
    .basicsize = sizeof(ContextObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = context_slots,
};
