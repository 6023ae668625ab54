/* test_permset.c - permission sets: the authority rule, expansion (dropped entries,
 * inheritAud), the normal form of the scopes written, titles by language, and the DNS name
 * of a Lexicon authority. The same expansions are cross-checked against the reference's
 * @atproto/oauth-scopes by tests/e2e/scopes-diff.test.mjs. */
#include "unit/test.h"

#include <string.h>

#include "oauth/lexres.h"
#include "oauth/permset.h"
#include "oauth/scope_format.h"

static void test_permset_authority_is_own_group_and_below(void)
{
    const char *set = "com.example.foo.auth";
    CHECK(permset_in_authority(set, BYTES_LIT("com.example.foo.identifier")));
    CHECK(permset_in_authority(set, BYTES_LIT("com.example.foo.bar.baz")));
    CHECK(!permset_in_authority(set, BYTES_LIT("com.example.bar")));
    CHECK(!permset_in_authority(set, BYTES_LIT("com.example.foo.")));
    CHECK(!permset_in_authority(set, BYTES_LIT("com.example")));
    CHECK(!permset_in_authority(set, BYTES_LIT("*")));
    CHECK(!permset_in_authority(set, BYTES_LIT("com.example.foobar.x")));
}

static json_t *doc_with(const char *perms_json)
{
    char text[4096];
    snprintf(text, sizeof text,
             "{\"lexicon\":1,\"id\":\"app.example.authFull\",\"defs\":{\"main\":{\"type\":"
             "\"permission-set\",\"title\":\"Full access\",\"title:lang\":{\"fr\":\"Accès "
             "complet\",\"pt-BR\":\"Acesso total\"},\"detail\":\"All of it\",\"permissions\":%s}}}",
             perms_json);
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    CHECK(doc != NULL);
    return doc;
}

static void expect_expansion(const char *perms, const char *aud, const char *const *want,
                             size_t nwant)
{
    json_t *doc = doc_with(perms);
    struct permset set;
    CHECK(permset_parse(doc, "app.example.authFull", &set) == ERR_OK);
    struct arena a;
    arena_init(&a);
    const char **got;
    size_t n;
    CHECK(permset_expand(&set, "app.example.authFull", bytes_str(aud), &a, &got, &n) == ERR_OK);
    CHECK_EQ(n, nwant);
    for (size_t i = 0; i < n && i < nwant; i++) {
        CHECK_STR(got[i], want[i]);
    }
    arena_clear(&a);
    json_decref(doc);
}

static void test_permset_expand_keeps_valid_entries_in_normal_form(void)
{
    const char *const want2[] = {
        "repo:app.example.post",
        "repo?collection=app.example.like&collection=app.example.post&action=create",
        "rpc:app.example.getFeed?aud=*",
        "rpc?lxm=app.example.a&lxm=app.example.b&aud=did:web:api.example.com%23svc",
    };
    expect_expansion(
        "[{\"type\":\"permission\",\"resource\":\"repo\",\"collection\":[\"app.example.post\"]},"
        "{\"type\":\"permission\",\"resource\":\"repo\",\"collection\":[\"app.example.post\","
        "\"app.example.like\",\"app.example.post\"],\"action\":[\"create\"]},"
        "{\"type\":\"permission\",\"resource\":\"rpc\",\"aud\":\"*\",\"lxm\":[\"app.example."
        "getFeed\"]},"
        "{\"type\":\"permission\",\"resource\":\"rpc\",\"inheritAud\":true,"
        "\"lxm\":[\"app.example.b\",\"app.example.a\"]}]",
        "did:web:api.example.com#svc", want2, ARRAY_LEN(want2));
}

static void test_permset_expand_drops_bad_and_foreign_entries(void)
{
    expect_expansion(
        "[{\"type\":\"permission\",\"resource\":\"repo\",\"collection\":[\"*\"]},"
        "{\"type\":\"permission\",\"resource\":\"repo\",\"collection\":[\"app.other.post\"]},"
        "{\"type\":\"permission\",\"resource\":\"repo\",\"collection\":\"app.example.post\"},"
        "{\"type\":\"permission\",\"resource\":\"repo\",\"collection\":[\"app.example.post\"],"
        "\"x\":1},"
        "{\"type\":\"permission\",\"resource\":\"repo\",\"collection\":[\"app.example.post\"],"
        "\"action\":[\"read\"]},"
        "{\"type\":\"permission\",\"resource\":\"blob\",\"accept\":[\"*/*\"]},"
        "{\"type\":\"permission\",\"resource\":\"rpc\",\"aud\":\"did:web:x.com#svc\","
        "\"lxm\":[\"app.example.getFeed\"]},"
        "{\"type\":\"permission\",\"resource\":\"rpc\",\"inheritAud\":true,\"aud\":\"*\","
        "\"lxm\":[\"app.example.getFeed\"]},"
        "{\"type\":\"permission\",\"resource\":\"rpc\",\"inheritAud\":true,"
        "\"lxm\":[\"app.example.getFeed\"]},"
        "{\"type\":\"permission\",\"resource\":\"rpc\",\"aud\":\"*\",\"lxm\":[\"*\"]},"
        "{\"type\":\"other\",\"resource\":\"repo\",\"collection\":[\"app.example.post\"]},"
        "\"not an object\"]",
        "", NULL, 0);
}

static void test_permset_parse_refuses_other_documents(void)
{
    json_t *doc = doc_with("[]");
    struct permset set;
    CHECK(permset_parse(doc, "app.example.other", &set) == ERR_INVALID);
    json_object_set_new(json_object_get(json_object_get(doc, "defs"), "main"), "type",
                        json_string("record"));
    CHECK(permset_parse(doc, "app.example.authFull", &set) == ERR_INVALID);
    json_decref(doc);
}

static void test_permset_text_picks_the_language(void)
{
    json_t *doc = doc_with("[]");
    struct permset set;
    CHECK(permset_parse(doc, "app.example.authFull", &set) == ERR_OK);
    CHECK_STR(permset_text(&set, false, "fr-CH, fr;q=0.9, en;q=0.8"), "Accès complet");
    CHECK_STR(permset_text(&set, false, "pt-BR"), "Acesso total");
    CHECK_STR(permset_text(&set, false, "pt-PT,en"), "Acesso total");
    CHECK_STR(permset_text(&set, false, "de, en"), "Full access");
    CHECK_STR(permset_text(&set, false, NULL), "Full access");
    CHECK_STR(permset_text(&set, true, "fr"), "All of it");
    json_decref(doc);
}

static void test_scope_format_needed_scopes(void)
{
    struct buf b;
    buf_init(&b, 1024);
    CHECK(scope_format_account(SCOPE_ACCOUNT_EMAIL, SCOPE_ACCOUNT_MANAGE, &b) == ERR_OK);
    CHECK_STR((const char *)b.ptr, "account:email?action=manage");
    buf_reset(&b);
    CHECK(scope_format_blob(BYTES_LIT("Image/PNG"), &b) == ERR_OK);
    CHECK_STR((const char *)b.ptr, "blob:image/png");
    buf_reset(&b);
    struct bytes one = BYTES_LIT("app.bsky.feed.post");
    CHECK(scope_format_repo(&one, 1, SCOPE_REPO_CREATE | SCOPE_REPO_UPDATE, &b) == ERR_OK);
    CHECK_STR((const char *)b.ptr, "repo:app.bsky.feed.post?action=create&action=update");
    buf_reset(&b);
    struct bytes lxm = BYTES_LIT("app.bsky.feed.getTimeline");
    CHECK(scope_format_rpc(&lxm, 1, BYTES_LIT("did:web:api.bsky.app#bsky_appview"), &b) == ERR_OK);
    CHECK_STR((const char *)b.ptr,
              "rpc:app.bsky.feed.getTimeline?aud=did:web:api.bsky.app%23bsky_appview");
    buf_clear(&b);
}

static void test_lexres_dns_name_reverses_the_authority(void)
{
    char name[512];
    CHECK(lexres_dns_name("app.example.authFull", name, sizeof name) == ERR_OK);
    CHECK_STR(name, "_lexicon.example.app");
    CHECK(lexres_dns_name("com.Example.Sub.thing", name, sizeof name) == ERR_OK);
    CHECK_STR(name, "_lexicon.sub.example.com");
    CHECK(lexres_dns_name("not-an-nsid", name, sizeof name) == ERR_INVALID);
}

int main(void)
{
    RUN(test_permset_authority_is_own_group_and_below);
    RUN(test_permset_expand_keeps_valid_entries_in_normal_form);
    RUN(test_permset_expand_drops_bad_and_foreign_entries);
    RUN(test_permset_parse_refuses_other_documents);
    RUN(test_permset_text_picks_the_language);
    RUN(test_scope_format_needed_scopes);
    RUN(test_lexres_dns_name_reverses_the_authority);
    return test_report();
}
