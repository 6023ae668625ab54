/* permset.c - reading and expanding permission sets. */
#include "oauth/permset.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "core/syntax.h"
#include "oauth/scope.h"
#include "oauth/scope_format.h"

#define LANG_TAG_MAX 36 /* one Accept-Language entry we look up */

enum err permset_parse(const json_t *doc, const char *nsid, struct permset *out)
{
    memset(out, 0, sizeof *out);
    const json_t *id = json_object_get(doc, "id");
    const json_t *main = json_object_get(json_object_get(doc, "defs"), "main");
    if (!json_is_string(id) || strcmp(json_string_value(id), nsid) != 0 || !json_is_object(main)) {
        return ERR_INVALID;
    }
    const json_t *type = json_object_get(main, "type");
    const json_t *perms = json_object_get(main, "permissions");
    if (!json_is_string(type) || strcmp(json_string_value(type), "permission-set") != 0 ||
        !json_is_array(perms)) {
        return ERR_INVALID;
    }
    out->permissions = perms;
    out->title = json_string_value(json_object_get(main, "title"));
    out->detail = json_string_value(json_object_get(main, "detail"));
    const json_t *tl = json_object_get(main, "title:lang");
    const json_t *dl = json_object_get(main, "detail:lang");
    out->title_lang = json_is_object(tl) ? tl : NULL;
    out->detail_lang = json_is_object(dl) ? dl : NULL;
    return ERR_OK;
}

bool permset_in_authority(const char *set_nsid, struct bytes nsid)
{
    const char *dot = strrchr(set_nsid, '.');
    if (!dot) {
        return false; /* reference: a security check, so be strict */
    }
    size_t group = (size_t)(dot - set_nsid) + 1; /* through the dot */
    /* reference isParentAuthorityOf: longer than the group prefix, and starting with it */
    return nsid.len > group && memcmp(nsid.ptr, set_nsid, group) == 0;
}

/* A non-empty array of strings (at most SCOPE_MAX_PARAMS): into out, else false. */
static bool string_list(const json_t *v, struct bytes *out, size_t *n)
{
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > SCOPE_MAX_PARAMS) {
        return false;
    }
    *n = json_array_size(v);
    for (size_t i = 0; i < *n; i++) {
        const json_t *s = json_array_get(v, i);
        if (!json_is_string(s)) {
            return false;
        }
        out[i] = bytes_of(json_string_value(s), json_string_length(s));
    }
    return true;
}

/* Every key of entry is one of allowed (NULL-terminated list): the reference's parser
 * refuses a permission with a parameter it does not know. */
static bool only_keys(const json_t *entry, const char *const *allowed, const char *also)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)entry, key, v)
    {
        bool ok = also && strcmp(key, also) == 0;
        for (size_t i = 0; allowed[i] && !ok; i++) {
            ok = strcmp(key, allowed[i]) == 0;
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool all_in_authority(const char *nsid, const struct bytes *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!permset_in_authority(nsid, list[i])) {
            return false;
        }
    }
    return true;
}

/* A repo entry as a scope, or ERR_INVALID to drop it. */
static enum err repo_scope(const json_t *entry, const char *nsid, struct buf *out)
{
    static const char *const keys[] = {"type", "resource", "collection", "action", NULL};
    struct bytes cols[SCOPE_MAX_PARAMS];
    size_t ncols = 0;
    if (!only_keys(entry, keys, NULL) ||
        !string_list(json_object_get(entry, "collection"), cols, &ncols) ||
        !all_in_authority(nsid, cols, ncols)) {
        return ERR_INVALID;
    }
    unsigned actions = SCOPE_REPO_ALL;
    const json_t *act = json_object_get(entry, "action");
    if (act) {
        struct bytes names[SCOPE_MAX_PARAMS];
        size_t nact = 0;
        if (!string_list(act, names, &nact)) {
            return ERR_INVALID;
        }
        actions = 0;
        for (size_t i = 0; i < nact; i++) {
            if (bytes_eq(names[i], BYTES_LIT("create"))) {
                actions |= SCOPE_REPO_CREATE;
            } else if (bytes_eq(names[i], BYTES_LIT("update"))) {
                actions |= SCOPE_REPO_UPDATE;
            } else if (bytes_eq(names[i], BYTES_LIT("delete"))) {
                actions |= SCOPE_REPO_DELETE;
            } else {
                return ERR_INVALID;
            }
        }
    }
    return scope_format_repo(cols, ncols, actions, out);
}

/* An rpc entry as a scope, or ERR_INVALID to drop it. */
static enum err rpc_scope(const json_t *entry, const char *nsid, struct bytes include_aud,
                          struct buf *out)
{
    static const char *const keys[] = {"type", "resource", "lxm", "aud", NULL};
    const json_t *aud = json_object_get(entry, "aud");
    const json_t *inherit = json_object_get(entry, "inheritAud");
    struct bytes aud_value;
    const char *also = NULL;
    if (aud && !(json_is_string(aud) && strcmp(json_string_value(aud), "*") == 0)) {
        return ERR_INVALID; /* a set may not name an audience of its own */
    }
    if (json_is_true(inherit) && !aud && include_aud.len > 0) {
        aud_value = include_aud;
        also = "inheritAud";
    } else if (aud) {
        aud_value = BYTES_LIT("*");
    } else {
        return ERR_INVALID; /* no audience, or inheritAud without one on the include */
    }
    struct bytes lxms[SCOPE_MAX_PARAMS];
    size_t n = 0;
    if (!only_keys(entry, keys, also) || !string_list(json_object_get(entry, "lxm"), lxms, &n) ||
        !all_in_authority(nsid, lxms, n)) {
        return ERR_INVALID;
    }
    return scope_format_rpc(lxms, n, aud_value, out);
}

enum err permset_expand(const struct permset *set, const char *nsid, struct bytes include_aud,
                        struct arena *a, const char ***scopes, size_t *n)
{
    size_t total = json_array_size(set->permissions);
    if (total > PERMSET_MAX_PERMISSIONS) {
        total = PERMSET_MAX_PERMISSIONS;
    }
    const char **list = arena_alloc(a, (total ? total : 1) * sizeof *list);
    size_t got = 0;
    struct buf b;
    buf_init(&b, SCOPE_ENTRY_MAX_BYTES);
    for (size_t i = 0; i < total; i++) {
        const json_t *entry = json_array_get(set->permissions, i);
        const char *type = json_string_value(json_object_get(entry, "type"));
        const char *resource = json_string_value(json_object_get(entry, "resource"));
        if (!json_is_object(entry) || !type || strcmp(type, "permission") != 0 || !resource) {
            continue;
        }
        buf_reset(&b);
        enum err e = strcmp(resource, "repo") == 0  ? repo_scope(entry, nsid, &b)
                     : strcmp(resource, "rpc") == 0 ? rpc_scope(entry, nsid, include_aud, &b)
                                                    : ERR_INVALID;
        if (e == ERR_OK) {
            /* the same grammar as any requested scope: an entry that would not parse as one
             * (a bad NSID, a bad audience, rpc:*?aud=*) is dropped too */
            struct scope_perm check;
            e = scope_perm_parse(a, bytes_of(b.ptr, b.len), &check);
        }
        if (e == ERR_OK) {
            list[got++] = arena_strndup(a, (const char *)b.ptr, b.len);
        }
    }
    buf_clear(&b);
    *scopes = list;
    *n = got;
    return ERR_OK;
}

/* The value for tag in a lang map: exact (case-insensitive), else the first key with the
 * same primary subtag. */
static const char *lang_lookup(const json_t *map, const char *tag, size_t len)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)map, key, v)
    {
        if (json_is_string(v) && strlen(key) == len && strncasecmp(key, tag, len) == 0) {
            return json_string_value(v);
        }
    }
    size_t primary = strcspn(tag, "-");
    if (primary > len) {
        primary = len;
    }
    json_object_foreach((json_t *)map, key, v)
    {
        size_t kp = strcspn(key, "-");
        if (json_is_string(v) && kp == primary && strncasecmp(key, tag, primary) == 0) {
            return json_string_value(v);
        }
    }
    return NULL;
}

const char *permset_text(const struct permset *set, bool detail, const char *accept_language)
{
    const json_t *map = detail ? set->detail_lang : set->title_lang;
    const char *plain = detail ? set->detail : set->title;
    const char *p = accept_language;
    while (map && p && *p) {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        size_t len = strcspn(p, ",;");
        size_t tag_len = len;
        while (tag_len && isspace((unsigned char)p[tag_len - 1])) {
            tag_len--;
        }
        if (tag_len > 0 && tag_len < LANG_TAG_MAX && !(tag_len == 1 && p[0] == '*')) {
            const char *hit = lang_lookup(map, p, tag_len);
            if (hit) {
                return hit;
            }
        }
        p += strcspn(p, ",");
    }
    return plain;
}
