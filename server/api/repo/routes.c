/* routes.c - the repo route table: one line per NSID, sorted by name. */
#include "api/repo/repo.h"

#include "core/err.h"

#define CAR "application/vnd.ipld.car"
/* Streamed bodies: hard ceilings here; the handlers enforce the configured limits
 * (PDS_BLOB_UPLOAD_LIMIT, PDS_MAX_REPO_IMPORT_SIZE) as the bytes arrive. */
#define BLOB_BODY_MAX   ((size_t)1 << 30)
#define IMPORT_BODY_MAX ((size_t)1 << 30)

#define NO_INPUT NULL
#define JSON     XRPC_INPUT_JSON

/* clang-format off */
static const struct xrpc_route rows[] = {
    {"com.atproto.repo.applyWrites",             HTTP_POST, api_repo_apply_writes,               JSON,     0, 0, NULL},
    {"com.atproto.repo.createRecord",            HTTP_POST, api_repo_create_record,              JSON,     0, 0, NULL},
    {"com.atproto.repo.deleteRecord",            HTTP_POST, api_repo_delete_record,              JSON,     0, 0, NULL},
    {"com.atproto.repo.describeRepo",            HTTP_GET,  api_repo_describe_repo,              NO_INPUT, 0, ROUTE_REPLICA, NULL},
    {"com.atproto.repo.getRecord",               HTTP_GET,  api_repo_get_record,                 NO_INPUT, 0, ROUTE_REPLICA, NULL},
    {"com.atproto.repo.importRepo",              HTTP_POST, api_repo_import_repo,                CAR,      IMPORT_BODY_MAX, 0, api_repo_import_repo_body},
    {"com.atproto.repo.listMissingBlobs",        HTTP_GET,  api_repo_list_missing_blobs,         NO_INPUT, 0, 0, NULL},
    {"com.atproto.repo.listRecords",             HTTP_GET,  api_repo_list_records,               NO_INPUT, 0, ROUTE_REPLICA, NULL},
    {"com.atproto.repo.putRecord",               HTTP_POST, api_repo_put_record,                 JSON,     0, 0, NULL},
    {"com.atproto.repo.uploadBlob",              HTTP_POST, api_repo_upload_blob,                XRPC_INPUT_ANY, BLOB_BODY_MAX, ROUTE_ON_HEAD, api_repo_upload_blob_body},
};
/* clang-format on */

const struct route_table api_repo_routes = {rows, ARRAY_LEN(rows)};
