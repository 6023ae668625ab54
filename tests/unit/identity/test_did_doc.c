/* test_did_doc.c - reading DID documents as the PDS does (PLC-rendered, did:web shapes,
 * relative and absolute ids, legacy key types, missing pieces) and rendering our own. */
#include "identity/did_doc.h"

#include "unit/test.h"

#define DID     "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
#define K256_MK "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (!j) {
        fprintf(stderr, "bad test json: %s\n", jerr.text);
        exit(1);
    }
    return j;
}

/* The shape plc.directory serves today: absolute key id, relative service id. */
static const char PLC_DOC[] =
    "{\"@context\":[\"https://www.w3.org/ns/did/v1\",\"https://w3id.org/security/multikey/v1\","
    "\"https://w3id.org/security/suites/secp256k1-2019/v1\"],"
    "\"id\":\"" DID "\",\"alsoKnownAs\":[\"at://Alice.Example.COM\"],"
    "\"verificationMethod\":[{\"id\":\"" DID "#atproto\",\"type\":\"Multikey\","
    "\"controller\":\"" DID "\",\"publicKeyMultibase\":\"" K256_MK "\"}],"
    "\"service\":[{\"id\":\"#atproto_pds\",\"type\":\"AtprotoPersonalDataServer\","
    "\"serviceEndpoint\":\"https://pds.example.com\"}]}";

static void test_did_doc_plc_rendered(void)
{
    json_t *j = parse(PLC_DOC);
    struct did_doc d;
    CHECK_EQ(did_doc_parse(j, DID, &d), ERR_OK);
    CHECK_STR(d.did, DID);
    CHECK_STR(d.handle, "alice.example.com"); /* lower-cased */
    CHECK(d.has_signing_key);
    CHECK_EQ(d.signing_key.curve, SIGKEY_K256);
    char mk[SIGKEY_MULTIKEY_MAX];
    sigkey_multikey(&d.signing_key, mk);
    CHECK_STR(mk, K256_MK);
    CHECK_STR(d.pds_endpoint, "https://pds.example.com");
    CHECK_EQ(did_doc_require_atproto(&d, true), ERR_OK);
    did_doc_clear(&d);
    CHECK_EQ(did_doc_parse(j, "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", &d), ERR_INVALID);
    did_doc_clear(&d);
    json_decref(j);
}

/* Older PLC rendering and many did:web documents: relative "#atproto" ids and the legacy
 * key types, whose publicKeyMultibase is a bare point (from the interop crypto fixtures). */
static void test_did_doc_legacy_key_types(void)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/crypto/signature-fixtures.json", test_interop_dir());
    json_t *fx = json_load_file(path, 0, NULL);
    CHECK(fx != NULL);
    size_t i, seen = 0;
    json_t *f;
    json_array_foreach(fx, i, f)
    {
        if (json_array_size(json_object_get(f, "tags")) != 0) {
            continue; /* the high-s / der entries repeat or use other keys */
        }
        const char *suite = json_string_value(json_object_get(f, "didDocSuite"));
        const char *mb = json_string_value(json_object_get(f, "publicKeyMultibase"));
        const char *dk = json_string_value(json_object_get(f, "publicKeyDid"));
        json_t *doc = json_pack("{s:s, s:[{s:s, s:s, s:s, s:s}]}", "id", "did:web:example.com",
                                "verificationMethod", "id", "#atproto", "type", suite, "controller",
                                "did:web:example.com", "publicKeyMultibase", mb);
        struct did_doc d;
        CHECK_EQ(did_doc_parse(doc, "did:web:example.com", &d), ERR_OK);
        CHECK(d.has_signing_key);
        struct sigkey want;
        CHECK_EQ(sigkey_from_did_key(bytes_str(dk), &want), ERR_OK);
        CHECK(sigkey_equal(&d.signing_key, &want));
        CHECK(d.handle == NULL);
        CHECK(d.pds_endpoint == NULL);
        CHECK_EQ(did_doc_require_atproto(&d, false), ERR_INVALID); /* no PDS */
        did_doc_clear(&d);
        json_decref(doc);
        seen++;
    }
    CHECK_EQ(seen, 2); /* one p256, one k256 */
    json_decref(fx);
}

static void test_did_doc_id_forms_and_first_match(void)
{
    /* another DID's #atproto does not count; the first own #atproto decides, even when its
     * type is unusable (the reference behaves the same) */
    json_t *j = parse("{\"id\":\"" DID "\",\"verificationMethod\":["
                      "{\"id\":\"did:plc:other#atproto\",\"type\":\"Multikey\","
                      "\"publicKeyMultibase\":\"" K256_MK "\"},"
                      "{\"id\":\"#atproto\",\"type\":\"Ed25519VerificationKey2020\","
                      "\"publicKeyMultibase\":\"z6Mk\"},"
                      "{\"id\":\"" DID "#atproto\",\"type\":\"Multikey\","
                      "\"publicKeyMultibase\":\"" K256_MK "\"}]}");
    struct did_doc d;
    CHECK_EQ(did_doc_parse(j, DID, &d), ERR_OK);
    CHECK(!d.has_signing_key);
    did_doc_clear(&d);
    json_decref(j);

    j = parse("{\"id\":\"" DID "\",\"verificationMethod\":["
              "{\"id\":\"#atproto_label\",\"type\":\"Multikey\",\"publicKeyMultibase\":\"x\"},"
              "{\"id\":\"#atproto\",\"type\":\"Multikey\","
              "\"publicKeyMultibase\":\"" K256_MK "\"}]}");
    CHECK_EQ(did_doc_parse(j, DID, &d), ERR_OK);
    CHECK(d.has_signing_key); /* "#atproto_label" is not "#atproto" */
    did_doc_clear(&d);
    json_decref(j);
}

static void test_did_doc_handle_and_pds_rules(void)
{
    json_t *j = parse("{\"id\":\"" DID "\",\"alsoKnownAs\":[\"https://x.com\",\"at://bad_handle\","
                      "\"at://second.example.org\",\"at://third.example.org\"],"
                      "\"service\":["
                      "{\"id\":\"#atproto_pds\",\"type\":\"SomethingElse\","
                      "\"serviceEndpoint\":\"https://wrong.example\"},"
                      "{\"id\":\"" DID "#bsky_appview\",\"type\":\"BskyAppView\","
                      "\"serviceEndpoint\":\"https://api.example\"}]}");
    struct did_doc d;
    CHECK_EQ(did_doc_parse(j, DID, &d), ERR_OK);
    CHECK_STR(d.handle, "second.example.org"); /* first *valid* at:// alias */
    CHECK(d.pds_endpoint == NULL);             /* first #atproto_pds has the wrong type */
    CHECK_EQ(did_doc_require_atproto(&d, true), ERR_INVALID);
    did_doc_clear(&d);
    CHECK_STR(did_doc_service_endpoint(j, DID, "bsky_appview", NULL), "https://api.example");
    CHECK_STR(did_doc_service_endpoint(j, DID, "bsky_appview", "BskyAppView"),
              "https://api.example");
    CHECK(did_doc_service_endpoint(j, DID, "bsky_appview", "Other") == NULL);
    CHECK(did_doc_service_endpoint(j, DID, "bsky_chat", NULL) == NULL);
    CHECK(did_doc_service_endpoint(j, "did:plc:other", "bsky_appview", NULL) == NULL);
    json_decref(j);

    static const char *const bad_endpoints[] = {"ftp://pds.example", "https://", "pds.example",
                                                "https://pds example", "https:///path"};
    for (size_t i = 0; i < ARRAY_LEN(bad_endpoints); i++) {
        json_t *doc =
            json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "id", DID, "service", "id", "#atproto_pds",
                      "type", "AtprotoPersonalDataServer", "serviceEndpoint", bad_endpoints[i]);
        CHECK_EQ(did_doc_parse(doc, DID, &d), ERR_OK);
        CHECK(d.pds_endpoint == NULL);
        did_doc_clear(&d);
        json_decref(doc);
    }
    /* a serviceEndpoint that is not a string (DID core allows maps) is not used */
    json_t *doc = json_pack("{s:s, s:[{s:s, s:s, s:{}}]}", "id", DID, "service", "id",
                            "#atproto_pds", "type", "AtprotoPersonalDataServer", "serviceEndpoint");
    CHECK_EQ(did_doc_parse(doc, DID, &d), ERR_OK);
    CHECK(d.pds_endpoint == NULL);
    did_doc_clear(&d);
    json_decref(doc);
}

static void test_did_doc_bad_documents(void)
{
    static const char *const bad[] = {
        "[]",
        "{}",
        "{\"id\":5}",
        "{\"id\":\"" DID "\",\"alsoKnownAs\":\"at://a.com\"}",
        "{\"id\":\"" DID "\",\"verificationMethod\":{}}",
        "{\"id\":\"" DID "\",\"service\":\"x\"}",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        json_t *j = parse(bad[i]);
        struct did_doc d;
        CHECK_EQ(did_doc_parse(j, DID, &d), ERR_INVALID);
        did_doc_clear(&d);
        json_decref(j);
    }
    /* a minimal document parses but is not usable for atproto */
    json_t *j = parse("{\"id\":\"" DID "\"}");
    struct did_doc d;
    CHECK_EQ(did_doc_parse(j, DID, &d), ERR_OK);
    CHECK_EQ(did_doc_require_atproto(&d, false), ERR_INVALID);
    did_doc_clear(&d);
    json_decref(j);
}

static void test_did_doc_build_round_trip(void)
{
    struct sigkey k;
    CHECK_EQ(sigkey_from_multikey(BYTES_LIT(K256_MK), &k), ERR_OK);
    json_t *doc = did_doc_build(DID, "alice.example.com", &k, "https://pds.example.com");
    json_t *want = parse(PLC_DOC);
    /* same as the PLC directory's rendering, apart from the handle's case */
    json_array_set_new(json_object_get(want, "alsoKnownAs"), 0,
                       json_string("at://alice.example.com"));
    CHECK(json_equal(doc, want));
    struct did_doc d;
    CHECK_EQ(did_doc_parse(doc, DID, &d), ERR_OK);
    CHECK_EQ(did_doc_require_atproto(&d, true), ERR_OK);
    CHECK(sigkey_equal(&d.signing_key, &k));
    did_doc_clear(&d);
    json_decref(doc);
    json_decref(want);

    struct sigkey p;
    CHECK_EQ(sigkey_generate(SIGKEY_P256, &p), ERR_OK);
    doc = did_doc_build(DID, NULL, &p, "https://pds.example.com");
    CHECK_STR(json_string_value(json_array_get(json_object_get(doc, "@context"), 2)),
              "https://w3id.org/security/suites/ecdsa-2019/v1");
    CHECK_EQ(json_array_size(json_object_get(doc, "alsoKnownAs")), 0);
    json_decref(doc);
    sigkey_clear(&p);
    sigkey_clear(&k);
}

int main(void)
{
    RUN(test_did_doc_plc_rendered);
    RUN(test_did_doc_legacy_key_types);
    RUN(test_did_doc_id_forms_and_first_match);
    RUN(test_did_doc_handle_and_pds_rules);
    RUN(test_did_doc_bad_documents);
    RUN(test_did_doc_build_round_trip);
    return test_report();
}
