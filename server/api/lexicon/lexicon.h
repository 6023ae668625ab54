/* lexicon.h - com.atproto.lexicon.*: resolving a Lexicon (NSID) to its published schema,
 * with the resolver and cache the OAuth server uses for permission sets (oauth/lexcache.h).
 * Handlers run on HTTP worker threads; the route table is in routes.c. */
#ifndef PDS_API_LEXICON_LEXICON_H
#define PDS_API_LEXICON_LEXICON_H

#include "http/router.h"
#include "oauth/lexres.h"

extern const struct route_table api_lexicon_routes;

/* The resolver settings for this server (its DID resolver, PDS_LEXICON_AUTHORITY_DID,
 * SSRF protection unless disabled), for every caller of oauth/lexcache.h. */
struct lexres_config api_lexicon_resolver(const struct config *cfg);

int api_lexicon_resolve_lexicon(struct xrpc_req *rq);

#endif
