/* form.c - decoding application/x-www-form-urlencoded text. */
#include "http/form.h"

#include <string.h>

#include "core/hex.h"

/* Decodes s[0..n) into the arena: "+" is a space, %XX a byte, a stray % stays (as
 * URLSearchParams). ERR_INVALID when the result holds a NUL. */
static enum err decode(struct arena *a, const char *s, size_t n, const char **out)
{
    char *d = arena_alloc(a, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '+') {
            d[k++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && (hi = hex_digit((uint8_t)s[i + 1])) >= 0 &&
                   (lo = hex_digit((uint8_t)s[i + 2])) >= 0) {
            d[k++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            d[k++] = s[i];
        }
        if (d[k - 1] == '\0') {
            return ERR_INVALID;
        }
    }
    d[k] = '\0';
    *out = d;
    return ERR_OK;
}

enum err form_parse(struct arena *a, struct bytes text, size_t max, struct xrpc_param **out,
                    size_t *n)
{
    *out = NULL;
    *n = 0;
    const char *s = (const char *)text.ptr;
    size_t count = 0;
    for (size_t i = 0; i < text.len; i++) {
        count += s[i] == '&';
    }
    count++;
    if (count > max) {
        return ERR_TOO_LARGE;
    }
    struct xrpc_param *p = arena_alloc(a, count * sizeof *p);
    size_t got = 0, start = 0;
    for (size_t i = 0; i <= text.len; i++) {
        if (i < text.len && s[i] != '&') {
            continue;
        }
        size_t len = i - start;
        if (len > 0) {
            const char *piece = s + start;
            const char *eq = memchr(piece, '=', len);
            size_t name_len = eq ? (size_t)(eq - piece) : len;
            enum err e = decode(a, piece, name_len, &p[got].name);
            if (!e) {
                e = eq ? decode(a, eq + 1, len - name_len - 1, &p[got].value)
                       : decode(a, "", 0, &p[got].value);
            }
            if (e) {
                return e;
            }
            got++;
        }
        start = i + 1;
    }
    *out = p;
    *n = got;
    return ERR_OK;
}

const char *form_get(const struct xrpc_param *p, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(p[i].name, name) == 0) {
            return p[i].value;
        }
    }
    return NULL;
}
