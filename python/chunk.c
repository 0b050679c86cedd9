/* chunk.c — pywac Chunk objects: captured audio in a buffer the module owns (see ext.h). */
#include "ext.h"

/* ---- chunks: a buffer the module owns ------------------------------------ */


Py_ssize_t sample_size(int sample)
{
    return sample == WAC_SAMPLE_S16 ? 2 : 4;
}

ChunkObject *chunk_new(Py_ssize_t frames, int channels, int sample)
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

void chunk_set_info(ChunkObject *chunk, Py_ssize_t frames, const wac_chunk_info *info)
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

PyType_Spec chunk_spec = {
    .name = "pywac._wac.Chunk",
    .basicsize = sizeof(ChunkObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION, /* only reads and callbacks make them */
    .slots = chunk_slots,
};
