/* test_access_token.c - access tokens: what they carry, and what verification refuses
 * (another key, another audience or issuer, expiry, tampering); the scope a refused request
 * needed, in the reference's normal form; include: scopes refused while no Lexicon resolver is
 * configured. */
#include "unit/test.h"

#include "config/config.h"
#include "oauth/access_token.h"
#include "oauth/include.h"
#include "oauth/oauth.h"
#include "oauth/scope_needed.h"

static struct arena A;

static char *mint(const char *aud, int64_t exp)
{
    struct access_token_mint m = {"https://pds.example.com",        aud,   "did:plc:abc", "tok-1",
                                  "https://app.example.com/c.json", "JKT", 1000,          exp};
    return access_token_sign(&m);
}

static void test_access_token_round_trip_and_refusals(void)
{
    char *t = mint("did:web:pds.example.com", 2000);
    struct access_token at;
    const char *why;
    CHECK_EQ(access_token_verify(&A, t, "https://pds.example.com", "did:web:pds.example.com", 1500,
                                 &at, &why),
             ERR_OK);
    CHECK_STR(at.sub, "did:plc:abc");
    CHECK_STR(at.jti, "tok-1");
    CHECK_STR(at.jkt, "JKT");
    CHECK_STR(at.client_id, "https://app.example.com/c.json");
    CHECK(access_token_looks_bound(t));
    CHECK_EQ(
        access_token_verify(&A, t, "https://pds.example.com", "did:web:other", 1500, &at, &why),
        ERR_AUTH);
    CHECK(strstr(why, "audience"));
    CHECK_EQ(access_token_verify(&A, t, "https://other.example", "did:web:pds.example.com", 1500,
                                 &at, &why),
             ERR_AUTH);
    CHECK_EQ(access_token_verify(&A, t, "https://pds.example.com", "did:web:pds.example.com", 2000,
                                 &at, &why),
             ERR_AUTH);
    CHECK(strstr(why, "expired"));
    t[strlen(t) - 2] ^= 1; /* tampered signature */
    CHECK_EQ(access_token_verify(&A, t, "https://pds.example.com", "did:web:pds.example.com", 1500,
                                 &at, &why),
             ERR_AUTH);
    free(t);
    /* another process with another secret: another key */
    t = mint("did:web:pds.example.com", 2000);
    struct config cfg = {0};
    cfg.jwt_secret = "a different secret";
    CHECK_EQ(oauth_init(&cfg), ERR_OK);
    CHECK_EQ(access_token_verify(&A, t, "https://pds.example.com", "did:web:pds.example.com", 1500,
                                 &at, &why),
             ERR_AUTH);
    CHECK(strstr(why, "not a token of this server"));
    free(t);
    CHECK(!access_token_looks_bound("not.a.jwt"));
}

static void test_scope_needed_formats(void)
{
    CHECK_STR(scope_needed_repo(&A, "app.bsky.feed.post", SCOPE_REPO_CREATE),
              "repo:app.bsky.feed.post?action=create");
    CHECK_STR(scope_needed_blob(&A, "image/png"), "blob:image/png");
    CHECK_STR(scope_needed_rpc(&A, "did:web:api.bsky.app#bsky_appview", "app.bsky.feed.getFeed"),
              "rpc:app.bsky.feed.getFeed?aud=did:web:api.bsky.app%23bsky_appview");
    CHECK_STR(scope_needed_rpc(&A, "did:web:x#svc", "*"), "rpc:*?aud=did:web:x%23svc");
    CHECK_STR(scope_needed_account(&A, SCOPE_ACCOUNT_EMAIL, SCOPE_ACCOUNT_READ), "account:email");
    CHECK_STR(scope_needed_account(&A, SCOPE_ACCOUNT_REPO, SCOPE_ACCOUNT_MANAGE),
              "account:repo?action=manage");
    CHECK_STR(scope_needed_identity(&A, SCOPE_IDENTITY_ALL), "identity:*");
    CHECK_STR(scope_needed_identity(&A, SCOPE_IDENTITY_HANDLE), "identity:handle");
    /* every needed scope parses back as the permission it names */
    struct scope_set s;
    CHECK_EQ(scope_set_parse(&A, bytes_str(scope_needed_rpc(&A, "did:web:x#svc", "a.b.c")), &s),
             ERR_OK);
    CHECK(scope_allows_rpc(&s, bytes_str("did:web:x#svc"), bytes_str("a.b.c")));
}

static void test_include_hook_without_a_resolver_refuses_permission_sets(void)
{
    const char *out, *why;
    CHECK_EQ(oauth_expand_includes(NULL, &A, "atproto repo:a.b.c", &out, &why), ERR_OK);
    CHECK_STR(out, "atproto repo:a.b.c");
    CHECK_EQ(oauth_expand_includes(NULL, &A, "atproto include:com.example.set", &out, &why),
             ERR_UNSUPPORTED);
    CHECK(strstr(why, "Permission sets cannot be resolved"));
    CHECK_EQ(oauth_expand_includes(NULL, &A, "include?nsid=com.example.set", &out, &why),
             ERR_UNSUPPORTED);
}

int main(void)
{
    arena_init(&A);
    struct config cfg = {0};
    cfg.jwt_secret = "unit-test-secret";
    if (oauth_init(&cfg)) {
        return 1;
    }
    RUN(test_access_token_round_trip_and_refusals);
    RUN(test_scope_needed_formats);
    RUN(test_include_hook_without_a_resolver_refuses_permission_sets);
    arena_clear(&A);
    return test_report();
}
