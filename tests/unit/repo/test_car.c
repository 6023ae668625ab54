/* test_car.c - CAR v1 writer and reader: round trips, exact header bytes, a bad-input
 * table, truncation at every byte, chunked feeding at every chunk size, verification. */
#include "repo/car.h"

#include "core/varint.h"
#include "unit/test.h"

#define MAX_BLOCKS 16

/* What a reader delivered. */
struct got {
    int header_calls;
    size_t nroots;
    struct cid roots[4];
    size_t nblocks;
    struct cid cids[MAX_BLOCKS];
    struct buf data[MAX_BLOCKS];
    enum err fail_on_block; /* returned by on_block for the 2nd block, when set */
};

static enum err on_header(void *ctx, const struct cid *roots, size_t n)
{
    struct got *g = ctx;
    g->header_calls++;
    g->nroots = n;
    for (size_t i = 0; i < n && i < ARRAY_LEN(g->roots); i++) {
        g->roots[i] = roots[i];
    }
    return ERR_OK;
}

static enum err on_block(void *ctx, const struct cid *cid, struct bytes data)
{
    struct got *g = ctx;
    if (g->fail_on_block && g->nblocks == 1) {
        return g->fail_on_block;
    }
    if (g->nblocks >= MAX_BLOCKS) {
        return ERR_TOO_LARGE;
    }
    g->cids[g->nblocks] = *cid;
    buf_init(&g->data[g->nblocks], BUF_MAX_DEFAULT);
    enum err e = buf_append(&g->data[g->nblocks], data.ptr, data.len);
    g->nblocks++;
    return e;
}

static void got_clear(struct got *g)
{
    for (size_t i = 0; i < g->nblocks; i++) {
        buf_clear(&g->data[i]);
    }
    memset(g, 0, sizeof(*g));
}

/* Three dag-cbor blocks and one raw block, with their CIDs. */
static const char *const BLOCK_TEXT[] = {"\xa1\x61\x61\x01", "\xa1\x61\x62\x02", "", "raw"};
static struct cid block_cids[4];

static struct bytes block_data(size_t i)
{
    return bytes_str(BLOCK_TEXT[i]);
}

static void make_cids(void)
{
    for (size_t i = 0; i < 4; i++) {
        cid_compute(i == 3 ? CID_CODEC_RAW : CID_CODEC_DAGCBOR, block_data(i), &block_cids[i]);
    }
}

/* Writes root = block 0, then the four blocks. Offsets of each section start go to ends[]
 * (ends[0] is the end of the header). */
static void write_sample(struct buf *out, size_t ends[5])
{
    buf_init(out, BUF_MAX_DEFAULT);
    struct car_writer w;
    CHECK_EQ(car_writer_begin(&w, car_sink_buf, out, &block_cids[0], 1), ERR_OK);
    ends[0] = out->len;
    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ(car_writer_block(&w, &block_cids[i], block_data(i)), ERR_OK);
        ends[i + 1] = out->len;
    }
    CHECK_EQ(w.bytes, out->len);
    CHECK_EQ(w.blocks, 4);
}

static void check_sample(const struct got *g, size_t nblocks)
{
    CHECK_EQ(g->header_calls, 1);
    CHECK_EQ(g->nroots, 1);
    CHECK(cid_equal(&g->roots[0], &block_cids[0]));
    CHECK_EQ(g->nblocks, nblocks);
    for (size_t i = 0; i < g->nblocks && i < nblocks; i++) {
        CHECK(cid_equal(&g->cids[i], &block_cids[i]));
        CHECK(bytes_eq(buf_bytes(&g->data[i]), block_data(i)));
    }
}

static void test_car_round_trip(void)
{
    struct buf car;
    size_t ends[5];
    write_sample(&car, ends);
    struct got g = {0};
    CHECK_EQ(car_read_all(buf_bytes(&car), CAR_VERIFY, on_header, on_block, &g), ERR_OK);
    check_sample(&g, 4);
    got_clear(&g);
    /* the section layout: varint(len) ‖ 36-byte CID ‖ data */
    CHECK_EQ(car.ptr[ends[0]], 36 + 4);
    CHECK(memcmp(car.ptr + ends[0] + 1, block_cids[0].bytes, 36) == 0);
    CHECK(memcmp(car.ptr + ends[0] + 37, BLOCK_TEXT[0], 4) == 0);
    CHECK_EQ(ends[3] - ends[2], 1 + 36); /* the empty block: CID only */
    buf_clear(&car);
}

static void test_car_empty_roots_header_is_exact(void)
{
    static const uint8_t want[] = {0x11, 0xa2, 0x65, 'r', 'o', 'o', 't', 's', 0x80,
                                   0x67, 'v',  'e',  'r', 's', 'i', 'o', 'n', 0x01};
    struct buf car;
    buf_init(&car, BUF_MAX_DEFAULT);
    struct car_writer w;
    CHECK_EQ(car_writer_begin(&w, car_sink_buf, &car, NULL, 0), ERR_OK);
    CHECK(bytes_eq(buf_bytes(&car), bytes_of(want, sizeof(want))));
    CHECK_EQ(w.bytes, sizeof(want));
    struct got g = {0};
    CHECK_EQ(car_read_all(buf_bytes(&car), 0, on_header, on_block, &g), ERR_OK);
    CHECK_EQ(g.header_calls, 1);
    CHECK_EQ(g.nroots, 0);
    CHECK_EQ(g.nblocks, 0);
    got_clear(&g);
    buf_clear(&car);
}

static void test_car_header_with_one_root_is_exact(void)
{
    struct buf car;
    buf_init(&car, BUF_MAX_DEFAULT);
    struct car_writer w;
    CHECK_EQ(car_writer_begin(&w, car_sink_buf, &car, &block_cids[0], 1), ERR_OK);
    /* a2 65"roots" 81 d8 2a 58 25 00 <36> 67"version" 01 = 1+6+1+2+2+1+36+8+1 = 58 */
    CHECK_EQ(car.len, 1 + 58);
    CHECK_EQ(car.ptr[0], 58);
    static const uint8_t start[] = {0xa2, 0x65, 'r',  'o',  'o',  't', 's',
                                    0x81, 0xd8, 0x2a, 0x58, 0x25, 0x00};
    CHECK(memcmp(car.ptr + 1, start, sizeof(start)) == 0);
    CHECK(memcmp(car.ptr + 1 + sizeof(start), block_cids[0].bytes, 36) == 0);
    buf_clear(&car);
}

static bool is_boundary(const size_t ends[5], size_t n, size_t *nblocks)
{
    for (size_t i = 0; i < 5; i++) {
        if (ends[i] == n) {
            *nblocks = i;
            return true;
        }
    }
    return false;
}

/* A prefix that stops inside the header or a section is ERR_TRUNCATED. A prefix that stops
 * exactly after the header or a section is itself a well-formed CAR with fewer blocks (the
 * format has no terminator), so it reads without error. */
static void test_car_truncated_at_every_byte(void)
{
    struct buf car;
    size_t ends[5];
    write_sample(&car, ends);
    for (size_t n = 0; n < car.len; n++) {
        struct got g = {0};
        enum err e = car_read_all(bytes_of(car.ptr, n), CAR_VERIFY, on_header, on_block, &g);
        size_t nb;
        if (is_boundary(ends, n, &nb)) {
            CHECK_EQ(e, ERR_OK);
            check_sample(&g, nb);
        } else if (e != ERR_TRUNCATED) {
            fprintf(stderr, "prefix of %zu bytes gave %s\n", n, err_str(e));
            CHECK_EQ(e, ERR_TRUNCATED);
        }
        got_clear(&g);
    }
    buf_clear(&car);
}

/* Every chunk size from 1 to the whole file gives the same roots and blocks. */
static void test_car_chunked_feeding_every_size(void)
{
    struct buf car;
    size_t ends[5];
    write_sample(&car, ends);
    for (size_t cs = 1; cs <= car.len; cs++) {
        struct got g = {0};
        struct car_reader r;
        car_reader_init(&r, CAR_VERIFY, on_header, on_block, &g);
        enum err e = ERR_OK;
        for (size_t off = 0; off < car.len && !e; off += cs) {
            size_t n = car.len - off < cs ? car.len - off : cs;
            e = car_reader_feed(&r, bytes_of(car.ptr + off, n));
        }
        CHECK_EQ(e, ERR_OK);
        CHECK_EQ(car_reader_finish(&r), ERR_OK);
        CHECK_EQ(r.bytes, car.len);
        CHECK_EQ(r.blocks, 4);
        check_sample(&g, 4);
        car_reader_clear(&r);
        got_clear(&g);
    }
    buf_clear(&car);
}

static void test_car_empty_chunks_are_harmless(void)
{
    struct buf car;
    size_t ends[5];
    write_sample(&car, ends);
    struct got g = {0};
    struct car_reader r;
    car_reader_init(&r, 0, on_header, on_block, &g);
    CHECK_EQ(car_reader_feed(&r, bytes_of(NULL, 0)), ERR_OK);
    CHECK_EQ(car_reader_feed(&r, bytes_of(car.ptr, 3)), ERR_OK);
    CHECK_EQ(car_reader_feed(&r, bytes_of(NULL, 0)), ERR_OK);
    CHECK_EQ(car_reader_feed(&r, bytes_of(car.ptr + 3, car.len - 3)), ERR_OK);
    CHECK_EQ(car_reader_finish(&r), ERR_OK);
    check_sample(&g, 4);
    car_reader_clear(&r);
    got_clear(&g);
    buf_clear(&car);
}

/* Builds varint(len(body)) ‖ body ‖ tail. */
static void framed(struct buf *out, struct bytes body, struct bytes tail)
{
    uint8_t v[VARINT_MAX_BYTES];
    size_t n = varint_write(body.len, v);
    buf_init(out, BUF_MAX_DEFAULT);
    CHECK_EQ(buf_append(out, v, n), ERR_OK);
    CHECK_EQ(buf_append(out, body.ptr, body.len), ERR_OK);
    CHECK_EQ(buf_append(out, tail.ptr, tail.len), ERR_OK);
}

#define HDR_ROOTS_EMPTY "\x65roots\x80"
#define HDR_VERSION_1   "\x67version\x01"

static void test_car_bad_headers(void)
{
    static const struct {
        const char *name;
        struct bytes raw; /* a whole file, not framed */
        enum err want;
    } raw_cases[] = {
        {"empty input", BYTES_LIT(""), ERR_TRUNCATED},
        {"header length 0", BYTES_LIT("\x00"), ERR_INVALID},
        {"header length 0 then data", BYTES_LIT("\x00\xa0"), ERR_INVALID},
        {"non-minimal varint", BYTES_LIT("\x91\x00"), ERR_INVALID},
        {"varint of 11 bytes", BYTES_LIT("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
         ERR_INVALID},
        {"header longer than the max", BYTES_LIT("\x81\x80\x04"), ERR_TOO_LARGE}, /* 65537 */
        {"header length far too large", BYTES_LIT("\xff\xff\xff\xff\x0f"), ERR_TOO_LARGE},
    };
    for (size_t i = 0; i < ARRAY_LEN(raw_cases); i++) {
        struct got g = {0};
        enum err e = car_read_all(raw_cases[i].raw, 0, on_header, on_block, &g);
        if (e != raw_cases[i].want) {
            fprintf(stderr, "case \"%s\": got %s\n", raw_cases[i].name, err_str(e));
        }
        CHECK_EQ(e, raw_cases[i].want);
        CHECK_EQ(g.header_calls, 0);
        got_clear(&g);
    }

    static const struct {
        const char *name;
        struct bytes body; /* the header's DAG-CBOR, framed by the test */
    } bodies[] = {
        {"not a map (array)", BYTES_LIT("\x82\x01\x02")},
        {"not a map (int)", BYTES_LIT("\x01")},
        {"empty map", BYTES_LIT("\xa0")},
        {"version 2", BYTES_LIT("\xa2" HDR_ROOTS_EMPTY "\x67version\x02")},
        {"version 0", BYTES_LIT("\xa2" HDR_ROOTS_EMPTY "\x67version\x00")},
        {"version -1", BYTES_LIT("\xa2" HDR_ROOTS_EMPTY "\x67version\x20")},
        {"version as text", BYTES_LIT("\xa2" HDR_ROOTS_EMPTY "\x67version\x61"
                                      "1")},
        {"version missing", BYTES_LIT("\xa1" HDR_ROOTS_EMPTY)},
        {"roots missing", BYTES_LIT("\xa1" HDR_VERSION_1)},
        {"CARv2 pragma", BYTES_LIT("\xa1\x67version\x02")},
        {"roots not an array", BYTES_LIT("\xa2\x65roots\xa0" HDR_VERSION_1)},
        {"roots null", BYTES_LIT("\xa2\x65roots\xf6" HDR_VERSION_1)},
        {"root not a link", BYTES_LIT("\xa2\x65roots\x81\x01" HDR_VERSION_1)},
        {"root is bytes", BYTES_LIT("\xa2\x65roots\x81\x41\x01" HDR_VERSION_1)},
        {"extra key", BYTES_LIT("\xa3\x61x\x01" HDR_ROOTS_EMPTY HDR_VERSION_1)},
        {"keys out of order", BYTES_LIT("\xa2" HDR_VERSION_1 HDR_ROOTS_EMPTY)},
        {"duplicate key", BYTES_LIT("\xa2" HDR_ROOTS_EMPTY HDR_ROOTS_EMPTY)},
        {"indefinite map", BYTES_LIT("\xbf" HDR_ROOTS_EMPTY HDR_VERSION_1 "\xff")},
        {"trailing byte in section", BYTES_LIT("\xa2" HDR_ROOTS_EMPTY HDR_VERSION_1 "\x00")},
        {"value cut short in section", BYTES_LIT("\xa2" HDR_ROOTS_EMPTY "\x67version")},
        {"float version",
         BYTES_LIT("\xa2" HDR_ROOTS_EMPTY "\x67version\xfb\x3f\xf0\x00\x00\x00\x00\x00\x00")},
    };
    for (size_t i = 0; i < ARRAY_LEN(bodies); i++) {
        struct buf car;
        framed(&car, bodies[i].body, BYTES_LIT(""));
        struct got g = {0};
        enum err e = car_read_all(buf_bytes(&car), 0, on_header, on_block, &g);
        if (e != ERR_INVALID) {
            fprintf(stderr, "header \"%s\": got %s\n", bodies[i].name, err_str(e));
        }
        CHECK_EQ(e, ERR_INVALID);
        CHECK_EQ(g.header_calls, 0);
        got_clear(&g);
        buf_clear(&car);
    }
}

/* Sections after a valid empty-roots header. */
static void test_car_bad_sections(void)
{
    static const uint8_t header[] = {0x11, 0xa2, 0x65, 'r', 'o', 'o', 't', 's', 0x80,
                                     0x67, 'v',  'e',  'r', 's', 'i', 'o', 'n', 0x01};
    uint8_t cidv0[34] = {0x12, 0x20};
    uint8_t short_cid[20];
    memcpy(short_cid, block_cids[0].bytes, sizeof(short_cid));
    static const struct {
        const char *name;
        struct bytes tail;
        enum err want;
    } cases[] = {
        {"section length 0", BYTES_LIT("\x00"), ERR_INVALID},
        {"section of one byte", BYTES_LIT("\x01\x01"), ERR_INVALID},
        {"section shorter than its CID", BYTES_LIT("\x04\x01\x71\x12\x20"), ERR_INVALID},
        {"CID version 2", BYTES_LIT("\x04\x02\x71\x12\x00"), ERR_UNSUPPORTED},
        {"sha2-256 digest of 3 bytes", BYTES_LIT("\x05\x01\x71\x12\x03\x01"), ERR_INVALID},
        {"non-minimal section varint", BYTES_LIT("\xa4\x00"), ERR_INVALID},
        /* CAR_SECTION_MAX_BYTES + 1 = 0x200051: refused from the varint alone */
        {"section over the max", BYTES_LIT("\xd1\x80\x80\x01"), ERR_TOO_LARGE},
        {"section length 2^63", BYTES_LIT("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01"),
         ERR_TOO_LARGE},
        {"section cut short", BYTES_LIT("\x28\x01\x71"), ERR_TRUNCATED},
        {"varint cut short", BYTES_LIT("\x80"), ERR_TRUNCATED},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases) + 2; i++) {
        struct buf car;
        buf_init(&car, BUF_MAX_DEFAULT);
        CHECK_EQ(buf_append(&car, header, sizeof(header)), ERR_OK);
        const char *name;
        enum err want;
        if (i < ARRAY_LEN(cases)) {
            name = cases[i].name;
            want = cases[i].want;
            CHECK_EQ(buf_append(&car, cases[i].tail.ptr, cases[i].tail.len), ERR_OK);
        } else if (i == ARRAY_LEN(cases)) {
            name = "CIDv0 multihash";
            want = ERR_UNSUPPORTED;
            CHECK_EQ(buf_append_byte(&car, sizeof(cidv0)), ERR_OK);
            CHECK_EQ(buf_append(&car, cidv0, sizeof(cidv0)), ERR_OK);
        } else {
            name = "section ends inside the CID digest";
            want = ERR_INVALID;
            CHECK_EQ(buf_append_byte(&car, sizeof(short_cid)), ERR_OK);
            CHECK_EQ(buf_append(&car, short_cid, sizeof(short_cid)), ERR_OK);
        }
        struct got g = {0};
        enum err e = car_read_all(buf_bytes(&car), 0, on_header, on_block, &g);
        if (e != want) {
            fprintf(stderr, "section \"%s\": got %s\n", name, err_str(e));
        }
        CHECK_EQ(e, want);
        CHECK_EQ(g.header_calls, 1);
        CHECK_EQ(g.nblocks, 0);
        got_clear(&g);
        buf_clear(&car);
    }
}

static void test_car_block_size_limit(void)
{
    uint8_t *big = xcalloc(1, CAR_BLOCK_MAX_BYTES + 1);
    struct cid c;
    cid_compute(CID_CODEC_RAW, bytes_of(big, CAR_BLOCK_MAX_BYTES), &c);
    struct buf car;
    buf_init(&car, BUF_MAX_DEFAULT);
    struct car_writer w;
    CHECK_EQ(car_writer_begin(&w, car_sink_buf, &car, &c, 1), ERR_OK);
    CHECK_EQ(car_writer_block(&w, &c, bytes_of(big, CAR_BLOCK_MAX_BYTES + 1)), ERR_TOO_LARGE);
    CHECK_EQ(w.blocks, 0);
    CHECK_EQ(car_writer_block(&w, &c, bytes_of(big, CAR_BLOCK_MAX_BYTES)), ERR_OK);
    struct got g = {0};
    CHECK_EQ(car_read_all(buf_bytes(&car), CAR_VERIFY, on_header, on_block, &g), ERR_OK);
    CHECK_EQ(g.nblocks, 1);
    CHECK_EQ(g.nblocks ? g.data[0].len : 0, CAR_BLOCK_MAX_BYTES);
    got_clear(&g);

    /* a hand-made section one byte past the block max (but under the section max) */
    buf_reset(&car);
    CHECK_EQ(car_writer_begin(&w, car_sink_buf, &car, &c, 1), ERR_OK);
    uint8_t v[VARINT_MAX_BYTES];
    size_t n = varint_write(c.len + CAR_BLOCK_MAX_BYTES + 1, v);
    CHECK_EQ(buf_append(&car, v, n), ERR_OK);
    CHECK_EQ(buf_append(&car, c.bytes, c.len), ERR_OK);
    CHECK_EQ(buf_append(&car, big, CAR_BLOCK_MAX_BYTES + 1), ERR_OK);
    CHECK_EQ(car_read_all(buf_bytes(&car), 0, on_header, on_block, &g), ERR_TOO_LARGE);
    CHECK_EQ(g.nblocks, 0);
    got_clear(&g);
    buf_clear(&car);
    free(big);
}

static void test_car_verify_rejects_mismatch(void)
{
    struct buf car;
    size_t ends[5];
    write_sample(&car, ends);
    car.ptr[ends[1] - 1] ^= 0x01; /* last data byte of block 0 */
    struct got g = {0};
    CHECK_EQ(car_read_all(buf_bytes(&car), CAR_VERIFY, on_header, on_block, &g), ERR_INVALID);
    CHECK_EQ(g.nblocks, 0);
    got_clear(&g);
    CHECK_EQ(car_read_all(buf_bytes(&car), 0, on_header, on_block, &g), ERR_OK);
    CHECK_EQ(g.nblocks, 4);
    got_clear(&g);
    buf_clear(&car);

    /* a well-formed block filed under another block's CID */
    buf_init(&car, BUF_MAX_DEFAULT);
    struct car_writer w;
    CHECK_EQ(car_writer_begin(&w, car_sink_buf, &car, &block_cids[0], 1), ERR_OK);
    CHECK_EQ(car_writer_block(&w, &block_cids[3], block_data(0)), ERR_OK);
    CHECK_EQ(car_read_all(buf_bytes(&car), CAR_VERIFY, on_header, on_block, &g), ERR_INVALID);
    got_clear(&g);
    buf_clear(&car);
}

static void test_car_verify_refuses_other_hashes(void)
{
    /* CIDv1 dag-cbor with a sha2-512 multihash (0x13, 64 bytes): parses, cannot be checked */
    uint8_t raw[4 + 64] = {0x01, 0x71, 0x13, 0x40};
    struct cid c;
    CHECK_EQ(cid_from_bytes(bytes_of(raw, sizeof(raw)), &c), ERR_OK);
    struct buf car;
    buf_init(&car, BUF_MAX_DEFAULT);
    struct car_writer w;
    CHECK_EQ(car_writer_begin(&w, car_sink_buf, &car, &c, 1), ERR_OK);
    CHECK_EQ(car_writer_block(&w, &c, BYTES_LIT("\xa0")), ERR_OK);
    struct got g = {0};
    CHECK_EQ(car_read_all(buf_bytes(&car), CAR_VERIFY, on_header, on_block, &g), ERR_UNSUPPORTED);
    got_clear(&g);
    CHECK_EQ(car_read_all(buf_bytes(&car), 0, on_header, on_block, &g), ERR_OK);
    CHECK_EQ(g.nblocks, 1);
    CHECK(g.nblocks == 1 && cid_equal(&g.cids[0], &c));
    got_clear(&g);
    buf_clear(&car);
}

static void test_car_callback_error_stops_and_sticks(void)
{
    struct buf car;
    size_t ends[5];
    write_sample(&car, ends);
    struct got g = {.fail_on_block = ERR_CONFLICT};
    struct car_reader r;
    car_reader_init(&r, 0, on_header, on_block, &g);
    CHECK_EQ(car_reader_feed(&r, buf_bytes(&car)), ERR_CONFLICT);
    CHECK_EQ(g.nblocks, 1);
    CHECK_EQ(car_reader_feed(&r, buf_bytes(&car)), ERR_CONFLICT);
    CHECK_EQ(car_reader_finish(&r), ERR_CONFLICT);
    CHECK_EQ(g.nblocks, 1);
    car_reader_clear(&r);
    got_clear(&g);
    buf_clear(&car);
}

static void test_car_sink_error_is_sticky(void)
{
    struct buf small;
    buf_init(&small, 30); /* the header (59 bytes) does not fit */
    struct car_writer w;
    CHECK_EQ(car_writer_begin(&w, car_sink_buf, &small, &block_cids[0], 1), ERR_TOO_LARGE);
    CHECK_EQ(car_writer_block(&w, &block_cids[0], block_data(0)), ERR_TOO_LARGE);
    buf_clear(&small);

    buf_init(&small, 80); /* the header fits, the first block (1+36+4) does not */
    CHECK_EQ(car_writer_begin(&w, car_sink_buf, &small, &block_cids[0], 1), ERR_OK);
    CHECK_EQ(car_writer_block(&w, &block_cids[0], block_data(0)), ERR_TOO_LARGE);
    CHECK_EQ(car_writer_block(&w, &block_cids[2], block_data(2)), ERR_TOO_LARGE);
    CHECK_EQ(w.blocks, 0);
    buf_clear(&small);
}

static void test_car_reader_tolerates_duplicates_and_any_order(void)
{
    struct buf car;
    buf_init(&car, BUF_MAX_DEFAULT);
    struct car_writer w;
    CHECK_EQ(car_writer_begin(&w, car_sink_buf, &car, &block_cids[0], 1), ERR_OK);
    static const size_t order[] = {3, 1, 1, 0};
    for (size_t i = 0; i < ARRAY_LEN(order); i++) {
        CHECK_EQ(car_writer_block(&w, &block_cids[order[i]], block_data(order[i])), ERR_OK);
    }
    struct got g = {0};
    CHECK_EQ(car_read_all(buf_bytes(&car), CAR_VERIFY, on_header, on_block, &g), ERR_OK);
    CHECK_EQ(g.nblocks, 4);
    for (size_t i = 0; i < g.nblocks && i < ARRAY_LEN(order); i++) {
        CHECK(cid_equal(&g.cids[i], &block_cids[order[i]]));
    }
    got_clear(&g);
    buf_clear(&car);
}

/* Found by fuzzing: a non-minimal varint split across chunks failed only at finish (as
 * truncated), not when its last byte arrived (as invalid, like the same bytes fed whole). */
static void test_car_bad_varint_split_across_chunks_fails_at_once(void)
{
    struct car_reader r;
    car_reader_init(&r, 0, NULL, NULL, NULL);
    CHECK_EQ(car_reader_feed(&r, BYTES_LIT("\x85")), ERR_OK);
    CHECK_EQ(car_reader_feed(&r, BYTES_LIT("\x00")), ERR_INVALID);
    CHECK_EQ(car_reader_finish(&r), ERR_INVALID);
    car_reader_clear(&r);
}

int main(void)
{
    make_cids();
    RUN(test_car_round_trip);
    RUN(test_car_empty_roots_header_is_exact);
    RUN(test_car_header_with_one_root_is_exact);
    RUN(test_car_truncated_at_every_byte);
    RUN(test_car_chunked_feeding_every_size);
    RUN(test_car_empty_chunks_are_harmless);
    RUN(test_car_bad_headers);
    RUN(test_car_bad_sections);
    RUN(test_car_block_size_limit);
    RUN(test_car_verify_rejects_mismatch);
    RUN(test_car_verify_refuses_other_hashes);
    RUN(test_car_callback_error_stops_and_sticks);
    RUN(test_car_sink_error_is_sticky);
    RUN(test_car_reader_tolerates_duplicates_and_any_order);
    RUN(test_car_bad_varint_split_across_chunks_fails_at_once);
    return test_report();
}
