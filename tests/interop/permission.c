/* permission.c - interop suite for permission/: the generic scope grammar (exact resource,
 * positional and params) and the granular permission accept/refuse lists. */
#include "interop.h"

#include <string.h>

#include "core/arena.h"
#include "oauth/scope.h"

#define GENERIC_VALID   "permission/generic_scopes_valid.json"
#define GENERIC_INVALID "permission/generic_scopes_invalid.txt"
#define PERM_VALID      "permission/permission_scopes_valid.txt"
#define PERM_INVALID    "permission/permission_scopes_invalid.txt"

static struct bytes json_bytes(const json_t *s)
{
    return bytes_of(json_string_value(s), json_string_length(s));
}

/* got's params equal want's object of key -> [values] exactly (keys in any order). */
static bool params_equal(const struct scope_generic *got, const json_t *want)
{
    if (!json_is_object(want) || json_object_size(want) != got->nparams) {
        return false;
    }
    const char *key;
    const json_t *vals;
    json_object_foreach((json_t *)want, key, vals)
    {
        const struct scope_param *p = scope_generic_param(got, bytes_str(key));
        if (!p || !json_is_array(vals) || json_array_size(vals) != p->nvalues) {
            return false;
        }
        for (size_t i = 0; i < p->nvalues; i++) {
            const json_t *v = json_array_get(vals, i);
            if (!json_is_string(v) || !bytes_eq(json_bytes(v), p->values[i])) {
                return false;
            }
        }
    }
    return true;
}

static void generic_valid(struct interop *t)
{
    json_t *root = interop_json(t, GENERIC_VALID);
    if (!root) {
        return;
    }
    struct arena a;
    arena_init(&a);
    size_t idx;
    const json_t *entry;
    json_array_foreach(root, idx, entry)
    {
        const json_t *scope = json_object_get(entry, "scope");
        const json_t *gen = json_object_get(entry, "generic");
        const json_t *res = json_object_get(gen, "resource");
        const json_t *pos = json_object_get(gen, "positional");
        if (!json_is_string(scope) || !json_is_string(res) || !json_is_string(pos)) {
            interop_case(t, false, GENERIC_VALID, "entry %zu: missing fields", idx);
            continue;
        }
        struct scope_generic g;
        enum err e = scope_generic_parse(&a, json_bytes(scope), &g);
        bool ok = e == ERR_OK && bytes_eq(g.resource, json_bytes(res)) &&
                  bytes_eq(g.positional, json_bytes(pos)) &&
                  params_equal(&g, json_object_get(gen, "params"));
        interop_case(t, ok, GENERIC_VALID, "entry %zu \"%s\": %s", idx, json_string_value(scope),
                     e ? err_str(e) : "parsed differently");
        arena_reset(&a);
    }
    arena_clear(&a);
    json_decref(root);
}

struct perm_ctx {
    const char *file;
    bool generic; /* test the generic grammar rather than the granular permission */
    bool want;
};

static void perm_line(struct interop *t, struct bytes line, void *vctx)
{
    const struct perm_ctx *c = vctx;
    struct arena a;
    arena_init(&a);
    enum err e;
    if (c->generic) {
        struct scope_generic g;
        e = scope_generic_parse(&a, line, &g);
    } else {
        struct scope_perm p;
        e = scope_perm_parse(&a, line, &p);
        /* the valid list holds granular permissions only */
        if (e == ERR_OK && c->want && p.kind < SCOPE_ACCOUNT) {
            e = ERR_INVALID;
        }
    }
    interop_case(t, (e == ERR_OK) == c->want, c->file, "%s \"%.*s\" (%s)",
                 c->want ? "refused" : "accepted", (int)line.len, (const char *)line.ptr,
                 err_str(e));
    arena_clear(&a);
}

void interop_permission(struct interop *t)
{
    generic_valid(t);
    static const struct perm_ctx lists[] = {
        {GENERIC_INVALID, true, false},
        {PERM_VALID, false, true},
        {PERM_INVALID, false, false},
    };
    for (size_t i = 0; i < ARRAY_LEN(lists); i++) {
        interop_lines(t, lists[i].file, perm_line, (void *)&lists[i]);
    }
}
