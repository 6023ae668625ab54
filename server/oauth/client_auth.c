/* client_auth.c - client authentication with private_key_jwt. */
#include "oauth/client_auth.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "crypto/jwt.h"
#include "oauth/oauth.h"
#include "oauth/reply.h"
#include "oauth/replay.h"

/* The JWKS key with this kid: a P-256 key not marked revoked. */
static bool find_key(const json_t *jwks, const char *kid, struct sigkey *out)
{
    json_t *keys = json_object_get(jwks, "keys");
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        const char *id = json_string_value(json_object_get(k, "kid"));
        const char *use = json_string_value(json_object_get(k, "use"));
        if (!id || strcmp(id, kid) != 0 || json_object_get(k, "revoked") ||
            (use && strcmp(use, "sig") != 0)) {
            continue;
        }
        if (jwk_p256_parse(k, out) == ERR_OK) {
            return true;
        }
    }
    return false;
}

static bool aud_ok(const struct jwt *j, const char *issuer)
{
    json_t *aud = json_object_get(j->claims, "aud");
    if (json_is_string(aud)) {
        return strcmp(json_string_value(aud), issuer) == 0;
    }
    size_t i;
    json_t *v;
    json_array_foreach(aud, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), issuer) == 0) {
            return true;
        }
    }
    return false;
}

/* The assertion's checks; NULL when good, else the reason. */
static const char *verify_assertion(struct xrpc_req *rq, const struct oauth_client *c,
                                    struct jwt *j, struct sigkey *key, int64_t *ttl)
{
    const char *kid = json_string_value(json_object_get(j->header, "kid"));
    int64_t iat, exp, now = oauth_now();
    const char *iss = jwt_claim_str(j, "iss"), *sub = jwt_claim_str(j, "sub");
    const char *jti = jwt_claim_str(j, "jti");
    if (j->alg != JWT_ALG_ES256) {
        return "client_assertion must be signed with ES256";
    }
    if (!kid) {
        return "\"kid\" required in client_assertion";
    }
    if (!find_key(c->jwks, kid, key)) {
        return "no key in the client's JWKS matches the client_assertion's \"kid\"";
    }
    if (!jwt_verify_sigkey(j, key, true)) { /* WebCrypto does not normalise s */
        return "Validation of \"client_assertion\" failed: signature verification failed";
    }
    if (!iss || strcmp(iss, c->id) != 0) {
        return "Validation of \"client_assertion\" failed: unexpected \"iss\" claim value";
    }
    if (!sub || strcmp(sub, c->id) != 0) {
        return "Validation of \"client_assertion\" failed: unexpected \"sub\" claim value";
    }
    if (!aud_ok(j, rq->cfg->public_url)) {
        return "Validation of \"client_assertion\" failed: unexpected \"aud\" claim value";
    }
    if (!jti || !*jti || strlen(jti) > DPOP_JTI_MAX_BYTES) {
        return "Validation of \"client_assertion\" failed: missing required \"jti\" claim";
    }
    if (!jwt_claim_int(j, "iat", &iat)) {
        return "Validation of \"client_assertion\" failed: missing required \"iat\" claim";
    }
    if (iat > now + OAUTH_CLIENT_ASSERTION_MAX_AGE_S / 2 ||
        now - iat > OAUTH_CLIENT_ASSERTION_MAX_AGE_S) {
        return "Validation of \"client_assertion\" failed: \"iat\" claim timestamp check failed";
    }
    *ttl = OAUTH_CLIENT_ASSERTION_MAX_AGE_S * 2;
    if (jwt_claim_int(j, "exp", &exp)) {
        if (exp <= now) {
            return "Validation of \"client_assertion\" failed: \"exp\" claim timestamp check "
                   "failed";
        }
        if (exp - now > *ttl) {
            *ttl = exp - now;
        }
    }
    return NULL;
}

int oauth_client_authenticate(struct xrpc_req *rq, const struct oauth_client *c,
                              const struct xrpc_param *p, size_t n, const struct dpop_proof *dpop,
                              struct oauth_client_auth *out)
{
    memset(out, 0, sizeof *out);
    int st = 0;
    const char *type = oauth_param(rq, p, n, "client_assertion_type", &st);
    const char *assertion = oauth_param(rq, p, n, "client_assertion", &st);
    if (st) {
        return st;
    }
    if (!c->confidential) {
        return 0; /* as the reference: an assertion from a public client is not read */
    }
    if (!assertion) {
        return oauth_fail(rq, 400, "invalid_request",
                          "client authentication method \"private_key_jwt\" required a "
                          "\"client_assertion\"");
    }
    if (!type || strcmp(type, CLIENT_ASSERTION_TYPE) != 0) {
        return oauth_fail(rq, 400, "invalid_client", "Unsupported client_assertion_type \"%s\"",
                          type ? type : "");
    }
    struct jwt j;
    if (jwt_parse(bytes_str(assertion), &j)) {
        return oauth_fail(rq, 400, "invalid_client", "Unable to verify \"client_assertion\" JWT");
    }
    struct sigkey key;
    memset(&key, 0, sizeof key);
    int64_t ttl = 0;
    const char *why = verify_assertion(rq, c, &j, &key, &ttl);
    if (!why) {
        out->confidential = true;
        const char *kid = json_string_value(json_object_get(j.header, "kid"));
        out->kid = arena_strndup(rq->arena, kid, strlen(kid));
        jwk_p256_thumbprint(&key, out->jkt);
    }
    char ns[OAUTH_URL_MAX_BYTES + 16];
    snprintf(ns, sizeof ns, "%s:%s", REPLAY_NS_ASSERTION, c->id);
    const char *jti = why ? NULL : jwt_claim_str(&j, "jti");
    bool fresh = false;
    enum err e = jti ? replay_use(rq->db, ns, jti, ttl, &fresh) : ERR_OK;
    jwt_clear(&j);
    sigkey_clear(&key);
    if (why) {
        return oauth_fail(rq, 400, "invalid_client", "%s", why);
    }
    if (e) {
        return oauth_fail(rq, 500, "server_error", "Internal Server Error");
    }
    if (!fresh) {
        return oauth_fail(rq, 400, "invalid_grant", "private_key_jwt jti reused");
    }
    if (dpop && strcmp(dpop->jkt, out->jkt) == 0) {
        return oauth_fail(rq, 400, "invalid_request",
                          "The DPoP proof must be signed with a different key than the client "
                          "assertion");
    }
    return 0;
}

bool oauth_client_has_key(const struct oauth_client *c, const char *kid)
{
    struct sigkey k;
    bool ok = kid && c->jwks && find_key(c->jwks, kid, &k);
    sigkey_clear(&k);
    return ok;
}

json_t *oauth_client_auth_json(const struct oauth_client_auth *a)
{
    if (!a->confidential) {
        return json_pack("{s:s}", "method", "none");
    }
    return json_pack("{s:s,s:s,s:s,s:s}", "method", "private_key_jwt", "kid", a->kid, "alg",
                     "ES256", "jkt", a->jkt);
}

bool oauth_client_auth_same(const json_t *stored, const struct oauth_client_auth *now)
{
    const char *method = json_string_value(json_object_get(stored, "method"));
    if (!method) {
        return false;
    }
    if (strcmp(method, "none") == 0) {
        return true; /* the reference lets a public session's client become confidential */
    }
    const char *kid = json_string_value(json_object_get(stored, "kid"));
    const char *jkt = json_string_value(json_object_get(stored, "jkt"));
    return now->confidential && kid && jkt && strcmp(kid, now->kid) == 0 &&
           strcmp(jkt, now->jkt) == 0;
}
