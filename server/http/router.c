/* router.c - the route tables, one line per endpoint, and their lookups.
 * Keep each table sorted by name within its group; lookups scan (a few hundred string
 * compares cost less than one database round trip). */
#include "http/router.h"

#include <string.h>

#include "api/api.h"
#include "api/proxy.h"

#define NO_INPUT NULL
#define JSON     XRPC_INPUT_JSON
#define CAR      "application/vnd.ipld.car"
/* Streamed bodies: hard ceilings here; the handlers enforce the configured limits
 * (PDS_BLOB_UPLOAD_LIMIT, PDS_MAX_REPO_IMPORT_SIZE) as the bytes arrive. */
#define BLOB_BODY_MAX   ((size_t)1 << 30)
#define IMPORT_BODY_MAX ((size_t)1 << 30)

/* clang-format off */
static const struct xrpc_route xrpc_routes[] = {
    /* name                                       methods    handler                              input     body_max, flags, on_body */
    {"com.atproto.admin.deleteAccount",          HTTP_POST, api_admin_delete_account,            JSON,     0, 0, NULL},
    {"com.atproto.admin.disableAccountInvites",  HTTP_POST, api_admin_disable_account_invites,   JSON,     0, 0, NULL},
    {"com.atproto.admin.disableInviteCodes",     HTTP_POST, api_admin_disable_invite_codes,      JSON,     0, 0, NULL},
    {"com.atproto.admin.enableAccountInvites",   HTTP_POST, api_admin_enable_account_invites,    JSON,     0, 0, NULL},
    {"com.atproto.admin.getAccountInfo",         HTTP_GET,  api_admin_get_account_info,          NO_INPUT, 0, 0, NULL},
    {"com.atproto.admin.getAccountInfos",        HTTP_GET,  api_admin_get_account_infos,         NO_INPUT, 0, 0, NULL},
    {"com.atproto.admin.getInviteCodes",         HTTP_GET,  api_admin_get_invite_codes,          NO_INPUT, 0, 0, NULL},
    {"com.atproto.admin.getSubjectStatus",       HTTP_GET,  api_admin_get_subject_status,        NO_INPUT, 0, 0, NULL},
    {"com.atproto.admin.searchAccounts",         HTTP_GET,  api_admin_search_accounts,           NO_INPUT, 0, 0, NULL},
    {"com.atproto.admin.sendEmail",              HTTP_POST, api_admin_send_email,                JSON,     0, 0, NULL},
    {"com.atproto.admin.updateAccountEmail",     HTTP_POST, api_admin_update_account_email,      JSON,     0, 0, NULL},
    {"com.atproto.admin.updateAccountHandle",    HTTP_POST, api_admin_update_account_handle,     JSON,     0, 0, NULL},
    {"com.atproto.admin.updateAccountPassword",  HTTP_POST, api_admin_update_account_password,   JSON,     0, 0, NULL},
    {"com.atproto.admin.updateSubjectStatus",    HTTP_POST, api_admin_update_subject_status,     JSON,     0, 0, NULL},
    {"app.bsky.actor.getPreferences",           HTTP_GET,  api_actor_get_preferences,           NO_INPUT, 0, 0, NULL},
    {"app.bsky.actor.putPreferences",           HTTP_POST, api_actor_put_preferences,           JSON,     0, 0, NULL},
    {"com.atproto.identity.getRecommendedDidCredentials", HTTP_GET,  api_identity_get_recommended_did_credentials, NO_INPUT, 0, 0, NULL},
    {"com.atproto.identity.refreshIdentity",     HTTP_POST, api_identity_refresh_identity,       JSON,     0, 0, NULL},
    {"com.atproto.identity.requestPlcOperationSignature", HTTP_POST, api_identity_request_plc_operation_signature, NO_INPUT, 0, 0, NULL},
    {"com.atproto.identity.resolveDid",          HTTP_GET,  api_identity_resolve_did,            NO_INPUT, 0, 0, NULL},
    {"com.atproto.identity.resolveHandle",       HTTP_GET,  api_identity_resolve_handle,         NO_INPUT, 0, 0, NULL},
    {"com.atproto.identity.resolveIdentity",     HTTP_GET,  api_identity_resolve_identity,       NO_INPUT, 0, 0, NULL},
    {"com.atproto.identity.signPlcOperation",    HTTP_POST, api_identity_sign_plc_operation,     JSON,     0, 0, NULL},
    {"com.atproto.identity.submitPlcOperation",  HTTP_POST, api_identity_submit_plc_operation,   JSON,     0, 0, NULL},
    {"com.atproto.identity.updateHandle",        HTTP_POST, api_identity_update_handle,          JSON,     0, 0, NULL},
    {"com.atproto.repo.applyWrites",             HTTP_POST, api_repo_apply_writes,               JSON,     0, 0, NULL},
    {"com.atproto.repo.createRecord",            HTTP_POST, api_repo_create_record,              JSON,     0, 0, NULL},
    {"com.atproto.repo.deleteRecord",            HTTP_POST, api_repo_delete_record,              JSON,     0, 0, NULL},
    {"com.atproto.repo.describeRepo",            HTTP_GET,  api_repo_describe_repo,              NO_INPUT, 0, 0, NULL},
    {"com.atproto.repo.getRecord",               HTTP_GET,  api_repo_get_record,                 NO_INPUT, 0, 0, NULL},
    {"com.atproto.repo.importRepo",              HTTP_POST, api_repo_import_repo,                CAR,      IMPORT_BODY_MAX, 0, api_repo_import_repo_body},
    {"com.atproto.repo.listMissingBlobs",        HTTP_GET,  api_repo_list_missing_blobs,         NO_INPUT, 0, 0, NULL},
    {"com.atproto.repo.listRecords",             HTTP_GET,  api_repo_list_records,               NO_INPUT, 0, 0, NULL},
    {"com.atproto.repo.putRecord",               HTTP_POST, api_repo_put_record,                 JSON,     0, 0, NULL},
    {"com.atproto.repo.uploadBlob",              HTTP_POST, api_repo_upload_blob,                XRPC_INPUT_ANY, BLOB_BODY_MAX, ROUTE_ON_HEAD, api_repo_upload_blob_body},
    {"com.atproto.server.activateAccount",       HTTP_POST, api_server_activate_account,         NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.checkAccountStatus",    HTTP_GET,  api_server_check_account_status,     NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.confirmEmail",          HTTP_POST, api_server_confirm_email,            JSON,     0, 0, NULL},
    {"com.atproto.server.createAccount",         HTTP_POST, api_server_create_account,           JSON,     0, 0, NULL},
    {"com.atproto.server.createAppPassword",     HTTP_POST, api_server_create_app_password,      JSON,     0, 0, NULL},
    {"com.atproto.server.createInviteCode",      HTTP_POST, api_server_create_invite_code,       JSON,     0, 0, NULL},
    {"com.atproto.server.createInviteCodes",     HTTP_POST, api_server_create_invite_codes,      JSON,     0, 0, NULL},
    {"com.atproto.server.createSession",         HTTP_POST, api_server_create_session,           JSON,     0, 0, NULL},
    {"com.atproto.server.deactivateAccount",     HTTP_POST, api_server_deactivate_account,       JSON,     0, 0, NULL},
    {"com.atproto.server.deleteAccount",         HTTP_POST, api_server_delete_account,           JSON,     0, 0, NULL},
    {"com.atproto.server.deleteSession",         HTTP_POST, api_server_delete_session,           NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.describeServer",        HTTP_GET,  api_server_describe_server,          NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.getAccountInviteCodes", HTTP_GET,  api_server_get_account_invite_codes, NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.getServiceAuth",        HTTP_GET,  api_server_get_service_auth,         NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.getSession",            HTTP_GET,  api_server_get_session,              NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.listAppPasswords",      HTTP_GET,  api_server_list_app_passwords,       NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.refreshSession",        HTTP_POST, api_server_refresh_session,          NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.requestAccountDelete",  HTTP_POST, api_server_request_account_delete,   NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.requestEmailConfirmation", HTTP_POST, api_server_request_email_confirmation, NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.requestEmailUpdate",    HTTP_POST, api_server_request_email_update,     NO_INPUT, 0, 0, NULL},
    {"com.atproto.server.requestPasswordReset",  HTTP_POST, api_server_request_password_reset,   JSON,     0, 0, NULL},
    {"com.atproto.server.reserveSigningKey",     HTTP_POST, api_server_reserve_signing_key,      JSON,     0, 0, NULL},
    {"com.atproto.server.resetPassword",         HTTP_POST, api_server_reset_password,           JSON,     0, 0, NULL},
    {"com.atproto.server.revokeAppPassword",     HTTP_POST, api_server_revoke_app_password,      JSON,     0, 0, NULL},
    {"com.atproto.server.updateEmail",           HTTP_POST, api_server_update_email,             JSON,     0, 0, NULL},
    {"com.atproto.sync.getBlob",                 HTTP_GET,  api_sync_get_blob,                   NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.getBlocks",               HTTP_GET,  api_sync_get_blocks,                 NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.getCheckout",             HTTP_GET,  api_sync_get_checkout,               NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.getHead",                 HTTP_GET,  api_sync_get_head,                   NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.getLatestCommit",         HTTP_GET,  api_sync_get_latest_commit,          NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.getRecord",               HTTP_GET,  api_sync_get_record,                 NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.getRepo",                 HTTP_GET,  api_sync_get_repo,                   NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.getRepoStatus",           HTTP_GET,  api_sync_get_repo_status,            NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.listBlobs",               HTTP_GET,  api_sync_list_blobs,                 NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.listRepos",               HTTP_GET,  api_sync_list_repos,                 NO_INPUT, 0, 0, NULL},
    {"com.atproto.sync.subscribeRepos",          HTTP_GET,  api_sync_subscribe_repos,            NO_INPUT, 0, 0, NULL},
};

static const struct xrpc_route path_routes[] = {
    {"/",                        HTTP_GET, api_basic_root,        NO_INPUT, 0, 0, NULL},
    {"/robots.txt",              HTTP_GET, api_basic_robots,      NO_INPUT, 0, 0, NULL},
    {"/xrpc/_health",            HTTP_GET, api_basic_health,      NO_INPUT, 0, 0, NULL},
    {"/.well-known/atproto-did", HTTP_GET, api_basic_atproto_did, NO_INPUT, 0, 0, NULL},
    {"/tls-check",               HTTP_GET, api_host_tls_check,    NO_INPUT, 0, 0, NULL},
    {"/xrpc/_status",            HTTP_GET, api_host_status,       NO_INPUT, 0, 0, NULL},
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

/* Methods we do not serve: the proxy (api/proxy.c) forwards them or answers 501. It judges
 * method and body itself; POST bodies are collected by its on_body. */
static const struct xrpc_route fallback_route = {"*proxy*",
                                                 HTTP_GET | HTTP_POST | HTTP_PUT | HTTP_DELETE |
                                                     HTTP_OTHER,
                                                 api_proxy,
                                                 XRPC_INPUT_ANY,
                                                 PROXY_BODY_MAX_BYTES,
                                                 ROUTE_RAW_BODY,
                                                 api_proxy_body};

const struct xrpc_route *router_fallback(void)
{
    return &fallback_route;
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
