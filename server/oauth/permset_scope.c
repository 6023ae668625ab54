/* permset_scope.c - expanding include: scopes into token scopes. */
#include "oauth/permset_scope.h"

#include <stdio.h>
#include <string.h>

#include "oauth/lexcache.h"
#include "oauth/permset.h"
#include "oauth/scope.h"

/* Appends the expansion of one include scope to out. */
static enum err expand_one(struct db *db, const struct lexres_config *c,
                           const struct scope_include_perm *inc, struct arena *a, struct buf *out,
                           char *why, size_t why_len)
{
    char nsid[SYNTAX_NSID_MAX_LEN + 1];
    if (inc->nsid.len >= sizeof nsid) {
        return ERR_INVALID;
    }
    memcpy(nsid, inc->nsid.ptr, inc->nsid.len);
    nsid[inc->nsid.len] = '\0';
    struct lexres_result res;
    char reason[256] = "";
    enum err e = lexcache_get(db, c, nsid, false, &res, reason, sizeof reason);
    if (e == ERR_DB) {
        return e;
    }
    struct permset set;
    if (e || permset_parse(res.doc, nsid, &set) != ERR_OK) {
        snprintf(why, why_len, "could not resolve the permission set %s%s%s", nsid,
                 *reason ? ": " : "", reason);
        json_decref(res.doc);
        return ERR_NOT_FOUND;
    }
    const char **scopes;
    size_t n;
    e = permset_expand(&set, nsid, inc->aud, a, &scopes, &n);
    for (size_t i = 0; i < n && !e; i++) {
        e = out->len ? buf_append_byte(out, ' ') : ERR_OK;
        if (!e) {
            e = buf_append_str(out, scopes[i]);
        }
    }
    json_decref(res.doc);
    return e;
}

enum err permset_token_scope(struct db *db, const struct lexres_config *c, const char *scope,
                             struct arena *a, const char **out, char *why, size_t why_len)
{
    *out = scope;
    if (!strstr(scope, "include:")) {
        return ERR_OK; /* nothing to expand: the scope as it is */
    }
    struct buf expanded, others;
    buf_init(&expanded, SCOPE_STRING_MAX_BYTES);
    buf_init(&others, SCOPE_STRING_MAX_BYTES);
    enum err e = ERR_OK;
    size_t count = 0;
    for (const char *p = scope; *p && !e;) {
        size_t len = strcspn(p, " ");
        if (len > 0) {
            if (++count > SCOPE_MAX_ENTRIES) {
                e = ERR_TOO_LARGE;
                break;
            }
            struct scope_perm perm;
            bool include = scope_perm_parse(a, bytes_of(p, len), &perm) == ERR_OK &&
                           perm.kind == SCOPE_INCLUDE;
            if (include) {
                e = expand_one(db, c, &perm.include, a, &expanded, why, why_len);
            } else {
                e = others.len ? buf_append_byte(&others, ' ') : ERR_OK;
                if (!e) {
                    e = buf_append(&others, p, len);
                }
            }
        }
        p += len;
        while (*p == ' ') {
            p++;
        }
    }
    if (!e && expanded.len && others.len) {
        e = buf_append_byte(&expanded, ' ');
    }
    if (!e) {
        e = buf_append(&expanded, others.ptr ? others.ptr : (const uint8_t *)"", others.len);
    }
    if (!e) {
        *out = arena_strndup(a, expanded.ptr ? (const char *)expanded.ptr : "", expanded.len);
    }
    buf_clear(&expanded);
    buf_clear(&others);
    return e;
}
