/* test_dpop.c - DPoP proofs (RFC 9449 §4.3) built here with a fresh P-256 key: a good proof,
 * each claim and header rule broken in turn, htu normalisation, the nonce slots, and ath at
 * a resource server. */
#include "unit/test.h"

#include <time.h>

#include "config/config.h"
#include "core/sha256.h"
#include "crypto/jwt.h"
#include "oauth/dpop.h"
#include "oauth/dpop_nonce.h"
#include "oauth/oauth.h"

#include <sodium.h>

static struct arena A;
static struct sigkey K;
static int64_t NOW;
static char NONCE[DPOP_NONCE_CHARS + 1];
#define HTU "https://pds.example.com/oauth/par"

/* A proof with claims c (stolen) and the header extra members h (stolen, may be NULL). */
static char *proof(json_t *c, json_t *h, const struct sigkey *signer)
{
    json_t *header = json_pack("{s:s,s:o}", "typ", "dpop+jwt", "jwk", jwk_p256_public(&K));
    if (h) {
        json_object_update(header, h);
        json_decref(h);
    }
    char *out = NULL;
    CHECK_EQ(jwt_sign_sigkey(header, c, signer ? signer : &K, &out), ERR_OK);
    json_decref(header);
    json_decref(c);
    char *copy = arena_strndup(&A, out, strlen(out));
    free(out);
    return copy;
}

static json_t *claims(void)
{
    return json_pack("{s:s,s:s,s:s,s:I,s:s}", "jti", "j1", "htm", "POST", "htu", HTU, "iat",
                     (json_int_t)NOW, "nonce", NONCE);
}

static enum dpop_result check(const char *p, const char *token, const char **why)
{
    struct dpop_proof out;
    return dpop_check(&A, p, "POST", HTU, token, NOW, &out, why);
}

static void test_dpop_good_proof(void)
{
    struct dpop_proof out;
    const char *why;
    CHECK_EQ(dpop_check(&A, proof(claims(), NULL, NULL), "POST", HTU, NULL, NOW, &out, &why),
             DPOP_OK);
    char tp[JWK_THUMBPRINT_CHARS + 1];
    jwk_p256_thumbprint(&K, tp);
    CHECK_STR(out.jkt, tp);
    CHECK_STR(out.jti, "j1");
    /* the query is not part of htu; scheme and host case and the default port are normalised */
    json_t *c = claims();
    json_object_set_new(c, "htu", json_string("HTTPS://PDS.example.com:443/oauth/par?x=1#f"));
    CHECK_EQ(check(proof(c, NULL, NULL), NULL, &why), DPOP_OK);
}

static void test_dpop_refusals(void)
{
    const char *why;
    CHECK_EQ(check(NULL, NULL, &why), DPOP_ABSENT);
    CHECK_EQ(check("", NULL, &why), DPOP_INVALID);
    CHECK_EQ(check("a.b.c", NULL, &why), DPOP_INVALID);
    char *two = arena_alloc(&A, 4096);
    snprintf(two, 4096, "%s, %s", proof(claims(), NULL, NULL), proof(claims(), NULL, NULL));
    CHECK_EQ(check(two, NULL, &why), DPOP_INVALID);
    struct {
        const char *claim;
        json_t *value; /* NULL: removed */
        const char *why;
    } rows[] = {
        {"htm", json_string("GET"), "htm"},
        {"htm", json_string("post"), "htm"},
        {"htu", json_string("https://pds.example.com/oauth/token"), "htu"},
        {"htu", json_string("https://other.example.com/oauth/par"), "htu"},
        {"htu", json_string("ftp://pds.example.com/oauth/par"), "htu"},
        {"htu", json_string("https://u:p@pds.example.com/oauth/par"), "htu"},
        {"iat", json_integer(NOW - 600), "old"},
        {"iat", json_integer(NOW + 600), "future"},
        {"iat", NULL, "iat"},
        {"jti", NULL, "jti"},
        {"jti", json_integer(5), "jti"},
        {"ath", json_string("x"), "ath"},
        {"nonce", json_integer(3), "nonce"},
    };
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        json_t *c = claims();
        if (rows[i].value) {
            json_object_set_new(c, rows[i].claim, rows[i].value);
        } else {
            json_object_del(c, rows[i].claim);
        }
        enum dpop_result r = check(proof(c, NULL, NULL), NULL, &why);
        CHECK_EQ(r, DPOP_INVALID);
        CHECK(why && strstr(why, rows[i].why));
    }
    /* header: typ, a key that did not sign, a private key, another alg */
    CHECK_EQ(check(proof(claims(), json_pack("{s:s}", "typ", "JWT"), NULL), NULL, &why),
             DPOP_INVALID);
    struct sigkey other;
    CHECK_EQ(sigkey_generate(SIGKEY_P256, &other), ERR_OK);
    CHECK_EQ(check(proof(claims(), NULL, &other), NULL, &why), DPOP_INVALID);
    CHECK(strstr(why, "signature"));
    json_t *priv = jwk_p256_public(&K);
    json_object_set_new(priv, "d", json_string("AAAA"));
    CHECK_EQ(check(proof(claims(), json_pack("{s:o}", "jwk", priv), NULL), NULL, &why),
             DPOP_INVALID);
    struct sigkey k256;
    CHECK_EQ(sigkey_generate(SIGKEY_K256, &k256), ERR_OK);
    json_t *h = json_pack("{s:s,s:o}", "typ", "dpop+jwt", "jwk", jwk_p256_public(&K));
    char *es256k = NULL;
    json_t *c = claims();
    CHECK_EQ(jwt_sign_sigkey(h, c, &k256, &es256k), ERR_OK);
    json_decref(c);
    CHECK_EQ(check(es256k, NULL, &why), DPOP_INVALID);
    free(es256k);
    json_decref(h);
}

static void test_dpop_nonce_slots(void)
{
    const char *why;
    json_t *c = claims();
    json_object_del(c, "nonce");
    CHECK_EQ(check(proof(c, NULL, NULL), NULL, &why), DPOP_NONCE);
    char old[DPOP_NONCE_CHARS + 1], now2[DPOP_NONCE_CHARS + 1];
    dpop_nonce_next(NOW - 3 * DPOP_NONCE_SLOT_S, old); /* handed out three minutes ago */
    c = claims();
    json_object_set_new(c, "nonce", json_string(old));
    CHECK_EQ(check(proof(c, NULL, NULL), NULL, &why), DPOP_NONCE);
    /* the nonce handed out a minute ago is still good, and rotation changes it */
    dpop_nonce_next(NOW - DPOP_NONCE_SLOT_S, now2);
    CHECK(dpop_nonce_valid(now2, NOW));
    CHECK(strcmp(now2, NONCE) != 0);
    CHECK(!dpop_nonce_valid("short", NOW));
}

static void test_dpop_ath(void)
{
    const char *token = "an.access.token";
    uint8_t d[SHA256_BYTES];
    sha256(token, strlen(token), d);
    char ath[64];
    sodium_bin2base64(ath, sizeof ath, d, sizeof d, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    json_t *c = claims();
    json_object_set_new(c, "ath", json_string(ath));
    const char *p = proof(c, NULL, NULL), *why;
    CHECK_EQ(check(p, token, &why), DPOP_OK);
    CHECK_EQ(check(p, "another.access.token", &why), DPOP_INVALID);
    CHECK_EQ(check(proof(claims(), NULL, NULL), token, &why), DPOP_INVALID); /* ath missing */
}

static void test_dpop_normalize_htu(void)
{
    const char *rows[][2] = {
        {"https://A.example/x?y", "https://a.example/x"},
        {"http://a.example:80", "http://a.example/"},
        {"https://a.example:8443/p", "https://a.example:8443/p"},
        {"http://[::1]:2583/xrpc/x", "http://[::1]:2583/xrpc/x"},
    };
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        CHECK_STR(dpop_normalize_htu(&A, rows[i][0]), rows[i][1]);
    }
    CHECK(dpop_normalize_htu(&A, "mailto:x") == NULL);
    CHECK(dpop_normalize_htu(&A, "https://a.example:x/") == NULL);
}

int main(void)
{
    arena_init(&A);
    struct config cfg = {0};
    cfg.jwt_secret = "unit-test-secret";
    if (oauth_init(&cfg) || sigkey_generate(SIGKEY_P256, &K)) {
        return 1;
    }
    NOW = (int64_t)time(NULL);
    dpop_nonce_next(NOW, NONCE);
    RUN(test_dpop_good_proof);
    RUN(test_dpop_refusals);
    RUN(test_dpop_nonce_slots);
    RUN(test_dpop_ath);
    RUN(test_dpop_normalize_htu);
    arena_clear(&A);
    return test_report();
}
