/* test_scope.c - OAuth scopes: the generic grammar's decoding rules, each permission's
 * fields and defaults, and the permission checks of the digest's §10.3 table. */
#include "unit/test.h"

#include "core/arena.h"
#include "oauth/scope.h"

static struct arena A;

static struct bytes S(const char *s) {
    return bytes_str(s);
}

static bool
eq(struct bytes b, const char *s)
{
    return bytes_eq(b, bytes_str(s));
}

static struct scope_set set_of(const char *text)
{
    struct scope_set s;
    CHECK_EQ(scope_set_parse(&A, S(text), &s), ERR_OK);
    return s;
}

static void test_scope_generic_decoding(void)
{
    struct scope_generic g;
    CHECK_EQ(scope_generic_parse(&A, S("rpc:a.b.c?aud=did:web:x.com%23svc&k=a+b&k=%7E&flag"), &g),
             ERR_OK);
    CHECK(eq(g.resource, "rpc"));
    CHECK(g.has_positional && eq(g.positional, "a.b.c"));
    CHECK_EQ(g.nparams, 3);
    const struct scope_param *aud = scope_generic_param(&g, S("aud"));
    CHECK(aud && aud->nvalues == 1 && eq(aud->values[0], "did:web:x.com#svc"));
    const struct scope_param *k = scope_generic_param(&g, S("k"));
    CHECK(k && k->nvalues == 2 && eq(k->values[0], "a b") && eq(k->values[1], "~"));
    const struct scope_param *flag = scope_generic_param(&g, S("flag"));
    CHECK(flag && flag->nvalues == 1 && eq(flag->values[0], ""));
    /* '+' is literal in the positional part, %-escapes are decoded */
    CHECK_EQ(scope_generic_parse(&A, S("blob:image%2Fx+y"), &g), ERR_OK);
    CHECK(eq(g.positional, "image/x+y"));
    CHECK_EQ(scope_generic_parse(&A, S("res"), &g), ERR_OK);
    CHECK(!g.has_positional && g.nparams == 0);
}

static void test_scope_generic_refuses_bad_input(void)
{
    struct scope_generic g;
    const char *bad[] = {"",        ":pos",      "?k=v",    "res:a b",
                         "res:%",   "res:%4",    "res:%zz", "res?k=%G0",
                         "res:%00", "res?k=%0a", "res\tx",  "res:caf\xc3\xa9"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        CHECK(scope_generic_parse(&A, S(bad[i]), &g) != ERR_OK);
    }
    CHECK_EQ(scope_generic_parse(&A, bytes_of("res:a\0b", 7), &g), ERR_INVALID);
    /* a NUL after a valid prefix must not end the input early */
    CHECK_EQ(scope_generic_parse(&A, bytes_of("res\0", 4), &g), ERR_INVALID);
    static char big[SCOPE_ENTRY_MAX_BYTES + 2];
    memset(big, 'a', sizeof(big) - 1);
    CHECK_EQ(scope_generic_parse(&A, S(big), &g), ERR_TOO_LARGE);
    char many[4 * (SCOPE_MAX_PARAMS + 1) + 2] = "r?";
    for (int i = 0; i <= SCOPE_MAX_PARAMS; i++) {
        memcpy(many + 2 + 4 * i, "k=v&", 4);
    }
    CHECK_EQ(scope_generic_parse(&A, bytes_of(many, sizeof(many)), &g), ERR_TOO_LARGE);
    /* exactly SCOPE_MAX_PARAMS pairs is fine */
    CHECK_EQ(scope_generic_parse(&A, bytes_of(many, sizeof(many) - 4), &g), ERR_OK);
}

static void test_scope_perm_fields_and_defaults(void)
{
    struct scope_perm p;
    CHECK_EQ(scope_perm_parse(&A, S("repo:app.bsky.feed.post"), &p), ERR_OK);
    CHECK_EQ(p.kind, SCOPE_REPO);
    CHECK_EQ(p.repo.actions, SCOPE_REPO_ALL);
    CHECK(p.repo.collection.n == 1 && eq(p.repo.collection.items[0], "app.bsky.feed.post"));
    CHECK(!p.repo.collection.any_wildcard);

    CHECK_EQ(scope_perm_parse(&A, S("repo?collection=a.b.c&collection=*&action=delete"), &p),
             ERR_OK);
    CHECK(p.repo.collection.n == 2 && p.repo.collection.any_wildcard);
    CHECK_EQ(p.repo.actions, SCOPE_REPO_DELETE);

    CHECK_EQ(scope_perm_parse(&A, S("rpc:app.x.getFeed?aud=did:web:api.x.com%23svc"), &p), ERR_OK);
    CHECK_EQ(p.kind, SCOPE_RPC);
    CHECK(eq(p.rpc.aud, "did:web:api.x.com#svc"));
    CHECK(p.rpc.lxm.n == 1 && eq(p.rpc.lxm.items[0], "app.x.getFeed"));

    CHECK_EQ(scope_perm_parse(&A, S("account:email"), &p), ERR_OK);
    CHECK(p.kind == SCOPE_ACCOUNT && p.account.attr == SCOPE_ACCOUNT_EMAIL &&
          p.account.action == SCOPE_ACCOUNT_READ);
    CHECK_EQ(scope_perm_parse(&A, S("account:repo?action=manage"), &p), ERR_OK);
    CHECK(p.account.attr == SCOPE_ACCOUNT_REPO && p.account.action == SCOPE_ACCOUNT_MANAGE);

    CHECK_EQ(scope_perm_parse(&A, S("identity:*"), &p), ERR_OK);
    CHECK(p.kind == SCOPE_IDENTITY && p.identity.attr == SCOPE_IDENTITY_ALL);

    CHECK_EQ(scope_perm_parse(&A, S("blob?accept=video/*&accept=text/html"), &p), ERR_OK);
    CHECK(p.kind == SCOPE_BLOB && p.blob.accept.n == 2);

    CHECK_EQ(scope_perm_parse(&A, S("include:app.x.authFull?aud=did:web:a.com%23svc"), &p), ERR_OK);
    CHECK(p.kind == SCOPE_INCLUDE && eq(p.include.nsid, "app.x.authFull") &&
          eq(p.include.aud, "did:web:a.com#svc"));
    CHECK_EQ(scope_perm_parse(&A, S("include:app.x.authFull"), &p), ERR_OK);
    CHECK_EQ(p.include.aud.len, 0);

    CHECK_EQ(scope_perm_parse(&A, S("atproto"), &p), ERR_OK);
    CHECK_EQ(p.kind, SCOPE_ATPROTO);
    CHECK_EQ(scope_perm_parse(&A, S("transition:chat.bsky"), &p), ERR_OK);
    CHECK_EQ(p.kind, SCOPE_TRANSITION_CHAT_BSKY);
}

static void test_scope_perm_refusals(void)
{
    const char *bad[] = {
        "transition:other",
        "ATPROTO",
        "account:status",                          /* the vectors refuse it */
        "account:email?action=read&action=manage", /* single-valued */
        "account:email?attr=email",                /* positional and named */
        "repo:a.b.c?collection=a.b.d",
        "repo:a.b.c?action=read",
        "rpc:a.b.c?aud=*&aud=did:web:x.com%23s",
        "rpc:*?aud=*",
        "rpc?lxm=a.b.c&lxm=*&aud=*",
        "rpc:a.b.c?aud=did:plc:abc%23svc",  /* not a did:plc */
        "rpc:a.b.c?aud=did:web:x.com%23",   /* empty service id */
        "rpc:a.b.c?aud=did:key:zabc%23svc", /* not plc/web */
        "include:a.b.c?aud=*",
        "blob:image",
        "blob:image/",
        "blob:/png",
        "identity:handle?attr=handle",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        struct scope_perm p;
        enum err e = scope_perm_parse(&A, S(bad[i]), &p);
        CHECK(e != ERR_OK);
        if (e == ERR_OK) {
            fprintf(stderr, "  accepted: %s\n", bad[i]);
        }
    }
}

static void test_scope_set_ignores_invalid_entries(void)
{
    struct scope_set s = set_of("atproto  repo:bad blob:*/* transition:email nonsense");
    CHECK(s.atproto && s.transition_email && !s.transition_generic);
    CHECK_EQ(s.nperms, 1);
    CHECK_EQ(s.nignored, 2);
    struct scope_set empty = set_of("");
    CHECK(!empty.atproto && empty.nperms == 0);
}

static void test_scope_allows_repo_write(void)
{
    struct scope_set s = set_of("atproto repo:app.x.post?action=create repo:app.x.like "
                                "repo:app.x.post?action=update");
    CHECK(scope_allows_repo_write(&s, S("app.x.post"), SCOPE_REPO_CREATE));
    CHECK(!scope_allows_repo_write(&s, S("app.x.post"), SCOPE_REPO_DELETE));
    /* putRecord needs create and update: granted by two entries together */
    CHECK(scope_allows_repo_write(&s, S("app.x.post"), SCOPE_REPO_CREATE | SCOPE_REPO_UPDATE));
    CHECK(scope_allows_repo_write(&s, S("app.x.like"), SCOPE_REPO_ALL));
    CHECK(!scope_allows_repo_write(&s, S("app.x.other"), SCOPE_REPO_CREATE));
    CHECK(!scope_allows_repo_write(&s, S("app.x.like"), 0));
    struct scope_set star = set_of("atproto repo:*?action=delete");
    CHECK(scope_allows_repo_write(&star, S("any.thing.here"), SCOPE_REPO_DELETE));
    CHECK(!scope_allows_repo_write(&star, S("any.thing.here"), SCOPE_REPO_CREATE));
    struct scope_set tg = set_of("atproto transition:generic");
    CHECK(scope_allows_repo_write(&tg, S("app.bsky.feed.post"), SCOPE_REPO_ALL));
    struct scope_set none = set_of("atproto");
    CHECK(!scope_allows_repo_write(&none, S("app.bsky.feed.post"), SCOPE_REPO_CREATE));
}

static void test_scope_allows_rpc(void)
{
    struct scope_set s = set_of("atproto rpc:app.x.getFeed?aud=did:web:api.x.com%23svc "
                                "rpc:app.x.report?aud=* rpc?lxm=*&aud=did:web:m.x.com%23mod");
    CHECK(scope_allows_rpc(&s, S("did:web:api.x.com#svc"), S("app.x.getFeed")));
    CHECK(!scope_allows_rpc(&s, S("did:web:api.x.com#other"), S("app.x.getFeed")));
    CHECK(!scope_allows_rpc(&s, S("did:web:api.x.com#svc"), S("app.x.getOther")));
    CHECK(scope_allows_rpc(&s, S("did:web:anyone.com#x"), S("app.x.report")));
    CHECK(scope_allows_rpc(&s, S("did:web:m.x.com#mod"), S("any.method.atAll")));
    CHECK(!scope_allows_rpc(&s, S("did:web:m.x.com#other"), S("any.method.atAll")));

    struct scope_set tg = set_of("atproto transition:generic");
    CHECK(scope_allows_rpc(&tg, S("did:web:api.bsky.app#bsky_appview"), S("app.bsky.feed.x")));
    CHECK(!scope_allows_rpc(&tg, S("did:web:api.bsky.chat#bsky_chat"), S("chat.bsky.convo.x")));
    struct scope_set chat = set_of("atproto transition:generic transition:chat.bsky");
    CHECK(scope_allows_rpc(&chat, S("did:web:api.bsky.chat#bsky_chat"), S("chat.bsky.convo.x")));
    struct scope_set none = set_of("atproto");
    CHECK(!scope_allows_rpc(&none, S("did:web:a.com#b"), S("app.x.y")));
}

static void test_scope_allows_blob(void)
{
    struct scope_set s = set_of("atproto blob:image/* blob?accept=video/mp4&accept=text/html");
    CHECK(scope_allows_blob(&s, S("image/png")));
    CHECK(scope_allows_blob(&s, S("IMAGE/JPEG")));
    CHECK(scope_allows_blob(&s, S("video/mp4")));
    CHECK(scope_allows_blob(&s, S("text/html; charset=utf-8")));
    CHECK(!scope_allows_blob(&s, S("video/webm")));
    CHECK(!scope_allows_blob(&s, S("imagex/png")));
    CHECK(!scope_allows_blob(&s, S("image")));
    CHECK(!scope_allows_blob(&s, S("image/*")));
    struct scope_set all = set_of("atproto blob:*/*");
    CHECK(scope_allows_blob(&all, S("application/octet-stream")));
    CHECK(!scope_allows_blob(&all, S("*/*")));
    struct scope_set tg = set_of("atproto transition:generic");
    CHECK(scope_allows_blob(&tg, S("application/pdf")));
    struct scope_set none = set_of("atproto");
    CHECK(!scope_allows_blob(&none, S("image/png")));
}

static void test_scope_allows_account_and_identity(void)
{
    struct scope_set r = set_of("atproto account:email");
    CHECK(scope_allows_account(&r, SCOPE_ACCOUNT_EMAIL, SCOPE_ACCOUNT_READ));
    CHECK(!scope_allows_account(&r, SCOPE_ACCOUNT_EMAIL, SCOPE_ACCOUNT_MANAGE));
    CHECK(!scope_allows_account(&r, SCOPE_ACCOUNT_REPO, SCOPE_ACCOUNT_READ));
    struct scope_set m = set_of("atproto account:email?action=manage account:repo?action=manage");
    CHECK(scope_allows_account(&m, SCOPE_ACCOUNT_EMAIL, SCOPE_ACCOUNT_READ));
    CHECK(scope_allows_account(&m, SCOPE_ACCOUNT_EMAIL, SCOPE_ACCOUNT_MANAGE));
    CHECK(scope_allows_account(&m, SCOPE_ACCOUNT_REPO, SCOPE_ACCOUNT_MANAGE));
    struct scope_set te = set_of("atproto transition:email");
    CHECK(scope_allows_account(&te, SCOPE_ACCOUNT_EMAIL, SCOPE_ACCOUNT_READ));
    CHECK(!scope_allows_account(&te, SCOPE_ACCOUNT_EMAIL, SCOPE_ACCOUNT_MANAGE));
    struct scope_set tg = set_of("atproto transition:generic");
    CHECK(!scope_allows_account(&tg, SCOPE_ACCOUNT_EMAIL, SCOPE_ACCOUNT_READ));
    CHECK(!scope_allows_identity(&tg, SCOPE_IDENTITY_HANDLE));

    struct scope_set h = set_of("atproto identity:handle");
    CHECK(scope_allows_identity(&h, SCOPE_IDENTITY_HANDLE));
    CHECK(!scope_allows_identity(&h, SCOPE_IDENTITY_ALL));
    struct scope_set all = set_of("atproto identity:*");
    CHECK(scope_allows_identity(&all, SCOPE_IDENTITY_HANDLE));
    CHECK(scope_allows_identity(&all, SCOPE_IDENTITY_ALL));
}

int main(void)
{
    arena_init(&A);
    RUN(test_scope_generic_decoding);
    RUN(test_scope_generic_refuses_bad_input);
    RUN(test_scope_perm_fields_and_defaults);
    RUN(test_scope_perm_refusals);
    RUN(test_scope_set_ignores_invalid_entries);
    RUN(test_scope_allows_repo_write);
    RUN(test_scope_allows_rpc);
    RUN(test_scope_allows_blob);
    RUN(test_scope_allows_account_and_identity);
    arena_clear(&A);
    return test_report();
}
