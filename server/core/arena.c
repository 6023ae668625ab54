/* arena.c - chunked region allocator. */
#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"

#define ARENA_CHUNK_BYTES 8192 /* small requests share chunks; large ones get their own */
#define ARENA_ALIGN       16

struct arena_chunk {
    struct arena_chunk *next;
    size_t cap, used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena_defer {
    struct arena_defer *next;
    void (*fn)(void *);
    void *p;
};

void arena_init(struct arena *a)
{
    a->_head = NULL;
    a->_defers = NULL;
    a->_used_total = 0;
}

void arena_reset(struct arena *a)
{
    struct arena_defer *d = a->_defers;
    a->_defers = NULL;
    while (d) {
        /* the defer record itself lives in the arena: read next before the callback */
        struct arena_defer *next = d->next;
        d->fn(d->p);
        d = next;
    }
    struct arena_chunk *c = a->_head;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->_head = NULL;
    a->_used_total = 0;
}

void arena_clear(struct arena *a)
{
    arena_reset(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < n) {
        abort(); /* size_t overflow: callers check attacker sizes before this */
    }
    struct arena_chunk *c = a->_head;
    if (!c || c->cap - c->used < need) {
        size_t cap = need > ARENA_CHUNK_BYTES / 4 ? need : ARENA_CHUNK_BYTES;
        struct arena_chunk *nc = xmalloc(sizeof(*nc) + cap);
        nc->cap = cap;
        nc->used = 0;
        if (c && need > ARENA_CHUNK_BYTES / 4) {
            /* keep the partly used chunk at the head so small allocations keep filling it */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->_head = nc;
        }
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->_used_total += need;
    return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

void *arena_memdup(struct arena *a, const void *p, size_t n)
{
    void *q = arena_alloc(a, n);
    if (n) {
        memcpy(q, p, n);
    }
    return q;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *q = arena_alloc(a, n + 1);
    if (n) {
        memcpy(q, s, n);
    }
    q[n] = '\0';
    return q;
}

void arena_defer(struct arena *a, void (*fn)(void *), void *p)
{
    struct arena_defer *d = arena_alloc(a, sizeof(*d));
    d->fn = fn;
    d->p = p;
    d->next = a->_defers;
    a->_defers = d;
}

size_t arena_used(const struct arena *a)
{
    return a->_used_total;
}
