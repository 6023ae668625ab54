/* routes.c - the list of route tables, one per API group, and the proxy fallback. */
#include "api/routes.h"

#include "api/admin/admin.h"
#include "api/bsky/bsky.h"
#include "api/console/console.h"
#include "api/host/host.h"
#include "api/identity/identity.h"
#include "api/lexicon/lexicon.h"
#include "api/migrate/migrate.h"
#include "api/proxy/proxy.h"
#include "api/repo/repo.h"
#include "api/server/server.h"
#include "api/sync/sync.h"
#include "api/webaccount/webaccount.h"
#include "core/err.h"
#include "oauth/endpoints.h"
#include "web/page.h"

static const struct route_table *const tables[] = {
    &api_host_routes,     &api_server_routes,  &api_repo_routes, &api_sync_routes,
    &api_identity_routes, &api_admin_routes,   &api_bsky_routes, &web_routes,
    &api_lexicon_routes,  &api_console_routes, &oauth_routes,    &api_webaccount_routes,
    &api_migrate_routes,
};

/* Methods we do not serve: the proxy forwards them or answers 501. It judges method and
 * body itself; POST bodies are collected by its on_body. */
static const struct xrpc_route fallback = {
    "*proxy*",
    HTTP_GET | HTTP_POST | HTTP_PUT | HTTP_DELETE | HTTP_OTHER,
    api_proxy,
    XRPC_INPUT_ANY,
    PROXY_BODY_MAX_BYTES,
    ROUTE_RAW_BODY,
    api_proxy_body,
};

void api_routes_install(void)
{
    router_install(tables, ARRAY_LEN(tables), &fallback);
}

const struct route_table *const *api_route_tables(size_t *n)
{
    *n = ARRAY_LEN(tables);
    return tables;
}
