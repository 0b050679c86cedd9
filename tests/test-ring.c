/* test-ring.c — the ring's single-thread edge cases. */
#include "ring.h"
#include "tap.h"
#include "wac.h"

static void fill_u32(uint32_t *buf, uint32_t n, uint32_t first)
{
    for (uint32_t i = 0; i < n; i++)
        buf[i] = first + i;
}

static void rounding_to_powers_of_two(void)
{
    ASSERT_EQ(wac__ring_round_capacity(1), 1);
    ASSERT_EQ(wac__ring_round_capacity(3), 4);
    ASSERT_EQ(wac__ring_round_capacity(1000), 1024);
    ASSERT_EQ(wac__ring_round_capacity(1024), 1024);
    ASSERT_EQ(wac__ring_round_capacity(0), 0);
    ASSERT_EQ(wac__ring_round_capacity((uint64_t)WAC__RING_MAX_FRAMES + 1), 0);
}

static void odd_sizes_rejected(void)
{
    struct wac__ring r;
    ASSERT_RC(wac__ring_init(&r, 3, 4), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac__ring_init(&r, 0, 4), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac__ring_init(&r, 1000, 4), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac__ring_init(&r, WAC__RING_MAX_FRAMES * 2u, 4), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_RC(wac__ring_init(&r, 8, 0), WAC_ERR_INVALID_ARGUMENT);
    ASSERT_OK(wac__ring_init(&r, 8, 4));
    wac__ring_free(&r);
}

static void empty_ring(void)
{
    struct wac__ring r;
    ASSERT_OK(wac__ring_init(&r, 16, 4));
    uint32_t buf[16];
    struct wac__ring_vec vec;
    ASSERT_EQ(wac__ring_fill(&r), 0);
    ASSERT_EQ(wac__ring_read(&r, buf, 4), 0);
    ASSERT_EQ(wac__ring_read_vec(&r, &vec), 0);
    ASSERT_EQ(vec.frames[0] + vec.frames[1], 0);
    ASSERT_EQ(wac__ring_write_vec(&r, &vec), 16);
    ASSERT_EQ(vec.frames[0], 16);
    ASSERT_EQ(vec.frames[1], 0);
    wac__ring_free(&r);
}

static void full_ring_refuses_writes(void)
{
    struct wac__ring r;
    ASSERT_OK(wac__ring_init(&r, 8, 4));
    uint32_t in[12], out[12];
    fill_u32(in, 12, 100);
    ASSERT_EQ(wac__ring_write(&r, in, 12), 8); /* never overwrites: only what fits */
    ASSERT_EQ(wac__ring_fill(&r), 8);
    ASSERT_EQ(wac__ring_write(&r, in, 1), 0);
    ASSERT_EQ(wac__ring_read(&r, out, 12), 8);
    for (uint32_t i = 0; i < 8; i++)
        ASSERT_EQ(out[i], 100 + i);
    wac__ring_free(&r);
}

static void wrap_splits_into_two_segments(void)
{
    struct wac__ring r;
    ASSERT_OK(wac__ring_init(&r, 8, 4));
    uint32_t in[8], out[8];
    fill_u32(in, 6, 0);
    ASSERT_EQ(wac__ring_write(&r, in, 6), 6);
    ASSERT_EQ(wac__ring_read(&r, out, 6), 6);
    fill_u32(in, 5, 6);
    struct wac__ring_vec vec;
    ASSERT_EQ(wac__ring_write_vec(&r, &vec), 8);
    ASSERT_EQ(vec.frames[0], 2); /* from offset 6 to the end */
    ASSERT_EQ(vec.frames[1], 6);
    ASSERT(vec.ptr[1] == r.data);
    ASSERT_EQ(wac__ring_write(&r, in, 5), 5);
    ASSERT_EQ(wac__ring_read_vec(&r, &vec), 5);
    ASSERT_EQ(vec.frames[0], 2);
    ASSERT_EQ(vec.frames[1], 3);
    ASSERT_EQ(((uint32_t *)(void *)vec.ptr[0])[0], 6);
    ASSERT_EQ(((uint32_t *)(void *)vec.ptr[1])[0], 8);
    ASSERT_EQ(wac__ring_read(&r, out, 8), 5);
    for (uint32_t i = 0; i < 5; i++)
        ASSERT_EQ(out[i], 6 + i);
    wac__ring_free(&r);
}

static void zero_write_and_frame_stride(void)
{
    struct wac__ring r;
    ASSERT_OK(wac__ring_init(&r, 4, 12)); /* 3 channels of float */
    float in[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, out[12];
    ASSERT_EQ(wac__ring_write(&r, in, 2), 2);
    ASSERT_EQ(wac__ring_write(&r, NULL, 2), 2);
    ASSERT_EQ(wac__ring_read(&r, out, 4), 4);
    ASSERT(out[5] == 6.0f);
    for (int i = 6; i < 12; i++)
        ASSERT(out[i] == 0.0f);
    wac__ring_free(&r);
}

static void indices_run_past_32_bits(void)
{
    struct wac__ring r;
    ASSERT_OK(wac__ring_init(&r, 8, 4));
    uint64_t start = (1ull << 32) - 3;
    wac__index_store_release(&r.write_index, start);
    wac__index_store_release(&r.read_index, start);
    uint32_t in[8], out[8];
    fill_u32(in, 7, 40);
    ASSERT_EQ(wac__ring_write(&r, in, 7), 7);
    ASSERT_EQ(wac__ring_fill(&r), 7);
    ASSERT_EQ(wac__ring_read(&r, out, 8), 7);
    for (uint32_t i = 0; i < 7; i++)
        ASSERT_EQ(out[i], 40 + i);
    ASSERT(wac__index_load_acquire(&r.read_index) == start + 7);
    wac__ring_free(&r);
}

static void commit_after_vector_write(void)
{
    struct wac__ring r;
    ASSERT_OK(wac__ring_init(&r, 4, 4));
    struct wac__ring_vec vec;
    ASSERT_EQ(wac__ring_write_vec(&r, &vec), 4);
    ((uint32_t *)(void *)vec.ptr[0])[0] = 77;
    ASSERT_EQ(wac__ring_fill(&r), 0); /* nothing is visible before the commit */
    wac__ring_write_commit(&r, 1);
    ASSERT_EQ(wac__ring_fill(&r), 1);
    ASSERT_EQ(wac__ring_read_vec(&r, &vec), 1);
    ASSERT_EQ(((uint32_t *)(void *)vec.ptr[0])[0], 77);
    wac__ring_read_commit(&r, 1);
    ASSERT_EQ(wac__ring_fill(&r), 0);
    wac__ring_free(&r);
}

int main(void)
{
    RUN(rounding_to_powers_of_two);
    RUN(odd_sizes_rejected);
    RUN(empty_ring);
    RUN(full_ring_refuses_writes);
    RUN(wrap_splits_into_two_segments);
    RUN(zero_write_and_frame_stride);
    RUN(indices_run_past_32_bits);
    RUN(commit_after_vector_write);
    return tap_done();
}
