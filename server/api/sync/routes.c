/* routes.c - the sync route table: one line per NSID, sorted by name. */
#include "api/sync/sync.h"

#include "core/err.h"

#define NO_INPUT NULL
#define JSON     XRPC_INPUT_JSON

/* clang-format off */
static const struct xrpc_route rows[] = {
    {"com.atproto.sync.getBlob",                 HTTP_GET,  api_sync_get_blob,                   NO_INPUT, 0, ROUTE_REPLICA, NULL},
    {"com.atproto.sync.getBlocks",               HTTP_GET,  api_sync_get_blocks,                 NO_INPUT, 0, ROUTE_REPLICA, NULL},
    {"com.atproto.sync.getCheckout",             HTTP_GET,  api_sync_get_checkout,               NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.getHead",                 HTTP_GET,  api_sync_get_head,                   NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.getLatestCommit",         HTTP_GET,  api_sync_get_latest_commit,          NO_INPUT, 0, ROUTE_REPLICA, NULL},
    {"com.atproto.sync.getRecord",               HTTP_GET,  api_sync_get_record,                 NO_INPUT, 0, ROUTE_REPLICA, NULL},
    {"com.atproto.sync.getRepo",                 HTTP_GET,  api_sync_get_repo,                   NO_INPUT, 0, ROUTE_REPLICA, NULL},
    {"com.atproto.sync.getRepoStatus",           HTTP_GET,  api_sync_get_repo_status,            NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.listBlobs",               HTTP_GET,  api_sync_list_blobs,                 NO_INPUT, 0, ROUTE_REPLICA, NULL},
    {"com.atproto.sync.listRepos",               HTTP_GET,  api_sync_list_repos,                 NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.subscribeRepos",          HTTP_GET,  api_sync_subscribe_repos,            NO_INPUT, 0, 0, NULL},
};
/* clang-format on */

const struct route_table api_sync_routes = {rows, ARRAY_LEN(rows)};
