/* server_common.h - what the com.atproto.server.* session handlers share: issuing a session
 * (tokens plus its stored refresh-token row) and the account fields every session answer
 * carries. Request-scoped helpers. */
#ifndef PDS_API_SERVER_SERVER_COMMON_H
#define PDS_API_SERVER_SERVER_COMMON_H

#include "api/account/credentials.h"
#include "api/common/auth.h"
#include "http/xrpc.h"

/* Signs an access JWT for scope and a refresh JWT, adds accessJwt and refreshJwt to body,
 * and (store) inserts the refresh_token row (with app_password_name, may be NULL) on
 * rq->db, inside the caller's transaction if one is open. jti NULL: a new id. 0, or the
 * error status already set (500). */
int server_issue_session(struct xrpc_req *rq, const char *did, enum auth_scope scope,
                         const char *app_password_name, const char *jti, bool store, json_t *body);

/* Adds did, handle, email, emailConfirmed, emailAuthFactor, active, status? and (when
 * PDS_ENABLE_DID_DOC_WITH_SESSION) didDoc of the account to body. *found false when there
 * is no such account (nothing added). 0, or the error status already set. */
int server_session_fields(struct xrpc_req *rq, const char *did, json_t *body, bool *found);

#endif
