/* test_jwk.c - P-256 JWKs: parsing (and the refusals), RFC 7638 thumbprints against an
 * independent implementation's answer, and the round trip. */
#include "unit/test.h"

#include "crypto/jwk.h"

/* RFC 7515 appendix A.3's P-256 key; its thumbprint as jose's calculateJwkThumbprint
 * gives it. */
#define X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"

static json_t *jwk(const char *kty, const char *crv, const char *x, const char *y)
{
    json_t *j = json_object();
    if (kty) {
        json_object_set_new(j, "kty", json_string(kty));
    }
    if (crv) {
        json_object_set_new(j, "crv", json_string(crv));
    }
    if (x) {
        json_object_set_new(j, "x", json_string(x));
    }
    if (y) {
        json_object_set_new(j, "y", json_string(y));
    }
    return j;
}

static void test_jwk_thumbprint_matches_jose(void)
{
    json_t *j = jwk("EC", "P-256", X, Y);
    json_object_set_new(j, "kid", json_string("ignored"));
    struct sigkey k;
    CHECK_EQ(jwk_p256_parse(j, &k), ERR_OK);
    char tp[JWK_THUMBPRINT_CHARS + 1];
    jwk_p256_thumbprint(&k, tp);
    CHECK_STR(tp, "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U");
    json_t *back = jwk_p256_public(&k);
    CHECK_STR(json_string_value(json_object_get(back, "x")), X);
    CHECK_STR(json_string_value(json_object_get(back, "y")), Y);
    json_decref(back);
    json_decref(j);
}

static void test_jwk_refuses_bad_keys(void)
{
    struct sigkey k;
    json_t *cases[] = {
        jwk("RSA", "P-256", X, Y),     /* unsupported */
        jwk("EC", "secp256k1", X, Y),  /* unsupported */
        jwk("EC", "P-256", X, NULL),   /* missing y */
        jwk("EC", "P-256", X, "AAAA"), /* short */
        jwk("EC", "P-256", X, X),      /* not on the curve */
        jwk("EC", "P-256", X "=", Y),  /* padded */
        jwk(NULL, "P-256", X, Y),      json_string("not an object"),
    };
    enum err want[] = {ERR_UNSUPPORTED, ERR_UNSUPPORTED, ERR_INVALID, ERR_INVALID,
                       ERR_INVALID,     ERR_INVALID,     ERR_INVALID, ERR_INVALID};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        CHECK_EQ(jwk_p256_parse(cases[i], &k), want[i]);
        json_decref(cases[i]);
    }
    json_t *priv = jwk("EC", "P-256", X, Y);
    json_object_set_new(priv, "d", json_string("jpsQnnGQmL-YBIffH1136cLSh5Ax6Ki6z-QF_lnxn-g"));
    CHECK_EQ(jwk_p256_parse(priv, &k), ERR_INVALID); /* a private key on the wire */
    json_decref(priv);
}

int main(void)
{
    RUN(test_jwk_thumbprint_matches_jose);
    RUN(test_jwk_refuses_bad_keys);
    return test_report();
}
