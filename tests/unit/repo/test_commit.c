/* test_commit.c - commits: exact field order, sign/verify on both curves, decode checks. */
#include "unit/test.h"

#include "core/dagcbor.h"
#include "repo/commit.h"

static void test_commit_sign_verify_both_curves(void)
{
    enum sigkey_curve curves[] = {SIGKEY_K256, SIGKEY_P256};
    for (size_t i = 0; i < ARRAY_LEN(curves); i++) {
        struct sigkey key, other;
        CHECK(sigkey_generate(curves[i], &key) == ERR_OK);
        CHECK(sigkey_generate(curves[i], &other) == ERR_OK);
        struct cid data;
        cid_compute(CID_CODEC_DAGCBOR, BYTES_LIT("\xa2\x61\x65\x80\x61\x6c\xf6"), &data);
        struct buf block;
        buf_init(&block, BUF_MAX_DEFAULT);
        struct cid cid;
        CHECK(commit_create(BYTES_LIT("did:plc:abcdefghijklmnopqrstuvwx"), &data,
                            BYTES_LIT("3jzfcijpj2z2a"), &key, &block, &cid) == ERR_OK);
        struct cid again;
        cid_compute(CID_CODEC_DAGCBOR, buf_bytes(&block), &again);
        CHECK(cid_equal(&cid, &again));

        struct arena a;
        arena_init(&a);
        struct commit c;
        CHECK(commit_decode(buf_bytes(&block), &a, &c) == ERR_OK);
        CHECK(bytes_eq(c.did, BYTES_LIT("did:plc:abcdefghijklmnopqrstuvwx")));
        CHECK(bytes_eq(c.rev, BYTES_LIT("3jzfcijpj2z2a")));
        CHECK(cid_equal(&c.data, &data));
        CHECK(!c.has_prev);
        CHECK_EQ(c.version, 3);
        CHECK(commit_verify(&c, &key));
        CHECK(!commit_verify(&c, &other));
        c.sig[10] ^= 1;
        CHECK(!commit_verify(&c, &key));
        c.sig[10] ^= 1;
        c.data.bytes[20] ^= 1;
        CHECK(!commit_verify(&c, &key));

        /* re-encoding the decoded commit gives the same block */
        c.data = data;
        struct buf re;
        buf_init(&re, BUF_MAX_DEFAULT);
        CHECK(commit_encode(&c, &re) == ERR_OK);
        CHECK(bytes_eq(buf_bytes(&re), buf_bytes(&block)));
        buf_clear(&re);
        arena_clear(&a);
        buf_clear(&block);
    }
}

/* spec(data-model): keys sorted by length then bytes: did, rev, sig, data, prev, version */
static void test_commit_key_order(void)
{
    struct sigkey key;
    CHECK(sigkey_generate(SIGKEY_K256, &key) == ERR_OK);
    struct cid data;
    cid_compute(CID_CODEC_DAGCBOR, BYTES_LIT("x"), &data);
    struct buf block;
    buf_init(&block, BUF_MAX_DEFAULT);
    struct cid cid;
    CHECK(commit_create(BYTES_LIT("did:web:example.com"), &data, BYTES_LIT("3jzfcijpj2z2a"), &key,
                        &block, &cid) == ERR_OK);
    const char *order[] = {"did", "rev", "sig", "data", "prev", "version"};
    const uint8_t *p = block.ptr;
    size_t last = 0;
    CHECK_EQ(p[0], 0xa6); /* a map of six */
    for (size_t i = 0; i < ARRAY_LEN(order); i++) {
        size_t n = strlen(order[i]);
        const uint8_t *hit = memmem(block.ptr, block.len, order[i], n);
        CHECK(hit != NULL && (size_t)(hit - p) > last);
        last = hit ? (size_t)(hit - p) : last;
    }
    buf_clear(&block);
}

static void test_commit_decode_rejects(void)
{
    struct arena a;
    arena_init(&a);
    struct cid data;
    cid_compute(CID_CODEC_DAGCBOR, BYTES_LIT("x"), &data);
    struct {
        const char *name;
        int drop;    /* field index to leave out, -1 none */
        int version; /* version to write */
        size_t siglen;
        const char *rev;
    } cases[] = {
        {"no prev", 4, 3, 64, "3jzfcijpj2z2a"},    {"no sig", 2, 3, 64, "3jzfcijpj2z2a"},
        {"version 2", -1, 2, 64, "3jzfcijpj2z2a"}, {"short sig", -1, 3, 63, "3jzfcijpj2z2a"},
        {"bad rev", -1, 3, 64, "not-a-tid"},
    };
    uint8_t sig[64] = {0};
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        struct buf b;
        buf_init(&b, BUF_MAX_DEFAULT);
        int fields = cases[c].drop >= 0 ? 5 : 6;
        CHECK(dagcbor_put_map(&b, (size_t)fields) == ERR_OK);
        for (int f = 0; f < 6; f++) {
            if (f == cases[c].drop) {
                continue;
            }
            enum err e = ERR_OK;
            switch (f) {
            case 0:
                e = dagcbor_put_cstr(&b, "did") || dagcbor_put_cstr(&b, "did:web:example.com");
                break;
            case 1:
                e = dagcbor_put_cstr(&b, "rev") || dagcbor_put_cstr(&b, cases[c].rev);
                break;
            case 2:
                e = dagcbor_put_cstr(&b, "sig") ||
                    dagcbor_put_bytes(&b, bytes_of(sig, cases[c].siglen));
                break;
            case 3:
                e = dagcbor_put_cstr(&b, "data") || dagcbor_put_link(&b, &data);
                break;
            case 4:
                e = dagcbor_put_cstr(&b, "prev") || dagcbor_put_null(&b);
                break;
            case 5:
                e = dagcbor_put_cstr(&b, "version") || dagcbor_put_int(&b, cases[c].version);
                break;
            }
            CHECK(e == ERR_OK);
        }
        struct commit out;
        enum err e = commit_decode(buf_bytes(&b), &a, &out);
        if (e != ERR_INVALID) {
            fprintf(stderr, "case %s: %s\n", cases[c].name, err_str(e));
        }
        CHECK(e == ERR_INVALID);
        buf_clear(&b);
    }
    struct commit out;
    CHECK(commit_decode(BYTES_LIT("\xa0"), &a, &out) == ERR_INVALID);
    CHECK(commit_decode(BYTES_LIT("\xa6"), &a, &out) == ERR_INVALID);
    arena_clear(&a);
}

int main(void)
{
    RUN(test_commit_sign_verify_both_curves);
    RUN(test_commit_key_order);
    RUN(test_commit_decode_rejects);
    return test_report();
}
