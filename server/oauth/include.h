/* include.h - where include:<nsid> scopes (permission sets, digest §10.3) become the
 * concrete repo: and rpc: scopes of their sets: when a request is pushed (PAR checks they
 * resolve), when a code is exchanged, and again on every refresh, so an updated set applies
 * without new consent (permset_scope.h does the work, through the Lexicon cache); and the
 * words the consent page shows for a set (its title and detail in the user's language).
 * The resolver settings are set once at start-up (oauth_include_configure); thread-safe
 * afterwards. */
#ifndef PDS_OAUTH_INCLUDE_H
#define PDS_OAUTH_INCLUDE_H

#include <jansson.h>

#include "core/arena.h"
#include "core/err.h"
#include "db/db.h"
#include "oauth/lexres.h"

/* The Lexicon resolver to use (copied; its resolver must outlive the server). Before this
 * call, or without it, permission sets cannot be resolved and include: scopes are refused. */
void oauth_include_configure(const struct lexres_config *c);

/* The scope to put in a token for the granted scope string: include: values replaced by
 * the entries of their sets, everything else kept. ERR_UNSUPPORTED with *why (the
 * description of an invalid_scope error) when a set cannot be resolved or is not a
 * permission set. */
enum err oauth_expand_includes(struct db *db, struct arena *a, const char *scope,
                               const char **expanded, const char **why) MUST_CHECK;

/* [{"scope", "title", "detail", "required": false}] for each include: value of scope whose
 * set resolves, its title and detail in the first language of accept_language the set has
 * (NULL: the plain ones); a set without a title is named by its NSID. Caller decrefs. */
json_t *oauth_include_texts(struct db *db, struct arena *a, const char *scope,
                            const char *accept_language);

#endif
