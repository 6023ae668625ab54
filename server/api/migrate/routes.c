/* routes.c - the migration routes: the two pages, their JSON endpoints, and the admin API
 * for jobs (ours, outside the lexicons). One line per path, sorted by name. */
#include "api/migrate/migrate.h"

#include "api/migrate/mig_api.h"
#include "core/err.h"

#define NO_INPUT NULL
#define JSON     XRPC_INPUT_JSON

/* clang-format off */
static const struct xrpc_route rows[] = {
    {"/migrate",                    HTTP_GET,  mig_page_in,              NO_INPUT, 0, 0, NULL},
    {"/migrate/api/in/start",       HTTP_POST, mig_api_in_start,         JSON,     0, 0, NULL},
    {"/migrate/api/job",            HTTP_GET,  mig_api_job,              NO_INPUT, 0, 0, NULL},
    {"/migrate/api/job/cancel",     HTTP_POST, mig_api_cancel,           JSON,     0, 0, NULL},
    {"/migrate/api/job/confirm",    HTTP_POST, mig_api_confirm,          JSON,     0, 0, NULL},
    {"/migrate/api/job/plc",        HTTP_POST, mig_api_plc,              JSON,     0, 0, NULL},
    {"/migrate/api/job/request-token", HTTP_POST, mig_api_request_token, JSON,     0, 0, NULL},
    {"/migrate/api/job/retry",      HTTP_POST, mig_api_retry,            JSON,     0, 0, NULL},
    {"/migrate/api/lookup",         HTTP_POST, mig_api_lookup,           JSON,     0, 0, NULL},
    {"/migrate/api/out/resume",     HTTP_POST, mig_api_out_resume,       JSON,     0, 0, NULL},
    {"/migrate/api/out/start",      HTTP_POST, mig_api_out_start,        JSON,     0, 0, NULL},
    {"/migrate/out",                HTTP_GET,  mig_page_out,             NO_INPUT, 0, 0, NULL},
    {"/xrpc/_migrate.cancel",       HTTP_POST, mig_admin_cancel,         JSON,     0, 0, NULL},
    {"/xrpc/_migrate.createInbound", HTTP_POST, mig_admin_create_inbound, JSON,    0, 0, NULL},
    {"/xrpc/_migrate.get",          HTTP_GET,  mig_admin_get,            NO_INPUT, 0, 0, NULL},
    {"/xrpc/_migrate.list",         HTTP_GET,  mig_admin_list,           NO_INPUT, 0, 0, NULL},
    {"/xrpc/_migrate.retry",        HTTP_POST, mig_admin_retry,          JSON,     0, 0, NULL},
    {"/xrpc/_migrate.submitToken",  HTTP_POST, mig_admin_submit_token,   JSON,     0, 0, NULL},
};
/* clang-format on */

const struct route_table api_migrate_routes = {rows, ARRAY_LEN(rows)};
