/* routes.c - the host route table: one line per path, sorted by name. */
#include "api/host/host.h"

#include "core/err.h"

#define NO_INPUT NULL
#define JSON     XRPC_INPUT_JSON

/* clang-format off */
static const struct xrpc_route rows[] = {
    {"/",                        HTTP_GET, api_basic_root,        NO_INPUT, 0, 0, NULL},
    {"/.well-known/atproto-did", HTTP_GET, api_basic_atproto_did, NO_INPUT, 0, 0, NULL},
    {"/robots.txt",              HTTP_GET, api_basic_robots,      NO_INPUT, 0, 0, NULL},
    {"/tls-check",               HTTP_GET, api_host_tls_check,    NO_INPUT, 0, 0, NULL},
    {"/xrpc/_health",            HTTP_GET, api_basic_health,      NO_INPUT, 0, 0, NULL},
    {"/xrpc/_rateLimits",        HTTP_GET, api_host_rate_limits,  NO_INPUT, 0, 0, NULL},
    {"/xrpc/_status",            HTTP_GET, api_host_status,       NO_INPUT, 0, 0, NULL},
};
/* clang-format on */

const struct route_table api_host_routes = {rows, ARRAY_LEN(rows)};
