/* ring.h — a single-producer single-consumer ring of audio frames.
 *
 * Free-running 64-bit indices (they never wrap in practice: 2^64 frames), a
 * power-of-two capacity, each side loading its own index relaxed and the other
 * side's with acquire, publishing with release. The writer never overwrites:
 * it is told how much space there is and the caller (stream.c) counts what did
 * not fit. Readers and writers get two-segment vectors so they can copy
 * straight into or out of their own memory. Nothing here allocates, locks or
 * blocks, except wac__ring_init / wac__ring_free. */
#ifndef WAC_RING_H
#define WAC_RING_H

#include <stdatomic.h>
#include <stdint.h>

#if ATOMIC_LLONG_LOCK_FREE != 2
#error "WAC needs lock-free 64-bit atomics"
#endif

/* Wrapped so that a stray `index += n` does not compile: every access names
 * its memory order. */
typedef struct wac__atomic_index {
    _Atomic uint64_t value;
} wac__atomic_index;

static inline uint64_t wac__index_load_relaxed(const wac__atomic_index *i)
{
    return atomic_load_explicit(&((wac__atomic_index *)i)->value, memory_order_relaxed);
}
static inline uint64_t wac__index_load_acquire(const wac__atomic_index *i)
{
    return atomic_load_explicit(&((wac__atomic_index *)i)->value, memory_order_acquire);
}
static inline void wac__index_store_release(wac__atomic_index *i, uint64_t v)
{
    atomic_store_explicit(&i->value, v, memory_order_release);
}

/* Largest capacity accepted (frames); keeps byte offsets in 32 bits per frame size. */
#define WAC__RING_MAX_FRAMES (1u << 26)

struct wac__ring {
    wac__atomic_index write_index; /* written by the producer only */
    char pad0[64 - sizeof(wac__atomic_index)];
    wac__atomic_index read_index; /* written by the consumer only */
    char pad1[64 - sizeof(wac__atomic_index)];
    uint8_t *data;
    uint32_t capacity; /* frames, a power of two */
    uint32_t mask;
    uint32_t frame_bytes;
};

/* Up to two contiguous pieces of the ring. */
struct wac__ring_vec {
    uint8_t *ptr[2];
    uint32_t frames[2];
};

/* The smallest power of two >= frames (frames in 1 .. WAC__RING_MAX_FRAMES), else 0. */
uint32_t wac__ring_round_capacity(uint64_t frames);

/* capacity must be a power of two in 1 .. WAC__RING_MAX_FRAMES and frame_bytes
 * non-zero: other sizes are rejected with WAC_ERR_INVALID_ARGUMENT, not rounded
 * (callers round with wac__ring_round_capacity first). */
int wac__ring_init(struct wac__ring *ring, uint32_t capacity, uint32_t frame_bytes);
void wac__ring_free(struct wac__ring *ring);

/* Producer side. */
uint32_t wac__ring_write_vec(struct wac__ring *ring, struct wac__ring_vec *vec);
void wac__ring_write_commit(struct wac__ring *ring, uint32_t frames);
/* Copy up to `frames` frames in (src NULL: zeros); returns how many fitted. */
uint32_t wac__ring_write(struct wac__ring *ring, const void *src, uint32_t frames);

/* Consumer side. */
uint32_t wac__ring_read_vec(struct wac__ring *ring, struct wac__ring_vec *vec);
void wac__ring_read_commit(struct wac__ring *ring, uint32_t frames);
/* Copy up to `frames` frames out; returns how many were there. */
uint32_t wac__ring_read(struct wac__ring *ring, void *dst, uint32_t frames);

/* Either side: frames readable now (a snapshot). */
uint32_t wac__ring_fill(const struct wac__ring *ring);

#endif
