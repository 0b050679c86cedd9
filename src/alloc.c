/* alloc.c — the allocator libwac uses, and wac_replace_allocator(). */
#include "alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wac.h"

/* Plain pointers, not atomics: the contract is that the allocator is replaced
 * only while libwac holds no memory and no other libwac call runs, and the
 * thread that replaces it starts (or joins) every thread that uses it later. */
static struct {
    wac_malloc_func malloc_fn;
    wac_realloc_func realloc_fn;
    wac_calloc_func calloc_fn;
    wac_free_func free_fn;
} wac__allocator = {malloc, realloc, calloc, free};

/* Blocks that libwac allocated and has not freed: what makes replacing the
 * allocator unsafe (a block would reach a free() that did not make it). One
 * relaxed atomic per allocation; nothing here runs on a real-time thread. */
static atomic_size_t wac__live_blocks;

static void *counted(void *p)
{
    if (p)
        atomic_fetch_add_explicit(&wac__live_blocks, 1, memory_order_relaxed);
    return p;
}

int wac_replace_allocator(wac_malloc_func malloc_func, wac_realloc_func realloc_func, wac_calloc_func calloc_func,
                          wac_free_func free_func)
{
    if (!malloc_func || !realloc_func || !calloc_func || !free_func)
        return WAC_ERR_INVALID_ARGUMENT;
    if (atomic_load_explicit(&wac__live_blocks, memory_order_acquire) != 0)
        return WAC_ERR_BUSY;
    wac__allocator.malloc_fn = malloc_func;
    wac__allocator.realloc_fn = realloc_func;
    wac__allocator.calloc_fn = calloc_func;
    wac__allocator.free_fn = free_func;
    return 0;
}

void *wac__malloc(size_t size)
{
    return counted(wac__allocator.malloc_fn(size ? size : 1));
}

void *wac__calloc(size_t count, size_t size)
{
    if (count == 0 || size == 0)
        count = size = 1;
    else if (count > SIZE_MAX / size)
        return NULL; /* the product would wrap: a user's calloc might not check */
    return counted(wac__allocator.calloc_fn(count, size));
}

void *wac__realloc(void *ptr, size_t size)
{
    if (!ptr)
        return wac__malloc(size);
    /* The old block stays live whether or not this succeeds. */
    return wac__allocator.realloc_fn(ptr, size ? size : 1);
}

void wac__free(void *ptr)
{
    if (!ptr)
        return;
    atomic_fetch_sub_explicit(&wac__live_blocks, 1, memory_order_release);
    wac__allocator.free_fn(ptr);
}

char *wac__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = wac__malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}
