/* scope_format.c - writing scope values in the reference's normal form. */
#include "oauth/scope_format.h"

#include <stdlib.h>
#include <string.h>

/* Characters the reference turns back from %XX after encoding (ALLOWED_SCOPE_CHARS in
 * oauth-scopes syntax-string.ts): they read better and never clash with '?' or '&'. */
static bool kept_readable(uint8_t c)
{
    return c == ':' || c == '/' || c == '+' || c == ',' || c == '@' || c == '%';
}

static bool alnum(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* form: URLSearchParams' serializer (space is '+', *-._ kept); otherwise
 * encodeURIComponent (-_.!~*'() kept). */
static enum err put_encoded(struct buf *out, struct bytes v, bool form)
{
    static const char hex[] = "0123456789ABCDEF";
    enum err e = ERR_OK;
    for (size_t i = 0; i < v.len && !e; i++) {
        uint8_t c = v.ptr[i];
        bool keep = alnum(c) || kept_readable(c) ||
                    (form ? strchr("*-._", c) != NULL : strchr("-_.!~*'()", c) != NULL);
        if (c == 0) {
            keep = false;
        }
        if (form && c == ' ') {
            e = buf_append_byte(out, '+');
        } else if (keep) {
            e = buf_append_byte(out, c);
        } else {
            char pct[3] = {'%', hex[c >> 4], hex[c & 15]};
            e = buf_append(out, pct, sizeof pct);
        }
    }
    return e;
}

static int cmp_bytes(const void *a, const void *b)
{
    return bytes_cmp(*(const struct bytes *)a, *(const struct bytes *)b);
}

/* The reference's normalisation of an NSID list: '*' alone if present among several,
 * else unique and sorted (code-unit order, which is byte order for ASCII NSIDs). The
 * result is written into sorted (capacity n); returns its length. */
static size_t normalize_list(const struct bytes *in, size_t n, struct bytes *sorted)
{
    if (n > 1) {
        for (size_t i = 0; i < n; i++) {
            if (bytes_eq(in[i], BYTES_LIT("*"))) {
                sorted[0] = in[i];
                return 1;
            }
        }
    }
    memcpy(sorted, in, n * sizeof *in);
    qsort(sorted, n, sizeof *sorted, cmp_bytes);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k == 0 || !bytes_eq(sorted[k - 1], sorted[i])) {
            sorted[k++] = sorted[i];
        }
    }
    return k;
}

/* prefix, then the list as positional (one value) or as repeated key=value params.
 * *first_param tells whether a '?' has been written. */
static enum err put_list(struct buf *out, const char *key, const struct bytes *vals, size_t n,
                         bool *has_query)
{
    enum err e = ERR_OK;
    if (n == 1) {
        e = buf_append_byte(out, ':');
        return e ? e : put_encoded(out, vals[0], false);
    }
    for (size_t i = 0; i < n && !e; i++) {
        e = buf_append_str(out, *has_query ? "&" : "?");
        *has_query = true;
        if (!e) {
            e = buf_appendf(out, "%s=", key);
        }
        if (!e) {
            e = put_encoded(out, vals[i], true);
        }
    }
    return e;
}

enum err scope_format_repo(const struct bytes *collections, size_t n, unsigned actions,
                           struct buf *out)
{
    if (n == 0 || n > SCOPE_MAX_PARAMS || !(actions & SCOPE_REPO_ALL)) {
        return ERR_INVALID;
    }
    struct bytes sorted[SCOPE_MAX_PARAMS];
    size_t k = normalize_list(collections, n, sorted);
    bool has_query = false;
    enum err e = buf_append_str(out, "repo");
    if (!e) {
        e = put_list(out, "collection", sorted, k, &has_query);
    }
    if ((actions & SCOPE_REPO_ALL) != SCOPE_REPO_ALL) { /* the default is left out */
        static const struct {
            unsigned bit;
            const char *name;
        } order[] = {{SCOPE_REPO_CREATE, "create"},
                     {SCOPE_REPO_UPDATE, "update"},
                     {SCOPE_REPO_DELETE, "delete"}};
        for (size_t i = 0; i < ARRAY_LEN(order) && !e; i++) {
            if (actions & order[i].bit) {
                e = buf_appendf(out, "%saction=%s", has_query ? "&" : "?", order[i].name);
                has_query = true;
            }
        }
    }
    return e;
}

enum err scope_format_rpc(const struct bytes *lxms, size_t n, struct bytes aud, struct buf *out)
{
    if (n == 0 || n > SCOPE_MAX_PARAMS || aud.len == 0) {
        return ERR_INVALID;
    }
    struct bytes sorted[SCOPE_MAX_PARAMS];
    size_t k = normalize_list(lxms, n, sorted);
    bool has_query = false;
    enum err e = buf_append_str(out, "rpc");
    if (!e) {
        e = put_list(out, "lxm", sorted, k, &has_query);
    }
    if (!e) {
        e = buf_append_str(out, has_query ? "&aud=" : "?aud=");
    }
    return e ? e : put_encoded(out, aud, true);
}

enum err scope_format_account(enum scope_account_attr attr, enum scope_account_action action,
                              struct buf *out)
{
    enum err e =
        buf_append_str(out, attr == SCOPE_ACCOUNT_EMAIL ? "account:email" : "account:repo");
    if (!e && action == SCOPE_ACCOUNT_MANAGE) {
        e = buf_append_str(out, "?action=manage");
    }
    return e;
}

enum err scope_format_blob(struct bytes mime, struct buf *out)
{
    char lower[256];
    if (mime.len == 0 || mime.len >= sizeof lower) {
        return ERR_INVALID;
    }
    for (size_t i = 0; i < mime.len; i++) {
        uint8_t c = mime.ptr[i];
        lower[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    enum err e = buf_append_str(out, "blob:");
    return e ? e : put_encoded(out, bytes_of(lower, mime.len), false);
}

enum err scope_format_identity(enum scope_identity_attr attr, struct buf *out)
{
    return buf_append_str(out, attr == SCOPE_IDENTITY_HANDLE ? "identity:handle" : "identity:*");
}
