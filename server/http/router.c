/* router.c - the route tables, one line per endpoint, and their lookups.
 * Keep each table sorted by name within its group; lookups scan (a few hundred string
 * compares cost less than one database round trip). */
#include "http/router.h"

#include <string.h>

#include "api/api.h"

#define NO_INPUT NULL
#define JSON     XRPC_INPUT_JSON

/* clang-format off */
static const struct xrpc_route xrpc_routes[] = {
    /* name                                       methods    handler                              input     body_max, flags, on_body */
    {"com.atproto.repo.applyWrites",             HTTP_POST, api_repo_apply_writes,               JSON,     0, 0, NULL},
    {"com.atproto.repo.createRecord",            HTTP_POST, api_repo_create_record,              JSON,     0, 0, NULL},
    {"com.atproto.repo.deleteRecord",            HTTP_POST, api_repo_delete_record,              JSON,     0, 0, NULL},
    {"com.atproto.repo.describeRepo",            HTTP_GET,  api_repo_describe_repo,              NO_INPUT, 0, 0, NULL},
    {"com.atproto.repo.getRecord",               HTTP_GET,  api_repo_get_record,                 NO_INPUT, 0, 0, NULL},
    {"com.atproto.repo.listRecords",             HTTP_GET,  api_repo_list_records,               NO_INPUT, 0, 0, NULL},
    {"com.atproto.repo.putRecord",               HTTP_POST, api_repo_put_record,                 JSON,     0, 0, NULL},
    {"com.atproto.server.createAccount",         HTTP_POST, api_server_create_account,           JSON,     0, 0, NULL},
    {"com.atproto.server.createAppPassword",     HTTP_POST, api_server_create_app_password,      JSON,     0, 0, NULL},
    {"com.atproto.server.createInviteCode",      HTTP_POST, api_server_create_invite_code,       JSON,     0, 0, NULL},
    {"com.atproto.server.createInviteCodes",     HTTP_POST, api_server_create_invite_codes,      JSON,     0, 0, NULL},
    {"com.atproto.server.createSession",         HTTP_POST, api_server_create_session,           JSON,     0, 0, NULL},
    {"com.atproto.server.deleteSession",         HTTP_POST, api_server_delete_session,           NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.describeServer",        HTTP_GET,  api_server_describe_server,          NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.getAccountInviteCodes", HTTP_GET,  api_server_get_account_invite_codes, NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.getSession",            HTTP_GET,  api_server_get_session,              NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.listAppPasswords",      HTTP_GET,  api_server_list_app_passwords,       NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.refreshSession",        HTTP_POST, api_server_refresh_session,          NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.revokeAppPassword",     HTTP_POST, api_server_revoke_app_password,      JSON,     0, 0, NULL},
    {"com.atproto.sync.getBlocks",               HTTP_GET,  api_sync_get_blocks,                 NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.getLatestCommit",         HTTP_GET,  api_sync_get_latest_commit,          NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.getRecord",               HTTP_GET,  api_sync_get_record,                 NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.getRepo",                 HTTP_GET,  api_sync_get_repo,                   NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.getRepoStatus",           HTTP_GET,  api_sync_get_repo_status,            NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.listRepos",               HTTP_GET,  api_sync_list_repos,                 NO_INPUT, 0, 0, NULL},
};

static const struct xrpc_route path_routes[] = {
    {"/",                        HTTP_GET, api_basic_root,        NO_INPUT, 0, 0, NULL},
    {"/robots.txt",              HTTP_GET, api_basic_robots,      NO_INPUT, 0, 0, NULL},
    {"/xrpc/_health",            HTTP_GET, api_basic_health,      NO_INPUT, 0, 0, NULL},
    {"/.well-known/atproto-did", HTTP_GET, api_basic_atproto_did, NO_INPUT, 0, 0, NULL},
};
/* clang-format on */

const struct xrpc_route *router_find_xrpc(const char *nsid)
{
    for (size_t i = 0; i < ARRAY_LEN(xrpc_routes); i++) {
        if (strcmp(xrpc_routes[i].name, nsid) == 0) {
            return &xrpc_routes[i];
        }
    }
    return NULL;
}

const struct xrpc_route *router_find_path(const char *path)
{
    for (size_t i = 0; i < ARRAY_LEN(path_routes); i++) {
        if (!(path_routes[i].flags & ROUTE_PREFIX) && strcmp(path_routes[i].name, path) == 0) {
            return &path_routes[i];
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(path_routes); i++) {
        const char *name = path_routes[i].name;
        if ((path_routes[i].flags & ROUTE_PREFIX) && strncmp(name, path, strlen(name)) == 0) {
            return &path_routes[i];
        }
    }
    return NULL;
}

const struct xrpc_route *router_fallback(void)
{
    return NULL; /* 501 MethodNotImplemented until the AppView proxy exists */
}

const struct xrpc_route *router_xrpc_table(size_t *n)
{
    *n = ARRAY_LEN(xrpc_routes);
    return xrpc_routes;
}

const struct xrpc_route *router_path_table(size_t *n)
{
    *n = ARRAY_LEN(path_routes);
    return path_routes;
}
