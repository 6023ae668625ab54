/* router.c - lookups in the installed route tables. Lookups scan: a few hundred string
 * compares cost less than one database round trip. */
#include "http/router.h"

#include <stdbool.h>
#include <string.h>

static const struct route_table *const *installed;
static size_t installed_len;
static const struct xrpc_route *fallback_route;

void router_install(const struct route_table *const *tables, size_t n,
                    const struct xrpc_route *fallback)
{
    installed = tables;
    installed_len = n;
    fallback_route = fallback;
}

static bool is_path(const struct xrpc_route *r)
{
    return r->name[0] == '/';
}

const struct xrpc_route *router_find_xrpc(const char *nsid)
{
    for (size_t t = 0; t < installed_len; t++) {
        for (size_t i = 0; i < installed[t]->len; i++) {
            const struct xrpc_route *r = &installed[t]->routes[i];
            if (!is_path(r) && strcmp(r->name, nsid) == 0) {
                return r;
            }
        }
    }
    return NULL;
}

/* Exact names first, then ROUTE_PREFIX entries, so "/oauth/authorize" can be exact beside a
 * "/oauth/" prefix route. */
const struct xrpc_route *router_find_path(const char *path)
{
    for (int pass = 0; pass < 2; pass++) {
        bool prefix = pass == 1;
        for (size_t t = 0; t < installed_len; t++) {
            for (size_t i = 0; i < installed[t]->len; i++) {
                const struct xrpc_route *r = &installed[t]->routes[i];
                if (!is_path(r) || ((r->flags & ROUTE_PREFIX) != 0) != prefix) {
                    continue;
                }
                if (prefix ? strncmp(r->name, path, strlen(r->name)) == 0
                           : strcmp(r->name, path) == 0) {
                    return r;
                }
            }
        }
    }
    return NULL;
}

const struct xrpc_route *router_fallback(void)
{
    return fallback_route;
}
