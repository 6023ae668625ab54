/* scope_needed.c - formatting needed scopes as the reference does. */
#include "oauth/scope_needed.h"

#include <string.h>

#include "core/bytes.h"

static bool kept_positional(unsigned char c)
{
    /* encodeURIComponent's unreserved set, then the reference's ALLOWED_SCOPE_CHARS */
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           strchr("-_.!~*'():/+,@%", c);
}

static bool kept_query(unsigned char c)
{
    /* URLSearchParams' set (space becomes '+'), then ALLOWED_SCOPE_CHARS */
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           strchr("*-._:/+,@%", c);
}

static void enc(struct buf *b, const char *s, bool query)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        enum err e;
        if (query && *p == ' ') {
            e = buf_append_byte(b, '+');
        } else if (query ? kept_query(*p) : kept_positional(*p)) {
            e = buf_append_byte(b, *p);
        } else {
            char t[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            e = buf_append(b, t, 3);
        }
        (void)e; /* the buffer's max is generous; a failure only truncates a message */
    }
}

static const char *finish(struct arena *a, struct buf *b)
{
    const char *s = arena_strndup(a, (const char *)b->ptr, b->len);
    buf_clear(b);
    return s;
}

static const char *one(struct arena *a, const char *resource, const char *positional,
                       const char *key, const char *value)
{
    struct buf b;
    buf_init(&b, 8192);
    (void)!buf_append_str(&b, resource);
    (void)!buf_append_byte(&b, ':');
    enc(&b, positional, false);
    if (key) {
        (void)!buf_append_byte(&b, '?');
        (void)!buf_append_str(&b, key);
        (void)!buf_append_byte(&b, '=');
        enc(&b, value, true);
    }
    return finish(a, &b);
}

const char *scope_needed_repo(struct arena *a, const char *collection, unsigned action)
{
    const char *name = action == SCOPE_REPO_CREATE   ? "create"
                       : action == SCOPE_REPO_UPDATE ? "update"
                                                     : "delete";
    return one(a, "repo", collection, "action", name);
}

const char *scope_needed_blob(struct arena *a, const char *mime)
{
    return one(a, "blob", mime, NULL, NULL);
}

const char *scope_needed_rpc(struct arena *a, const char *aud, const char *lxm)
{
    return one(a, "rpc", lxm, "aud", aud);
}

const char *scope_needed_account(struct arena *a, enum scope_account_attr attr,
                                 enum scope_account_action action)
{
    const char *name = attr == SCOPE_ACCOUNT_EMAIL ? "email" : "repo";
    /* "read" is the default action, so it is left out */
    return one(a, "account", name, action == SCOPE_ACCOUNT_MANAGE ? "action" : NULL, "manage");
}

const char *scope_needed_identity(struct arena *a, enum scope_identity_attr attr)
{
    return one(a, "identity", attr == SCOPE_IDENTITY_ALL ? "*" : "handle", NULL, NULL);
}
