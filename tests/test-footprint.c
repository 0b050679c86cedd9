/* test-footprint.c — what a closed capture keeps until its context closes.
 * Closed handles stay valid (every call on one returns WAC_ERR_CLOSED), so a
 * program that opens and closes captures on one context for hours keeps each
 * handle: it must be small. Measured with glibc's heap statistics; where the
 * allocator is not glibc's (sanitizers replace it, other C libraries) the
 * test says so and skips. */
#include "helpers.h"

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define HAVE_MALLINFO2 1

/* Bytes the program holds from the heap, small blocks and mmap'd ones alike. */
static size_t heap_in_use(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}
#endif

#define CAPTURES 200
#define MAX_KEPT 640 /* bytes a closed capture may keep, allocator overhead included (57,808 before) */

static void on_audio(wac_capture *cap, const void *frames, uint32_t n, const wac_chunk_info *info, void *userdata)
{
}

/* Opens, starts and closes captures on one context; the heap's growth per
 * capture is what each closed handle keeps. */
static void measure(wac_audio_cb cb)
{
#ifdef HAVE_MALLINFO2
    /* Does the heap we measure see our allocations? */
    size_t before_probe = heap_in_use();
    void *volatile probe = malloc(4096);
    bool seen = heap_in_use() >= before_probe + 4096;
    free(probe);
    if (!seen) {
        printf("# the allocator is not glibc's malloc (a sanitizer?): not measured\n");
        return;
    }
    wac_context *ctx = open_dummy();
    wac_capture_config c = speech_config();
    c.on_audio = cb;
    /* Warm up: the dispatch thread, the backend's first allocations. */
    wac_capture *cap = open_started(ctx, &c);
    ASSERT_OK(wac_capture_close(cap));
    size_t start = heap_in_use();
    for (int i = 0; i < CAPTURES; i++) {
        cap = open_started(ctx, &c);
        ASSERT_OK(wac_capture_close(cap));
        ASSERT_RC(wac_capture_close(cap), WAC_ERR_CLOSED); /* still a valid handle */
        ASSERT_EQ(wac_capture_get_state(cap), WAC_STATE_CLOSED);
    }
    size_t end = heap_in_use();
    size_t per = end > start ? (end - start) / CAPTURES : 0;
    printf("# a closed capture keeps %zu bytes\n", per);
    ASSERT_CMP(per, <=, MAX_KEPT);
    ASSERT_OK(wac_context_close(ctx));
#else
    (void)cb;
    printf("# no mallinfo2 here: not measured\n");
#endif
}

static void closed_read_capture_is_small(void)
{
    measure(NULL);
}

/* A callback capture has a chunk buffer and a place with the dispatch thread. */
static void closed_callback_capture_is_small(void)
{
    measure(on_audio);
}

int main(void)
{
    RUN(closed_read_capture_is_small);
    RUN(closed_callback_capture_is_small);
    return tap_done();
}
