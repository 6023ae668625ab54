/* routes.c - the console's route table (pages, their JSON endpoints, the charts) and the
 * operator endpoints (/metrics, /xrpc/_ready, /xrpc/_checks): one line per path. */
#include "api/console/console.h"

#include "core/err.h"

#define NO_INPUT NULL
#define FORM     "application/x-www-form-urlencoded" /* path routes: documentation only */
#define JSON     XRPC_INPUT_JSON
#define SMALL    (64 << 10) /* console bodies are small forms and JSON objects */

/* clang-format off */
static const struct xrpc_route rows[] = {
    {"/admin",                      HTTP_GET,  console_page,                NO_INPUT, 0,     0, NULL},
    {"/admin/",                     HTTP_GET,  console_page,                NO_INPUT, 0,     0, NULL},
    {"/admin/account",              HTTP_GET,  console_page,                NO_INPUT, 0,     0, NULL},
    {"/admin/accounts",             HTTP_GET,  console_page,                NO_INPUT, 0,     0, NULL},
    {"/admin/api/account",          HTTP_GET,  console_api_account,         NO_INPUT, 0,     0, NULL},
    {"/admin/api/account/action",   HTTP_POST, console_api_account_action,  JSON,     SMALL, 0, NULL},
    {"/admin/api/accounts",         HTTP_GET,  console_api_accounts,        NO_INPUT, 0,     0, NULL},
    {"/admin/api/audit",            HTTP_GET,  console_api_audit,           NO_INPUT, 0,     0, NULL},
    {"/admin/api/config",           HTTP_GET,  console_api_config,          NO_INPUT, 0,     0, NULL},
    {"/admin/api/dashboard",        HTTP_GET,  console_api_dashboard,       NO_INPUT, 0,     0, NULL},
    {"/admin/api/invites",          HTTP_GET,  console_api_invites,         NO_INPUT, 0,     0, NULL},
    {"/admin/api/invites/create",   HTTP_POST, console_api_invite_create,   JSON,     SMALL, 0, NULL},
    {"/admin/api/invites/disable",  HTTP_POST, console_api_invite_disable,  JSON,     SMALL, 0, NULL},
    {"/admin/api/relays",           HTTP_GET,  console_api_relays,          NO_INPUT, 0,     0, NULL},
    {"/admin/api/relays/crawl",     HTTP_POST, console_api_relay_crawl,     JSON,     SMALL, 0, NULL},
    {"/admin/api/reports",          HTTP_GET,  console_api_reports,         NO_INPUT, 0,     0, NULL},
    {"/admin/api/sign-out",         HTTP_POST, console_signout,             JSON,     SMALL, 0, NULL},
    {"/admin/audit",                HTTP_GET,  console_page,                NO_INPUT, 0,     0, NULL},
    {"/admin/chart/signups.svg",    HTTP_GET,  console_chart_signups,       NO_INPUT, 0,     0, NULL},
    {"/admin/chart/writes.svg",     HTTP_GET,  console_chart_writes,        NO_INPUT, 0,     0, NULL},
    {"/admin/config",               HTTP_GET,  console_page,                NO_INPUT, 0,     0, NULL},
    {"/admin/invites",              HTTP_GET,  console_page,                NO_INPUT, 0,     0, NULL},
    {"/admin/relays",               HTTP_GET,  console_page,                NO_INPUT, 0,     0, NULL},
    {"/admin/reports",              HTTP_GET,  console_page,                NO_INPUT, 0,     0, NULL},
    {"/admin/sign-in",              HTTP_GET | HTTP_POST, console_signin, FORM,   SMALL, 0, NULL},
    {"/metrics",                    HTTP_GET,  console_metrics,             NO_INPUT, 0,     0, NULL},
    {"/xrpc/_checks",               HTTP_GET,  console_checks,              NO_INPUT, 0,     0, NULL},
    {"/xrpc/_ready",                HTTP_GET,  console_ready,               NO_INPUT, 0,     0, NULL},
};
/* clang-format on */

const struct route_table api_console_routes = {rows, ARRAY_LEN(rows)};
