/* test_client.c - client_id forms (loopback and discoverable, dev mode and not), the
 * loopback client's metadata, each rule of metadata validation, redirect URI matching with
 * RFC 8252's loopback port rule, and declared scopes. */
#include "unit/test.h"

#include "oauth/client.h"

static struct arena A;
#define ID "https://app.example.com/client-metadata.json"

static void test_client_id_forms(void)
{
    const char *good[] = {ID,
                          "https://app.example.com/a/b.json?x=1",
                          "http://localhost",
                          "http://localhost/",
                          "http://localhost?scope=atproto",
                          "http://localhost?redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcb"};
    const char *bad[] = {"",
                         "app.example.com",
                         "http://app.example.com/c.json",
                         "https://app.example.com",
                         "https://app.example.com/",
                         "https://app.example.com/c/",
                         "https://u@app.example.com/c.json",
                         "https://app.example.com/c.json#x",
                         "https://1.2.3.4/c.json",
                         "https://[::1]/c.json",
                         "https://localhost/c.json",
                         "https://app.example.com:8443/c.json",
                         "https://app.test/c.json",
                         "https://app.example.com/a/../c.json",
                         "http://localhost:8080",
                         "http://localhost/cb",
                         "http://localhost?scope=transition:generic",
                         "http://localhost?redirect_uri=https%3A%2F%2Fapp.example.com%2F",
                         "http://localhost?scope=atproto&scope=atproto",
                         "http://localhost?foo=bar",
                         "http://localhost#x"};
    bool loopback;
    const char *why;
    for (size_t i = 0; i < ARRAY_LEN(good); i++) {
        CHECK_EQ(oauth_client_id_check(&A, good[i], false, &loopback, &why), ERR_OK);
    }
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        if (oauth_client_id_check(&A, bad[i], false, &loopback, &why) == ERR_OK) {
            fprintf(stderr, "accepted: %s\n", bad[i]);
            CHECK(false);
        }
    }
    /* dev mode: http, ports and local names for discoverable clients */
    CHECK_EQ(oauth_client_id_check(&A, "http://app.localhost:3000/c.json", true, &loopback, &why),
             ERR_OK);
    CHECK(!loopback);
    CHECK_EQ(oauth_client_id_check(&A, "http://localhost?scope=atproto", true, &loopback, &why),
             ERR_OK);
    CHECK(loopback);
}

static void test_client_loopback_metadata(void)
{
    const char *why;
    json_t *m = oauth_loopback_metadata(&A, "http://localhost", &why);
    CHECK_STR(json_string_value(json_object_get(m, "scope")), "atproto");
    json_t *r = json_object_get(m, "redirect_uris");
    CHECK_EQ(json_array_size(r), 2);
    CHECK_STR(json_string_value(json_array_get(r, 0)), "http://127.0.0.1/");
    CHECK_STR(json_string_value(json_array_get(r, 1)), "http://[::1]/");
    struct oauth_client c;
    CHECK_EQ(oauth_client_validate(&A, "http://localhost", m, false, &c, &why), ERR_OK);
    CHECK(c.loopback && c.native && !c.confidential && c.refresh);
    json_decref(m);
}

static json_t *doc(void)
{
    return json_pack("{s:s,s:[s],s:s,s:[s,s],s:[s],s:s,s:b}", "client_id", ID, "redirect_uris",
                     "https://app.example.com/cb", "scope", "atproto transition:generic",
                     "grant_types", "authorization_code", "refresh_token", "response_types", "code",
                     "token_endpoint_auth_method", "none", "dpop_bound_access_tokens", 1);
}

static void test_client_validation_rules(void)
{
    struct oauth_client c;
    const char *why;
    json_t *d = doc();
    CHECK_EQ(oauth_client_validate(&A, ID, d, false, &c, &why), ERR_OK);
    CHECK(!c.native && !c.confidential && c.refresh);
    json_decref(d);
    struct {
        const char *key;
        const char *json; /* the member's new value; NULL removes it */
        const char *why;
    } rows[] = {
        {"client_id", "\"https://other.example.com/c.json\"", "does not match"},
        {"client_id", NULL, "required"},
        {"dpop_bound_access_tokens", "false", "dpop_bound"},
        {"scope", "\"transition:generic\"", "atproto"},
        {"scope", "\"atproto atproto\"", "Duplicate scope"},
        {"scope", NULL, "scope"},
        {"grant_types", "[\"implicit\"]", "implicit"},
        {"grant_types", "[\"refresh_token\"]", "authorization_code"},
        {"grant_types", "[\"client_credentials\",\"authorization_code\"]", "grant type"},
        {"response_types", "[\"token\"]", "code"},
        {"redirect_uris", "[]", "redirect_uri"},
        {"redirect_uris", "[\"http://app.example.com/cb\"]", "http"},
        {"redirect_uris", "[\"http://127.0.0.1/cb\"]", "native"},
        {"redirect_uris", "[\"https://u:p@app.example.com/cb\"]", "credentials"},
        {"redirect_uris", "[\"https://app.test/cb\"]", "local hostname"},
        {"redirect_uris", "[\"com.example.app:/cb\"]", "native"},
        {"redirect_uris", "[\"javascript:alert(1)\"]", "scheme"},
        {"redirect_uris", "\"https://app.example.com/cb\"", "type"},
        {"token_endpoint_auth_method", NULL, "authentication method"},
        {"token_endpoint_auth_method", "\"client_secret_post\"", "authentication method"},
        {"token_endpoint_auth_signing_alg", "\"ES256\"", "must not have"},
        {"client_uri", "\"https://evil.example.com/\"", "same origin"},
        {"client_uri", "\"https://app.example.com/other\"", "parent"},
        {"application_type", "\"desktop\"", "application_type"},
        {"subject_type", "\"pairwise\"", "public"},
        {"id_token_signed_response_alg", "\"RS256\"", "Unsupported"},
        {"client_name", "42", "type"},
    };
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        d = doc();
        if (rows[i].json) {
            json_object_set_new(d, rows[i].key, json_loads(rows[i].json, JSON_DECODE_ANY, NULL));
        } else {
            json_object_del(d, rows[i].key);
        }
        enum err e = oauth_client_validate(&A, ID, d, false, &c, &why);
        if (e != ERR_INVALID || !why || !strstr(why, rows[i].why)) {
            fprintf(stderr, "row %zu (%s): %s\n", i, rows[i].key, why ? why : "(accepted)");
            CHECK(false);
        }
        json_decref(d);
    }
}

static void test_client_native_and_confidential(void)
{
    struct oauth_client c;
    const char *why;
    json_t *d = doc();
    json_object_set_new(d, "application_type", json_string("native"));
    json_object_set_new(d, "redirect_uris",
                        json_pack("[s,s,s]", "com.example.app:/callback", "http://127.0.0.1/cb",
                                  "https://app.example.com/cb"));
    CHECK_EQ(oauth_client_validate(&A, ID, d, false, &c, &why), ERR_OK);
    CHECK(c.native);
    json_object_set_new(d, "redirect_uris", json_pack("[s]", "com.example.app://callback"));
    CHECK_EQ(oauth_client_validate(&A, ID, d, false, &c, &why), ERR_INVALID);
    json_decref(d);

    d = doc();
    json_object_set_new(d, "token_endpoint_auth_method", json_string("private_key_jwt"));
    json_object_set_new(d, "token_endpoint_auth_signing_alg", json_string("ES256"));
    CHECK_EQ(oauth_client_validate(&A, ID, d, false, &c, &why), ERR_INVALID); /* no keys */
    json_object_set_new(d, "jwks_uri", json_string("https://app.example.com/jwks.json"));
    CHECK_EQ(oauth_client_validate(&A, ID, d, false, &c, &why), ERR_OK);
    CHECK(c.confidential);
    CHECK_STR(c.jwks_uri, "https://app.example.com/jwks.json");
    json_object_set_new(d, "token_endpoint_auth_signing_alg", json_string("RS256"));
    CHECK_EQ(oauth_client_validate(&A, ID, d, false, &c, &why), ERR_INVALID);
    json_object_set_new(d, "token_endpoint_auth_signing_alg", json_string("ES256"));
    json_object_set_new(d, "jwks_uri", json_string("http://app.example.com/jwks.json"));
    CHECK_EQ(oauth_client_validate(&A, ID, d, false, &c, &why), ERR_INVALID);
    json_object_set_new(d, "application_type", json_string("native"));
    json_object_set_new(d, "jwks_uri", json_string("https://app.example.com/jwks.json"));
    CHECK_EQ(oauth_client_validate(&A, ID, d, false, &c, &why), ERR_INVALID);
    CHECK(strstr(why, "Native"));
    json_decref(d);
}

static void test_client_redirect_and_scope_matching(void)
{
    const char *why, *bad;
    json_t *m = oauth_loopback_metadata(
        &A,
        "http://"
        "localhost?redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&scope=atproto%20transition%3Ageneric",
        &why);
    struct oauth_client c;
    CHECK_EQ(oauth_client_validate(&A, "http://localhost?x", m, false, &c, &why), ERR_INVALID);
    CHECK_EQ(oauth_client_validate(&A,
                                   "http://"
                                   "localhost?redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&scope="
                                   "atproto%20transition%3Ageneric",
                                   m, false, &c, &why),
             ERR_OK);
    CHECK(oauth_client_redirect_ok(&A, &c, "http://127.0.0.1/cb"));
    CHECK(oauth_client_redirect_ok(&A, &c, "http://127.0.0.1:54321/cb")); /* any port */
    CHECK(!oauth_client_redirect_ok(&A, &c, "http://127.0.0.1:54321/other"));
    CHECK(!oauth_client_redirect_ok(&A, &c, "http://[::1]/cb"));
    CHECK(!oauth_client_redirect_ok(&A, &c, "http://127.0.0.1/cb#frag"));
    CHECK(oauth_client_scope_ok(&A, &c, "atproto transition:generic", &bad));
    CHECK(!oauth_client_scope_ok(&A, &c, "atproto transition:email", &bad));
    CHECK_STR(bad, "transition:email");
    json_decref(m);
}

int main(void)
{
    arena_init(&A);
    RUN(test_client_id_forms);
    RUN(test_client_loopback_metadata);
    RUN(test_client_validation_rules);
    RUN(test_client_native_and_confidential);
    RUN(test_client_redirect_and_scope_matching);
    arena_clear(&A);
    return test_report();
}
