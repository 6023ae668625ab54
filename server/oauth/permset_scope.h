/* permset_scope.h - the scope a token carries for a granted scope string: each
 * `include:<nsid>[?aud=…]` replaced by the repo:/rpc: scopes its permission set grants
 * (reference LexiconManager.buildTokenScope: the expansions first, in the order of the
 * includes, then every other value as it was). Issued tokens carry the expanded form, and a
 * refresh expands again, so an updated set applies without new consent. Resolution goes
 * through lexcache.h. Thread-safe; runs on the caller's connection outside transactions. */
#ifndef PDS_OAUTH_PERMSET_SCOPE_H
#define PDS_OAUTH_PERMSET_SCOPE_H

#include "core/arena.h"
#include "db/db.h"
#include "oauth/lexres.h"

/* *out (in a) is the token scope for scope. ERR_NOT_FOUND when an included set cannot be
 * resolved (and is not cached) or is not a permission set: why names it, and the request
 * fails (the digest: never issue a token without the permissions asked for); ERR_TOO_LARGE
 * past the scope limits; ERR_DB. */
enum err permset_token_scope(struct db *db, const struct lexres_config *c, const char *scope,
                             struct arena *a, const char **out, char *why,
                             size_t why_len) MUST_CHECK;

#endif
