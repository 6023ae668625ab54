/* routes.c - the authorization server's routes (the reference's paths, auth-routes.ts and
 * oauth-provider's router). Registered by api/routes.c. */
#include "oauth/endpoints.h"

#include "oauth/oauth.h"

#define FORM "application/x-www-form-urlencoded"

/* clang-format off */
static const struct xrpc_route rows[] = {
    {"/.well-known/oauth-protected-resource",   HTTP_GET,  oauth_protected_resource,   NULL, 0, 0, NULL},
    {"/.well-known/oauth-authorization-server", HTTP_GET,  oauth_authorization_server, NULL, 0, 0, NULL},
    {"/oauth/jwks",                             HTTP_GET,  oauth_jwks,                 NULL, 0, 0, NULL},
    {"/oauth/par",                              HTTP_POST, oauth_par,    FORM, OAUTH_FORM_BODY_MAX, 0, NULL},
    {"/oauth/token",                            HTTP_POST, oauth_token,  FORM, OAUTH_FORM_BODY_MAX, 0, NULL},
    {"/oauth/revoke",                           HTTP_POST, oauth_revoke, FORM, OAUTH_FORM_BODY_MAX, 0, NULL},
    {"/oauth/authorize",                        HTTP_GET,  oauth_authorize,            NULL, 0, 0, NULL},
    {"/oauth/authorize/info",                   HTTP_GET,  oauth_authorize_info,       NULL, 0, 0, NULL},
    {"/oauth/authorize/accept",                 HTTP_POST, oauth_authorize_accept,     NULL, 16384, 0, NULL},
    {"/oauth/authorize/reject",                 HTTP_POST, oauth_authorize_reject,     NULL, 16384, 0, NULL},
};
/* clang-format on */

const struct route_table oauth_routes = {rows, ARRAY_LEN(rows)};
