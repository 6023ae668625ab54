/* request.h - pushed authorization requests in PostgreSQL (oauth_request), from PAR until
 * their code is exchanged: created by PAR with the validated parameters, bound to the
 * browser that first opens it, authorized with an account (which stores the code's digest),
 * and consumed by the token endpoint in one DELETE, so a code works once. Runs on the
 * caller's connection; thread-safe. */
#ifndef PDS_OAUTH_REQUEST_H
#define PDS_OAUTH_REQUEST_H

#include <stdbool.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"

#define REQUEST_URI_PREFIX "urn:ietf:params:oauth:request_uri:"
#define REQUEST_ID_PREFIX  "req-"
#define REQUEST_ID_BYTES   16
#define REQUEST_ID_CHARS   (4 + 2 * REQUEST_ID_BYTES)
#define CODE_PREFIX        "cod-"
#define CODE_BYTES         32
#define CODE_CHARS         (4 + 2 * CODE_BYTES)

struct oauth_request {
    const char *id;
    const char *client_id;
    json_t *client_auth;     /* owned by the arena */
    json_t *params;          /* owned by the arena: redirect_uri, scope, state, code_challenge,
                                response_mode, login_hint, prompt, dpop_jkt */
    const char *device_hash; /* NULL until a browser opened it */
    const char *did;         /* NULL until authorized */
    bool expired;
};

/* Stores a new request, expiring in ttl_s; out gets its id (REQUEST_ID_CHARS + 1). */
enum err request_create(struct db *db, const char *client_id, const json_t *client_auth,
                        const json_t *params, int64_t ttl_s,
                        char out[REQUEST_ID_CHARS + 1]) MUST_CHECK;

/* The request id of a request_uri, or NULL when it has not our form. In the arena. */
const char *request_id_from_uri(struct arena *a, const char *request_uri);

/* Reads request id; *found false when there is none. */
enum err request_load(struct db *db, struct arena *a, const char *id, struct oauth_request *out,
                      bool *found) MUST_CHECK;

/* Binds the request to a browser (when unbound) and pushes its expiry to now + idle_s (an
 * unfinished sign-in stays alive while the user works). *ok false when it is bound to
 * another browser, already authorized, or gone. */
enum err request_touch(struct db *db, const char *id, const char *device_hash, int64_t idle_s,
                       bool *ok) MUST_CHECK;

/* Authorizes an open request for did with the final parameters (the scope the user
 * granted) and a new code: *ok false if it was authorized meanwhile, expired or gone.
 * code gets the code (CODE_CHARS + 1); only its digest is stored. */
enum err request_authorize(struct db *db, const char *id, const char *device_hash, const char *did,
                           const json_t *params, int64_t code_ttl_s, char code[CODE_CHARS + 1],
                           bool *ok) MUST_CHECK;

/* Takes the request a code belongs to, deleting it: *found false for an unknown (or
 * already used) code. out->expired tells a code that came too late. */
enum err request_consume_code(struct db *db, struct arena *a, const char *code,
                              struct oauth_request *out, bool *found) MUST_CHECK;

enum err request_delete(struct db *db, const char *id) MUST_CHECK;

#endif
