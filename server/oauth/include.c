/* include.c - permission-set expansion: not built, so include: scopes are refused here. */
#include "oauth/include.h"

#include <stdio.h>
#include <string.h>

enum err oauth_expand_includes(struct db *db, struct arena *a, const char *scope,
                               const char **expanded, const char **why)
{
    (void)db;
    *expanded = scope;
    *why = NULL;
    for (const char *p = scope; *p;) {
        size_t len = strcspn(p, " ");
        if (len > 8 && strncmp(p, "include", 7) == 0 && (p[7] == ':' || p[7] == '?')) {
            size_t n = len + 128;
            char *m = arena_alloc(a, n);
            snprintf(m, n, "Permission sets are not supported by this server yet: \"%.*s\"",
                     (int)len, p);
            *why = m;
            return ERR_UNSUPPORTED;
        }
        p += len;
        p += strspn(p, " ");
    }
    return ERR_OK;
}
