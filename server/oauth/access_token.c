/* access_token.c - minting and checking access tokens. */
#include "oauth/access_token.h"

#include <string.h>

#include "crypto/jwt.h"
#include "oauth/oauth.h"

static struct bytes key(void)
{
    return bytes_of(oauth_access_key(), OAUTH_KEY_BYTES);
}

char *access_token_sign(const struct access_token_mint *m)
{
    json_t *h = json_pack("{s:s}", "typ", "at+jwt");
    json_t *c =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s},s:I,s:I}", "iss", m->issuer, "aud", m->audience,
                  "sub", m->sub, "jti", m->jti, "client_id", m->client_id, "cnf", "jkt", m->jkt,
                  "iat", (json_int_t)m->iat, "exp", (json_int_t)m->exp);
    char *out = NULL;
    if (!h || !c || jwt_sign_hs256(h, c, key(), &out)) {
        out = NULL;
    }
    json_decref(h);
    json_decref(c);
    return out;
}

static const char *dup(struct arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

enum err access_token_verify(struct arena *a, const char *token, const char *issuer,
                             const char *audience, int64_t now, struct access_token *out,
                             const char **why)
{
    memset(out, 0, sizeof *out);
    struct jwt j;
    if (jwt_decode_hs256(bytes_str(token), key(), &j)) {
        *why = "Invalid token signature (not a token of this server)";
        return ERR_AUTH;
    }
    const char *typ = jwt_typ(&j), *iss = jwt_claim_str(&j, "iss");
    const char *aud = jwt_claim_str(&j, "aud");
    json_t *cnf = json_object_get(j.claims, "cnf");
    *why = NULL;
    if (!typ || strcmp(typ, "at+jwt") != 0) {
        *why = "Invalid token type";
    } else if (!iss || strcmp(iss, issuer) != 0) {
        *why = "Invalid token issuer";
    } else if (!aud || strcmp(aud, audience) != 0) {
        *why = "Invalid audience";
    } else if (jwt_is_expired(&j, now)) {
        *why = "Token expired";
    } else if (!jwt_claim_str(&j, "sub") || !jwt_claim_str(&j, "jti") ||
               !json_is_string(json_object_get(cnf, "jkt"))) {
        *why = "Malformed token";
    } else {
        out->sub = dup(a, jwt_claim_str(&j, "sub"));
        out->jti = dup(a, jwt_claim_str(&j, "jti"));
        out->client_id = dup(a, jwt_claim_str(&j, "client_id"));
        out->jkt = dup(a, json_string_value(json_object_get(cnf, "jkt")));
        (void)jwt_claim_int(&j, "exp", &out->exp);
    }
    jwt_clear(&j);
    return *why ? ERR_AUTH : ERR_OK;
}

bool access_token_looks_bound(const char *token)
{
    struct jwt j;
    if (jwt_parse(bytes_str(token), &j)) {
        return false;
    }
    bool bound = json_object_get(j.claims, "cnf") != NULL;
    jwt_clear(&j);
    return bound;
}
