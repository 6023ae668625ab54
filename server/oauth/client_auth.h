/* client_auth.h - how a client proves who it is at the PAR, token and revocation endpoints
 * (RFC 7523 §3 and the atproto profile): public clients ("none") send only client_id;
 * confidential clients ("private_key_jwt") an ES256 client assertion signed with a key of
 * their JWKS (kid required), iss = sub = client_id, aud = our issuer, at most a minute old,
 * its jti single-use across the host. The key used is remembered with the session: a later
 * request must use the same one. Request-scoped; thread-safe. */
#ifndef PDS_OAUTH_CLIENT_AUTH_H
#define PDS_OAUTH_CLIENT_AUTH_H

#include <jansson.h>

#include "crypto/jwk.h"
#include "http/xrpc.h"
#include "oauth/client.h"
#include "oauth/dpop.h"

#define CLIENT_ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

struct oauth_client_auth {
    bool confidential;
    const char *kid; /* the assertion's key id (confidential only) */
    char jkt[JWK_THUMBPRINT_CHARS + 1];
};

/* Authenticates the request's client (form parameters p[0..n)) as client c. dpop is the
 * request's proof (its key must differ from the assertion's). 0 and *out filled, or the
 * error set: 400 invalid_request for a missing assertion or a wrong assertion type, 400
 * invalid_client for an assertion that does not verify, 400 invalid_grant for a reused
 * jti (the reference's names). */
int oauth_client_authenticate(struct xrpc_req *rq, const struct oauth_client *c,
                              const struct xrpc_param *p, size_t n, const struct dpop_proof *dpop,
                              struct oauth_client_auth *out);

/* Whether the client's JWKS still lists an active key with this kid. */
bool oauth_client_has_key(const struct oauth_client *c, const char *kid);

/* {"method":"none"} or {"method":"private_key_jwt","kid":..,"jkt":..}: stored with a
 * request and its session. Caller json_decref's. */
json_t *oauth_client_auth_json(const struct oauth_client_auth *a);

/* Whether the stored auth (as oauth_client_auth_json wrote it) is the same client key and
 * method as now. A public request that became confidential is accepted (the reference
 * lets a client upgrade), the reverse is not. */
bool oauth_client_auth_same(const json_t *stored, const struct oauth_client_auth *now);

#endif
