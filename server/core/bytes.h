/* bytes.h - byte views (borrowed) and growable buffers (owned) used across the server.
 * Pure; a struct buf belongs to one thread at a time. */
#ifndef PDS_CORE_BYTES_H
#define PDS_CORE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/err.h"

/* A borrowed view: never outlives the memory it points into. */
struct bytes {
    const uint8_t *ptr;
    size_t len;
};

#define BYTES_LIT(s) ((struct bytes){(const uint8_t *)(s), sizeof(s) - 1})

static inline struct bytes bytes_of(const void *p, size_t n)
{
    return (struct bytes){(const uint8_t *)p, n};
}

static inline struct bytes bytes_str(const char *s)
{
    return (struct bytes){(const uint8_t *)s, s ? strlen(s) : 0};
}

static inline bool bytes_eq(struct bytes a, struct bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* memcmp order, shorter first on a tie: the MST's bytewise key order. */
int bytes_cmp(struct bytes a, struct bytes b);

/* An owned, growable buffer; ptr is NUL-terminated after len whenever ptr != NULL.
 * Growing past max fails with ERR_TOO_LARGE and leaves the buffer as it was. */
struct buf {
    uint8_t *ptr;
    size_t len, cap, max;
};

/* Limits a buffer may be given (curl's named ceilings, not bare numbers). */
#define BUF_MAX_DEFAULT ((size_t)64 << 20) /* 64 MiB: larger than any block or frame */
#define BUF_MAX_HUGE    ((size_t)4 << 30)  /* 4 GiB: whole-repo CARs */

void buf_init(struct buf *b, size_t max);
void buf_clear(struct buf *b); /* frees; safe on a zeroed or cleared buffer */
void buf_reset(struct buf *b); /* len = 0, keeps the memory */
enum err buf_reserve(struct buf *b, size_t extra) MUST_CHECK;
enum err buf_append(struct buf *b, const void *p, size_t n) MUST_CHECK;
enum err buf_append_byte(struct buf *b, uint8_t c) MUST_CHECK;
enum err buf_append_str(struct buf *b, const char *s) MUST_CHECK;
enum err buf_appendf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3) MUST_CHECK;
/* Moves the memory out: caller frees with free(); the buffer is left empty. */
uint8_t *buf_take(struct buf *b, size_t *len);

static inline struct bytes buf_bytes(const struct buf *b)
{
    return (struct bytes){b->ptr, b->len};
}

/* Allocation that never returns NULL: out of memory aborts (h2o, palloc). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrndup(const char *s, size_t n);
/* A formatted string in new memory; caller frees. */
char *xprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
void *xmemdup(const void *p, size_t n);

#endif
