/* lexcache.h - resolved Lexicons kept in PostgreSQL (table lexicon_cache), so every process
 * of a host shares them: an entry is fresh for LEXCACHE_FRESH_MS (the reference refreshes
 * every 5 minutes), after which the next use resolves again; a failed refresh keeps serving
 * the last good document for up to LEXCACHE_MAX_AGE_MS (the digest: ~90 days), and a Lexicon
 * that never resolved is remembered as missing until it is stale (PDS_LEXICON_CACHE_TTL
 * changes LEXCACHE_FRESH_MS), so a broken one is not
 * fetched on every request. Runs on the caller's connection, outside any transaction
 * (network I/O happens between its statements). Thread-safe. */
#ifndef PDS_OAUTH_LEXCACHE_H
#define PDS_OAUTH_LEXCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "oauth/lexres.h"

#define LEXCACHE_FRESH_MS   (5LL * 60 * 1000)
#define LEXCACHE_MAX_AGE_MS (90LL * 24 * 3600 * 1000)

/* The Lexicon for nsid, from the cache when fresh (and !force_refresh), else resolved
 * (lexres_resolve) and stored. Errors as lexres_resolve's (ERR_NOT_FOUND also for a
 * remembered failure), or ERR_DB. out->doc is the caller's to decref. */
enum err lexcache_get(struct db *db, const struct lexres_config *c, const char *nsid,
                      bool force_refresh, struct lexres_result *out, char *why,
                      size_t why_len) MUST_CHECK;

#endif
