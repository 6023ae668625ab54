/* account_service_auth.c - what an account bringing its own DID needs at sign-up: the proof
 * that the caller controls the DID (a service-auth JWT signed with the DID document's
 * #atproto key), and the signing key this server keeps for that DID (account_ops.h). */
#include "api/account/account_ops.h"

#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api/common/app.h"
#include "crypto/jwt.h"
#include "identity/resolver.h"
#include "config/config.h"

#define RESERVED_KEY_CONTEXT "pds reserved signing key v1"
#define RESERVED_KEY_TRIES   4 /* a hash that is not a valid scalar (p ~ 2^-128): next one */

enum err account_reserved_key(const char *did, struct sigkey *out)
{
    const struct app *app = app_get();
    uint8_t priv[SIGKEY_PRIVATE_BYTES];
    enum err e = ERR_INTERNAL;
    for (uint8_t i = 0; i < RESERVED_KEY_TRIES && e; i++) {
        crypto_generichash_state st;
        crypto_generichash_init(&st, app->seal_key, SEAL_KEY_BYTES, sizeof(priv));
        crypto_generichash_update(&st, (const uint8_t *)RESERVED_KEY_CONTEXT,
                                  sizeof(RESERVED_KEY_CONTEXT)); /* with its NUL */
        crypto_generichash_update(&st, (const uint8_t *)did, strlen(did));
        crypto_generichash_update(&st, &i, 1);
        crypto_generichash_final(&st, priv, sizeof(priv));
        e = sigkey_from_private(SIGKEY_K256, priv, out);
    }
    sodium_memzero(priv, sizeof(priv));
    return e;
}

/* The bearer token, or NULL. */
static const char *bearer(struct xrpc_req *rq)
{
    const char *h = xrpc_header(rq, "authorization");
    if (!h || strncasecmp(h, "bearer ", 7) != 0) {
        return NULL;
    }
    h += 7;
    while (*h == ' ') {
        h++;
    }
    return *h ? h : NULL;
}

/* The #atproto key of iss's document. */
static enum err issuer_key(const char *iss, bool force, struct sigkey *out)
{
    struct did_doc doc = {0};
    enum err e = resolver_resolve_atproto(app_get()->resolver, iss, force, &doc);
    if (!e && !doc.has_signing_key) {
        e = ERR_NOT_FOUND;
    }
    if (!e) {
        *out = doc.signing_key;
    }
    did_doc_clear(&doc);
    return e;
}

/* Checks every claim but the signature; 0 or the 401 set. */
static int check_claims(struct xrpc_req *rq, const struct jwt *j, const char *nsid)
{
    const char *typ = jwt_typ(j);
    if (typ && (strcmp(typ, "at+jwt") == 0 || strcmp(typ, "refresh+jwt") == 0 ||
                strcmp(typ, "dpop+jwt") == 0)) {
        return xrpc_fail(rq, 401, "BadJwtType", "Invalid jwt type \"%s\"", typ);
    }
    const char *aud = jwt_claim_str(j, "aud"), *iss = jwt_claim_str(j, "iss");
    int64_t exp;
    if (!aud || !iss || !jwt_claim_int(j, "exp", &exp)) {
        return xrpc_fail(rq, 401, "BadJwt", "poorly formatted jwt");
    }
    if (jwt_is_expired(j, (int64_t)time(NULL))) {
        return xrpc_fail(rq, 401, "JwtExpired", "jwt expired");
    }
    if (!rq->cfg->service_did || strcmp(aud, rq->cfg->service_did) != 0) {
        return xrpc_fail(rq, 401, "BadJwtAudience", "jwt audience does not match service did");
    }
    const char *lxm = jwt_claim_str(j, "lxm");
    if (!lxm || strcmp(lxm, nsid) != 0) {
        return xrpc_fail(rq, 401, "BadJwtLexiconMethod",
                         "%s jwt lexicon method (\"lxm\"). must match: %s", lxm ? "bad" : "missing",
                         nsid);
    }
    if (!syntax_did_valid(bytes_str(iss))) {
        return xrpc_fail(rq, 401, "BadJwtIss", "jwt iss is not a valid did");
    }
    return 0;
}

int account_service_auth(struct xrpc_req *rq, const char *did, const char *nsid)
{
    const char *token = bearer(rq);
    if (!token) {
        return xrpc_fail(rq, 401, "AuthenticationRequired",
                         "Missing auth to create account with did: %s", did);
    }
    struct jwt j = {0};
    enum err e = jwt_parse(bytes_str(token), &j);
    if (e) {
        return xrpc_fail(rq, 401, "BadJwt", "poorly formatted jwt");
    }
    int st = check_claims(rq, &j, nsid);
    if (!st && strcmp(jwt_claim_str(&j, "iss"), did) != 0) {
        st = xrpc_fail(rq, 401, "AuthenticationRequired",
                       "Missing auth to create account with did: %s", did);
    }
    /* the signature, with a fresh document once if the cached key fails (a rotation) */
    bool ok = false;
    for (int force = 0; !st && !ok && force < 2; force++) {
        struct sigkey key;
        rq->log.action = "resolving a service token's issuer";
        e = issuer_key(did, force, &key);
        rq->log.action = NULL;
        if (e) {
            break;
        }
        /* lenient: the reference accepts high-S signatures on incoming service tokens */
        ok = jwt_verify_sigkey(&j, &key, true);
        sigkey_clear(&key);
    }
    if (!st && !ok) {
        st = e ? xrpc_fail(rq, 400, "UnresolvableDid", "Could not resolve the DID: %s", did)
               : xrpc_fail(rq, 401, "BadJwtSignature", "jwt signature does not match jwt issuer");
    }
    jwt_clear(&j);
    return st;
}
