/* routes.c - the admin route table: one line per NSID, sorted by name. */
#include "api/admin/admin.h"

#include "core/err.h"

#define NO_INPUT NULL
#define JSON     XRPC_INPUT_JSON

/* clang-format off */
static const struct xrpc_route rows[] = {
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
};
/* clang-format on */

const struct route_table api_admin_routes = {rows, ARRAY_LEN(rows)};
