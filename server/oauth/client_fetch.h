/* client_fetch.h - getting a client's metadata document (and a confidential client's JWKS
 * from its jwks_uri): fetched with libcurl from the client_id URL, https only outside dev
 * mode, never from a private or loopback address unless SSRF protection is off (the
 * address connected to is checked, not the name), no redirects, exactly 200 and
 * application/json, at most PDS_FETCH_MAX_RESPONSE_SIZE bytes and a few seconds; then
 * kept in PostgreSQL (oauth_client_cache) as long as its Cache-Control allows, within
 * bounds. Request-scoped; thread-safe; blocks for at most the timeouts (never inside a
 * transaction). */
#ifndef PDS_OAUTH_CLIENT_FETCH_H
#define PDS_OAUTH_CLIENT_FETCH_H

#include <stdbool.h>

#include "http/xrpc.h"
#include "oauth/client.h"

#define CLIENT_FETCH_TIMEOUT_MS 3000  /* response headers, and again the body */
#define CLIENT_CACHE_DEFAULT_S  600   /* no Cache-Control max-age */
#define CLIENT_CACHE_MIN_S      60    /* a max-age below this is raised (no-store is kept) */
#define CLIENT_CACHE_MAX_S      86400 /* and above this lowered: metadata changes */

/* Loads and validates client_id's metadata (the loopback client's is built, not fetched)
 * and, for a confidential client with a jwks_uri, its JWKS into out->jwks. fresh skips the
 * cache (a refresh grant re-reads the client's keys, so a key it dropped stops working).
 * out->trusted from PDS_OAUTH_TRUSTED_CLIENTS. Strings live in rq's arena.
 * 0, or 400 invalid_client_metadata set, its description saying what was wrong
 * (the reference's error for a client whose metadata cannot be obtained or is invalid). */
int oauth_client_load(struct xrpc_req *rq, const char *client_id, bool fresh,
                      struct oauth_client *out);

#endif
