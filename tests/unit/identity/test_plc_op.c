/* test_plc_op.c - did:plc operations against reference vectors: build + sign the same ops,
 * same signature (k256, RFC 6979), CID and DID; strict signature checks; strict parsing.
 *
 * plc_vectors.json was produced once by plc_vectors.gen.mjs (beside this file) with the
 * reference libraries @did-plc/lib (DAG-CBOR, CID, DID derivation) and @atproto/crypto
 * (keys, signatures) from fixed private keys; the code under test never wrote it. */
#include "identity/plc_op.h"

#include <libgen.h>

#include "core/base.h"
#include "unit/test.h"

static json_t *vectors;

static const uint8_t K256_N[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                   0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};

static void load_vectors(void)
{
    char path[4096];
    char here[4096];
    snprintf(here, sizeof(here), "%s", __FILE__);
    snprintf(path, sizeof(path), "%s/plc_vectors.json", dirname(here));
    json_error_t jerr;
    vectors = json_load_file(path, 0, &jerr);
    if (!vectors) {
        fprintf(stderr, "cannot read %s: %s\n", path, jerr.text);
        exit(1);
    }
}

static const json_t *vec(const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(vectors, "vectors"), i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0) {
            return v;
        }
    }
    fprintf(stderr, "no vector %s\n", name);
    exit(1);
}

static const char *vstr(const json_t *v, const char *key)
{
    return json_string_value(json_object_get(v, key));
}

static struct sigkey key(const char *name)
{
    struct sigkey k;
    const char *hex = json_string_value(json_object_get(json_object_get(vectors, "keys"), name));
    enum sigkey_curve c = strncmp(name, "p256", 4) == 0 ? SIGKEY_P256 : SIGKEY_K256;
    if (sigkey_from_private_hex(c, bytes_str(hex), &k) != ERR_OK) {
        exit(1);
    }
    return k;
}

static const char *did_key(const char *name, char out[SIGKEY_DID_KEY_MAX])
{
    struct sigkey k = key(name);
    sigkey_did_key(&k, out);
    sigkey_clear(&k);
    return out;
}

/* The genesis op of vector genesis_k256, built field by field through the builders. */
static void build_genesis(struct plc_op *op)
{
    char a[SIGKEY_DID_KEY_MAX], b[SIGKEY_DID_KEY_MAX], p[SIGKEY_DID_KEY_MAX];
    plc_op_init(op, PLC_OP_OPERATION);
    CHECK_EQ(plc_op_add_rotation_key(op, did_key("k256_a", a)), ERR_OK);
    CHECK_EQ(plc_op_add_rotation_key(op, did_key("p256_a", p)), ERR_OK);
    CHECK_EQ(plc_op_set_verification_method(op, "atproto", did_key("k256_b", b)), ERR_OK);
    CHECK_EQ(plc_op_add_also_known_as(op, "at://alice.test"), ERR_OK);
    CHECK_EQ(plc_op_set_service(op, "atproto_pds", "AtprotoPersonalDataServer",
                                "https://pds.example.com"),
             ERR_OK);
    CHECK_EQ(plc_op_set_prev(op, NULL), ERR_OK);
}

static void test_plc_op_genesis_k256_matches_reference(void)
{
    const json_t *v = vec("genesis_k256");
    struct plc_op op;
    build_genesis(&op);
    struct sigkey k = key("k256_a");
    CHECK_EQ(plc_op_sign(&op, &k), ERR_OK);
    /* libsecp256k1 and noble both use RFC 6979 nonces and low-S: identical bytes */
    CHECK_STR(op.sig, vstr(json_object_get(v, "op"), "sig"));
    char did[PLC_DID_MAX], cid[CID_STR_MAX];
    CHECK_EQ(plc_op_did(&op, did), ERR_OK);
    CHECK_STR(did, vstr(v, "did"));
    CHECK_EQ(plc_op_cid_str(&op, cid), ERR_OK);
    CHECK_STR(cid, vstr(v, "cid"));
    json_t *j = plc_op_to_json(&op);
    CHECK(json_equal(j, json_object_get(v, "op")));
    CHECK(json_is_null(json_object_get(j, "prev")));
    json_decref(j);
    CHECK_EQ(plc_op_verify_genesis(&op, did), ERR_OK);
    sigkey_clear(&k);
    plc_op_clear(&op);
}

static void test_plc_op_update_k256_matches_reference(void)
{
    const json_t *v = vec("update_k256");
    struct plc_op op;
    build_genesis(&op);
    CHECK_EQ(plc_op_set_handle(&op, "alice2.test"), ERR_OK);
    CHECK_EQ(op.n_also_known_as, 1);
    CHECK_EQ(plc_op_set_prev(&op, vstr(vec("genesis_k256"), "cid")), ERR_OK);
    struct sigkey k = key("k256_a");
    CHECK_EQ(plc_op_sign(&op, &k), ERR_OK);
    CHECK_STR(op.sig, vstr(json_object_get(v, "op"), "sig"));
    char cid[CID_STR_MAX], did[PLC_DID_MAX];
    CHECK_EQ(plc_op_cid_str(&op, cid), ERR_OK);
    CHECK_STR(cid, vstr(v, "cid"));
    CHECK_EQ(plc_op_did(&op, did), ERR_INVALID); /* not a genesis op */
    json_t *j = plc_op_to_json(&op);
    CHECK(json_equal(j, json_object_get(v, "op")));
    json_decref(j);
    sigkey_clear(&k);
    plc_op_clear(&op);
}

/* p256: OpenSSL's nonces need not be RFC 6979, so the signature may differ; what must
 * match is that each side verifies the other's and that hashing a given op agrees. */
static void test_plc_op_genesis_p256_interoperates(void)
{
    const json_t *v = vec("genesis_p256");
    struct plc_op op;
    CHECK_EQ(plc_op_from_json(json_object_get(v, "op"), &op), ERR_OK);
    char did[PLC_DID_MAX], cid[CID_STR_MAX];
    CHECK_EQ(plc_op_did(&op, did), ERR_OK);
    CHECK_STR(did, vstr(v, "did"));
    CHECK_EQ(plc_op_cid_str(&op, cid), ERR_OK);
    CHECK_STR(cid, vstr(v, "cid"));
    CHECK_EQ(plc_op_verify_genesis(&op, did), ERR_OK);
    size_t signer = 99;
    CHECK_EQ(plc_op_verify(&op, (const char *const *)op.rotation_keys, op.n_rotation_keys, &signer),
             ERR_OK);
    CHECK_EQ(signer, 1); /* the p256 key is the second rotation key */
    /* re-sign in C with the same key: still verifies, and the JSON shape is unchanged */
    struct sigkey k = key("p256_a");
    CHECK_EQ(plc_op_sign(&op, &k), ERR_OK);
    CHECK_EQ(strlen(op.sig), PLC_SIG_B64_LEN);
    CHECK_EQ(plc_op_verify(&op, (const char *const *)op.rotation_keys, op.n_rotation_keys, NULL),
             ERR_OK);
    json_t *j = plc_op_to_json(&op);
    json_object_set_new(j, "sig", json_string(vstr(json_object_get(v, "op"), "sig")));
    CHECK(json_equal(j, json_object_get(v, "op")));
    json_decref(j);
    sigkey_clear(&k);
    plc_op_clear(&op);
}

static void test_plc_op_reference_ops_parse_hash_and_verify(void)
{
    /* genesis -> update -> tombstone, each verified against the previous op's keys */
    struct plc_op g, u, t;
    CHECK_EQ(plc_op_from_json(json_object_get(vec("genesis_k256"), "op"), &g), ERR_OK);
    CHECK_EQ(plc_op_from_json(json_object_get(vec("update_k256"), "op"), &u), ERR_OK);
    CHECK_EQ(plc_op_from_json(json_object_get(vec("tombstone_k256"), "op"), &t), ERR_OK);
    CHECK_EQ(t.type, PLC_OP_TOMBSTONE);
    char cid[CID_STR_MAX];
    CHECK_EQ(plc_op_cid_str(&g, cid), ERR_OK);
    CHECK_STR(u.prev, cid);
    CHECK_EQ(plc_op_cid_str(&u, cid), ERR_OK);
    CHECK_STR(t.prev, cid);
    CHECK_EQ(plc_op_cid_str(&t, cid), ERR_OK);
    CHECK_STR(cid, vstr(vec("tombstone_k256"), "cid"));
    CHECK_EQ(plc_op_verify_genesis(&g, vstr(vec("genesis_k256"), "did")), ERR_OK);
    CHECK_EQ(plc_op_verify_genesis(&g, "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"), ERR_INVALID);
    CHECK_EQ(plc_op_verify(&u, (const char *const *)g.rotation_keys, g.n_rotation_keys, NULL),
             ERR_OK);
    CHECK_EQ(plc_op_verify(&t, (const char *const *)u.rotation_keys, u.n_rotation_keys, NULL),
             ERR_OK);
    /* the tombstone is not signed by the p256 rotation key alone */
    CHECK_EQ(plc_op_verify(&t, (const char *const *)u.rotation_keys + 1, 1, NULL), ERR_AUTH);
    /* a tombstone built in C from the same prev and key is byte-identical */
    struct plc_op t2;
    plc_op_init(&t2, PLC_OP_TOMBSTONE);
    CHECK_EQ(plc_op_set_prev(&t2, t.prev), ERR_OK);
    struct sigkey k = key("k256_a");
    CHECK_EQ(plc_op_sign(&t2, &k), ERR_OK);
    CHECK_STR(t2.sig, t.sig);
    json_t *j = plc_op_to_json(&t2);
    CHECK(json_equal(j, json_object_get(vec("tombstone_k256"), "op")));
    json_decref(j);
    sigkey_clear(&k);
    plc_op_clear(&t2);
    plc_op_clear(&g);
    plc_op_clear(&u);
    plc_op_clear(&t);
}

static void test_plc_op_legacy_create_verifies(void)
{
    const json_t *v = vec("legacy_create_k256");
    struct plc_op op;
    CHECK_EQ(plc_op_from_json(json_object_get(v, "op"), &op), ERR_OK);
    CHECK_EQ(op.type, PLC_OP_CREATE_V1);
    char did[PLC_DID_MAX], cid[CID_STR_MAX];
    CHECK_EQ(plc_op_did(&op, did), ERR_OK);
    CHECK_STR(did, vstr(v, "did"));
    CHECK_EQ(plc_op_cid_str(&op, cid), ERR_OK);
    CHECK_STR(cid, vstr(v, "cid"));
    CHECK_EQ(plc_op_verify_genesis(&op, did), ERR_OK);
    json_t *j = plc_op_to_json(&op);
    CHECK(json_equal(j, json_object_get(v, "op")));
    json_decref(j);
    struct sigkey k = key("k256_b");
    CHECK_EQ(plc_op_sign(&op, &k), ERR_UNSUPPORTED);
    sigkey_clear(&k);
    plc_op_clear(&op);
}

static void sub256(const uint8_t *a, const uint8_t *b, uint8_t *out)
{
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = a[i] - b[i] - borrow;
        borrow = d < 0;
        out[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
}

/* Replaces op's sig with text and returns plc_op_verify against its own rotation keys. */
static enum err verify_with_sig(struct plc_op *op, const char *text)
{
    free(op->sig);
    op->sig = xstrndup(text, strlen(text));
    return plc_op_verify(op, (const char *const *)op->rotation_keys, op->n_rotation_keys, NULL);
}

static void test_plc_op_verify_refuses_malleable_signatures(void)
{
    struct plc_op op;
    CHECK_EQ(plc_op_from_json(json_object_get(vec("genesis_k256"), "op"), &op), ERR_OK);
    char good[PLC_SIG_B64_LEN + 1];
    snprintf(good, sizeof(good), "%s", op.sig);

    /* high-S: s' = n - s is the same ECDSA signature mathematically */
    struct buf raw, b64;
    buf_init(&raw, 128);
    buf_init(&b64, 128);
    CHECK_EQ(base64url_decode_strict(bytes_str(good), &raw), ERR_OK);
    uint8_t hs[64];
    memcpy(hs, raw.ptr, 32);
    sub256(K256_N, raw.ptr + 32, hs + 32);
    CHECK_EQ(base64url_encode(bytes_of(hs, 64), &b64), ERR_OK);
    CHECK_EQ(verify_with_sig(&op, (const char *)b64.ptr), ERR_AUTH);

    char padded[PLC_SIG_B64_LEN + 3];
    snprintf(padded, sizeof(padded), "%s==", good);
    CHECK_EQ(verify_with_sig(&op, padded), ERR_INVALID);
    /* 86 chars carry 516 bits: the last char's low 4 bits must be zero */
    char bits[PLC_SIG_B64_LEN + 1];
    memcpy(bits, good, sizeof(bits));
    CHECK(bits[85] == 'w'); /* vector ends "...DyUw": 'w' = 48 = 0b110000 */
    bits[85] = 'x';
    CHECK_EQ(verify_with_sig(&op, bits), ERR_INVALID);
    memcpy(bits, good, sizeof(bits));
    bits[10] = '+'; /* standard alphabet */
    CHECK_EQ(verify_with_sig(&op, bits), ERR_INVALID);
    CHECK_EQ(verify_with_sig(&op, ""), ERR_INVALID);
    /* a different valid-looking sig: a flipped bit in r */
    memcpy(bits, good, sizeof(bits));
    bits[0] = bits[0] == 'A' ? 'B' : 'A';
    CHECK_EQ(verify_with_sig(&op, bits), ERR_AUTH);
    /* the good one, back, verifies; a changed field does not */
    CHECK_EQ(verify_with_sig(&op, good), ERR_OK);
    free(op.also_known_as[0]);
    op.also_known_as[0] = xstrndup("at://mallory.test", 17);
    CHECK_EQ(plc_op_verify(&op, (const char *const *)op.rotation_keys, op.n_rotation_keys, NULL),
             ERR_AUTH);
    buf_clear(&raw);
    buf_clear(&b64);
    plc_op_clear(&op);
}

static enum err parse_text(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_ALLOW_NUL, &jerr);
    if (!j) {
        fprintf(stderr, "bad test json: %s\n", jerr.text);
        return ERR_INTERNAL;
    }
    struct plc_op op;
    enum err e = plc_op_from_json(j, &op);
    plc_op_clear(&op);
    json_decref(j);
    return e;
}

static void test_plc_op_from_json_bad_input_table(void)
{
    static const struct {
        const char *json;
        enum err want;
    } cases[] = {
        {"{\"type\":\"plc_tombstone\",\"prev\":"
         "\"bafyreifgmlazkbxzkjm6oalncszetayswkgp3rn3sehqgfxpnv7vzxrz2u\",\"sig\":\"x\"}",
         ERR_OK},
        {"[]", ERR_INVALID},
        {"{\"type\":\"plc_tombstone\",\"sig\":\"x\"}", ERR_INVALID}, /* no prev */
        {"{\"type\":\"plc_tombstone\",\"prev\":null,\"sig\":\"x\"}", ERR_INVALID},
        {"{\"type\":\"plc_tombstone\",\"prev\":\"notacid\",\"sig\":\"x\"}", ERR_INVALID},
        {"{\"type\":\"plc_tombstone\",\"prev\":"
         "\"bafyreifgmlazkbxzkjm6oalncszetayswkgp3rn3sehqgfxpnv7vzxrz2u\",\"sig\":1}",
         ERR_INVALID},
        {"{\"type\":\"plc_tombstone\",\"prev\":"
         "\"bafyreifgmlazkbxzkjm6oalncszetayswkgp3rn3sehqgfxpnv7vzxrz2u\",\"x\":1}",
         ERR_INVALID}, /* unknown key */
        {"{\"type\":\"plc_nope\",\"prev\":null}", ERR_INVALID},
        {"{\"type\":5,\"prev\":null}", ERR_INVALID},
        {"{\"type\":\"plc_operation\",\"rotationKeys\":[],\"verificationMethods\":{},"
         "\"alsoKnownAs\":[],\"services\":{},\"prev\":null}",
         ERR_OK}, /* shape only: content rules are plc_op_check's */
        {"{\"type\":\"plc_operation\",\"rotationKeys\":\"k\",\"verificationMethods\":{},"
         "\"alsoKnownAs\":[],\"services\":{},\"prev\":null}",
         ERR_INVALID},
        {"{\"type\":\"plc_operation\",\"rotationKeys\":[1],\"verificationMethods\":{},"
         "\"alsoKnownAs\":[],\"services\":{},\"prev\":null}",
         ERR_INVALID},
        {"{\"type\":\"plc_operation\",\"rotationKeys\":[],\"verificationMethods\":{\"a\":1},"
         "\"alsoKnownAs\":[],\"services\":{},\"prev\":null}",
         ERR_INVALID},
        {"{\"type\":\"plc_operation\",\"rotationKeys\":[],\"verificationMethods\":{},"
         "\"alsoKnownAs\":[],\"services\":{\"s\":{\"type\":\"t\"}},\"prev\":null}",
         ERR_INVALID},
        {"{\"type\":\"plc_operation\",\"rotationKeys\":[],\"verificationMethods\":{},"
         "\"alsoKnownAs\":[],\"services\":{\"s\":{\"type\":\"t\",\"endpoint\":\"e\",\"x\":1}},"
         "\"prev\":null}",
         ERR_INVALID},
        {"{\"type\":\"plc_operation\",\"rotationKeys\":[],\"verificationMethods\":{},"
         "\"alsoKnownAs\":[],\"prev\":null}",
         ERR_INVALID}, /* services missing */
        {"{\"type\":\"plc_operation\",\"rotationKeys\":[],\"verificationMethods\":{},"
         "\"alsoKnownAs\":[\"a\\u0000b\"],\"services\":{},\"prev\":null}",
         ERR_INVALID}, /* NUL inside a string */
        {"{\"type\":\"create\",\"signingKey\":\"a\",\"recoveryKey\":\"b\",\"handle\":\"h\","
         "\"service\":\"s\",\"prev\":"
         "\"bafyreifgmlazkbxzkjm6oalncszetayswkgp3rn3sehqgfxpnv7vzxrz2u\"}",
         ERR_INVALID}, /* legacy create must have prev null */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        enum err e = parse_text(cases[i].json);
        if (e != cases[i].want) {
            fprintf(stderr, "case %zu: got %s\n", i, err_str(e));
        }
        CHECK_EQ(e, cases[i].want);
    }
}

static void test_plc_op_size_limit(void)
{
    struct plc_op op;
    build_genesis(&op);
    char big[PLC_OP_MAX_BYTES];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "at://", 5);
    CHECK_EQ(plc_op_add_also_known_as(&op, big), ERR_OK);
    struct sigkey k = key("k256_a");
    CHECK_EQ(plc_op_sign(&op, &k), ERR_TOO_LARGE);
    CHECK(op.sig == NULL);
    /* parsing a signed op that is too large is refused as well */
    json_t *j = plc_op_to_json(&op);
    json_object_set_new(j, "sig", json_string("x"));
    struct plc_op back;
    CHECK_EQ(plc_op_from_json(j, &back), ERR_TOO_LARGE);
    plc_op_clear(&back);
    json_decref(j);
    sigkey_clear(&k);
    plc_op_clear(&op);
}

static void test_plc_op_builder_rules(void)
{
    struct plc_op op;
    plc_op_init(&op, PLC_OP_OPERATION);
    struct sigkey k = key("k256_a");
    CHECK_EQ(plc_op_sign(&op, &k), ERR_INVALID); /* no rotation keys */
    char dk[SIGKEY_DID_KEY_MAX];
    CHECK_EQ(plc_op_add_rotation_key(&op, did_key("k256_a", dk)), ERR_OK);
    CHECK_EQ(plc_op_add_rotation_key(&op, dk), ERR_INVALID); /* duplicate */
    CHECK_EQ(plc_op_add_rotation_key(&op, "did:key:zNotAKey"), ERR_INVALID);
    CHECK_EQ(plc_op_add_rotation_key(&op, "did:web:example.com"), ERR_INVALID);
    for (int i = 0; i < 4; i++) {
        struct sigkey r;
        CHECK_EQ(sigkey_generate(SIGKEY_K256, &r), ERR_OK);
        sigkey_did_key(&r, dk);
        CHECK_EQ(plc_op_add_rotation_key(&op, dk), ERR_OK);
        sigkey_clear(&r);
    }
    struct sigkey r;
    CHECK_EQ(sigkey_generate(SIGKEY_P256, &r), ERR_OK);
    sigkey_did_key(&r, dk);
    CHECK_EQ(plc_op_add_rotation_key(&op, dk), ERR_TOO_LARGE); /* a sixth */
    sigkey_clear(&r);
    CHECK_EQ(plc_op_set_verification_method(&op, "#atproto", dk), ERR_INVALID);
    CHECK_EQ(plc_op_set_verification_method(&op, "atproto", "did:key:"), ERR_INVALID);
    CHECK_EQ(plc_op_set_verification_method(&op, "atproto", "did:key:z0OIl"), ERR_INVALID);
    char name[16];
    for (int i = 0; i < PLC_VERIFICATION_METHODS_MAX; i++) {
        snprintf(name, sizeof(name), "k%d", i);
        CHECK_EQ(plc_op_set_verification_method(&op, name, dk), ERR_OK);
    }
    CHECK_EQ(plc_op_set_verification_method(&op, "k0", dk), ERR_OK); /* replace, not add */
    CHECK_EQ(plc_op_set_verification_method(&op, "eleventh", dk), ERR_TOO_LARGE);
    CHECK_EQ(plc_op_set_prev(&op, "not a cid"), ERR_INVALID);
    CHECK_EQ(plc_op_sign(&op, &k), ERR_OK);
    CHECK_EQ(plc_op_add_also_known_as(&op, "at://x.test"), ERR_OK);
    CHECK(op.sig == NULL); /* any change drops the signature */
    sigkey_clear(&k);
    plc_op_clear(&op);
}

static void test_plc_op_set_handle(void)
{
    struct plc_op op;
    plc_op_init(&op, PLC_OP_OPERATION);
    CHECK_EQ(plc_op_find_handle(&op), -1);
    CHECK_EQ(plc_op_add_also_known_as(&op, "https://example.com"), ERR_OK);
    CHECK_EQ(plc_op_set_handle(&op, "bob.test"), ERR_OK); /* prepended */
    CHECK_EQ(op.n_also_known_as, 2);
    CHECK_STR(op.also_known_as[0], "at://bob.test");
    CHECK_EQ(plc_op_set_handle(&op, "carol.test"), ERR_OK); /* replaced */
    CHECK_EQ(op.n_also_known_as, 2);
    CHECK_STR(op.also_known_as[0], "at://carol.test");
    CHECK_STR(op.also_known_as[1], "https://example.com");
    CHECK_EQ(plc_op_set_handle(&op, "not a handle"), ERR_INVALID);
    struct plc_op copy;
    plc_op_copy(&copy, &op);
    CHECK_STR(copy.also_known_as[1], "https://example.com");
    plc_op_clear(&copy);
    plc_op_clear(&op);
}

static void test_plc_op_from_data_json(void)
{
    json_t *data = json_pack(
        "{s:s, s:[s], s:{s:s}, s:[s], s:{s:{s:s, s:s}}}", "did", "did:plc:abc", "rotationKeys",
        "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", "verificationMethods",
        "atproto", "did:key:zQ3shfoj1ud42pVJJnmqikgyjD7rzJ1GZai1Q2dW4tgeG8GLi", "alsoKnownAs",
        "at://a.test", "services", "atproto_pds", "type", "AtprotoPersonalDataServer", "endpoint",
        "https://pds.example.com");
    struct plc_op op;
    CHECK_EQ(plc_op_from_data_json(data, "did:plc:abc", &op), ERR_OK);
    CHECK_EQ(op.n_rotation_keys, 1);
    CHECK_STR(op.services[0].endpoint, "https://pds.example.com");
    CHECK(op.prev == NULL);
    CHECK_EQ(plc_op_check(&op), ERR_OK);
    plc_op_clear(&op);
    CHECK_EQ(plc_op_from_data_json(data, "did:plc:other", &op), ERR_INVALID);
    plc_op_clear(&op);
    json_decref(data);
}

int main(void)
{
    load_vectors();
    RUN(test_plc_op_genesis_k256_matches_reference);
    RUN(test_plc_op_update_k256_matches_reference);
    RUN(test_plc_op_genesis_p256_interoperates);
    RUN(test_plc_op_reference_ops_parse_hash_and_verify);
    RUN(test_plc_op_legacy_create_verifies);
    RUN(test_plc_op_verify_refuses_malleable_signatures);
    RUN(test_plc_op_from_json_bad_input_table);
    RUN(test_plc_op_size_limit);
    RUN(test_plc_op_builder_rules);
    RUN(test_plc_op_set_handle);
    RUN(test_plc_op_from_data_json);
    json_decref(vectors);
    return test_report();
}
