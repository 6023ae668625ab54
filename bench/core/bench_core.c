/* bench_core.c - micro-benchmarks of the pure core: prints ns/op and ops/s (figures, never
 * pass/fail). Run: build/bench/bench_core. Build it without sanitizers for real numbers. */
#include <inttypes.h>
#include <secp256k1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/dagcbor.h"
#include "core/ipldjson.h"
#include "core/sha256.h"
#include "crypto/sigkey.h"
#include "repo/car.h"
#include "repo/commit.h"
#include "repo/mst.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *name, long ops, double secs)
{
    printf("%-44s %10.0f ns/op %12.0f ops/s\n", name, secs / (double)ops * 1e9, (double)ops / secs);
}

static const char POST_JSON[] =
    "{\"$type\":\"app.bsky.feed.post\",\"text\":\"Hello from the benchmark, a post of typical "
    "length with a link to https://example.com and a mention of @alice.example.com\","
    "\"createdAt\":\"2026-11-24T09:30:00.000Z\",\"langs\":[\"en\"],\"facets\":[{\"index\":"
    "{\"byteStart\":57,\"byteEnd\":76},\"features\":[{\"$type\":\"app.bsky.richtext.facet#link\","
    "\"uri\":\"https://example.com\"}]}]}";

static volatile uint8_t sink_byte;

static void bench_cbor(void)
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v;
    if (ipldjson_parse(BYTES_LIT(POST_JSON), &a, &v)) {
        fprintf(stderr, "bench: post JSON did not parse\n");
        exit(1);
    }
    struct buf b;
    buf_init(&b, BUF_MAX_DEFAULT);
    long n = 200000;
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        buf_reset(&b);
        if (dagcbor_encode(v, &b)) {
            exit(1);
        }
    }
    report("dag-cbor encode (post record)", n, now_s() - t0);
    struct arena d;
    arena_init(&d);
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        struct dm_value *out;
        if (dagcbor_decode(buf_bytes(&b), &d, &out)) {
            exit(1);
        }
        arena_reset(&d);
    }
    report("dag-cbor decode (post record)", n, now_s() - t0);
    t0 = now_s();
    struct cid c;
    for (long i = 0; i < n; i++) {
        cid_compute(CID_CODEC_DAGCBOR, buf_bytes(&b), &c);
        sink_byte ^= c.bytes[4];
    }
    char name[96];
    snprintf(name, sizeof(name), "cid compute (%zu-byte block)", b.len);
    report(name, n, now_s() - t0);
    t0 = now_s();
    for (long i = 0; i < n / 4; i++) {
        arena_reset(&d);
        struct dm_value *out;
        if (ipldjson_parse(BYTES_LIT(POST_JSON), &d, &out)) {
            exit(1);
        }
    }
    report("json -> data model (post record)", n / 4, now_s() - t0);
    arena_clear(&d);
    buf_clear(&b);
    arena_clear(&a);
}

static void bench_k256(void)
{
    struct sigkey k;
    if (sigkey_generate(SIGKEY_K256, &k)) {
        exit(1);
    }
    uint8_t sig[SIGKEY_SIG_BYTES];
    long n = 20000;
    uint8_t msg[200];
    memset(msg, 7, sizeof(msg));
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        msg[0] = (uint8_t)i;
        if (sigkey_sign(&k, bytes_of(msg, sizeof(msg)), sig)) {
            exit(1);
        }
    }
    double ours = (now_s() - t0) / (double)n;
    report("k256 sign (sigkey_sign, sha256 + ecdsa)", n, ours * (double)n);
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        msg[0] = (uint8_t)i;
        if (sigkey_sign(&k, bytes_of(msg, sizeof(msg)), sig)) {
            exit(1);
        }
        sink_byte ^= sigkey_verify(&k, bytes_of(msg, sizeof(msg)), bytes_of(sig, sizeof(sig)));
    }
    double both = (now_s() - t0) / (double)n;
    report("k256 verify (derived: sign+verify - sign)", n, (both - ours) * (double)n);

    /* libsecp256k1 alone on the same digest, for the 1.5x target */
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN);
    uint8_t digest[32];
    secp256k1_ecdsa_signature s;
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        msg[0] = (uint8_t)i;
        sha256(msg, sizeof(msg), digest);
        if (!secp256k1_ecdsa_sign(ctx, &s, digest, k.private_key, NULL, NULL)) {
            exit(1);
        }
    }
    double raw = (now_s() - t0) / (double)n;
    report("libsecp256k1 sign alone (sha256 + ecdsa)", n, raw * (double)n);
    printf("%-44s %10.2f x\n", "k256 sign: ours / libsecp256k1", ours / raw);
    secp256k1_context_destroy(ctx);
    sigkey_clear(&k);
}

static void key_for(long i, char out[64])
{
    /* TID-shaped rkeys in increasing order, like real posts */
    static const char alpha[] = "234567abcdefghijklmnopqrstuvwxyz";
    uint64_t v = 0x3a00000000000000ull + (uint64_t)i * 7919u;
    char rkey[14];
    for (int k = 12; k >= 0; k--) {
        rkey[k] = alpha[v & 31];
        v >>= 5;
    }
    rkey[13] = 0;
    snprintf(out, 64, "app.bsky.feed.post/%s", rkey);
}

static struct mst *build(struct blockmap *bm, long n, struct cid *value)
{
    struct mst *m = mst_new(blockmap_source(bm));
    char key[64];
    for (long i = 0; i < n; i++) {
        key_for(i * 2, key);
        if (mst_add(m, bytes_str(key), value)) {
            exit(1);
        }
    }
    return m;
}

static void bench_mst(void)
{
    struct cid value;
    cid_compute(CID_CODEC_DAGCBOR, BYTES_LIT("record"), &value);
    long sizes[] = {1000, 10000, 100000};
    for (size_t s = 0; s < 3; s++) {
        struct blockmap bm;
        blockmap_init(&bm);
        struct mst *m = build(&bm, sizes[s], &value);
        struct cid root;
        if (mst_root(m, &bm, &root)) {
            exit(1);
        }
        /* the server's case: a tree loaded from stored blocks, one key added, root rehashed */
        struct mst *loaded = mst_load(blockmap_source(&bm), &root);
        long n = 2000;
        char key[64], name[96];
        double t0 = now_s();
        for (long i = 0; i < n; i++) {
            key_for(i * 2 * 37 + 1, key); /* odd: never present */
            if (mst_add(loaded, bytes_str(key), &value) || mst_root(loaded, NULL, &root)) {
                exit(1);
            }
        }
        snprintf(name, sizeof(name), "mst insert + root, %ld-key tree", sizes[s]);
        report(name, n, now_s() - t0);
        mst_free(loaded);
        mst_free(m);
        blockmap_clear(&bm);
    }
    struct blockmap bm;
    blockmap_init(&bm);
    double t0 = now_s();
    struct mst *m = build(&bm, 100000, &value);
    struct cid root;
    if (mst_root(m, &bm, &root)) {
        exit(1);
    }
    double secs = now_s() - t0;
    printf("%-44s %10.1f ms total %9.0f ns/key\n", "build 100k-key mst (inserts + hash)",
           secs * 1e3, secs / 1e5 * 1e9);
    mst_free(m);
    blockmap_clear(&bm);
}

static enum err count_sink(void *ctx, const uint8_t *p, size_t n)
{
    *(size_t *)ctx += n;
    sink_byte ^= n ? p[n - 1] : 0;
    return ERR_OK;
}

struct car_ctx {
    struct car_writer *w;
    const struct blockmap *records;
};

static enum err car_node(void *ctx, const struct cid *cid, struct bytes block)
{
    struct car_ctx *c = ctx;
    return car_writer_block(c->w, cid, block);
}

static void bench_car(void)
{
    struct arena a;
    arena_init(&a);
    struct blockmap records, bm;
    blockmap_init(&records);
    blockmap_init(&bm);
    struct mst *m = mst_new(blockmap_source(&bm));
    char key[64], text[128];
    struct buf b;
    buf_init(&b, BUF_MAX_DEFAULT);
    for (long i = 0; i < 10000; i++) {
        arena_reset(&a);
        struct dm_value *post = dm_map(&a);
        snprintf(text, sizeof(text), "post number %ld, with some typical text in it", i);
        dm_map_put(&a, post, "$type", dm_cstr(&a, "app.bsky.feed.post"));
        dm_map_put(&a, post, "text", dm_cstr(&a, text));
        dm_map_put(&a, post, "createdAt", dm_cstr(&a, "2026-11-24T09:30:00.000Z"));
        buf_reset(&b);
        struct cid c;
        if (dagcbor_encode(post, &b)) {
            exit(1);
        }
        blockmap_put_cbor(&records, buf_bytes(&b), &c);
        key_for(i, key);
        if (mst_add(m, bytes_str(key), &c)) {
            exit(1);
        }
    }
    struct cid data, commit_cid;
    struct sigkey k;
    if (mst_root(m, &bm, &data) || sigkey_generate(SIGKEY_K256, &k)) {
        exit(1);
    }
    buf_reset(&b);
    if (commit_create(BYTES_LIT("did:plc:abcdefghijklmnopqrstuvwx"), &data,
                      BYTES_LIT("3jzfcijpj2z2a"), &k, &b, &commit_cid)) {
        exit(1);
    }
    struct mst *loaded = mst_load(blockmap_source(&bm), &data);
    int rounds = 10;
    size_t total = 0;
    double t0 = now_s();
    for (int r = 0; r < rounds; r++) {
        struct car_writer w;
        if (car_writer_begin(&w, count_sink, &total, &commit_cid, 1) ||
            car_writer_block(&w, &commit_cid, buf_bytes(&b))) {
            exit(1);
        }
        struct car_ctx cc = {&w, &records};
        if (mst_walk_nodes(loaded, car_node, &cc)) {
            exit(1);
        }
        for (size_t i = 0; i < records.len; i++) {
            if (car_writer_block(&w, &records.entries[i].cid,
                                 bytes_of(records.entries[i].data, records.entries[i].len))) {
                exit(1);
            }
        }
    }
    double secs = now_s() - t0;
    printf("%-44s %10.1f ms/car %9.1f MB/s (%zu bytes)\n", "write CAR of a 10k-record repo",
           secs / rounds * 1e3, (double)total / secs / 1e6, total / (size_t)rounds);
    mst_free(loaded);
    mst_free(m);
    buf_clear(&b);
    blockmap_clear(&records);
    blockmap_clear(&bm);
    arena_clear(&a);
}

int main(void)
{
    printf("bench_core: pure-core figures on this machine (lower ns/op is better)\n");
    bench_cbor();
    bench_k256();
    bench_mst();
    bench_car();
    return 0;
}
