/* test_dagcbor.c - the strict DAG-CBOR decoder's bad-input table, canonical encoding
 * (length-first key order, shortest heads) and byte-exact round trips. */
#include "unit/test.h"

#include "core/dagcbor.h"

/* the empty MST node's CID as a tag-42 link: d8 2a 58 25 00 <36-byte CID> */
#define LINK_CID                                                                                   \
    "\x01\x71\x12\x20"                                                                             \
    "\x9d\xfe\xfe\x61\xdd\x76\xea\x3d\xca\xe5\x02\x38\x80\xb0\x83\x79\xd5\x7a\xdf\x20\x48\x2d\x6f" \
    "\xdb\xe2\x75\x92\x89\xf6\x47\x67\x7b"
#define LINK_CBOR "\xd8\x2a\x58\x25\x00" LINK_CID

struct vec {
    const char *b;
    size_t len;
    enum err want;
    const char *what;
};

#define V(lit, want, what)                                                                         \
    {                                                                                              \
        lit, sizeof(lit) - 1, want, what                                                           \
    }

static const struct vec BAD[] = {
    V("", ERR_TRUNCATED, "empty input"),
    V("\x9f\xff", ERR_INVALID, "indefinite array"),
    V("\xbf\xff", ERR_INVALID, "indefinite map"),
    V("\x5f\x41\x00\xff", ERR_INVALID, "indefinite bytes"),
    V("\x7f\x61\x61\xff", ERR_INVALID, "indefinite text"),
    V("\xff", ERR_INVALID, "lone break"),
    V("\x1c", ERR_INVALID, "reserved additional info 28"),
    V("\x18\x17", ERR_INVALID, "23 in two bytes"),
    V("\x19\x00\xff", ERR_INVALID, "255 in three bytes"),
    V("\x1a\x00\x00\xff\xff", ERR_INVALID, "65535 in five bytes"),
    V("\x1b\x00\x00\x00\x00\xff\xff\xff\xff", ERR_INVALID, "2^32-1 in nine bytes"),
    V("\x38\x00", ERR_INVALID, "-1 in two bytes"),
    V("\x78\x01\x61", ERR_INVALID, "text length 1 in long form"),
    V("\x98\x00", ERR_INVALID, "array length 0 in long form"),
    V("\xb8\x00", ERR_INVALID, "map length 0 in long form"),
    V("\x58\x01\x00", ERR_INVALID, "bytes length 1 in long form"),
    V("\x1b\xff\xff\xff\xff\xff\xff\xff\xff", ERR_INVALID, "uint over int64"),
    V("\x3b\x80\x00\x00\x00\x00\x00\x00\x00", ERR_INVALID, "nint under int64"),
    V("\xa2\x61\x62\x01\x61\x61\x02", ERR_INVALID, "keys b, a unsorted"),
    V("\xa2\x62\x61\x61\x01\x61\x62\x02", ERR_INVALID, "keys aa, b: longer first"),
    V("\xa2\x61\x61\x01\x61\x61\x02", ERR_INVALID, "duplicate key"),
    V("\xa1\x01\x02", ERR_INVALID, "integer key"),
    V("\xa1\x41\x61\x01", ERR_INVALID, "bytes key"),
    V("\xa1\xf6\x01", ERR_INVALID, "null key"),
    V("\xc1\x00", ERR_INVALID, "tag 1"),
    V("\xd8\x2b\x40", ERR_INVALID, "tag 43"),
    V("\xd9\x00\x2a\x58\x25\x00" LINK_CID, ERR_INVALID, "tag 42 in long form"),
    V("\xd8\x2a\x58\x24" LINK_CID, ERR_INVALID, "tag 42 without the 0x00 prefix"),
    V("\xd8\x2a\x58\x25\x01" LINK_CID, ERR_INVALID, "tag 42 with prefix 0x01"),
    V("\xd8\x2a\x61\x61", ERR_INVALID, "tag 42 around text"),
    V("\xd8\x2a\x42\x00\x01", ERR_INVALID, "tag 42 around a bad CID"),
    V("\xd8\x2a\x41\x00", ERR_INVALID, "tag 42 around a lone 0x00"),
    V("\xd8\x2a\x58\x23\x00\x12\x20" LINK_CID, ERR_INVALID, "tag 42 around a CIDv0"),
    V("\xd8\x2a\xd8\x2a\x41\x00", ERR_INVALID, "tag 42 around a tag"),
    V("\xf9\x00\x00", ERR_INVALID, "half float"),
    V("\xfa\x00\x00\x00\x00", ERR_INVALID, "single float"),
    V("\xfb\x3f\xf0\x00\x00\x00\x00\x00\x00", ERR_INVALID, "double 1.0"),
    V("\xf7", ERR_INVALID, "undefined"),
    V("\xf0", ERR_INVALID, "simple 16"),
    V("\xf8\x20", ERR_INVALID, "two-byte simple"),
    V("\x01\x01", ERR_INVALID, "trailing byte"),
    V("\xa0\x00", ERR_INVALID, "trailing byte after map"),
    V("\x18", ERR_TRUNCATED, "missing integer byte"),
    V("\x1b\x00\x00\x00", ERR_TRUNCATED, "missing integer bytes"),
    V("\x62\x61", ERR_TRUNCATED, "short text"),
    V("\x43\x00", ERR_TRUNCATED, "short bytes"),
    V("\x82\x01", ERR_TRUNCATED, "short array"),
    V("\xa1\x61\x61", ERR_TRUNCATED, "map missing a value"),
    V("\xa1\x61", ERR_TRUNCATED, "map key cut"),
    V("\xd8\x2a\x58\x25\x00\x01\x71\x12\x20\x00", ERR_TRUNCATED, "link cut"),
    V("\xd8", ERR_TRUNCATED, "tag cut"),
    V("\x9a\x00\x01\x00\x00", ERR_TRUNCATED, "array claims 65536 items"),
    V("\x9b\x00\x00\x00\x01\x00\x00\x00\x00", ERR_TOO_LARGE, "array over the item limit"),
    V("\xbb\x00\x00\x00\x01\x00\x00\x00\x00", ERR_TOO_LARGE, "map over the item limit"),
    V("\x61\xff", ERR_INVALID, "text 0xff"),
    V("\x62\xc0\x80", ERR_INVALID, "text overlong NUL"),
    V("\x63\xed\xa0\x80", ERR_INVALID, "text surrogate"),
    V("\x64\xf4\x90\x80\x80", ERR_INVALID, "text above U+10FFFF"),
    V("\x62\xe2\x82", ERR_INVALID, "text cut inside a character"),
    V("\xa1\x61\xff\x01", ERR_INVALID, "key 0xff"),
};

static void test_dagcbor_bad_input_table(void)
{
    for (size_t i = 0; i < ARRAY_LEN(BAD); i++) {
        struct arena a;
        arena_init(&a);
        struct dm_value *v = NULL;
        enum err e = dagcbor_decode(bytes_of(BAD[i].b, BAD[i].len), &a, &v);
        if (e != BAD[i].want) {
            CHECK(!"wrong verdict");
            fprintf(stderr, "  %s: got %s, expected %s\n", BAD[i].what, err_str(e),
                    err_str(BAD[i].want));
        }
        arena_clear(&a);
    }
}

static void test_dagcbor_too_deep(void)
{
    uint8_t deep[DAGCBOR_MAX_DEPTH + 2];
    struct arena a;
    arena_init(&a);
    struct dm_value *v;
    /* DAGCBOR_MAX_DEPTH arrays around an integer: the integer sits at the limit */
    memset(deep, 0x81, DAGCBOR_MAX_DEPTH);
    deep[DAGCBOR_MAX_DEPTH] = 0x00;
    CHECK_EQ(dagcbor_decode(bytes_of(deep, DAGCBOR_MAX_DEPTH + 1), &a, &v), ERR_OK);
    struct buf out;
    buf_init(&out, 1024);
    CHECK_EQ(dagcbor_encode(v, &out), ERR_OK);
    CHECK(bytes_eq(buf_bytes(&out), bytes_of(deep, DAGCBOR_MAX_DEPTH + 1)));
    /* one more level is refused both ways */
    memset(deep, 0x81, DAGCBOR_MAX_DEPTH + 1);
    deep[DAGCBOR_MAX_DEPTH + 1] = 0x00;
    CHECK_EQ(dagcbor_decode(bytes_of(deep, sizeof(deep)), &a, &v), ERR_TOO_LARGE);
    struct dm_value *top = dm_int(&a, 0);
    for (int i = 0; i <= DAGCBOR_MAX_DEPTH; i++) {
        struct dm_value *arr = dm_array(&a);
        dm_array_push(&a, arr, top);
        top = arr;
    }
    buf_reset(&out);
    CHECK_EQ(dagcbor_encode(top, &out), ERR_TOO_LARGE);
    /* a long run of nested maps cannot exhaust the stack either */
    static uint8_t maps[100000];
    for (size_t i = 0; i + 2 < sizeof(maps); i += 2) {
        maps[i] = 0xa1;
        maps[i + 1] = 0x60; /* key "" */
    }
    CHECK_EQ(dagcbor_decode(bytes_of(maps, sizeof(maps)), &a, &v), ERR_TOO_LARGE);
    buf_clear(&out);
    arena_clear(&a);
}

/* decode(enc) succeeds and re-encodes to the very same bytes */
static const struct vec GOOD[] = {
    V("\x00", ERR_OK, "0"),
    V("\x17", ERR_OK, "23"),
    V("\x18\x18", ERR_OK, "24"),
    V("\x18\xff", ERR_OK, "255"),
    V("\x19\x01\x00", ERR_OK, "256"),
    V("\x1a\x00\x01\x00\x00", ERR_OK, "65536"),
    V("\x1b\x00\x00\x00\x01\x00\x00\x00\x00", ERR_OK, "2^32"),
    V("\x1b\x7f\xff\xff\xff\xff\xff\xff\xff", ERR_OK, "INT64_MAX"),
    V("\x20", ERR_OK, "-1"),
    V("\x38\xff", ERR_OK, "-256"),
    V("\x3b\x7f\xff\xff\xff\xff\xff\xff\xff", ERR_OK, "INT64_MIN"),
    V("\xf4", ERR_OK, "false"),
    V("\xf5", ERR_OK, "true"),
    V("\xf6", ERR_OK, "null"),
    V("\x60", ERR_OK, "empty text"),
    V("\x40", ERR_OK, "empty bytes"),
    V("\x80", ERR_OK, "empty array"),
    V("\xa0", ERR_OK, "empty map"),
    V("\x63\x61\x00\x62", ERR_OK, "text with NUL"),
    V("\x64\xf0\x9f\x98\x80", ERR_OK, "emoji"),
    V(LINK_CBOR, ERR_OK, "link"),
    V("\xa2\x61\x65\x80\x61\x6c\xf6", ERR_OK, "empty MST node"),
    V("\xa5\x60\x00\x61\x61\x01\x61\x62\x02\x62\x61\x61\x03\x63\x61\x61\x61\x04", ERR_OK,
      "keys '', a, b, aa, aaa"),
    V("\x83\x01\x82\x02\x03\xa1\x61\x78" LINK_CBOR, ERR_OK, "nested"),
};

static void test_dagcbor_round_trips_byte_exact(void)
{
    for (size_t i = 0; i < ARRAY_LEN(GOOD); i++) {
        struct arena a;
        arena_init(&a);
        struct dm_value *v = NULL;
        struct buf out;
        buf_init(&out, 4096);
        enum err e = dagcbor_decode(bytes_of(GOOD[i].b, GOOD[i].len), &a, &v);
        if (e) {
            CHECK(!"good input refused");
            fprintf(stderr, "  %s: %s\n", GOOD[i].what, err_str(e));
        } else {
            CHECK_EQ(dagcbor_encode(v, &out), ERR_OK);
            if (!bytes_eq(buf_bytes(&out), bytes_of(GOOD[i].b, GOOD[i].len))) {
                CHECK(!"re-encoding differs");
                fprintf(stderr, "  %s\n", GOOD[i].what);
            }
        }
        buf_clear(&out);
        arena_clear(&a);
    }
}

static void test_dagcbor_decoded_values(void)
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v;
    CHECK_EQ(dagcbor_decode(BYTES_LIT("\x3b\x7f\xff\xff\xff\xff\xff\xff\xff"), &a, &v), ERR_OK);
    CHECK(v->kind == DM_INT && v->u.integer == INT64_MIN);
    CHECK_EQ(dagcbor_decode(BYTES_LIT("\x38\xff"), &a, &v), ERR_OK);
    CHECK(v->kind == DM_INT && v->u.integer == -256);
    CHECK_EQ(dagcbor_decode(BYTES_LIT(LINK_CBOR), &a, &v), ERR_OK);
    CHECK(v->kind == DM_LINK && cid_is_blessed(&v->u.link));
    CHECK(bytes_eq(cid_bytes(&v->u.link), BYTES_LIT(LINK_CID)));
    static const uint8_t text[] = {0x63, 'a', 0, 'b'};
    CHECK_EQ(dagcbor_decode(bytes_of(text, sizeof(text)), &a, &v), ERR_OK);
    CHECK(v->kind == DM_STRING && v->u.str.len == 3 && v->u.str.ptr == text + 1); /* borrows */
    CHECK_EQ(dagcbor_decode(BYTES_LIT("\xa2\x61\x65\x80\x61\x6c\xf6"), &a, &v), ERR_OK);
    CHECK(v->kind == DM_MAP && v->u.map.len == 2);
    CHECK(dm_map_get(v, "e") && dm_map_get(v, "e")->kind == DM_ARRAY);
    CHECK(dm_map_get(v, "l") && dm_map_get(v, "l")->kind == DM_NULL);
    arena_clear(&a);
}

static void test_dagcbor_encoder_sorts_keys_length_first(void)
{
    struct arena a;
    arena_init(&a);
    struct dm_value *m = dm_map(&a);
    static const char *const keys[] = {"bbb", "a", "cc", "ab", "b", "version", "did", "rev"};
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        dm_map_put(&a, m, keys[i], dm_int(&a, (int64_t)i));
    }
    struct buf out;
    buf_init(&out, 1024);
    CHECK_EQ(dagcbor_encode(m, &out), ERR_OK);
    /* a, b, ab, cc, bbb, did, rev, version */
    static const uint8_t want[] = {0xa8, 0x61, 'a', 0x01, 0x61, 'b',  0x04, 0x62, 'a', 'b',
                                   0x03, 0x62, 'c', 'c',  0x02, 0x63, 'b',  'b',  'b', 0x00,
                                   0x63, 'd',  'i', 'd',  0x06, 0x63, 'r',  'e',  'v', 0x07,
                                   0x67, 'v',  'e', 'r',  's',  'i',  'o',  'n',  0x05};
    CHECK(bytes_eq(buf_bytes(&out), bytes_of(want, sizeof(want))));
    /* the caller's insertion order is left alone */
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        CHECK(bytes_eq(m->u.map.entries[i].key, bytes_str(keys[i])));
    }
    /* and the output decodes to an equal value */
    struct dm_value *back;
    CHECK_EQ(dagcbor_decode(buf_bytes(&out), &a, &back), ERR_OK);
    CHECK(dm_equal(m, back));
    CHECK_EQ(dagcbor_key_cmp(BYTES_LIT("b"), BYTES_LIT("aa")), -1);
    CHECK_EQ(dagcbor_key_cmp(BYTES_LIT("ab"), BYTES_LIT("aa")), 1);
    CHECK_EQ(dagcbor_key_cmp(BYTES_LIT(""), BYTES_LIT("")), 0);
    /* a map past the stack buffer of sort pointers */
    struct dm_value *big = dm_map(&a);
    char names[40][4];
    for (int i = 39; i >= 0; i--) {
        snprintf(names[i], sizeof(names[i]), "k%02d", i);
        dm_map_put(&a, big, names[i], dm_null(&a));
    }
    buf_reset(&out);
    CHECK_EQ(dagcbor_encode(big, &out), ERR_OK);
    CHECK_EQ(dagcbor_decode(buf_bytes(&out), &a, &back), ERR_OK);
    CHECK(back->u.map.len == 40 && bytes_eq(back->u.map.entries[0].key, BYTES_LIT("k00")));
    buf_clear(&out);
    arena_clear(&a);
}

static void test_dagcbor_encoder_refuses_bad_values(void)
{
    struct arena a;
    arena_init(&a);
    struct buf out;
    buf_init(&out, 1024);
    struct dm_value *m = dm_map(&a);
    dm_map_put(&a, m, "x", dm_int(&a, 1));
    dm_map_put(&a, m, "x", dm_int(&a, 2));
    CHECK_EQ(dagcbor_encode(m, &out), ERR_INVALID); /* duplicate key */
    buf_reset(&out);
    CHECK_EQ(dagcbor_encode(dm_string(&a, BYTES_LIT("\xff")), &out), ERR_INVALID);
    buf_reset(&out);
    struct dm_value *k = dm_map(&a);
    dm_map_put_key(&a, k, BYTES_LIT("\xc0\x80"), dm_null(&a));
    CHECK_EQ(dagcbor_encode(k, &out), ERR_INVALID); /* key not UTF-8 */
    struct buf tiny;
    buf_init(&tiny, 2);
    CHECK_EQ(dagcbor_encode(dm_cstr(&a, "hello"), &tiny), ERR_TOO_LARGE);
    buf_clear(&tiny);
    buf_clear(&out);
    arena_clear(&a);
}

static void test_dagcbor_low_level_writers(void)
{
    struct buf out;
    buf_init(&out, 1024);
    struct cid c;
    CHECK_EQ(cid_from_bytes(BYTES_LIT(LINK_CID), &c), ERR_OK);
    CHECK_EQ(dagcbor_put_map(&out, 2), ERR_OK);
    CHECK_EQ(dagcbor_put_cstr(&out, "e"), ERR_OK);
    CHECK_EQ(dagcbor_put_array(&out, 0), ERR_OK);
    CHECK_EQ(dagcbor_put_cstr(&out, "l"), ERR_OK);
    CHECK_EQ(dagcbor_put_null(&out), ERR_OK);
    CHECK(bytes_eq(buf_bytes(&out), BYTES_LIT("\xa2\x61\x65\x80\x61\x6c\xf6")));
    buf_reset(&out);
    CHECK_EQ(dagcbor_put_link(&out, &c), ERR_OK);
    CHECK(bytes_eq(buf_bytes(&out), BYTES_LIT(LINK_CBOR)));
    buf_reset(&out);
    CHECK_EQ(dagcbor_put_int(&out, -1), ERR_OK);
    CHECK_EQ(dagcbor_put_int(&out, INT64_MIN), ERR_OK);
    CHECK_EQ(dagcbor_put_uint(&out, UINT64_MAX), ERR_OK);
    CHECK_EQ(dagcbor_put_bool(&out, true), ERR_OK);
    CHECK_EQ(dagcbor_put_bytes(&out, BYTES_LIT("\x01")), ERR_OK);
    CHECK(bytes_eq(buf_bytes(&out), BYTES_LIT("\x20\x3b\x7f\xff\xff\xff\xff\xff\xff\xff"
                                              "\x1b\xff\xff\xff\xff\xff\xff\xff\xff\xf5\x41\x01")));
    buf_clear(&out);
}

/* Regression: each nested header claiming the rest of the input used to reserve that many
 * slots up front, so 64 levels reserved 64x the input. Reservations now follow the items. */
static void test_dagcbor_nested_claims_do_not_amplify(void)
{
    enum { LEVELS = 60, ITEMS = 65536, BLOB = 0xff00 };
    static uint8_t in[LEVELS * 5 + 5 + BLOB];
    for (int i = 0; i < LEVELS; i++) {
        memcpy(in + 5 * i, "\x9a\x00\x01\x00\x00", 5); /* array of 65536 */
    }
    /* one item: a byte string filling the rest, so every claim looks affordable */
    memcpy(in + LEVELS * 5, "\x5a\x00\x00\xff\x00", 5);
    struct arena a;
    arena_init(&a);
    struct dm_value *v;
    CHECK_EQ(dagcbor_decode(bytes_of(in, sizeof(in)), &a, &v), ERR_TRUNCATED);
    size_t reserved_before_fix = (size_t)LEVELS * ITEMS * sizeof(struct dm_value *);
    CHECK(arena_used(&a) < reserved_before_fix / 64);
    arena_clear(&a);
}

static void test_dagcbor_decode_prefix_reads_one_value(void)
{
    struct arena a;
    arena_init(&a);
    struct bytes in = BYTES_LIT("\xa1\x61\x74\x01\x02");
    struct dm_value *v;
    CHECK_EQ(dagcbor_decode_prefix(&in, &a, &v), ERR_OK);
    CHECK(v->kind == DM_MAP);
    CHECK_EQ(in.len, 1);
    CHECK_EQ(dagcbor_decode_prefix(&in, &a, &v), ERR_OK);
    CHECK(v->kind == DM_INT && v->u.integer == 2);
    CHECK_EQ(in.len, 0);
    struct bytes cut = BYTES_LIT("\x82\x01");
    CHECK_EQ(dagcbor_decode_prefix(&cut, &a, &v), ERR_TRUNCATED);
    CHECK_EQ(cut.len, 2); /* untouched on failure */
    arena_clear(&a);
}

int main(void)
{
    RUN(test_dagcbor_bad_input_table);
    RUN(test_dagcbor_too_deep);
    RUN(test_dagcbor_round_trips_byte_exact);
    RUN(test_dagcbor_decoded_values);
    RUN(test_dagcbor_encoder_sorts_keys_length_first);
    RUN(test_dagcbor_encoder_refuses_bad_values);
    RUN(test_dagcbor_low_level_writers);
    RUN(test_dagcbor_decode_prefix_reads_one_value);
    RUN(test_dagcbor_nested_claims_do_not_amplify);
    return test_report();
}
