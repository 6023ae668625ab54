/* car.c - interop suite for CAR v1: the reference implementation's car-file-fixtures.json
 * (write the blocks and compare bytes; read the CAR and compare roots and blocks). */
#include "interop.h"

#include <stdlib.h>

#include "core/base.h"
#include "core/cid.h"
#include "repo/car.h"

#define CAR_FIXTURE           "upstream-atproto/packages/repo/tests/car-file-fixtures.json"
#define CAR_FIXTURE_MAX_BYTES ((size_t)1 << 20) /* the fixture CAR is about 2 KB */

/* One fixture block, decoded. */
struct fixture_block {
    struct cid cid;
    struct buf data;
};

/* The blocks as the reader hands them back, compared against the fixture in order. */
struct read_check {
    struct interop *t;
    const struct fixture_block *want;
    size_t nwant, nseen, nroots;
    struct cid root;
    bool all_match;
};

static enum err check_header(void *ctx, const struct cid *roots, size_t n)
{
    struct read_check *rc = ctx;
    rc->nroots = n;
    if (n > 0) {
        rc->root = roots[0];
    }
    return ERR_OK;
}

static enum err check_block(void *ctx, const struct cid *cid, struct bytes data)
{
    struct read_check *rc = ctx;
    size_t i = rc->nseen++;
    if (i >= rc->nwant || !cid_equal(cid, &rc->want[i].cid) ||
        !bytes_eq(data, buf_bytes(&rc->want[i].data))) {
        rc->all_match = false;
    }
    return ERR_OK;
}

static bool decode_b64(json_t *s, struct buf *out)
{
    buf_init(out, CAR_FIXTURE_MAX_BYTES);
    return json_is_string(s) &&
           base64_decode(bytes_of(json_string_value(s), json_string_length(s)), out) == ERR_OK;
}

static bool parse_cid(json_t *s, struct cid *out)
{
    return json_is_string(s) &&
           cid_parse(bytes_of(json_string_value(s), json_string_length(s)), out) == ERR_OK;
}

static void car_write_case(struct interop *t, const struct cid *root,
                           const struct fixture_block *blocks, size_t n, json_t *want_b64)
{
    struct buf car, b64;
    buf_init(&car, CAR_FIXTURE_MAX_BYTES);
    buf_init(&b64, 2 * CAR_FIXTURE_MAX_BYTES);
    struct car_writer w;
    enum err e = car_writer_begin(&w, car_sink_buf, &car, root, 1);
    for (size_t i = 0; i < n && !e; i++) {
        e = car_writer_block(&w, &blocks[i].cid, buf_bytes(&blocks[i].data));
    }
    if (!e) {
        e = base64_encode(buf_bytes(&car), false, &b64);
    }
    const char *want = json_string_value(want_b64);
    bool ok = !e && want && bytes_eq(buf_bytes(&b64), bytes_of(want, json_string_length(want_b64)));
    interop_case(t, ok, CAR_FIXTURE, "written CAR differs (%s, %zu bytes)", err_str(e), car.len);
    interop_case(t, !e && w.bytes == car.len && w.blocks == n, CAR_FIXTURE,
                 "writer counters: %llu bytes, %llu blocks", (unsigned long long)w.bytes,
                 (unsigned long long)w.blocks);
    buf_clear(&car);
    buf_clear(&b64);
}

static void car_read_case(struct interop *t, const struct cid *root,
                          const struct fixture_block *blocks, size_t n, json_t *car_b64)
{
    struct buf car;
    bool decoded = decode_b64(car_b64, &car);
    interop_case(t, decoded, CAR_FIXTURE, "car is not base64");
    if (decoded) {
        struct read_check rc = {.t = t, .want = blocks, .nwant = n, .all_match = true};
        enum err e = car_read_all(buf_bytes(&car), CAR_VERIFY, check_header, check_block, &rc);
        interop_case(t, e == ERR_OK, CAR_FIXTURE, "reading the CAR failed: %s", err_str(e));
        interop_case(t, rc.nroots == 1 && cid_equal(&rc.root, root), CAR_FIXTURE,
                     "roots: %zu, first differs or missing", rc.nroots);
        interop_case(t, rc.all_match && rc.nseen == n, CAR_FIXTURE,
                     "blocks read back differ (%zu read, %zu expected)", rc.nseen, n);
    }
    buf_clear(&car);
}

static void car_fixture(struct interop *t, json_t *fx)
{
    json_t *jblocks = json_object_get(fx, "blocks");
    struct cid root;
    if (!parse_cid(json_object_get(fx, "root"), &root) || !json_is_array(jblocks)) {
        interop_case(t, false, CAR_FIXTURE, "fixture lacks root or blocks");
        return;
    }
    size_t n = json_array_size(jblocks);
    struct fixture_block *blocks = xcalloc(n ? n : 1, sizeof(*blocks));
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        json_t *jb = json_array_get(jblocks, i);
        bool ok_cid = parse_cid(json_object_get(jb, "cid"), &blocks[i].cid);
        bool ok_data = decode_b64(json_object_get(jb, "bytes"), &blocks[i].data);
        ok = ok && ok_cid && ok_data;
    }
    interop_case(t, ok, CAR_FIXTURE, "a block's cid or bytes does not decode");
    if (ok) {
        car_write_case(t, &root, blocks, n, json_object_get(fx, "car"));
        car_read_case(t, &root, blocks, n, json_object_get(fx, "car"));
    }
    for (size_t i = 0; i < n; i++) {
        buf_clear(&blocks[i].data);
    }
    free(blocks);
}

void interop_car(struct interop *t)
{
    json_t *root = interop_json(t, CAR_FIXTURE);
    if (!root) {
        return;
    }
    interop_case(t, json_is_array(root) && json_array_size(root) > 0, CAR_FIXTURE,
                 "expected a non-empty array");
    for (size_t i = 0; i < json_array_size(root); i++) {
        car_fixture(t, json_array_get(root, i));
    }
    json_decref(root);
}
