/* _wac.c — pywac's extension module: libwac's contexts, captures, chunks and
 * aligned readers as Python objects (their files: ext.h). The Python layer
 * (pywac/_capture.py & co.) builds the public API on top; the extension owns
 * everything that touches threads, the GIL and memory. This file: errors,
 * the module's functions and its initialisation.
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
#include "ext.h"

/* The two things this file needs from the platform. */
void sleep_1ms(void)
{
#ifdef _WIN32
    Sleep(1);
#else
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
#endif
}

long long now_ms(void)
{
#ifdef _WIN32
    return (long long)GetTickCount64();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#endif
}

PyObject *error_classes; /* dict: code -> exception class (set by the Python layer) */
PyObject *error_base;    /* pywac.Error */
atomic_bool shutting_down;

PyTypeObject *context_type, *capture_type, *chunk_type, *aligned_type;

/* ---- errors ---------------------------------------------------------------- */

/* Raise the exception class registered for `code` with the detail message. */
PyObject *raise_wac(int code, const char *detail)
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
bool code_speaks_for_itself(int code)
{
    return code == WAC_ERR_CLOSED || code == WAC_ERR_TIMEOUT || code == WAC_ERR_ENDED ||
           code == WAC_ERR_INTERRUPTED;
}

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
