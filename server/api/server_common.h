/* server_common.h - what the com.atproto.server.* account handlers share: issuing a session
 * (tokens plus its stored refresh-token row), password hashing under a concurrency bound,
 * app-password digests, and the account fields every session answer carries.
 * Request-scoped helpers; the hashing bound is process-wide and thread-safe. */
#ifndef PDS_API_SERVER_COMMON_H
#define PDS_API_SERVER_COMMON_H

#include "api/auth.h"
#include "crypto/password.h"
#include "http/xrpc.h"

/* Refresh-token ids (the JWT's jti): 64 hex digits, 256 random bits. */
#define SERVER_TOKEN_ID_CHARS 64
/* Stored app-password digest: "b2:" + 64 hex digits + NUL. */
#define SERVER_APP_DIGEST_MAX 72
/* argon2id hashes running at once: each holds 64 MiB (password.h). Others wait their turn. */
#define SERVER_HASHES_MAX 2
/* reference: new passwords are at most 256 characters; logins accept up to 512 (older
 * accounts may have longer ones) */
#define SERVER_NEW_PASSWORD_MAX_CHARS 256
#define SERVER_OLD_PASSWORD_MAX_CHARS 512

/* Characters (code points) of a UTF-8 string, as the reference's length limits count them
 * (close enough: it counts UTF-16 units). */
size_t server_password_chars(const char *pw);

/* password_hash / password_verify, at most SERVER_HASHES_MAX at a time. */
enum err server_password_hash(const char *pw, char out[PASSWORD_HASH_MAX]) MUST_CHECK;
bool server_password_verify(const char *hash, const char *pw) MUST_CHECK;
/* Spends the time of one failed verify (unknown identifier: no timing oracle). */
void server_password_burn(const char *pw);

/* App passwords carry 80 random bits, so a fast keyed digest stores them safely and lets a
 * login find one with a single indexed lookup: BLAKE2b(did ‖ 0 ‖ password), hex. */
void server_app_password_digest(const char *did, const char *pw, char out[SERVER_APP_DIGEST_MAX]);

/* A new random token id (refresh jti). */
void server_token_id(char out[SERVER_TOKEN_ID_CHARS + 1]);

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

/* Milliseconds since the epoch. */
int64_t server_now_ms(void);

#endif
