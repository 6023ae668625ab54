/* dpop.c - DPoP proof checks, in the reference's order (so clients see the same errors). */
#include "oauth/dpop.h"

#include <ctype.h>
#include <strings.h>
#include <string.h>

#include <sodium.h>

#include "core/sha256.h"
#include "crypto/jwt.h"
#include "oauth/dpop_nonce.h"

const char *dpop_normalize_htu(struct arena *a, const char *url)
{
    size_t slen;
    bool https;
    if (strncasecmp(url, "https://", 8) == 0) {
        https = true;
        slen = 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        https = false;
        slen = 7;
    } else {
        return NULL;
    }
    const char *auth = url + slen;
    size_t alen = strcspn(auth, "/?#");
    if (alen == 0 || memchr(auth, '@', alen)) {
        return NULL; /* no host, or credentials */
    }
    const char *path = auth + alen;
    size_t plen = strcspn(path, "?#");
    size_t n = slen + alen + (plen ? plen : 1) + 1;
    char *out = arena_alloc(a, n), *o = out;
    memcpy(o, https ? "https://" : "http://", slen);
    o += slen;
    /* host[:port], lower-cased, the default port dropped */
    const char *colon = NULL;
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        if (!close) {
            return NULL;
        }
        colon = (size_t)(close + 1 - auth) < alen && close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = memchr(auth, ':', alen);
    }
    size_t hlen = colon ? (size_t)(colon - auth) : alen;
    for (size_t i = 0; i < hlen; i++) {
        *o++ = (char)tolower((unsigned char)auth[i]);
    }
    if (colon) {
        const char *port = colon + 1;
        size_t portlen = alen - hlen - 1;
        bool dflt = (https && portlen == 3 && memcmp(port, "443", 3) == 0) ||
                    (!https && portlen == 2 && memcmp(port, "80", 2) == 0);
        for (size_t i = 0; i < portlen; i++) {
            if (!isdigit((unsigned char)port[i])) {
                return NULL;
            }
        }
        if (!dflt && portlen) {
            *o++ = ':';
            memcpy(o, port, portlen);
            o += portlen;
        }
    }
    if (plen) {
        memcpy(o, path, plen);
        o += plen;
    } else {
        *o++ = '/';
    }
    *o = '\0';
    return out;
}

static bool ath_matches(const char *ath, const char *token)
{
    uint8_t d[SHA256_BYTES];
    sha256(token, strlen(token), d);
    char want[64];
    sodium_bin2base64(want, sizeof want, d, sizeof d, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    size_t n = strlen(want);
    return ath && strlen(ath) == n && sodium_memcmp(want, ath, n) == 0;
}

/* The proof's signature and header; 0 or the reason. */
static const char *check_jwt(struct jwt *j, struct sigkey *key)
{
    const char *typ = jwt_typ(j);
    if (!typ || strcmp(typ, "dpop+jwt") != 0) {
        return "DPoP proof must have typ \"dpop+jwt\"";
    }
    if (j->alg != JWT_ALG_ES256) {
        return "DPoP proof must be signed with ES256";
    }
    enum err e = jwk_p256_parse(json_object_get(j->header, "jwk"), key);
    if (e) {
        return e == ERR_UNSUPPORTED ? "DPoP proof key must be a P-256 key"
                                    : "DPoP proof has no valid public jwk";
    }
    /* WebCrypto signs without normalising s: high-S proofs are as valid as low-S ones */
    if (!jwt_verify_sigkey(j, key, true)) {
        return "DPoP proof signature is invalid";
    }
    return NULL;
}

enum dpop_result dpop_check(struct arena *a, const char *header, const char *htm, const char *htu,
                            const char *access_token, int64_t now, struct dpop_proof *out,
                            const char **why)
{
    memset(out, 0, sizeof *out);
    *why = NULL;
    if (!header) {
        return DPOP_ABSENT;
    }
    if (!*header || strpbrk(header, " ,")) {
        *why = "DPoP header must hold exactly one proof";
        return DPOP_INVALID;
    }
    struct jwt j;
    enum err e = jwt_parse(bytes_str(header), &j);
    if (e) {
        *why = e == ERR_UNSUPPORTED ? "DPoP proof must be signed with ES256"
                                    : "DPoP proof is not a well-formed JWT";
        return DPOP_INVALID;
    }
    enum dpop_result res = DPOP_INVALID;
    struct sigkey key;
    int64_t iat;
    const char *jti = jwt_claim_str(&j, "jti"), *jhtm = jwt_claim_str(&j, "htm");
    const char *jhtu = jwt_claim_str(&j, "htu"), *nonce = jwt_claim_str(&j, "nonce");
    json_t *nonce_v = json_object_get(j.claims, "nonce");
    if ((*why = check_jwt(&j, &key))) {
    } else if (!jwt_claim_int(&j, "iat", &iat)) {
        *why = "DPoP proof has no \"iat\"";
    } else if (iat > now + DPOP_CLOCK_SKEW_S) {
        *why = "DPoP proof \"iat\" is in the future";
    } else if (now - iat > DPOP_IAT_MAX_AGE_S + DPOP_CLOCK_SKEW_S) {
        *why = "DPoP proof is too old";
    } else if (nonce_v && !json_is_string(nonce_v)) {
        *why = "Invalid DPoP \"nonce\" type";
    } else if (!jti || !*jti || strlen(jti) > DPOP_JTI_MAX_BYTES) {
        *why = "DPoP \"jti\" missing";
    } else if (!jhtm || strcmp(jhtm, htm) != 0) {
        *why = "DPoP \"htm\" mismatch"; /* methods are case-sensitive (RFC 9110 §9.1) */
    } else if (!jhtu) {
        *why = "Invalid DPoP \"htu\" type";
    } else {
        const char *got = dpop_normalize_htu(a, jhtu), *want = dpop_normalize_htu(a, htu);
        json_t *ath = json_object_get(j.claims, "ath");
        if (!got) {
            *why = "DPoP \"htu\" is not a valid http(s) URL";
        } else if (!want || strcmp(got, want) != 0) {
            *why = "DPoP \"htu\" mismatch";
        } else if (!nonce) {
            *why = "Authorization server requires nonce in DPoP proof";
            res = DPOP_NONCE;
        } else if (!dpop_nonce_valid(nonce, now)) {
            *why = "DPoP \"nonce\" mismatch";
            res = DPOP_NONCE;
        } else if (access_token && !ath_matches(json_string_value(ath), access_token)) {
            *why = "DPoP \"ath\" mismatch";
        } else if (!access_token && ath) {
            *why = "DPoP \"ath\" claim not allowed";
        } else {
            jwk_p256_thumbprint(&key, out->jkt);
            out->jti = arena_strndup(a, jti, strlen(jti));
            res = out->jkt[0] ? DPOP_OK : DPOP_INVALID;
            if (res != DPOP_OK) {
                *why = "Failed to calculate jkt";
            }
        }
    }
    sigkey_clear(&key);
    jwt_clear(&j);
    return res;
}
