/* scope_needed.h - the scope a refused request would have needed, in the reference's
 * normal form (oauth-scopes scopeNeededFor: the positional value percent-encoded except
 * ": / + , @ %", defaults left out), for the 403 "Missing required scope" message.
 * Pure; results in the arena; thread-safe. */
#ifndef PDS_OAUTH_SCOPE_NEEDED_H
#define PDS_OAUTH_SCOPE_NEEDED_H

#include "core/arena.h"
#include "oauth/scope.h"

/* action: one SCOPE_REPO_* bit. */
const char *scope_needed_repo(struct arena *a, const char *collection, unsigned action);
const char *scope_needed_blob(struct arena *a, const char *mime);
const char *scope_needed_rpc(struct arena *a, const char *aud, const char *lxm);
const char *scope_needed_account(struct arena *a, enum scope_account_attr attr,
                                 enum scope_account_action action);
const char *scope_needed_identity(struct arena *a, enum scope_identity_attr attr);

#endif
