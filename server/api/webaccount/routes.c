/* routes.c - the pages' account routes: one line per path. */
#include "api/webaccount/webaccount.h"

#include "core/err.h"

#define JSON_BODY ((size_t)16 << 10)

/* clang-format off */
static const struct xrpc_route rows[] = {
    {"/account",                     HTTP_GET,  api_web_account_page,        NULL, 0, 0, NULL},
    {"/account/data",                HTTP_GET,  api_web_account_data,        NULL, 0, 0, NULL},
    {"/account/revoke-app",          HTTP_POST, api_web_revoke_app,          NULL, JSON_BODY, 0, NULL},
    {"/account/revoke-app-password", HTTP_POST, api_web_revoke_app_password, NULL, JSON_BODY, 0, NULL},
    {"/account/revoke-device",       HTTP_POST, api_web_revoke_device,       NULL, JSON_BODY, 0, NULL},
    {"/account/sessions",            HTTP_GET,  api_web_account_sessions,    NULL, 0, 0, NULL},
    {"/account/sign-in",             HTTP_POST, api_web_sign_in,             NULL, JSON_BODY, 0, NULL},
    {"/account/sign-out",            HTTP_POST, api_web_sign_out,            NULL, JSON_BODY, 0, NULL},
    {"/account/totp/disable",        HTTP_POST, api_web_totp_disable,        NULL, JSON_BODY, 0, NULL},
    {"/account/totp/enable",         HTTP_POST, api_web_totp_enable,         NULL, JSON_BODY, 0, NULL},
    {"/account/totp/qr.svg",         HTTP_GET,  api_web_totp_qr,             NULL, 0, 0, NULL},
    {"/account/totp/start",          HTTP_POST, api_web_totp_start,          NULL, JSON_BODY, 0, NULL},
};
/* clang-format on */

const struct route_table api_webaccount_routes = {rows, ARRAY_LEN(rows)};
