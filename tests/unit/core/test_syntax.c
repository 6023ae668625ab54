/* test_syntax.c - identifier and string-format validators: boundaries, embedded NULs,
 * calendar rules, and the cases the interop lists do not cover. */
#include "unit/test.h"

#include "core/syntax.h"

static struct bytes S(const char *s) {
    return bytes_str(s);
}

/* n copies of c, prefixed and suffixed, in a static buffer. */
static struct bytes
repeat(const char *pre, char c, size_t n, const char *post)
{
    static char buf[20000];
    size_t lp = strlen(pre), ls = strlen(post);
    memcpy(buf, pre, lp);
    memset(buf + lp, c, n);
    memcpy(buf + lp + n, post, ls);
    return bytes_of(buf, lp + n + ls);
}

static void test_syntax_did_rules(void)
{
    CHECK(syntax_did_valid(S("did:plc:7iza6de2dwap2sbkpav7c6c6")));
    CHECK(syntax_did_valid(S("did:web:localhost%3A1234")));
    CHECK(!syntax_did_valid(S("did:plc:")));
    CHECK(!syntax_did_valid(S("did::abc")));
    CHECK(!syntax_did_valid(S("did:Plc:abc")));
    CHECK(syntax_did_valid(repeat("did:m:", 'v', SYNTAX_DID_MAX_LEN - 6, "")));
    CHECK(!syntax_did_valid(repeat("did:m:", 'v', SYNTAX_DID_MAX_LEN - 5, "")));
    /* an embedded NUL is a character like any other, not an end */
    CHECK(!syntax_did_valid(bytes_of("did:plc:ab\0cd", 13)));
    CHECK(!syntax_did_valid(bytes_of("", 0)));
}

static void test_syntax_did_is_atproto_plc_and_web_only(void)
{
    CHECK(syntax_did_is_atproto(S("did:plc:7iza6de2dwap2sbkpav7c6c6")));
    CHECK(!syntax_did_is_atproto(S("did:plc:7iza6de2dwap2sbkpav7c6c")));  /* 23 chars */
    CHECK(!syntax_did_is_atproto(S("did:plc:7iza6de2dwap2sbkpav7c6c1"))); /* '1' not base32 */
    CHECK(!syntax_did_is_atproto(S("did:plc:7IZA6DE2DWAP2SBKPAV7C6C6"))); /* upper case */
    CHECK(syntax_did_is_atproto(S("did:web:example.com")));
    CHECK(syntax_did_is_atproto(S("did:web:localhost%3A2583")));
    CHECK(!syntax_did_is_atproto(S("did:web:example.com%3A443"))); /* port off localhost */
    CHECK(!syntax_did_is_atproto(S("did:web:example.com:path")));  /* no paths */
    CHECK(!syntax_did_is_atproto(S("did:web:-bad.com")));
    CHECK(!syntax_did_is_atproto(S("did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N")));
}

static void test_syntax_handle_lengths_and_labels(void)
{
    CHECK(syntax_handle_valid(S("a.co")));
    CHECK(!syntax_handle_valid(S("a.0o")));
    CHECK(!syntax_handle_valid(S("co")));
    CHECK(syntax_handle_valid(repeat("", 'a', 63, ".com")));
    CHECK(!syntax_handle_valid(repeat("", 'a', 64, ".com")));
    CHECK(!syntax_handle_valid(bytes_of("john.test\0", 10)));
    /* 253 characters passes, 254 fails (labels of 63) */
    char h[300];
    size_t n = 0;
    for (int l = 0; l < 4; l++) {
        memset(h + n, 'a', 62);
        n += 62;
        h[n++] = '.';
    }
    memcpy(h + n, "com", 3);
    n += 3; /* 4 * 63 + 3 = 255 */
    CHECK(!syntax_handle_valid(bytes_of(h, n)));
    CHECK(syntax_handle_valid(bytes_of(h + 2, n - 2)));  /* 253 */
    CHECK(!syntax_handle_valid(bytes_of(h + 1, n - 1))); /* 254 */
}

static void test_syntax_handle_disallowed_tlds(void)
{
    CHECK(syntax_handle_is_disallowed_tld(S("laptop.local"), true));
    CHECK(syntax_handle_is_disallowed_tld(S("x.ONION"), true));
    CHECK(syntax_handle_is_disallowed_tld(S("handle.invalid"), true));
    CHECK(syntax_handle_is_disallowed_tld(S("a.alt"), true));
    CHECK(syntax_handle_is_disallowed_tld(S("a.arpa"), true));
    CHECK(syntax_handle_is_disallowed_tld(S("a.example"), true));
    CHECK(syntax_handle_is_disallowed_tld(S("a.internal"), true));
    CHECK(syntax_handle_is_disallowed_tld(S("a.localhost"), true));
    CHECK(!syntax_handle_is_disallowed_tld(S("john.test"), true));
    CHECK(syntax_handle_is_disallowed_tld(S("john.test"), false));
    CHECK(!syntax_handle_is_disallowed_tld(S("bsky.social"), false));
    CHECK(!syntax_handle_is_disallowed_tld(S("example.com"), false));
    CHECK(!syntax_handle_is_disallowed_tld(S("a.locals"), false));
}

static void test_syntax_handle_normalize_lowercases(void)
{
    char out[SYNTAX_HANDLE_BUF];
    CHECK_EQ(syntax_handle_normalize(S("John.Bsky.SOCIAL"), out, sizeof(out)), ERR_OK);
    CHECK_STR(out, "john.bsky.social");
    CHECK_EQ(syntax_handle_normalize(S("not a handle"), out, sizeof(out)), ERR_INVALID);
    char small[4];
    CHECK_EQ(syntax_handle_normalize(S("ab.cd"), small, sizeof(small)), ERR_TOO_LARGE);
}

static void test_syntax_nsid_limits(void)
{
    CHECK(syntax_nsid_valid(S("app.bsky.feed.post")));
    CHECK(!syntax_nsid_valid(S("app.bsky")));
    CHECK(!syntax_nsid_valid(S("app.bsky.feed.post-x")));
    CHECK(!syntax_nsid_valid(S("app.bsky.feed.1post")));
    CHECK(syntax_nsid_valid(repeat("com.example.", 'a', 63, "")));
    CHECK(!syntax_nsid_valid(repeat("com.example.", 'a', 64, "")));
    CHECK(!syntax_nsid_valid(S("app.bsky.feed.")));
    CHECK(!syntax_nsid_valid(bytes_of("app.bsky.feed.po\0st", 19)));
}

static void test_syntax_rkey_and_tid(void)
{
    CHECK(syntax_rkey_valid(S("self")));
    CHECK(syntax_rkey_valid(S("...")));
    CHECK(!syntax_rkey_valid(S("..")));
    CHECK(!syntax_rkey_valid(S("")));
    CHECK(syntax_rkey_valid(repeat("", 'k', 512, "")));
    CHECK(!syntax_rkey_valid(repeat("", 'k', 513, "")));
    CHECK(syntax_tid_valid(S("3jzfcijpj2z2a")));
    CHECK(syntax_tid_valid(S("j222222222222")));
    CHECK(!syntax_tid_valid(S("k222222222222")));
    CHECK(!syntax_tid_valid(S("3jzfcijpj2z21"))); /* '1' is not in the alphabet */
    CHECK(!syntax_tid_valid(bytes_of("3jzfcijpj2z2\0", 13)));
}

static void test_syntax_aturi_shapes(void)
{
    CHECK(syntax_aturi_valid(S("at://did:plc:asdf123/app.bsky.feed.post/3jzfcijpj2z2a")));
    CHECK(syntax_aturi_valid(S("at://alice.test")));
    CHECK(!syntax_aturi_valid(S("at://alice.test/")));
    CHECK(!syntax_aturi_valid(S("at://alice.test/app.bsky.feed.post/")));
    CHECK(!syntax_aturi_valid(S("at://alice.test/app.bsky.feed.post/a/b")));
    CHECK(!syntax_aturi_valid(S("at://alice.test/app.bsky.feed.post/a?x=1")));
    CHECK(!syntax_aturi_valid(S("at://alice.test/app.bsky.feed.post/a#frag")));
    CHECK(!syntax_aturi_valid(S("at://")));
    CHECK(!syntax_aturi_valid(S("at:///app.bsky.feed.post")));
}

static void test_syntax_datetime_calendar(void)
{
    CHECK(syntax_datetime_valid(S("2024-02-29T12:00:00Z")));  /* leap year */
    CHECK(!syntax_datetime_valid(S("2023-02-29T12:00:00Z"))); /* not a leap year */
    CHECK(!syntax_datetime_valid(S("1900-02-29T12:00:00Z"))); /* century rule */
    CHECK(syntax_datetime_valid(S("2000-02-29T12:00:00Z")));  /* 400-year rule */
    CHECK(!syntax_datetime_valid(S("2023-04-31T12:00:00Z")));
    CHECK(!syntax_datetime_valid(S("2023-04-30T24:00:00Z")));
    CHECK(!syntax_datetime_valid(S("2023-04-30T23:59:60Z"))); /* no leap seconds */
    CHECK(!syntax_datetime_valid(S("2023-04-30T23:59:59+24:00")));
    CHECK(!syntax_datetime_valid(S("2023-04-30T23:59:59-00:00")));
    CHECK(syntax_datetime_valid(S("2023-04-30T23:59:59+00:00")));
    /* offsets that leave years 0000-9999 once normalised */
    CHECK(!syntax_datetime_valid(S("9999-12-31T23:59:00-00:01")));
    CHECK(syntax_datetime_valid(S("9999-12-31T23:59:00+00:01")));
    CHECK(!syntax_datetime_valid(S("0000-01-01T00:00:00+00:01")));
    CHECK(syntax_datetime_valid(S("0000-01-01T00:00:00-00:01")));
    CHECK(!syntax_datetime_valid(bytes_of("2023-04-30T23:59:59Z\0", 21)));
    CHECK(!syntax_datetime_valid(repeat("2023-04-30T23:59:59.", '1', 60, "Z")));
}

static void test_syntax_datetime_parse_gives_unix_ms(void)
{
    int64_t ms = -1;
    CHECK_EQ(syntax_datetime_parse(S("1970-01-01T00:00:00Z"), &ms), ERR_OK);
    CHECK_EQ(ms, 0);
    CHECK_EQ(syntax_datetime_parse(S("1985-04-12T23:20:50.123Z"), &ms), ERR_OK);
    CHECK_EQ(ms, 482196050123LL);
    CHECK_EQ(syntax_datetime_parse(S("1985-04-12T23:20:50.1239Z"), &ms), ERR_OK);
    CHECK_EQ(ms, 482196050123LL); /* truncated, not rounded */
    CHECK_EQ(syntax_datetime_parse(S("1985-04-12T23:20:50.1Z"), &ms), ERR_OK);
    CHECK_EQ(ms, 482196050100LL);
    CHECK_EQ(syntax_datetime_parse(S("1985-04-12T16:20:50.123-07:00"), &ms), ERR_OK);
    CHECK_EQ(ms, 482196050123LL);
    CHECK_EQ(syntax_datetime_parse(S("1969-12-31T23:59:59Z"), &ms), ERR_OK);
    CHECK_EQ(ms, -1000);
    CHECK_EQ(syntax_datetime_parse(S("0000-01-01T00:00:00Z"), &ms), ERR_OK);
    CHECK_EQ(ms, -62167219200000LL);
    CHECK_EQ(syntax_datetime_parse(S("1985-04-12"), &ms), ERR_INVALID);
}

static void test_syntax_language_wellformed_vs_valid(void)
{
    CHECK(syntax_language_wellformed(S("JA")));
    CHECK(!syntax_language_valid(S("JA")));
    CHECK(syntax_language_wellformed(S("jaja")));
    CHECK(!syntax_language_valid(S("jaja")));
    CHECK(!syntax_language_wellformed(S("de-419-DE")));
    CHECK(syntax_language_valid(S("zh-yue-HK"))); /* extlang */
    CHECK(syntax_language_valid(S("sr-Latn-RS")));
    CHECK(syntax_language_valid(S("I-KLINGON"))); /* grandfathered, any case */
    CHECK(syntax_language_valid(S("x-whatever")));
    CHECK(!syntax_language_wellformed(S("x")));
    CHECK(!syntax_language_wellformed(S("en-x")));
    CHECK(!syntax_language_wellformed(S("en-a")));   /* extension without a body */
    CHECK(!syntax_language_wellformed(S("en-a-b"))); /* body subtags are 2-8 */
    CHECK(!syntax_language_wellformed(S("en-abcdefghi")));
    CHECK(!syntax_language_wellformed(S("en--US")));
    CHECK(syntax_language_wellformed(S("de-DE-1901-1901")));
    CHECK(!syntax_language_valid(S("de-DE-1901-1901")));
    CHECK(!syntax_language_valid(bytes_of("en\0", 3)));
    CHECK(!syntax_language_wellformed(bytes_of("", 0)));
}

static void test_syntax_cid_uri_mst_key(void)
{
    CHECK(syntax_cid_valid(S("bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm")));
    CHECK(!syntax_cid_valid(S("bafyrei"))); /* 7 < 8 */
    CHECK(syntax_cid_valid(repeat("", 'b', SYNTAX_CID_MAX_LEN, "")));
    CHECK(!syntax_cid_valid(repeat("", 'b', SYNTAX_CID_MAX_LEN + 1, "")));
    CHECK(syntax_uri_valid(S("https://example.com")));
    CHECK(!syntax_uri_valid(S("https:")));
    CHECK(!syntax_uri_valid(bytes_of("https://a\0b", 11)));
    CHECK(syntax_uri_valid(repeat("https://a/", 'x', SYNTAX_URI_MAX_LEN - 10, "")));
    CHECK(!syntax_uri_valid(repeat("https://a/", 'x', SYNTAX_URI_MAX_LEN - 9, "")));
    /* the reference's "Allowable Keys" */
    CHECK(syntax_mst_key_valid(S("coll/3jui7kd54zh2y")));
    CHECK(syntax_mst_key_valid(S("com.example/rkey")));
    CHECK(syntax_mst_key_valid(S("coll/~1.2-3_")));
    CHECK(syntax_mst_key_valid(S("coll/pre:fix")));
    CHECK(syntax_mst_key_valid(S("coll/_")));
    CHECK(!syntax_mst_key_valid(S("")));
    CHECK(!syntax_mst_key_valid(S("asdf")));
    CHECK(!syntax_mst_key_valid(S("nested/collection/asdf")));
    CHECK(!syntax_mst_key_valid(S("coll/")));
    CHECK(!syntax_mst_key_valid(S("/rkey")));
    CHECK(!syntax_mst_key_valid(S("coll/jalape\xc3\xb1o")));
    const char *bad = "$%()+=@#\" ";
    for (size_t i = 0; bad[i]; i++) {
        char k[16] = "coll/a";
        k[6] = bad[i];
        CHECK(!syntax_mst_key_valid(bytes_of(k, 7)));
    }
    CHECK(syntax_mst_key_valid(repeat("coll/", 'a', SYNTAX_MST_KEY_MAX_LEN - 5, "")));
    CHECK(!syntax_mst_key_valid(repeat("coll/", 'a', SYNTAX_MST_KEY_MAX_LEN - 4, "")));
}

int main(void)
{
    RUN(test_syntax_did_rules);
    RUN(test_syntax_did_is_atproto_plc_and_web_only);
    RUN(test_syntax_handle_lengths_and_labels);
    RUN(test_syntax_handle_disallowed_tlds);
    RUN(test_syntax_handle_normalize_lowercases);
    RUN(test_syntax_nsid_limits);
    RUN(test_syntax_rkey_and_tid);
    RUN(test_syntax_aturi_shapes);
    RUN(test_syntax_datetime_calendar);
    RUN(test_syntax_datetime_parse_gives_unix_ms);
    RUN(test_syntax_language_wellformed_vs_valid);
    RUN(test_syntax_cid_uri_mst_key);
    return test_report();
}
