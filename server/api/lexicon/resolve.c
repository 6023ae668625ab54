/* resolve.c - com.atproto.lexicon.resolveLexicon. The reference PDS does not serve it (its
 * AppView does); we do, with the resolver behind OAuth permission sets, so a developer can
 * see what this server sees for a set. */
#include "api/lexicon/lexicon.h"

#include "api/common/app.h"
#include "config/config.h"
#include "core/syntax.h"
#include "oauth/lexcache.h"

struct lexres_config api_lexicon_resolver(const struct config *cfg)
{
    return (struct lexres_config){
        .resolver = app_get()->resolver,
        .authority_did = cfg->lexicon_authority_did,
        .ssrf_protect = !cfg->disable_ssrf_protection,
        .cache_fresh_ms = cfg->lexicon_cache_ttl_ms,
    };
}

/* com.atproto.lexicon.resolveLexicon */
int api_lexicon_resolve_lexicon(struct xrpc_req *rq)
{
    const char *nsid;
    int st = xrpc_param_str(rq, "nsid", true, &nsid);
    if (st) {
        return st;
    }
    if (!syntax_nsid_valid(bytes_str(nsid))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "nsid must be a valid nsid");
    }
    struct lexres_config c = api_lexicon_resolver(rq->cfg);
    struct lexres_result res;
    char why[256] = "";
    enum err e = lexcache_get(rq->db, &c, nsid, false, &res, why, sizeof why);
    if (e == ERR_DB) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (e) { /* as the reference: every resolution failure (network too) is LexiconNotFound */
        return xrpc_fail(rq, 400, "LexiconNotFound", "No lexicon was resolved for the NSID: %s",
                         why);
    }
    json_t *body = json_pack("{s:s, s:s, s:o}", "uri", res.uri, "cid", res.cid, "schema", res.doc);
    return xrpc_reply_json(rq, 200, body);
}
