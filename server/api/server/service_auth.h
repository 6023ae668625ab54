/* service_auth.h - service-auth JWTs minted for our accounts (getServiceAuth, and
 * the proxy's outgoing calls), and the reference's lists of methods that are never proxied
 * or given service tokens (PROTECTED) or need a privileged session (PRIVILEGED).
 * Thread-safe; request-scoped. */
#ifndef PDS_API_SERVER_SERVICE_AUTH_H
#define PDS_API_SERVER_SERVICE_AUTH_H

#include "http/xrpc.h"

#define SERVICE_JWT_TTL_S     60   /* reference: exp defaults to iat + 1 minute */
#define SERVICE_JWT_MAX_TTL_S 3600 /* getServiceAuth refuses exp more than an hour ahead */
#define SERVICE_JWT_JTI_BYTES 16   /* jti: 16 random bytes in hex */

/* spec(xrpc) reference pipethrough.ts: compared case-insensitively, as its LxmSet does. */
bool api_lxm_is_protected(const char *lxm);
bool api_lxm_is_privileged(const char *lxm);

/* Signs {iat, iss, aud, exp, lxm?, jti} with did's repository key (ES256K for our k256
 * keys), header {typ: "JWT", alg}. exp 0: iat + SERVICE_JWT_TTL_S. lxm may be NULL.
 * On 0 *out is an arena string; otherwise 500 already set (key missing or unsealable). */
int api_service_jwt(struct xrpc_req *rq, const char *iss, const char *aud, const char *lxm,
                    int64_t exp, const char **out);

#endif
