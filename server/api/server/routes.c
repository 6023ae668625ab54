/* routes.c - the server route table: one line per NSID, sorted by name. */
#include "api/server/server.h"

#include "core/err.h"

#define NO_INPUT NULL
#define JSON     XRPC_INPUT_JSON

/* clang-format off */
static const struct xrpc_route rows[] = {
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
};
/* clang-format on */

const struct route_table api_server_routes = {rows, ARRAY_LEN(rows)};
