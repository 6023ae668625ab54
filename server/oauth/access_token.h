/* access_token.h - OAuth access tokens: JWTs (typ "at+jwt", RFC 9068) signed HS256 with the
 * access-token key (oauth_init), claims iss (our issuer), aud (our service DID), sub (the
 * account), jti (the session's current token id), client_id, cnf.jkt (the DPoP key it is
 * bound to), iat, exp. The scope is not in the token: the resource server reads it from the
 * session row the jti names, which is also what makes tokens revocable. Pure given the key;
 * thread-safe. */
#ifndef PDS_OAUTH_ACCESS_TOKEN_H
#define PDS_OAUTH_ACCESS_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"

struct access_token_mint {
    const char *issuer, *audience, *sub, *jti, *client_id, *jkt;
    int64_t iat, exp;
};

/* The token; malloc'd, caller frees. NULL on failure. */
char *access_token_sign(const struct access_token_mint *m);

struct access_token {
    const char *sub, *jti, *client_id, *jkt; /* in the arena */
    int64_t exp;
};

/* Checks signature, typ, iss, aud and exp. ERR_AUTH with *why on any failure (a token of
 * another server fails its signature; one of ours for another audience its aud). */
enum err access_token_verify(struct arena *a, const char *token, const char *issuer,
                             const char *audience, int64_t now, struct access_token *out,
                             const char **why) MUST_CHECK;

/* Whether token, unverified, looks like one of ours (a JWT with a cnf claim): tells a
 * DPoP-bound token sent as Bearer from a legacy session token. */
bool access_token_looks_bound(const char *token);

#endif
