/* alloc.h — every allocation libwac makes for itself goes through these, so
 * that wac_replace_allocator() sees all of them and memory handed to the user
 * (session and device lists) is freed by the allocator that made it. Memory
 * the audio libraries allocate (libpipewire, libpulse, COM) stays theirs.
 * Never called on a real-time thread. */
#ifndef WAC_ALLOC_H
#define WAC_ALLOC_H

#include <stddef.h>

/* As malloc, calloc, realloc, free and strdup, with two differences that keep
 * callers simple: a size of 0 is allocated as 1 byte (a unique pointer, never
 * a NULL that looks like a failure), and wac__realloc(p, 0) is not a free. */
void *wac__malloc(size_t size);
void *wac__calloc(size_t count, size_t size);
void *wac__realloc(void *ptr, size_t size);
void wac__free(void *ptr);
char *wac__strdup(const char *s);

#endif
