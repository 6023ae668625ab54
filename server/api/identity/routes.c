/* routes.c - the identity route table: one line per NSID, sorted by name. */
#include "api/identity/identity.h"

#include "core/err.h"

#define NO_INPUT NULL
#define JSON     XRPC_INPUT_JSON

/* clang-format off */
static const struct xrpc_route rows[] = {
    {"com.atproto.identity.getRecommendedDidCredentials", HTTP_GET,  api_identity_get_recommended_did_credentials, NO_INPUT, 0, 0, NULL},
    {"com.atproto.identity.refreshIdentity",     HTTP_POST, api_identity_refresh_identity,       JSON,     0, 0, NULL},
    {"com.atproto.identity.requestPlcOperationSignature", HTTP_POST, api_identity_request_plc_operation_signature, NO_INPUT, 0, 0, NULL},
    {"com.atproto.identity.resolveDid",          HTTP_GET,  api_identity_resolve_did,            NO_INPUT, 0, 0, NULL},
    {"com.atproto.identity.resolveHandle",       HTTP_GET,  api_identity_resolve_handle,         NO_INPUT, 0, 0, NULL},
    {"com.atproto.identity.resolveIdentity",     HTTP_GET,  api_identity_resolve_identity,       NO_INPUT, 0, 0, NULL},
    {"com.atproto.identity.signPlcOperation",    HTTP_POST, api_identity_sign_plc_operation,     JSON,     0, 0, NULL},
    {"com.atproto.identity.submitPlcOperation",  HTTP_POST, api_identity_submit_plc_operation,   JSON,     0, 0, NULL},
    {"com.atproto.identity.updateHandle",        HTTP_POST, api_identity_update_handle,          JSON,     0, 0, NULL},
};
/* clang-format on */

const struct route_table api_identity_routes = {rows, ARRAY_LEN(rows)};
