/* replay.h - values that may be used once (a DPoP proof's jti, a client assertion's jti, a
 * PKCE code challenge), remembered in PostgreSQL for as long as they would otherwise be
 * accepted, so a replay is caught whichever process of the host it reaches. Thread-safe:
 * runs on the caller's connection. */
#ifndef PDS_OAUTH_REPLAY_H
#define PDS_OAUTH_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "db/db.h"

#define REPLAY_NS_DPOP      "dpop"      /* + ":" + the proof key's jkt */
#define REPLAY_NS_ASSERTION "assertion" /* + ":" + the client_id */
#define REPLAY_NS_PKCE      "pkce"

/* Records value in namespace ns for ttl_s seconds; *fresh is false when it was already
 * recorded and has not expired (a replay). One statement, so two concurrent uses of one
 * value cannot both be fresh; committed without waiting for the WAL flush (see
 * oauth_replay_use in migrations/0010). ERR_DB on failure. */
enum err replay_use(struct db *db, const char *ns, const char *value, int64_t ttl_s,
                    bool *fresh) MUST_CHECK;

#endif
