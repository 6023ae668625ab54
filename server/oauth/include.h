/* include.h - the hook where include:<nsid> scopes (permission sets, digest §10.3) become
 * the concrete repo: and rpc: scopes of their sets when a token is issued, and again on
 * every refresh. Resolving sets (Lexicon resolution through DNS and the
 * com.atproto.lexicon.schema record) is not built: today every include: scope is refused,
 * with the error a client gets for a scope the server cannot grant (invalid_scope).
 * The permission-set work fills in oauth_expand_includes; its callers (par.c, token.c)
 * already pass what it needs. Pure today; thread-safe. */
#ifndef PDS_OAUTH_INCLUDE_H
#define PDS_OAUTH_INCLUDE_H

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"

/* The scope to put in a token for the granted scope string: include: values replaced by
 * the entries of their sets, everything else kept. ERR_UNSUPPORTED with *why (the
 * description of an invalid_scope error) for a scope holding an include: value. */
enum err oauth_expand_includes(struct db *db, struct arena *a, const char *scope,
                               const char **expanded, const char **why) MUST_CHECK;

#endif
