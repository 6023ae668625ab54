/* arena.h - region allocation for one request or one decode: allocate freely, free all at once.
 * One owner thread; arena_alloc never returns NULL (out of memory aborts). */
#ifndef PDS_CORE_ARENA_H
#define PDS_CORE_ARENA_H

#include <stddef.h>

struct arena_chunk;
struct arena_defer;

struct arena {
    struct arena_chunk *_head;
    struct arena_defer *_defers;
    size_t _used_total; /* bytes handed out since init/reset, for limits and stats */
};

void arena_init(struct arena *a);
/* Runs deferred cleanups (last first) and frees all memory; the arena stays usable. */
void arena_reset(struct arena *a);
void arena_clear(struct arena *a);             /* same as reset; name for end of life */
void *arena_alloc(struct arena *a, size_t n);  /* 16-byte aligned, uninitialised */
void *arena_zalloc(struct arena *a, size_t n); /* zeroed */
void *arena_memdup(struct arena *a, const void *p, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n); /* NUL-terminated copy */
/* Registers fn(p) to run at reset: frees a jansson root, a PGresult, ... */
void arena_defer(struct arena *a, void (*fn)(void *), void *p);
size_t arena_used(const struct arena *a);

#endif
