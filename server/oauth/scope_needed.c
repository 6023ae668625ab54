/* scope_needed.c - the scope a refused request needed, written by scope_format.c (the one
 * place that knows the reference's normal form). */
#include "oauth/scope_needed.h"

#include <string.h>

#include "core/bytes.h"
#include "oauth/scope_format.h"

#define NEEDED_MAX_BYTES 8192 /* a message: longer inputs were refused before this point */

static const char *finish(struct arena *a, struct buf *b, enum err e)
{
    const char *s =
        e ? "(a scope too long to name)" : arena_strndup(a, (const char *)b->ptr, b->len);
    buf_clear(b);
    return s;
}

const char *scope_needed_repo(struct arena *a, const char *collection, unsigned action)
{
    struct buf b;
    buf_init(&b, NEEDED_MAX_BYTES);
    struct bytes c = bytes_str(collection);
    return finish(a, &b, scope_format_repo(&c, 1, action, &b));
}

const char *scope_needed_blob(struct arena *a, const char *mime)
{
    struct buf b;
    buf_init(&b, NEEDED_MAX_BYTES);
    return finish(a, &b, scope_format_blob(bytes_str(mime), &b));
}

const char *scope_needed_rpc(struct arena *a, const char *aud, const char *lxm)
{
    struct buf b;
    buf_init(&b, NEEDED_MAX_BYTES);
    struct bytes l = bytes_str(lxm);
    return finish(a, &b, scope_format_rpc(&l, 1, bytes_str(aud), &b));
}

const char *scope_needed_account(struct arena *a, enum scope_account_attr attr,
                                 enum scope_account_action action)
{
    struct buf b;
    buf_init(&b, NEEDED_MAX_BYTES);
    return finish(a, &b, scope_format_account(attr, action, &b));
}

const char *scope_needed_identity(struct arena *a, enum scope_identity_attr attr)
{
    struct buf b;
    buf_init(&b, NEEDED_MAX_BYTES);
    return finish(a, &b, scope_format_identity(attr, &b));
}
