/* _oldpoll.c — the capture half of the OLD design that WAC replaces, for the
 * benchmarks, as a CPython extension (the original was a pybind11 module).
 *
 * The original (see /work/shared/seed): a C++ capture thread woken by the
 * audio engine appends 48 kHz stereo float32 to a std::vector<float> under a
 * std::mutex; Python calls get_buffer(), which locks, copies the whole vector
 * into a new numpy array (an empty array when there is nothing), clears the
 * vector, and returns the array. Here:
 *   - the engine is PipeWire: a pw_stream on its own pw_thread_loop (the
 *     "capture thread": no RT_PROCESS flag, so process() runs on that thread,
 *     as the WASAPI event thread did), connected like `pw-record --target
 *     SERIAL` to one application's output node, in the engine's format
 *     (48 kHz stereo F32: the old design converted in Python), node.latency
 *     left unset like WAC;
 *   - the buffer grows like std::vector (capacity doubles; clear() keeps it);
 *   - get_buffer() allocates a fresh numpy float32 array every call and copies.
 * Python side: bench/py/oldpoll_consumer.py. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <pipewire/pipewire.h>
#include <spa/param/audio/format-utils.h>

struct oldcap {
    struct pw_thread_loop *loop;
    struct pw_stream *stream;
    struct spa_hook listener;
    pthread_mutex_t lock;
    float *data;
    size_t size, capacity; /* in floats */
};

static void on_process(void *userdata)
{
    struct oldcap *c = userdata;
    struct pw_buffer *b = pw_stream_dequeue_buffer(c->stream);
    if (!b)
        return;
    struct spa_data *d = &b->buffer->datas[0];
    if (d->data && d->chunk) {
        uint32_t off = SPA_MIN(d->chunk->offset, d->maxsize);
        uint32_t bytes = SPA_MIN(d->chunk->size, d->maxsize - off);
        size_t n = bytes / sizeof(float);
        const float *src = SPA_PTROFF(d->data, off, const float);
        pthread_mutex_lock(&c->lock);
        if (c->size + n > c->capacity) { /* std::vector::insert growth */
            size_t cap = c->capacity ? c->capacity : 1024;
            while (cap < c->size + n)
                cap *= 2;
            float *grown = realloc(c->data, cap * sizeof(float));
            if (grown) {
                c->data = grown;
                c->capacity = cap;
            }
        }
        if (c->size + n <= c->capacity) {
            memcpy(c->data + c->size, src, n * sizeof(float));
            c->size += n;
        }
        pthread_mutex_unlock(&c->lock);
    }
    pw_stream_queue_buffer(c->stream, b);
}

static const struct pw_stream_events events = {
    PW_VERSION_STREAM_EVENTS,
    .process = on_process,
};

static void capsule_free(PyObject *capsule)
{
    struct oldcap *c = PyCapsule_GetPointer(capsule, "oldcap");
    if (!c)
        return;
    if (c->loop) {
        pw_thread_loop_stop(c->loop);
        if (c->stream)
            pw_stream_destroy(c->stream);
        pw_thread_loop_destroy(c->loop);
    }
    pthread_mutex_destroy(&c->lock);
    free(c->data);
    free(c);
}

/* open(serial) -> handle: start capturing the node with that object.serial. */
static PyObject *oldpoll_open(PyObject *self, PyObject *args)
{
    unsigned serial;
    if (!PyArg_ParseTuple(args, "I", &serial))
        return NULL;
    struct oldcap *c = calloc(1, sizeof *c);
    if (!c)
        return PyErr_NoMemory();
    pthread_mutex_init(&c->lock, NULL);
    PyObject *capsule = PyCapsule_New(c, "oldcap", capsule_free);
    if (!capsule) {
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    c->loop = pw_thread_loop_new("old-capture", NULL);
    if (!c->loop || pw_thread_loop_start(c->loop) < 0) {
        Py_DECREF(capsule);
        PyErr_SetString(PyExc_RuntimeError, "cannot start a PipeWire thread loop");
        return NULL;
    }
    pw_thread_loop_lock(c->loop);
    struct pw_properties *props = pw_properties_new(PW_KEY_MEDIA_TYPE, "Audio", PW_KEY_MEDIA_CATEGORY, "Capture",
                                                    PW_KEY_MEDIA_ROLE, "Music", NULL);
    pw_properties_setf(props, PW_KEY_TARGET_OBJECT, "%u", serial);
    c->stream = pw_stream_new_simple(pw_thread_loop_get_loop(c->loop), "old-poll-capture", props, &events, c);
    int r = -1;
    if (c->stream) {
        uint8_t buffer[1024];
        struct spa_pod_builder builder = SPA_POD_BUILDER_INIT(buffer, sizeof buffer);
        struct spa_audio_info_raw info = {.format = SPA_AUDIO_FORMAT_F32, .rate = 48000, .channels = 2};
        info.position[0] = SPA_AUDIO_CHANNEL_FL;
        info.position[1] = SPA_AUDIO_CHANNEL_FR;
        const struct spa_pod *params[1] = {spa_format_audio_raw_build(&builder, SPA_PARAM_EnumFormat, &info)};
        r = pw_stream_connect(c->stream, PW_DIRECTION_INPUT, PW_ID_ANY,
                              PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS, params, 1);
    }
    pw_thread_loop_unlock(c->loop);
    if (r < 0) {
        Py_DECREF(capsule);
        PyErr_SetString(PyExc_RuntimeError, "cannot connect a PipeWire capture stream");
        return NULL;
    }
    return capsule;
}

/* get_buffer(handle) -> numpy float32 array: everything captured since the
 * last call (interleaved stereo), copied; the C buffer is cleared. */
static PyObject *oldpoll_get_buffer(PyObject *self, PyObject *arg)
{
    struct oldcap *c = PyCapsule_GetPointer(arg, "oldcap");
    if (!c)
        return NULL;
    /* pybind11 code of the seed: lock_guard first, then build the array. */
    pthread_mutex_lock(&c->lock);
    npy_intp n = (npy_intp)c->size;
    PyObject *array = PyArray_SimpleNew(1, &n, NPY_FLOAT32);
    if (array && n) {
        memcpy(PyArray_DATA((PyArrayObject *)array), c->data, (size_t)n * sizeof(float));
        c->size = 0;
    }
    pthread_mutex_unlock(&c->lock);
    return array;
}

static PyMethodDef methods[] = {
    {"open", oldpoll_open, METH_VARARGS, "open(serial) -> handle"},
    {"get_buffer", oldpoll_get_buffer, METH_O, "get_buffer(handle) -> numpy.ndarray[float32]"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_oldpoll", "the old polling design (benchmarks)", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__oldpoll(void);
PyMODINIT_FUNC PyInit__oldpoll(void)
{
    import_array();
    pw_init(NULL, NULL);
    return PyModule_Create(&module);
}
