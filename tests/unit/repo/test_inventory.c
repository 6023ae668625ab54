/* test_inventory.c - reading a repository export for a migration: counts, blob references
 * with sizes (typed, legacy, nested, repeated), and every way a CAR must be refused. */
#include "unit/test.h"

#include "core/dagcbor.h"
#include "repo/car.h"
#include "repo/commit.h"
#include "repo/inventory.h"
#include "repo/mst.h"

#define DID "did:plc:abcdefghijklmnopqrstuvwx"

struct fixture {
    struct sigkey key;
    struct buf car;
    struct cid blob_a, blob_b;
    struct cid record_cid; /* the last record's block, to drop it */
};

static struct dm_value *blob_ref(struct arena *a, const struct cid *c, int64_t size)
{
    struct dm_value *b = dm_map(a);
    dm_map_put(a, b, "$type", dm_cstr(a, "blob"));
    dm_map_put(a, b, "ref", dm_link(a, c));
    dm_map_put(a, b, "mimeType", dm_cstr(a, "image/png"));
    dm_map_put(a, b, "size", dm_int(a, size));
    return b;
}

/* A post, with images (a list of blob refs) when given. */
static void put_record(struct arena *a, struct blockmap *blocks, struct mst *t, const char *key,
                       const struct cid *imgs, const int64_t *sizes, size_t n, struct cid *out)
{
    struct dm_value *r = dm_map(a);
    dm_map_put(a, r, "$type", dm_cstr(a, "app.bsky.feed.post"));
    dm_map_put(a, r, "text", dm_cstr(a, key));
    if (n) {
        struct dm_value *embed = dm_map(a), *list = dm_array(a);
        for (size_t i = 0; i < n; i++) {
            struct dm_value *img = dm_map(a);
            dm_map_put(a, img, "image", blob_ref(a, &imgs[i], sizes[i]));
            dm_array_push(a, list, img);
        }
        dm_map_put(a, embed, "images", list);
        dm_map_put(a, r, "embed", embed);
    }
    struct buf b;
    buf_init(&b, BUF_MAX_DEFAULT);
    CHECK(dagcbor_encode(r, &b) == ERR_OK);
    struct cid c;
    blockmap_put_cbor(blocks, buf_bytes(&b), &c);
    CHECK(mst_put(t, bytes_str(key), &c) == ERR_OK);
    buf_clear(&b);
    if (out) {
        *out = c;
    }
}

/* A repository of 30 posts, two of them with images (blob a twice, blob b once, and a
 * legacy ref to b), as a CAR. skip_record leaves the last record's block out. */
static void build(struct fixture *f, bool skip_record, const char *did)
{
    CHECK(sigkey_generate(SIGKEY_K256, &f->key) == ERR_OK);
    cid_compute(CID_CODEC_RAW, BYTES_LIT("image a"), &f->blob_a);
    cid_compute(CID_CODEC_RAW, BYTES_LIT("image b"), &f->blob_b);
    struct arena a;
    arena_init(&a);
    struct blockmap records, nodes;
    blockmap_init(&records);
    blockmap_init(&nodes);
    struct mst *t = mst_new(blockmap_source(&records));
    char key[64];
    for (int i = 0; i < 28; i++) {
        snprintf(key, sizeof key, "app.bsky.feed.post/3k%011d", i);
        put_record(&a, &records, t, key, NULL, NULL, 0, NULL);
    }
    struct cid two[2] = {f->blob_a, f->blob_b};
    int64_t sizes[2] = {1000, 2500};
    put_record(&a, &records, t, "app.bsky.feed.post/3kimages0001", two, sizes, 2, NULL);
    struct cid again[1] = {f->blob_a};
    int64_t size_again[1] = {1000};
    put_record(&a, &records, t, "app.bsky.feed.post/3kimages0002", again, size_again, 1,
               &f->record_cid);
    /* a legacy ref {cid, mimeType} to b: the same blob, counted once */
    struct dm_value *legacy = dm_map(&a), *av = dm_map(&a);
    char bs[CID_STR_MAX];
    cid_format(&f->blob_b, bs);
    dm_map_put(&a, legacy, "cid", dm_cstr(&a, bs));
    dm_map_put(&a, legacy, "mimeType", dm_cstr(&a, "image/png"));
    dm_map_put(&a, av, "$type", dm_cstr(&a, "app.bsky.actor.profile"));
    dm_map_put(&a, av, "avatar", legacy);
    struct buf rb;
    buf_init(&rb, BUF_MAX_DEFAULT);
    CHECK(dagcbor_encode(av, &rb) == ERR_OK);
    struct cid pc;
    blockmap_put_cbor(&records, buf_bytes(&rb), &pc);
    CHECK(mst_put(t, BYTES_LIT("app.bsky.actor.profile/self"), &pc) == ERR_OK);
    buf_clear(&rb);

    struct cid root;
    CHECK(mst_root(t, &nodes, &root) == ERR_OK);
    struct buf commit;
    buf_init(&commit, BUF_MAX_DEFAULT);
    struct cid ccid;
    CHECK(commit_create(bytes_str(did), &root, BYTES_LIT("3kabcdefghij2"), &f->key, &commit,
                        &ccid) == ERR_OK);
    buf_init(&f->car, (size_t)16 << 20);
    struct car_writer w;
    CHECK(car_writer_begin(&w, car_sink_buf, &f->car, &ccid, 1) == ERR_OK);
    CHECK(car_writer_block(&w, &ccid, buf_bytes(&commit)) == ERR_OK);
    for (size_t i = 0; i < nodes.len; i++) {
        CHECK(car_writer_block(&w, &nodes.entries[i].cid,
                               bytes_of(nodes.entries[i].data, nodes.entries[i].len)) == ERR_OK);
    }
    for (size_t i = 0; i < records.len; i++) {
        if (skip_record && cid_equal(&records.entries[i].cid, &f->record_cid)) {
            continue;
        }
        CHECK(car_writer_block(&w, &records.entries[i].cid,
                               bytes_of(records.entries[i].data, records.entries[i].len)) ==
              ERR_OK);
    }
    buf_clear(&commit);
    mst_free(t);
    blockmap_clear(&records);
    blockmap_clear(&nodes);
    arena_clear(&a);
}

static void fixture_clear(struct fixture *f)
{
    buf_clear(&f->car);
    sigkey_clear(&f->key);
}

static void test_inventory_counts_records_and_distinct_blobs(void)
{
    struct fixture f;
    build(&f, false, DID);
    struct inventory inv;
    inventory_init(&inv);
    CHECK(inventory_read(&inv, buf_bytes(&f.car), DID, &f.key) == ERR_OK);
    CHECK_EQ(inv.records, 31);
    CHECK(inv.sig_valid);
    CHECK_STR(inv.rev, "3kabcdefghij2");
    CHECK_EQ(inv.nblobs, 2);
    CHECK_EQ(inv.blob_bytes, 3500);
    CHECK_EQ(inv.largest_blob, 2500);
    CHECK_EQ(inv.car_bytes, f.car.len);
    CHECK(cid_equal(&inv.blobs[0].cid, &f.blob_a) || cid_equal(&inv.blobs[1].cid, &f.blob_a));
    inventory_clear(&inv);
    /* no key: structure only, and the signature is not claimed */
    CHECK(inventory_read(&inv, buf_bytes(&f.car), DID, NULL) == ERR_OK);
    CHECK(!inv.sig_valid);
    inventory_clear(&inv);
    fixture_clear(&f);
}

static void test_inventory_refuses_bad_exports(void)
{
    struct fixture f;
    build(&f, false, DID);
    struct inventory inv;
    inventory_init(&inv);
    /* signed by another key */
    struct sigkey other;
    CHECK(sigkey_generate(SIGKEY_K256, &other) == ERR_OK);
    CHECK(inventory_read(&inv, buf_bytes(&f.car), DID, &other) == ERR_INVALID);
    CHECK(strstr(inv.why, "signature") != NULL);
    CHECK_EQ(inv.nblobs, 0);
    /* for another account */
    CHECK(inventory_read(&inv, buf_bytes(&f.car), "did:plc:zzzzzzzzzzzzzzzzzzzzzzzz", &f.key) ==
          ERR_INVALID);
    CHECK(strstr(inv.why, "another account") != NULL);
    /* a flipped byte in the last block: its CID no longer matches */
    f.car.ptr[f.car.len - 3] ^= 0x40;
    CHECK(inventory_read(&inv, buf_bytes(&f.car), DID, &f.key) == ERR_INVALID);
    CHECK(strstr(inv.why, "does not match its CID") != NULL);
    f.car.ptr[f.car.len - 3] ^= 0x40;
    /* cut short */
    CHECK(inventory_read(&inv, bytes_of(f.car.ptr, f.car.len - 5), DID, &f.key) == ERR_TRUNCATED);
    CHECK(inventory_read(&inv, BYTES_LIT(""), DID, &f.key) != ERR_OK);
    sigkey_clear(&other);
    fixture_clear(&f);
    /* a record's block left out */
    build(&f, true, DID);
    CHECK(inventory_read(&inv, buf_bytes(&f.car), DID, &f.key) == ERR_INVALID);
    CHECK(strstr(inv.why, "missing") != NULL);
    inventory_clear(&inv);
    fixture_clear(&f);
}

int main(void)
{
    RUN(test_inventory_counts_records_and_distinct_blobs);
    RUN(test_inventory_refuses_bad_exports);
    return test_report();
}
