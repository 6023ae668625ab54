/* test_mst.c - the MST: known roots, canonical shape under any operation order (property
 * tests), lazy loading from blocks, listing, diffs, proofs and inversion, malformed nodes. */
#include "unit/test.h"

#include "core/dagcbor.h"
#include "repo/mst.h"

#define LEAF_CID "bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454"
#define KEY_POOL 300

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static char keys[KEY_POOL][40];

static void make_keys(void)
{
    static const char alpha[] = "234567abcdefghijklmnopqrstuvwxyz";
    for (int i = 0; i < KEY_POOL; i++) {
        char rkey[14];
        for (int k = 0; k < 13; k++) {
            rkey[k] = alpha[rng() % 32];
        }
        rkey[13] = 0;
        snprintf(keys[i], sizeof(keys[i]), "%s/%s",
                 i % 3 ? "app.bsky.feed.post" : "app.bsky.feed.like", rkey);
    }
}

static struct cid value_for(int i)
{
    char s[32];
    snprintf(s, sizeof(s), "record-%d", i);
    struct cid c;
    cid_compute(CID_CODEC_DAGCBOR, bytes_str(s), &c);
    return c;
}

static bool root_is(struct mst *m, const char *want)
{
    struct cid c;
    char s[CID_STR_MAX];
    if (mst_root(m, NULL, &c)) {
        return false;
    }
    cid_format(&c, s);
    if (strcmp(s, want) != 0) {
        fprintf(stderr, "root %s, want %s\n", s, want);
        return false;
    }
    return true;
}

static void test_mst_known_roots(void)
{
    struct cid leaf;
    CHECK(cid_parse_str(LEAF_CID, &leaf) == ERR_OK);
    struct blockmap bm;
    blockmap_init(&bm);
    struct mst *m = mst_new(blockmap_source(&bm));
    CHECK(root_is(m, "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"));
    CHECK(mst_add(m, BYTES_LIT("com.example.record/3jqfcqzm3fo2j"), &leaf) == ERR_OK);
    CHECK(root_is(m, "bafyreibj4lsc3aqnrvphp5xmrnfoorvru4wynt6lwidqbm2623a6tatzdu"));
    mst_free(m);

    m = mst_new(blockmap_source(&bm));
    const char *five[] = {"com.example.record/3jqfcqzm3fp2j", "com.example.record/3jqfcqzm3fr2j",
                          "com.example.record/3jqfcqzm3fs2j", "com.example.record/3jqfcqzm3ft2j",
                          "com.example.record/3jqfcqzm4fc2j"};
    for (size_t i = 0; i < ARRAY_LEN(five); i++) {
        CHECK(mst_add(m, bytes_str(five[i]), &leaf) == ERR_OK);
    }
    CHECK(root_is(m, "bafyreicmahysq4n6wfuxo522m6dpiy7z7qzym3dzs756t5n7nfdgccwq7m"));
    /* deleting everything gives back the empty tree */
    for (size_t i = 0; i < ARRAY_LEN(five); i++) {
        CHECK(mst_delete(m, bytes_str(five[i])) == ERR_OK);
    }
    CHECK(root_is(m, "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"));
    mst_free(m);
    blockmap_clear(&bm);
}

static void test_mst_rejects_bad_keys(void)
{
    struct cid v = value_for(1);
    struct blockmap bm;
    blockmap_init(&bm);
    struct mst *m = mst_new(blockmap_source(&bm));
    const char *bad[] = {"",         "asdf",   "nested/collection/asdf",
                         "coll/",    "/rkey",  "coll/jalapeñoA",
                         "coll/a b", "coll/$", "coll/@",
                         "coll/#"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        CHECK(mst_add(m, bytes_str(bad[i]), &v) == ERR_INVALID);
    }
    char big[1100];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    big[4] = '/';
    CHECK(mst_add(m, bytes_str(big), &v) == ERR_INVALID);
    const char *good[] = {"coll/3jui7kd54zh2y", "com.example/rkey", "coll/~1.2-3_", "coll/pre:fix",
                          "coll/_"};
    for (size_t i = 0; i < ARRAY_LEN(good); i++) {
        CHECK(mst_add(m, bytes_str(good[i]), &v) == ERR_OK);
    }
    CHECK(mst_add(m, bytes_str(good[0]), &v) == ERR_CONFLICT);
    CHECK(mst_delete(m, BYTES_LIT("coll/absent")) == ERR_NOT_FOUND);
    mst_free(m);
    blockmap_clear(&bm);
}

/* Builds the tree of the key set `present` in a random order. */
static struct mst *build_set(struct blockmap *bm, const bool *present, const int *vals)
{
    int order[KEY_POOL];
    for (int i = 0; i < KEY_POOL; i++) {
        order[i] = i;
    }
    for (int i = KEY_POOL - 1; i > 0; i--) {
        int j = (int)(rng() % (uint64_t)(i + 1)), tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    struct mst *m = mst_new(blockmap_source(bm));
    for (int i = 0; i < KEY_POOL; i++) {
        if (present[order[i]]) {
            struct cid v = value_for(vals[order[i]]);
            if (mst_add(m, bytes_str(keys[order[i]]), &v)) {
                mst_free(m);
                return NULL;
            }
        }
    }
    return m;
}

/* 1,000 random insert/update/delete sequences give the same root as building the final
 * key set from scratch in another order. */
static void test_mst_property_canonical(void)
{
    int mismatches = 0;
    for (int round = 0; round < 1000; round++) {
        struct blockmap bm;
        blockmap_init(&bm);
        struct mst *m = mst_new(blockmap_source(&bm));
        bool present[KEY_POOL] = {0};
        int vals[KEY_POOL] = {0};
        int nops = 1 + (int)(rng() % 120), pool = 10 + (int)(rng() % (KEY_POOL - 10));
        for (int k = 0; k < nops; k++) {
            int i = (int)(rng() % (uint64_t)pool);
            if (present[i] && rng() % 3 == 0) {
                CHECK(mst_delete(m, bytes_str(keys[i])) == ERR_OK);
                present[i] = false;
            } else {
                vals[i] = (int)(rng() % 1000);
                struct cid v = value_for(vals[i]);
                CHECK(mst_put(m, bytes_str(keys[i]), &v) == ERR_OK);
                present[i] = true;
            }
            if (rng() % 8 == 0) { /* hash in the middle sometimes: dirty tracking */
                struct cid tmp;
                CHECK(mst_root(m, NULL, &tmp) == ERR_OK);
            }
        }
        struct mst *fresh = build_set(&bm, present, vals);
        struct cid a, b;
        CHECK(fresh != NULL);
        if (fresh && (mst_root(m, NULL, &a) || mst_root(fresh, NULL, &b) || !cid_equal(&a, &b))) {
            mismatches++;
        }
        mst_free(fresh);
        mst_free(m);
        blockmap_clear(&bm);
    }
    CHECK_EQ(mismatches, 0);
}

struct collected {
    int n;
    char last[64];
    bool ordered;
};

static bool collect(void *ctx, struct bytes key, const struct cid *value)
{
    struct collected *c = ctx;
    char k[64];
    snprintf(k, sizeof(k), "%.*s", (int)key.len, (const char *)key.ptr);
    if (c->n > 0 && strcmp(c->last, k) >= 0) {
        c->ordered = false;
    }
    snprintf(c->last, sizeof(c->last), "%s", k);
    c->n++;
    return true;
}

/* A tree stored as blocks and reloaded lazily answers reads and writes like the original. */
static void test_mst_lazy_load_and_list(void)
{
    struct blockmap bm;
    blockmap_init(&bm);
    struct mst *m = mst_new(blockmap_source(&bm));
    for (int i = 0; i < KEY_POOL; i++) {
        struct cid v = value_for(i);
        CHECK(mst_add(m, bytes_str(keys[i]), &v) == ERR_OK);
    }
    struct cid root;
    CHECK(mst_root(m, &bm, &root) == ERR_OK);

    struct mst *l = mst_load(blockmap_source(&bm), &root);
    l->verify = true;
    for (int i = 0; i < KEY_POOL; i++) {
        struct cid got, want = value_for(i);
        CHECK(mst_get(l, bytes_str(keys[i]), &got) == ERR_OK && cid_equal(&got, &want));
    }
    struct cid out;
    CHECK(mst_get(l, BYTES_LIT("app.bsky.feed.post/zzzzzzzzzzzzz"), &out) == ERR_NOT_FOUND);

    struct collected c = {0, "", true};
    CHECK(mst_list(l, (struct bytes){NULL, 0}, 0, collect, &c) == ERR_OK);
    CHECK_EQ(c.n, KEY_POOL);
    CHECK(c.ordered);
    /* from a cursor: only keys after it, in order, up to the limit */
    struct collected d = {0, "", true};
    CHECK(mst_list(l, BYTES_LIT("app.bsky.feed.post/"), 10, collect, &d) == ERR_OK);
    CHECK_EQ(d.n, 10);
    CHECK(d.ordered);
    int after_like = 0;
    for (int i = 0; i < KEY_POOL; i++) {
        after_like += strcmp(keys[i], "app.bsky.feed.post/") > 0;
    }
    struct collected e = {0, "", true};
    CHECK(mst_list(l, BYTES_LIT("app.bsky.feed.post/"), 0, collect, &e) == ERR_OK);
    CHECK_EQ(e.n, after_like);

    /* the same writes on the loaded tree and the in-memory one agree */
    for (int i = 0; i < 50; i++) {
        CHECK(mst_delete(l, bytes_str(keys[i])) == ERR_OK);
        CHECK(mst_delete(m, bytes_str(keys[i])) == ERR_OK);
    }
    struct cid r1, r2;
    CHECK(mst_root(l, &bm, &r1) == ERR_OK && mst_root(m, NULL, &r2) == ERR_OK);
    CHECK(cid_equal(&r1, &r2));
    mst_free(l);
    mst_free(m);
    blockmap_clear(&bm);
}

struct diff_log {
    int creates, updates, deletes;
    struct blockmap *nodes, *old_nodes;
};

static enum err on_op(void *ctx, struct bytes key, const struct cid *old, const struct cid *new_)
{
    struct diff_log *d = ctx;
    d->creates += !old && new_;
    d->updates += old && new_;
    d->deletes += old && !new_;
    return ERR_OK;
}

static enum err on_node(void *ctx, const struct cid *cid)
{
    struct diff_log *d = ctx;
    blockmap_put(d->nodes, cid, BYTES_LIT(""));
    return ERR_OK;
}

static enum err on_old_node(void *ctx, const struct cid *cid)
{
    struct diff_log *d = ctx;
    blockmap_put(d->old_nodes, cid, BYTES_LIT(""));
    return ERR_OK;
}

static enum err put_block(void *ctx, const struct cid *cid, struct bytes block)
{
    blockmap_put(ctx, cid, block);
    return ERR_OK;
}

/* The diff of two trees names exactly the changed keys; the new nodes are exactly the
 * nodes of the new tree that the old one lacks, and the old nodes the reverse. */
static void test_mst_diff(void)
{
    for (int round = 0; round < 50; round++) {
        struct blockmap bm;
        blockmap_init(&bm);
        bool in_a[KEY_POOL], in_b[KEY_POOL];
        int va[KEY_POOL], vb[KEY_POOL];
        int creates = 0, updates = 0, deletes = 0;
        for (int i = 0; i < KEY_POOL; i++) {
            in_a[i] = rng() % 2;
            va[i] = (int)(rng() % 5);
            in_b[i] = rng() % 5 ? in_a[i] : !in_a[i];
            vb[i] = rng() % 6 ? va[i] : va[i] + 7;
            creates += !in_a[i] && in_b[i];
            deletes += in_a[i] && !in_b[i];
            updates += in_a[i] && in_b[i] && va[i] != vb[i];
        }
        struct mst *a = build_set(&bm, in_a, va), *b = build_set(&bm, in_b, vb);
        struct blockmap nodes, old_nodes, na, nb;
        blockmap_init(&nodes);
        blockmap_init(&old_nodes);
        blockmap_init(&na);
        blockmap_init(&nb);
        struct diff_log log = {0, 0, 0, &nodes, &old_nodes};
        struct mst_diff_fns fns = {on_op, on_node, on_old_node, &log};
        CHECK(mst_diff(a, b, &fns) == ERR_OK);
        CHECK_EQ(log.creates, creates);
        CHECK_EQ(log.updates, updates);
        CHECK_EQ(log.deletes, deletes);
        CHECK(mst_walk_nodes(a, put_block, &na) == ERR_OK);
        CHECK(mst_walk_nodes(b, put_block, &nb) == ERR_OK);
        int expect_new = 0;
        for (size_t i = 0; i < nb.len; i++) {
            bool fresh = !blockmap_has(&na, &nb.entries[i].cid);
            expect_new += fresh;
            CHECK(blockmap_has(&nodes, &nb.entries[i].cid) == fresh);
        }
        CHECK_EQ((long long)nodes.len, expect_new);
        int expect_old = 0;
        for (size_t i = 0; i < na.len; i++) {
            bool gone = !blockmap_has(&nb, &na.entries[i].cid);
            expect_old += gone;
            CHECK(blockmap_has(&old_nodes, &na.entries[i].cid) == gone);
        }
        CHECK_EQ((long long)old_nodes.len, expect_old);
        blockmap_clear(&nodes);
        blockmap_clear(&old_nodes);
        blockmap_clear(&na);
        blockmap_clear(&nb);
        mst_free(a);
        mst_free(b);
        blockmap_clear(&bm);
    }
}

/* Sync 1.1: a random commit's covering-proof blocks alone let a consumer invert its
 * operations and reach the previous root. */
static void test_mst_property_inversion(void)
{
    int failures = 0;
    for (int round = 0; round < 300; round++) {
        struct blockmap bm;
        blockmap_init(&bm);
        bool present[KEY_POOL] = {0};
        int vals[KEY_POOL] = {0};
        int pool = 5 + (int)(rng() % (KEY_POOL - 5));
        for (int i = 0; i < pool; i++) {
            present[i] = rng() % 2;
            vals[i] = (int)(rng() % 100);
        }
        struct mst *m = build_set(&bm, present, vals);
        struct cid before, after;
        CHECK(mst_root(m, &bm, &before) == ERR_OK);
        /* up to 10 operations on distinct keys */
        int touched[10], kinds[10], nops = 1 + (int)(rng() % 10);
        bool used[KEY_POOL] = {0};
        for (int k = 0; k < nops; k++) {
            int i;
            do {
                i = (int)(rng() % (uint64_t)pool);
            } while (used[i]);
            used[i] = true;
            touched[k] = i;
            struct cid v = value_for(1000 + k);
            if (present[i]) {
                kinds[k] = rng() % 2 ? 'u' : 'd';
                CHECK((kinds[k] == 'u' ? mst_put(m, bytes_str(keys[i]), &v)
                                       : mst_delete(m, bytes_str(keys[i]))) == ERR_OK);
            } else {
                kinds[k] = 'c';
                CHECK(mst_add(m, bytes_str(keys[i]), &v) == ERR_OK);
            }
        }
        CHECK(mst_root(m, &bm, &after) == ERR_OK);
        struct blockmap proof;
        blockmap_init(&proof);
        for (int k = 0; k < nops; k++) {
            CHECK(mst_covering_proof(m, bytes_str(keys[touched[k]]), &proof) == ERR_OK);
        }
        struct mst *inv = mst_load(blockmap_source(&proof), &after);
        bool ok = true;
        for (int k = nops - 1; k >= 0 && ok; k--) {
            int i = touched[k];
            struct cid old = value_for(vals[i]);
            if (kinds[k] == 'c') {
                ok = mst_delete(inv, bytes_str(keys[i])) == ERR_OK;
            } else if (kinds[k] == 'u') {
                ok = mst_put(inv, bytes_str(keys[i]), &old) == ERR_OK;
            } else {
                ok = mst_add(inv, bytes_str(keys[i]), &old) == ERR_OK;
            }
        }
        struct cid back;
        if (!ok || mst_root(inv, NULL, &back) || !cid_equal(&back, &before)) {
            failures++;
        }
        mst_free(inv);
        blockmap_clear(&proof);
        mst_free(m);
        blockmap_clear(&bm);
    }
    CHECK_EQ(failures, 0);
}

/* Hand-made node blocks that break a rule are refused when loading untrusted data. */
static void test_mst_rejects_malformed_nodes(void)
{
    struct cid leaf;
    CHECK(cid_parse_str(LEAF_CID, &leaf) == ERR_OK);
    struct arena a;
    arena_init(&a);
    /* two keys of one layer: find two layer-0 keys whose order we control */
    const char *k1 = NULL, *k2 = NULL;
    for (int i = 0; i < KEY_POOL && !(k1 && k2); i++) {
        if (mst_key_height(bytes_str(keys[i])) == 0) {
            if (!k1) {
                k1 = keys[i];
            } else if (strcmp(keys[i], k1) > 0 && strncmp(keys[i], k1, 19) == 0) {
                k2 = keys[i];
            }
        }
    }
    CHECK(k1 && k2);
    struct {
        const char *name;
        const char *first, *second;
        int p2;
        bool link_below;
    } cases[] = {
        {"unsorted", k2, k1, 0, false},
        {"prefix not maximal", k1, k2, 0, false},
        {"link below layer 0", k1, k2, -1, true},
        {"prefix too long", k1, k2, 100, false},
    };
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        struct buf b;
        buf_init(&b, BUF_MAX_DEFAULT);
        size_t shared = mst_common_prefix(bytes_str(cases[c].first), bytes_str(cases[c].second));
        int p2 = cases[c].p2 < 0 ? (int)shared : cases[c].p2;
        if (cases[c].p2 == 0 && c == 0) {
            p2 = 0;
        }
        CHECK(dagcbor_put_map(&b, 2) == ERR_OK && dagcbor_put_cstr(&b, "e") == ERR_OK &&
              dagcbor_put_array(&b, 2) == ERR_OK);
        const char *ks[2] = {cases[c].first, cases[c].second};
        for (int i = 0; i < 2; i++) {
            size_t p = i ? (size_t)p2 : 0;
            size_t klen = strlen(ks[i]);
            size_t take = p <= klen ? p : klen;
            CHECK(dagcbor_put_map(&b, 4) == ERR_OK && dagcbor_put_cstr(&b, "k") == ERR_OK &&
                  dagcbor_put_bytes(&b, bytes_of(ks[i] + take, klen - take)) == ERR_OK &&
                  dagcbor_put_cstr(&b, "p") == ERR_OK && dagcbor_put_uint(&b, p) == ERR_OK &&
                  dagcbor_put_cstr(&b, "t") == ERR_OK);
            CHECK((cases[c].link_below && i == 1 ? dagcbor_put_link(&b, &leaf)
                                                 : dagcbor_put_null(&b)) == ERR_OK);
            CHECK(dagcbor_put_cstr(&b, "v") == ERR_OK && dagcbor_put_link(&b, &leaf) == ERR_OK);
        }
        CHECK(dagcbor_put_cstr(&b, "l") == ERR_OK && dagcbor_put_null(&b) == ERR_OK);
        struct blockmap bm;
        blockmap_init(&bm);
        struct cid root;
        blockmap_put_cbor(&bm, buf_bytes(&b), &root);
        struct mst *m = mst_load(blockmap_source(&bm), &root);
        m->verify = true;
        struct cid out;
        enum err e = mst_get(m, bytes_str(k1), &out);
        if (e != ERR_INVALID) {
            fprintf(stderr, "case %s: got %s\n", cases[c].name, err_str(e));
        }
        CHECK(e == ERR_INVALID);
        mst_free(m);
        blockmap_clear(&bm);
        buf_clear(&b);
    }
    /* a missing block is reported, not invented */
    struct blockmap empty;
    blockmap_init(&empty);
    struct mst *m = mst_load(blockmap_source(&empty), &leaf);
    struct cid out;
    CHECK(mst_get(m, BYTES_LIT("a/b"), &out) == ERR_MISSING);
    mst_free(m);
    blockmap_clear(&empty);
    arena_clear(&a);
}

int main(void)
{
    make_keys();
    RUN(test_mst_known_roots);
    RUN(test_mst_rejects_bad_keys);
    RUN(test_mst_property_canonical);
    RUN(test_mst_lazy_load_and_list);
    RUN(test_mst_diff);
    RUN(test_mst_property_inversion);
    RUN(test_mst_rejects_malformed_nodes);
    return test_report();
}
