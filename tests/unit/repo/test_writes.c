/* test_writes.c - the pure write path: ops and prevs, swaps, no-ops, and the #commit event
 * body, which a consumer must be able to invert with its own blocks alone (Sync 1.1). */
#include "unit/test.h"

#include "core/dagcbor.h"
#include "repo/car.h"
#include "repo/commit.h"
#include "repo/mst.h"
#include "repo/writes.h"

#define DID "did:plc:abcdefghijklmnopqrstuvwx"

static struct sigkey key;
static struct tid_gen tids;

/* A repository: its blocks, and its head. */
struct repo {
    struct blockmap store;
    struct repo_head head;
};

static void repo_init(struct repo *r)
{
    blockmap_init(&r->store);
    memset(&r->head, 0, sizeof(r->head));
    r->head.did = BYTES_LIT(DID);
}

static struct bytes record(struct arena *a, const char *text)
{
    struct dm_value *v = dm_map(a);
    dm_map_put(a, v, "$type", dm_cstr(a, "app.bsky.feed.post"));
    dm_map_put(a, v, "text", dm_cstr(a, text));
    struct buf b;
    buf_init(&b, BUF_MAX_DEFAULT);
    if (dagcbor_encode(v, &b)) {
        abort();
    }
    struct bytes out = bytes_of(arena_memdup(a, b.ptr, b.len), b.len);
    buf_clear(&b);
    return out;
}

static enum err commit_to(struct repo *r, struct repo_write *w, size_t n, struct repo_commit *c,
                          size_t *failed)
{
    repo_commit_init(c);
    enum err e = repo_apply_writes(blockmap_source(&r->store), &r->head, w, n, &key, &tids,
                                   1795512233000, c, failed);
    if (!e && !c->empty) {
        /* garbage must be exactly what the new commit no longer reaches */
        for (size_t i = 0; i < c->nremoved; i++) {
            if (blockmap_has(&c->blocks, &c->removed[i])) {
                fprintf(stderr, "a removed block is also new\n");
                return ERR_INTERNAL;
            }
        }
        blockmap_add_all(&r->store, &c->blocks);
        r->head.exists = true;
        r->head.commit = c->commit;
        r->head.data = c->data;
        memcpy(r->head.rev, c->rev, sizeof(r->head.rev));
    }
    return e;
}

struct car_blocks {
    struct blockmap map;
    struct cid root;
    size_t nroots;
};

static enum err on_header(void *ctx, const struct cid *roots, size_t nroots)
{
    struct car_blocks *cb = ctx;
    cb->nroots = nroots;
    if (nroots) {
        cb->root = roots[0];
    }
    return ERR_OK;
}

static enum err on_block(void *ctx, const struct cid *cid, struct bytes data)
{
    blockmap_put(&((struct car_blocks *)ctx)->map, cid, data);
    return ERR_OK;
}

/* Plays the consumer: reads the event, checks its fields, and inverts its ops on a tree
 * made of the event's blocks alone; the result must be prevData. */
static bool consume_event(const struct buf *ev, const struct repo_head *before, const char *rev)
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v;
    bool ok = dagcbor_decode(buf_bytes(ev), &a, &v) == ERR_OK && v->kind == DM_MAP;
    struct dm_value *blocks = ok ? dm_map_get(v, "blocks") : NULL;
    struct dm_value *ops = ok ? dm_map_get(v, "ops") : NULL;
    struct dm_value *prev_data = ok ? dm_map_get(v, "prevData") : NULL;
    struct dm_value *since = ok ? dm_map_get(v, "since") : NULL;
    ok = ok && blocks && blocks->kind == DM_BYTES && ops && ops->kind == DM_ARRAY && since;
    ok = ok && bytes_eq(dm_map_str(v, "repo"), BYTES_LIT(DID)) &&
         bytes_eq(dm_map_str(v, "rev"), bytes_str(rev));
    ok = ok && dm_map_get(v, "tooBig") && dm_map_get(v, "rebase") && dm_map_get(v, "blobs") &&
         dm_map_get(v, "time") && !dm_map_get(v, "seq");
    if (before->exists) {
        ok = ok && prev_data && prev_data->kind == DM_LINK &&
             cid_equal(&prev_data->u.link, &before->data) && since->kind == DM_STRING &&
             bytes_eq(since->u.str, bytes_str(before->rev));
    } else {
        ok = ok && !prev_data && since->kind == DM_NULL;
    }
    struct car_blocks cb;
    blockmap_init(&cb.map);
    cb.nroots = 0;
    ok = ok && car_read_all(blocks->u.str, 0, on_header, on_block, &cb) == ERR_OK && cb.nroots == 1;
    struct commit c;
    const struct blockmap_entry *cblock = ok ? blockmap_get(&cb.map, &cb.root) : NULL;
    ok = ok && cblock && commit_decode(bytes_of(cblock->data, cblock->len), &a, &c) == ERR_OK &&
         commit_verify(&c, &key);
    if (ok && before->exists) {
        /* invert: deletes first, then by path (the consumer's order) is not needed for
         * correctness of a canonical tree; any order must work */
        struct mst *m = mst_load(blockmap_source(&cb.map), &c.data);
        for (size_t i = 0; i < ops->u.array.len && ok; i++) {
            struct dm_value *op = ops->u.array.items[i];
            struct bytes action = dm_map_str(op, "action"), path = dm_map_str(op, "path");
            struct dm_value *cid = dm_map_get(op, "cid"), *prev = dm_map_get(op, "prev");
            if (bytes_eq(action, BYTES_LIT("create"))) {
                ok = cid && cid->kind == DM_LINK && !prev && mst_delete(m, path) == ERR_OK;
            } else if (bytes_eq(action, BYTES_LIT("update"))) {
                ok = cid && cid->kind == DM_LINK && prev && prev->kind == DM_LINK &&
                     mst_put(m, path, &prev->u.link) == ERR_OK;
            } else if (bytes_eq(action, BYTES_LIT("delete"))) {
                ok = cid && cid->kind == DM_NULL && prev && prev->kind == DM_LINK &&
                     mst_add(m, path, &prev->u.link) == ERR_OK;
            } else {
                ok = false;
            }
        }
        struct cid root;
        ok = ok && mst_root(m, NULL, &root) == ERR_OK && cid_equal(&root, &before->data);
        mst_free(m);
    }
    blockmap_clear(&cb.map);
    arena_clear(&a);
    return ok;
}

static void test_writes_first_commit_and_ops(void)
{
    struct arena a;
    arena_init(&a);
    struct repo r;
    repo_init(&r);
    struct repo_commit c;
    size_t failed = 0;
    repo_commit_init(&c);
    CHECK(repo_apply_empty(blockmap_source(&r.store), &r.head, &key, &tids, 1795512233000, &c) ==
          ERR_OK);
    struct repo_head empty_before = r.head;
    CHECK(consume_event(&c.event, &empty_before, c.rev));
    blockmap_add_all(&r.store, &c.blocks);
    r.head.exists = true;
    r.head.commit = c.commit;
    r.head.data = c.data;
    memcpy(r.head.rev, c.rev, sizeof(r.head.rev));
    repo_commit_clear(&c);

    struct repo_write w[3] = {
        {.action = REPO_CREATE,
         .collection = BYTES_LIT("app.bsky.feed.post"),
         .rkey = BYTES_LIT("3jzfcijpj2z2a"),
         .record = record(&a, "one")},
        {.action = REPO_CREATE,
         .collection = BYTES_LIT("app.bsky.feed.post"),
         .rkey = BYTES_LIT("3jzfcijpj2z2b"),
         .record = record(&a, "two")},
        {.action = REPO_UPDATE,
         .collection = BYTES_LIT("app.bsky.actor.profile"),
         .rkey = BYTES_LIT("self"),
         .record = record(&a, "me")},
    };
    struct repo_head before = r.head;
    CHECK(commit_to(&r, w, 3, &c, &failed) == ERR_OK);
    CHECK(!c.empty);
    CHECK(!w[0].had_prev && !w[2].had_prev);
    CHECK(strcmp(c.rev, before.rev) > 0);
    CHECK(consume_event(&c.event, &before, c.rev));
    repo_commit_clear(&c);

    /* update one, delete one, delete a missing one (no-op) */
    struct repo_write w2[3] = {
        {.action = REPO_UPDATE,
         .collection = BYTES_LIT("app.bsky.feed.post"),
         .rkey = BYTES_LIT("3jzfcijpj2z2a"),
         .record = record(&a, "one, edited")},
        {.action = REPO_DELETE,
         .collection = BYTES_LIT("app.bsky.feed.post"),
         .rkey = BYTES_LIT("3jzfcijpj2z2b")},
        {.action = REPO_DELETE,
         .collection = BYTES_LIT("app.bsky.feed.post"),
         .rkey = BYTES_LIT("3jzfcijpj2zzz")},
    };
    before = r.head;
    CHECK(commit_to(&r, w2, 3, &c, &failed) == ERR_OK);
    CHECK(w2[0].had_prev && cid_equal(&w2[0].prev, &w[0].cid));
    CHECK(w2[1].had_prev && cid_equal(&w2[1].prev, &w[1].cid));
    CHECK(w2[2].noop);
    CHECK(consume_event(&c.event, &before, c.rev));
    repo_commit_clear(&c);

    /* the same value again: nothing to commit */
    struct repo_write same = {.action = REPO_UPDATE,
                              .collection = BYTES_LIT("app.bsky.feed.post"),
                              .rkey = BYTES_LIT("3jzfcijpj2z2a"),
                              .record = record(&a, "one, edited")};
    CHECK(commit_to(&r, &same, 1, &c, &failed) == ERR_OK);
    CHECK(c.empty && same.noop);
    CHECK(cid_equal(&c.commit, &r.head.commit));
    repo_commit_clear(&c);
    blockmap_clear(&r.store);
    arena_clear(&a);
}

struct reach {
    struct blockmap *seen;
};

static enum err mark(void *ctx, const struct cid *cid, struct bytes block)
{
    blockmap_put(ctx, cid, block);
    return ERR_OK;
}

/* Every removed node is unreachable from the new root, every node of the old tree that is
 * unreachable was removed, and the old commit is garbage. */
static void test_writes_garbage_is_exact(void)
{
    struct arena a;
    arena_init(&a);
    struct repo r;
    repo_init(&r);
    struct repo_commit c;
    size_t failed;
    char rkey[16], text[32];
    for (int round = 0; round < 40; round++) {
        struct repo_write w[4];
        int n = 1 + round % 4;
        for (int k = 0; k < n; k++) {
            snprintf(rkey, sizeof(rkey), "3jzfcijpj2z%02d", (round * 7 + k * 13) % 60);
            snprintf(text, sizeof(text), "r%d-%d", round, k);
            struct bytes rk = bytes_of(arena_strndup(&a, rkey, strlen(rkey)), strlen(rkey));
            w[k] = (struct repo_write){.action = round % 3 == 2 ? REPO_DELETE : REPO_UPDATE,
                                       .collection = BYTES_LIT("app.bsky.feed.post"),
                                       .rkey = rk,
                                       .record = record(&a, text)};
            for (int j = 0; j < k; j++) {
                if (bytes_eq(w[j].rkey, rk)) {
                    w[k].rkey = BYTES_LIT("3jzfcijpj2zzz");
                }
            }
        }
        struct repo_head before = r.head;
        struct blockmap old_nodes;
        blockmap_init(&old_nodes);
        if (before.exists) {
            struct mst *old = mst_load(blockmap_source(&r.store), &before.data);
            CHECK(mst_walk_nodes(old, mark, &old_nodes) == ERR_OK);
            mst_free(old);
        }
        enum err e = commit_to(&r, w, (size_t)n, &c, &failed);
        CHECK(e == ERR_OK || e == ERR_INVALID);
        if (e == ERR_OK && !c.empty) {
            struct blockmap new_nodes;
            blockmap_init(&new_nodes);
            struct mst *now = mst_load(blockmap_source(&r.store), &r.head.data);
            CHECK(mst_walk_nodes(now, mark, &new_nodes) == ERR_OK);
            mst_free(now);
            size_t expect = 0;
            for (size_t i = 0; i < old_nodes.len; i++) {
                expect += !blockmap_has(&new_nodes, &old_nodes.entries[i].cid);
            }
            for (size_t i = 0; i < c.nremoved; i++) {
                bool is_commit = cid_equal(&c.removed[i], &before.commit);
                CHECK(is_commit || (blockmap_has(&old_nodes, &c.removed[i]) &&
                                    !blockmap_has(&new_nodes, &c.removed[i])));
            }
            CHECK_EQ((long long)c.nremoved, (long long)expect + (before.exists ? 1 : 0));
            blockmap_clear(&new_nodes);
        }
        repo_commit_clear(&c);
        blockmap_clear(&old_nodes);
    }
    blockmap_clear(&r.store);
    arena_clear(&a);
}

static void test_writes_refusals(void)
{
    struct arena a;
    arena_init(&a);
    struct repo r;
    repo_init(&r);
    struct repo_commit c;
    size_t failed = 99;
    struct repo_write first = {.action = REPO_CREATE,
                               .collection = BYTES_LIT("app.bsky.feed.post"),
                               .rkey = BYTES_LIT("3jzfcijpj2z2a"),
                               .record = record(&a, "x")};
    CHECK(commit_to(&r, &first, 1, &c, &failed) == ERR_OK);
    repo_commit_clear(&c);

    struct repo_write dup = first;
    CHECK(commit_to(&r, &dup, 1, &c, &failed) == ERR_CONFLICT);
    CHECK_EQ(failed, 0);
    repo_commit_clear(&c);

    struct repo_write swap_null = {.action = REPO_UPDATE,
                                   .collection = first.collection,
                                   .rkey = first.rkey,
                                   .record = record(&a, "y"),
                                   .has_swap = true,
                                   .swap_absent = true};
    CHECK(commit_to(&r, &swap_null, 1, &c, &failed) == ERR_CONFLICT);
    repo_commit_clear(&c);

    struct repo_write swap_wrong = swap_null;
    swap_wrong.swap_absent = false;
    cid_compute(CID_CODEC_DAGCBOR, BYTES_LIT("nope"), &swap_wrong.swap);
    CHECK(commit_to(&r, &swap_wrong, 1, &c, &failed) == ERR_CONFLICT);
    repo_commit_clear(&c);

    struct repo_write swap_right = swap_wrong;
    swap_right.swap = first.cid;
    CHECK(commit_to(&r, &swap_right, 1, &c, &failed) == ERR_OK);
    repo_commit_clear(&c);

    struct repo_write missing = {.action = REPO_UPDATE,
                                 .collection = first.collection,
                                 .rkey = BYTES_LIT("3jzfcijpj2zzz"),
                                 .record = record(&a, "z"),
                                 .must_exist = true};
    CHECK(commit_to(&r, &missing, 1, &c, &failed) == ERR_NOT_FOUND);
    repo_commit_clear(&c);

    struct repo_write twice[2] = {first, first};
    twice[0].action = REPO_DELETE;
    CHECK(commit_to(&r, twice, 2, &c, &failed) == ERR_INVALID);
    CHECK_EQ(failed, 1);
    repo_commit_clear(&c);
    blockmap_clear(&r.store);
    arena_clear(&a);
}

int main(void)
{
    if (sigkey_generate(SIGKEY_K256, &key)) {
        return 1;
    }
    tid_gen_init(&tids, 7);
    RUN(test_writes_first_commit_and_ops);
    RUN(test_writes_refusals);
    RUN(test_writes_garbage_is_exact);
    return test_report();
}
