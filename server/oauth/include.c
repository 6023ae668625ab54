/* include.c - permission sets at the authorization server: expanding include: scopes into
 * token scopes, and describing them on the consent page. */
#include "oauth/include.h"

#include <stdio.h>
#include <string.h>

#include "oauth/lexcache.h"
#include "oauth/permset.h"
#include "oauth/permset_scope.h"
#include "oauth/scope.h"

#define WHY_MAX 512

static struct lexres_config resolver_cfg; /* set once before the server starts */
static bool configured;

void oauth_include_configure(const struct lexres_config *c)
{
    resolver_cfg = *c;
    configured = true;
}

enum err oauth_expand_includes(struct db *db, struct arena *a, const char *scope,
                               const char **expanded, const char **why)
{
    *expanded = scope;
    *why = NULL;
    char *msg = arena_alloc(a, WHY_MAX);
    msg[0] = '\0';
    if (!configured) {
        if (!strstr(scope, "include:") && !strstr(scope, "include?")) {
            return ERR_OK;
        }
        snprintf(msg, WHY_MAX, "Permission sets cannot be resolved by this server");
        *why = msg;
        return ERR_UNSUPPORTED;
    }
    enum err e = permset_token_scope(db, &resolver_cfg, scope, a, expanded, msg, WHY_MAX);
    if (e == ERR_OK) {
        return ERR_OK;
    }
    if (e == ERR_DB) {
        snprintf(msg, WHY_MAX, "Permission sets could not be read: try again");
    } else if (e == ERR_TOO_LARGE) {
        snprintf(msg, WHY_MAX, "The scope is too large");
    } else if (!msg[0]) {
        snprintf(msg, WHY_MAX, "A permission set could not be resolved");
    }
    *expanded = scope;
    *why = msg;
    return ERR_UNSUPPORTED;
}

json_t *oauth_include_texts(struct db *db, struct arena *a, const char *scope,
                            const char *accept_language)
{
    json_t *out = json_array();
    for (const char *p = scope ? scope : ""; configured && *p;) {
        size_t len = strcspn(p, " ");
        struct scope_perm perm;
        if (len && scope_perm_parse(a, bytes_of(p, len), &perm) == ERR_OK &&
            perm.kind == SCOPE_INCLUDE) {
            char *nsid =
                arena_strndup(a, (const char *)perm.include.nsid.ptr, perm.include.nsid.len);
            struct lexres_result res;
            struct permset set;
            if (lexcache_get(db, &resolver_cfg, nsid, false, &res, NULL, 0) == ERR_OK) {
                if (permset_parse(res.doc, nsid, &set) == ERR_OK) {
                    const char *title = permset_text(&set, false, accept_language);
                    const char *detail = permset_text(&set, true, accept_language);
                    json_array_append_new(
                        out,
                        json_pack("{s:s%,s:s,s:s,s:b}", "scope", p, len, "title",
                                  title ? title : nsid, "detail",
                                  detail ? detail : "Permissions defined by the app's developer",
                                  "required", 0));
                }
                json_decref(res.doc);
            }
        }
        p += len;
        p += strspn(p, " ");
    }
    return out;
}
