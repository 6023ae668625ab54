/* bytes.c - byte views and growable buffers. */
#include "core/bytes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int bytes_cmp(struct bytes a, struct bytes b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (c != 0) {
        return c;
    }
    return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        abort();
    }
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        abort();
    }
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        abort();
    }
    return q;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        abort();
    }
    char *s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void *xmemdup(const void *p, size_t n)
{
    void *q = xmalloc(n);
    if (n) {
        memcpy(q, p, n);
    }
    return q;
}

void buf_init(struct buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void buf_clear(struct buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->ptr) {
        b->ptr[0] = 0;
    }
}

enum err buf_reserve(struct buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra) {
        return ERR_TOO_LARGE;
    }
    size_t need = b->len + extra + 1; /* +1 for the NUL */
    if (need <= b->cap) {
        return ERR_OK;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    }
    b->ptr = xrealloc(b->ptr, cap);
    b->cap = cap;
    return ERR_OK;
}

enum err buf_append(struct buf *b, const void *p, size_t n)
{
    enum err e = buf_reserve(b, n);
    if (e != ERR_OK) {
        return e;
    }
    if (n) {
        memcpy(b->ptr + b->len, p, n);
    }
    b->len += n;
    b->ptr[b->len] = 0;
    return ERR_OK;
}

enum err buf_append_byte(struct buf *b, uint8_t c)
{
    return buf_append(b, &c, 1);
}

enum err buf_append_str(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

enum err buf_appendf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return ERR_INTERNAL;
    }
    enum err e = buf_reserve(b, (size_t)n);
    if (e != ERR_OK) {
        return e;
    }
    va_start(ap, fmt);
    vsnprintf((char *)b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return ERR_OK;
}

uint8_t *buf_take(struct buf *b, size_t *len)
{
    uint8_t *p = b->ptr;
    if (len) {
        *len = b->len;
    }
    if (!p) {
        p = xmalloc(1);
        p[0] = 0;
    }
    b->ptr = NULL;
    b->len = b->cap = 0;
    return p;
}
