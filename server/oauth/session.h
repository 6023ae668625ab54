/* session.h - granted OAuth sessions in PostgreSQL (oauth_session): one row from the code
 * exchange until revoked or expired, holding the current access token's id and the digest
 * of the current refresh token. A refresh replaces both in one statement that also records
 * the old refresh token as used, so each refresh token works once and presenting a used one
 * is recognised (and revokes the session). Deleting the row revokes everything it issued.
 * Runs on the caller's connection; thread-safe. */
#ifndef PDS_OAUTH_SESSION_H
#define PDS_OAUTH_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"

#define TOKEN_ID_PREFIX "tok-"
#define TOKEN_ID_BYTES  16
#define TOKEN_ID_CHARS  (4 + 2 * TOKEN_ID_BYTES)
#define REFRESH_PREFIX  "ref-"
#define REFRESH_BYTES   32
#define REFRESH_CHARS   (4 + 2 * REFRESH_BYTES)

struct oauth_session {
    int64_t id;
    const char *did;
    const char *client_id;
    json_t *client_auth; /* owned by the arena */
    json_t *params;      /* owned by the arena */
    const char *scope;
    const char *dpop_jkt;
    const char *device_hash;        /* or NULL */
    int64_t created_at, updated_at; /* Unix seconds */
    bool access_expired;            /* the current access token's expiry has passed */
    bool session_expired;
};

/* What a new session holds. */
struct session_new {
    const char *did, *client_id, *device_hash, *scope, *dpop_jkt, *code;
    const json_t *client_auth, *params;
    int64_t access_ttl_s, session_ttl_s;
    bool refresh; /* issue a refresh token (the client has the refresh_token grant) */
};

/* Creates a session: token_id gets the access token's id (TOKEN_ID_CHARS + 1), refresh the
 * refresh token (REFRESH_CHARS + 1; "" when !n->refresh). */
enum err session_create(struct db *db, const struct session_new *n,
                        char token_id[TOKEN_ID_CHARS + 1], char refresh[REFRESH_CHARS + 1],
                        int64_t *id) MUST_CHECK;

/* The session a code was exchanged for (a replayed code revokes it): *id 0 when none. */
enum err session_by_code(struct db *db, const char *code, int64_t *id) MUST_CHECK;

/* The session whose current refresh token this is (*found), or whose earlier refresh token
 * it was (*reused, then out->id is set and the caller revokes it). */
enum err session_by_refresh(struct db *db, struct arena *a, const char *refresh,
                            struct oauth_session *out, bool *found, bool *reused) MUST_CHECK;

/* The session whose current access token id is token_id. */
enum err session_by_token(struct db *db, struct arena *a, const char *token_id,
                          struct oauth_session *out, bool *found) MUST_CHECK;

/* Rotates session id from refresh token old_refresh: new access token id and refresh token,
 * the (re-expanded) scope, a new access expiry. *ok false when old_refresh is no longer the
 * current one (a concurrent refresh won). */
enum err session_rotate(struct db *db, int64_t id, const char *old_refresh, const char *scope,
                        int64_t access_ttl_s, char token_id[TOKEN_ID_CHARS + 1],
                        char refresh[REFRESH_CHARS + 1], bool *ok) MUST_CHECK;

/* Revokes (deletes) one session. */
enum err session_delete(struct db *db, int64_t id) MUST_CHECK;

#endif
