/* scope_tool.c - the scope checks and permission-set expansion of server/oauth, one JSON
 * request per stdin line and one JSON answer per stdout line, so that
 * tests/e2e/scopes-diff.test.mjs can put the same questions to @atproto/oauth-scopes and
 * compare. Requests:
 *   {"op":"allows","scope":"...","kind":"repo","collection":"...","action":"create"}
 *   kinds: repo (collection, action), rpc (aud, lxm), blob (mime),
 *          account (attr, action), identity (attr)          -> {"allows":true|false}
 *   {"op":"expand","nsid":"...","aud":"..."|null,"doc":{lexicon}} -> {"scopes":[...]}|{"error":...}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/arena.h"
#include "oauth/permset.h"
#include "oauth/scope.h"

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static json_t *allows(struct arena *a, const json_t *q)
{
    struct scope_set set;
    if (scope_set_parse(a, bytes_str(str(q, "scope")), &set) != ERR_OK) {
        return json_pack("{s:s}", "error", "scope too large");
    }
    const char *kind = str(q, "kind");
    bool ok = false;
    if (strcmp(kind, "repo") == 0) {
        const char *act = str(q, "action");
        unsigned bit = strcmp(act, "create") == 0   ? SCOPE_REPO_CREATE
                       : strcmp(act, "update") == 0 ? SCOPE_REPO_UPDATE
                                                    : SCOPE_REPO_DELETE;
        ok = scope_allows_repo_write(&set, bytes_str(str(q, "collection")), bit);
    } else if (strcmp(kind, "rpc") == 0) {
        ok = scope_allows_rpc(&set, bytes_str(str(q, "aud")), bytes_str(str(q, "lxm")));
    } else if (strcmp(kind, "blob") == 0) {
        ok = scope_allows_blob(&set, bytes_str(str(q, "mime")));
    } else if (strcmp(kind, "account") == 0) {
        enum scope_account_attr attr =
            strcmp(str(q, "attr"), "email") == 0 ? SCOPE_ACCOUNT_EMAIL : SCOPE_ACCOUNT_REPO;
        ok = scope_allows_account(&set, attr,
                                  strcmp(str(q, "action"), "manage") == 0 ? SCOPE_ACCOUNT_MANAGE
                                                                          : SCOPE_ACCOUNT_READ);
    } else if (strcmp(kind, "identity") == 0) {
        ok = scope_allows_identity(&set, strcmp(str(q, "attr"), "*") == 0 ? SCOPE_IDENTITY_ALL
                                                                          : SCOPE_IDENTITY_HANDLE);
    } else {
        return json_pack("{s:s}", "error", "unknown kind");
    }
    return json_pack("{s:b}", "allows", ok);
}

static json_t *expand(struct arena *a, const json_t *q)
{
    struct permset set;
    if (permset_parse(json_object_get(q, "doc"), str(q, "nsid"), &set) != ERR_OK) {
        return json_pack("{s:s}", "error", "not a permission set");
    }
    const char **scopes;
    size_t n;
    if (permset_expand(&set, str(q, "nsid"), bytes_str(str(q, "aud")), a, &scopes, &n) != ERR_OK) {
        return json_pack("{s:s}", "error", "expand failed");
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(list, json_string(scopes[i]));
    }
    return json_pack("{s:o}", "scopes", list);
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    struct arena a;
    arena_init(&a);
    while ((len = getline(&line, &cap, stdin)) > 0) {
        json_error_t err;
        json_t *q = json_loadb(line, (size_t)len, 0, &err);
        json_t *answer = !q ? json_pack("{s:s}", "error", "bad json")
                         : strcmp(str(q, "op"), "allows") == 0 ? allows(&a, q)
                         : strcmp(str(q, "op"), "expand") == 0
                             ? expand(&a, q)
                             : json_pack("{s:s}", "error", "bad op");
        char *text = json_dumps(answer, JSON_COMPACT);
        printf("%s\n", text);
        fflush(stdout); /* one answer per question: the caller waits for it */
        free(text);
        json_decref(answer);
        json_decref(q);
        arena_reset(&a);
    }
    fflush(stdout);
    free(line);
    arena_clear(&a);
    return 0;
}
