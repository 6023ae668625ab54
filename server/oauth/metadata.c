/* metadata.c - the discovery documents (digest §10.1): the protected-resource metadata
 * (RFC 9728) naming us as the authorization server, the authorization-server metadata
 * (RFC 8414) with every field the atproto profile asks for, and our JWKS (empty: access
 * tokens are symmetric, checked only here). */
#include "oauth/endpoints.h"

#include <stdio.h>

#include "config/config.h"
#include "oauth/reply.h"

#define METADATA_MAX_AGE "max-age=300" /* the reference's cacheControlMiddleware(300) */

static json_t *url_of(const struct config *cfg, const char *path)
{
    char u[1024];
    snprintf(u, sizeof u, "%s%s", cfg->public_url, path);
    return json_string(u);
}

/* GET /.well-known/oauth-protected-resource */
int oauth_protected_resource(struct xrpc_req *rq)
{
    const struct config *cfg = rq->cfg;
    json_t *body = json_pack("{s:s,s:[s],s:[],s:[s],s:s}", "resource", cfg->public_url,
                             "authorization_servers", cfg->public_url, "scopes_supported",
                             "bearer_methods_supported", "header", "resource_documentation",
                             "https://atproto.com");
    xrpc_set_header(rq, "Cache-Control", METADATA_MAX_AGE);
    return xrpc_reply_json(rq, 200, body);
}

/* GET /.well-known/oauth-authorization-server */
int oauth_authorization_server(struct xrpc_req *rq)
{
    const struct config *cfg = rq->cfg;
    json_t *m = json_object();
    json_object_set_new(m, "issuer", json_string(cfg->public_url));
    json_object_set_new(m, "scopes_supported",
                        json_pack("[s,s,s,s]", "atproto", "transition:email", "transition:generic",
                                  "transition:chat.bsky"));
    json_object_set_new(m, "subject_types_supported", json_pack("[s]", "public"));
    json_object_set_new(m, "response_types_supported", json_pack("[s]", "code"));
    json_object_set_new(m, "response_modes_supported", json_pack("[s,s]", "query", "fragment"));
    json_object_set_new(m, "grant_types_supported",
                        json_pack("[s,s]", "authorization_code", "refresh_token"));
    json_object_set_new(m, "code_challenge_methods_supported", json_pack("[s]", "S256"));
    json_object_set_new(m, "ui_locales_supported", json_pack("[s]", "en-US"));
    json_object_set_new(m, "display_values_supported",
                        json_pack("[s,s,s]", "page", "popup", "touch"));
    json_object_set_new(m, "prompt_values_supported",
                        json_pack("[s,s,s,s]", "none", "login", "consent", "select_account"));
    json_object_set_new(m, "authorization_response_iss_parameter_supported", json_true());
    /* request objects (JAR) are not accepted: PAR carries the parameters */
    json_object_set_new(m, "request_parameter_supported", json_false());
    json_object_set_new(m, "request_uri_parameter_supported", json_true());
    json_object_set_new(m, "require_request_uri_registration", json_true());
    json_object_set_new(m, "jwks_uri", url_of(cfg, "/oauth/jwks"));
    json_object_set_new(m, "authorization_endpoint", url_of(cfg, "/oauth/authorize"));
    json_object_set_new(m, "token_endpoint", url_of(cfg, "/oauth/token"));
    json_object_set_new(m, "token_endpoint_auth_methods_supported",
                        json_pack("[s,s]", "none", "private_key_jwt"));
    json_object_set_new(m, "token_endpoint_auth_signing_alg_values_supported",
                        json_pack("[s]", "ES256"));
    json_object_set_new(m, "revocation_endpoint", url_of(cfg, "/oauth/revoke"));
    json_object_set_new(m, "pushed_authorization_request_endpoint", url_of(cfg, "/oauth/par"));
    json_object_set_new(m, "require_pushed_authorization_requests", json_true());
    json_object_set_new(m, "dpop_signing_alg_values_supported", json_pack("[s]", "ES256"));
    json_object_set_new(m, "protected_resources", json_pack("[s]", cfg->public_url));
    json_object_set_new(m, "client_id_metadata_document_supported", json_true());
    xrpc_set_header(rq, "Cache-Control", METADATA_MAX_AGE);
    return xrpc_reply_json(rq, 200, m);
}

/* GET /oauth/jwks: our signing keys for tokens others verify. Access tokens are HS256 and
 * only ever checked by this host, so the set is empty (as the reference's would be with a
 * symmetric key). */
int oauth_jwks(struct xrpc_req *rq)
{
    xrpc_set_header(rq, "Cache-Control", METADATA_MAX_AGE);
    return xrpc_reply_json(rq, 200, json_pack("{s:[]}", "keys"));
}
