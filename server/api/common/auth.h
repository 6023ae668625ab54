/* auth.h - who is calling and what they may do: the one authorization model.
 *
 * Who: legacy session JWTs (access and refresh), app passwords (access JWTs of their tier),
 * admin Basic auth, and OAuth access tokens bound to a DPoP key (Authorization: DPoP,
 * checked by oauth/resource.h). Each credential check either fills *out and returns 0, or
 * sets the XRPC error response (the reference's names and statuses) and returns its status.
 *
 * What: every credential carries a permission set in the OAuth scope model (oauth/scope.h):
 * an OAuth token the scopes it was granted, a legacy session all of them (what an app
 * password may not do, the route's tier refuses, as the reference's verifiers do). Endpoints call
 * the auth_permit_* checks below for what a request does (a record write, a blob upload, a proxied
 * call, an account or identity change); legacy and OAuth credentials go through the same checks, so
 * there is one authorization model. Route-level tiers (AUTH_FULL...) still say which credentials a
 * route takes at all, as the reference's verifiers do; AUTH_OAUTH admits OAuth tokens.
 * Thread-safe: the results live in the request's arena. */
#ifndef PDS_API_COMMON_AUTH_H
#define PDS_API_COMMON_AUTH_H

#include "http/xrpc.h"
#include "oauth/scope.h"

#define AUTH_DID_MAX         2048
#define AUTH_ACCESS_TTL_S    (120 * 60)       /* reference: access JWTs last 2 h */
#define AUTH_REFRESH_TTL_S   (90 * 24 * 3600) /* reference: refresh JWTs last 90 days */
#define AUTH_REFRESH_GRACE_S (2 * 3600)       /* a rotated refresh token lives 2 h more */

/* The `scope` claim of a legacy JWT (reference auth-scope.ts). */
enum auth_scope {
    AUTH_SCOPE_UNKNOWN = 0,
    AUTH_SCOPE_ACCESS,              /* com.atproto.access: a password login */
    AUTH_SCOPE_APP_PASS_PRIVILEGED, /* com.atproto.appPassPrivileged */
    AUTH_SCOPE_APP_PASS,            /* com.atproto.appPass */
    AUTH_SCOPE_REFRESH,             /* com.atproto.refresh */
    AUTH_SCOPE_TAKENDOWN,           /* com.atproto.takendown: to migrate out */
    AUTH_SCOPE_SIGNUP_QUEUED,       /* com.atproto.signupQueued */
};

enum auth_kind {
    AUTH_KIND_ACCESS,
    AUTH_KIND_REFRESH,
    AUTH_KIND_ADMIN,
    AUTH_KIND_OAUTH, /* a DPoP-bound OAuth access token */
};

struct auth {
    enum auth_kind kind;
    enum auth_scope scope;
    const char *did;        /* the account (NULL for admin) */
    const char *jti;        /* refresh tokens: the token id */
    int64_t exp;            /* expiry, Unix seconds */
    const char *client_id;  /* OAuth: the client the token was issued to */
    struct scope_set perms; /* what the credential may do (access and OAuth kinds) */
};

/* Which token scopes a route accepts, and which account states it refuses. */
enum auth_flag {
    AUTH_FULL = 1 << 0,       /* com.atproto.access */
    AUTH_PRIVILEGED = 1 << 1, /* com.atproto.appPassPrivileged */
    AUTH_APP_PASS = 1 << 2,   /* com.atproto.appPass */
    AUTH_TAKENDOWN = 1 << 3,  /* com.atproto.takendown */
    AUTH_SIGNUP_QUEUED = 1 << 4,
    AUTH_OAUTH = 1 << 5,             /* OAuth access tokens (their scopes then decide) */
    AUTH_CHECK_TAKEDOWN = 1 << 8,    /* 401 AccountTakedown for a taken-down account */
    AUTH_CHECK_DEACTIVATED = 1 << 9, /* 401 AccountDeactivated for a deactivated one */
};
#define AUTH_STANDARD        (AUTH_FULL | AUTH_PRIVILEGED | AUTH_APP_PASS)
#define AUTH_PRIVILEGED_ONLY (AUTH_FULL | AUTH_PRIVILEGED)

const char *auth_scope_name(enum auth_scope s);
enum auth_scope auth_scope_parse(const char *s);

/* Authorization: Bearer <access JWT> with header typ "at+jwt" (app-password sessions too),
 * or DPoP <OAuth access token> (with the DPoP proof): 401 AuthMissing without a header;
 * 400 ExpiredToken; 400 InvalidToken for a bad legacy token, one without that typ, or a tier
 * not in flags; OAuth failures are 401 with WWW-Authenticate (invalid_token,
 * invalid_dpop_proof, use_dpop_nonce), and a DPoP-bound token sent as Bearer is 401
 * invalid_token too (the reference answers 400; RFC 9449 §7.1 says 401). An OAuth token on
 * a route without AUTH_OAUTH is 403 Forbidden "OAuth credentials are not supported for
 * this endpoint" (the reference's refusal). */
int auth_access(struct xrpc_req *rq, unsigned flags, const struct auth **out);
/* Authorization: Bearer <refresh JWT> with typ "refresh+jwt" (refreshSession,
 * deleteSession); 401 MissingTokenId without a jti, as the reference. */
int auth_refresh(struct xrpc_req *rq, const struct auth **out);
/* Authorization: Basic admin:<PDS_ADMIN_PASSWORD>, compared in constant time; or a request
 * the admin console has already signed in (auth_console_admin). */
int auth_admin(struct xrpc_req *rq, const struct auth **out);
/* Marks rq as the administrator's: the admin console calls it once its session and CSRF
 * checks passed, before calling admin handlers on the same request. */
void auth_console_admin(struct xrpc_req *rq);
/* No Authorization header: *out = NULL and 0; Basic: admin; Bearer: access (flags). */
int auth_optional(struct xrpc_req *rq, unsigned flags, const struct auth **out);

/* ---- the permission check ---- */

/* Each returns 0 when credential a may do it, else 403 ScopeMissingError "Missing required
 * scope \"<the scope needed>\"" (the reference's ScopeMissingError, for OAuth tokens and
 * legacy tiers alike). Admin credentials may do everything. */
/* Writing records of collection: every SCOPE_REPO_* bit in actions (putRecord passes
 * create and update; applyWrites checks each write). */
int auth_permit_repo(struct xrpc_req *rq, const struct auth *a, const char *collection,
                     unsigned actions);
/* Uploading a blob of this Content-Type. */
int auth_permit_blob(struct xrpc_req *rq, const struct auth *a, const char *mime);
/* Calling method lxm of service aud ("<did>#<service id>") through us (proxying, service
 * auth tokens; lxm "*" for a method-less service token). */
int auth_permit_rpc(struct xrpc_req *rq, const struct auth *a, const char *aud, const char *lxm);
int auth_permit_account(struct xrpc_req *rq, const struct auth *a, enum scope_account_attr attr,
                        enum scope_account_action action);
int auth_permit_identity(struct xrpc_req *rq, const struct auth *a, enum scope_identity_attr attr);
/* The same question without an answer set (getSession shows the email only if allowed). */
bool auth_allows_account(const struct auth *a, enum scope_account_attr attr,
                         enum scope_account_action action);

/* Mints a session: an access JWT for scope and a refresh JWT with id jti (caller stores
 * it). Both strings are malloc'd; caller frees. now is Unix seconds. */
enum err auth_sign_session(const char *did, enum auth_scope scope, const char *jti, int64_t now,
                           char **access, char **refresh) MUST_CHECK;

#endif
