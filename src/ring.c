/* ring.c — see ring.h. */
#include "ring.h"
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "wac.h"

uint32_t wac__ring_round_capacity(uint64_t frames)
{
    if (frames == 0 || frames > WAC__RING_MAX_FRAMES)
        return 0;
    uint32_t cap = 1;
    while (cap < frames)
        cap <<= 1;
    return cap;
}

int wac__ring_init(struct wac__ring *ring, uint32_t capacity, uint32_t frame_bytes)
{
    memset(ring, 0, sizeof *ring);
    if (capacity == 0 || capacity > WAC__RING_MAX_FRAMES || (capacity & (capacity - 1)) != 0 || frame_bytes == 0 ||
        frame_bytes > 64)
        return WAC_ERR_INVALID_ARGUMENT;
    ring->data = wac__calloc(capacity, frame_bytes);
    if (!ring->data)
        return WAC_ERR_NO_MEMORY;
    ring->capacity = capacity;
    ring->mask = capacity - 1;
    ring->frame_bytes = frame_bytes;
    return 0;
}

void wac__ring_free(struct wac__ring *ring)
{
    wac__free(ring->data);
    ring->data = NULL;
}

/* Two pieces starting at `index` covering `frames` frames, split at the end of the buffer. */
static void ring_span(const struct wac__ring *ring, uint64_t index, uint32_t frames, struct wac__ring_vec *vec)
{
    uint32_t offset = (uint32_t)(index & ring->mask);
    uint32_t first = ring->capacity - offset;
    if (first > frames)
        first = frames;
    vec->ptr[0] = ring->data + (size_t)offset * ring->frame_bytes;
    vec->frames[0] = first;
    vec->ptr[1] = ring->data;
    vec->frames[1] = frames - first;
}

uint32_t wac__ring_write_vec(struct wac__ring *ring, struct wac__ring_vec *vec)
{
    uint64_t w = wac__index_load_relaxed(&ring->write_index);
    uint64_t r = wac__index_load_acquire(&ring->read_index);
    uint32_t space = ring->capacity - (uint32_t)(w - r);
    ring_span(ring, w, space, vec);
    return space;
}

void wac__ring_write_commit(struct wac__ring *ring, uint32_t frames)
{
    uint64_t w = wac__index_load_relaxed(&ring->write_index);
    wac__index_store_release(&ring->write_index, w + frames);
}

uint32_t wac__ring_write(struct wac__ring *ring, const void *src, uint32_t frames)
{
    struct wac__ring_vec vec;
    uint32_t space = wac__ring_write_vec(ring, &vec);
    uint32_t n = frames < space ? frames : space;
    uint32_t first = n < vec.frames[0] ? n : vec.frames[0];
    size_t first_bytes = (size_t)first * ring->frame_bytes;
    size_t second_bytes = (size_t)(n - first) * ring->frame_bytes;
    if (src) {
        memcpy(vec.ptr[0], src, first_bytes);
        memcpy(vec.ptr[1], (const uint8_t *)src + first_bytes, second_bytes);
    } else {
        memset(vec.ptr[0], 0, first_bytes);
        memset(vec.ptr[1], 0, second_bytes);
    }
    wac__ring_write_commit(ring, n);
    return n;
}

uint32_t wac__ring_read_vec(struct wac__ring *ring, struct wac__ring_vec *vec)
{
    uint64_t r = wac__index_load_relaxed(&ring->read_index);
    uint64_t w = wac__index_load_acquire(&ring->write_index);
    uint32_t fill = (uint32_t)(w - r);
    ring_span(ring, r, fill, vec);
    return fill;
}

void wac__ring_read_commit(struct wac__ring *ring, uint32_t frames)
{
    uint64_t r = wac__index_load_relaxed(&ring->read_index);
    wac__index_store_release(&ring->read_index, r + frames);
}

uint32_t wac__ring_read(struct wac__ring *ring, void *dst, uint32_t frames)
{
    struct wac__ring_vec vec;
    uint32_t fill = wac__ring_read_vec(ring, &vec);
    uint32_t n = frames < fill ? frames : fill;
    uint32_t first = n < vec.frames[0] ? n : vec.frames[0];
    size_t first_bytes = (size_t)first * ring->frame_bytes;
    memcpy(dst, vec.ptr[0], first_bytes);
    memcpy((uint8_t *)dst + first_bytes, vec.ptr[1], (size_t)(n - first) * ring->frame_bytes);
    wac__ring_read_commit(ring, n);
    return n;
}

uint32_t wac__ring_fill(const struct wac__ring *ring)
{
    uint64_t r = wac__index_load_acquire(&ring->read_index);
    uint64_t w = wac__index_load_acquire(&ring->write_index);
    return (uint32_t)(w - r);
}
