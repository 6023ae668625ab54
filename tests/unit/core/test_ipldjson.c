/* test_ipldjson.c - atproto JSON <-> data model: $link/$bytes/blob handling, integer
 * rules, strictness (duplicates, top level, UTF-8), limits, and output form. */
#include "unit/test.h"

#include "core/ipldjson.h"

#define CID_A "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"
#define CID_B "bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity"

static enum err parse(struct arena *a, const char *text, struct dm_value **out)
{
    return ipldjson_parse(bytes_str(text), a, out);
}

/* JSON text -> value -> compact JSON text */
static void check_rewrite(const char *in, const char *want)
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v;
    enum err e = parse(&a, in, &v);
    CHECK_EQ(e, ERR_OK);
    if (!e) {
        struct buf out;
        buf_init(&out, 1 << 16);
        CHECK_EQ(ipldjson_write(v, &out), ERR_OK);
        CHECK_STR((const char *)out.ptr, want);
        buf_clear(&out);
    }
    arena_clear(&a);
}

static void test_ipldjson_scalars_and_containers(void)
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v;
    CHECK_EQ(parse(&a,
                   "{\"i\":-42,\"t\":true,\"f\":false,\"n\":null,\"s\":\"h\\u00e9\","
                   "\"a\":[1,[2],{}],\"o\":{\"x\":\"y\"}}",
                   &v),
             ERR_OK);
    CHECK(v->kind == DM_MAP && v->u.map.len == 7);
    CHECK(dm_map_get(v, "i")->kind == DM_INT && dm_map_get(v, "i")->u.integer == -42);
    CHECK(dm_map_get(v, "t")->kind == DM_BOOL && dm_map_get(v, "t")->u.boolean);
    CHECK(dm_map_get(v, "f")->kind == DM_BOOL && !dm_map_get(v, "f")->u.boolean);
    CHECK(dm_map_get(v, "n")->kind == DM_NULL);
    CHECK(bytes_eq(dm_map_str(v, "s"), BYTES_LIT("h\xc3\xa9")));
    struct dm_value *arr = dm_map_get(v, "a");
    CHECK(arr->kind == DM_ARRAY && arr->u.array.len == 3);
    CHECK(arr->u.array.items[1]->kind == DM_ARRAY && arr->u.array.items[2]->kind == DM_MAP);
    CHECK(bytes_eq(dm_map_str(dm_map_get(v, "o"), "x"), BYTES_LIT("y")));
    /* members keep their JSON order in the value */
    CHECK(bytes_eq(v->u.map.entries[0].key, BYTES_LIT("i")));
    CHECK(bytes_eq(v->u.map.entries[6].key, BYTES_LIT("o")));
    arena_clear(&a);
}

static void test_ipldjson_link_and_bytes(void)
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v;
    CHECK_EQ(parse(&a,
                   "{\"l\":{\"$link\":\"" CID_A "\"},\"b\":{\"$bytes\":\"AQID\"},"
                   "\"e\":{\"$bytes\":\"\"},\"loose\":{\"$bytes\":\"123\"},"
                   "\"pad\":{\"$bytes\":\"Zg==\"}}",
                   &v),
             ERR_OK);
    struct dm_value *l = dm_map_get(v, "l");
    CHECK(l->kind == DM_LINK && cid_is_blessed(&l->u.link));
    char s[CID_STR_MAX];
    cid_format(&l->u.link, s);
    CHECK_STR(s, CID_A);
    struct dm_value *b = dm_map_get(v, "b");
    CHECK(b->kind == DM_BYTES && bytes_eq(b->u.str, BYTES_LIT("\x01\x02\x03")));
    CHECK(dm_map_get(v, "e")->kind == DM_BYTES && dm_map_get(v, "e")->u.str.len == 0);
    CHECK(dm_map_get(v, "loose")->kind == DM_BYTES &&
          bytes_eq(dm_map_get(v, "loose")->u.str, BYTES_LIT("\xd7\x6d")));
    CHECK(bytes_eq(dm_map_get(v, "pad")->u.str, BYTES_LIT("f")));
    arena_clear(&a);
}

static void test_ipldjson_integers(void)
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v;
    static const struct {
        const char *text;
        int64_t want;
    } ok[] = {
        {"{\"n\":123.0}", 123},
        {"{\"n\":-0.0}", 0},
        {"{\"n\":1e2}", 100},
        {"{\"n\":1.5e1}", 15},
        {"{\"n\":9007199254740991}", 9007199254740991},
        {"{\"n\":-9007199254740991}", -9007199254740991},
        {"{\"n\":9007199254740991.0}", 9007199254740991},
    };
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        CHECK_EQ(parse(&a, ok[i].text, &v), ERR_OK);
        struct dm_value *n = dm_map_get(v, "n");
        CHECK(n && n->kind == DM_INT && n->u.integer == ok[i].want);
    }
    static const char *const bad[] = {
        "{\"n\":123.456}",
        "{\"n\":0.5}",
        "{\"n\":-1e-3}",
        "{\"n\":9007199254740992}",
        "{\"n\":1e300}",
        "{\"n\":-9007199254740992}",
        "{\"n\":9007199254740992.0}",
        "{\"n\":1e400}",
        "{\"n\":99999999999999999999}",
        "{\"n\":NaN}",
        "{\"n\":01}",
        "{\"n\":+1}",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        if (parse(&a, bad[i], &v) != ERR_INVALID) {
            CHECK(!"number accepted");
            fprintf(stderr, "  %s\n", bad[i]);
        }
    }
    arena_clear(&a);
}

static void test_ipldjson_blobs(void)
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v;
    CHECK_EQ(parse(&a,
                   "{\"$type\":\"blob\",\"ref\":{\"$link\":\"" CID_B "\"},"
                   "\"mimeType\":\"image/png\",\"size\":10000}",
                   &v),
             ERR_OK);
    CHECK(dm_map_get(v, "ref")->kind == DM_LINK);
    CHECK(dm_map_get(v, "size")->u.integer == 10000);
    /* the legacy form is read as a plain map */
    CHECK_EQ(parse(&a, "{\"cid\":\"" CID_B "\",\"mimeType\":\"image/png\"}", &v), ERR_OK);
    CHECK(dm_map_get(v, "cid")->kind == DM_STRING);
    static const char *const bad[] = {
        "{\"$type\":\"blob\",\"mimeType\":\"image/png\",\"size\":1}",
        "{\"$type\":\"blob\",\"ref\":\"" CID_B "\",\"mimeType\":\"image/png\",\"size\":1}",
        "{\"$type\":\"blob\",\"ref\":{\"$link\":\"" CID_B "\"},\"size\":1}",
        "{\"$type\":\"blob\",\"ref\":{\"$link\":\"" CID_B "\"},\"mimeType\":\"\",\"size\":1}",
        "{\"$type\":\"blob\",\"ref\":{\"$link\":\"" CID_B "\"},\"mimeType\":1,\"size\":1}",
        "{\"$type\":\"blob\",\"ref\":{\"$link\":\"" CID_B "\"},\"mimeType\":\"a/b\"}",
        "{\"$type\":\"blob\",\"ref\":{\"$link\":\"" CID_B "\"},\"mimeType\":\"a/b\","
        "\"size\":\"1\"}",
        "{\"$type\":\"blob\",\"ref\":{\"$link\":\"" CID_B "\"},\"mimeType\":\"a/b\","
        "\"size\":-1}",
        "{\"$type\":\"blob\",\"ref\":{\"$link\":\"" CID_B "\"},\"mimeType\":\"a/b\","
        "\"size\":1.5}",
        "{\"x\":[{\"$type\":\"blob\"}]}", /* nested */
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        if (parse(&a, bad[i], &v) != ERR_INVALID) {
            CHECK(!"bad blob accepted");
            fprintf(stderr, "  %s\n", bad[i]);
        }
    }
    arena_clear(&a);
}

static void test_ipldjson_refuses_malformed(void)
{
    static const char *const bad[] = {
        "",
        "\"blah\"",
        "[1]",
        "123",
        "null",
        "{",
        "{} {}",
        "{\"a\":1,}",
        "{'a':1}",
        "{\"a\":1,\"a\":2}",         /* duplicate keys */
        "{\"o\":{\"a\":1,\"a\":1}}", /* nested duplicates */
        "{\"$type\":null}",
        "{\"$type\":123}",
        "{\"$type\":\"\"}",
        "{\"r\":{\"$type\":[\"x\"]}}",
        "{\"l\":{\"$link\":1234}}",
        "{\"l\":{\"$link\":\".\"}}",
        "{\"l\":{\"$link\":\"\"}}",
        "{\"l\":{\"$link\":\"QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n\"}}",
        "{\"l\":{\"$link\":\"" CID_A "\",\"other\":\"blah\"}}",
        "{\"l\":{\"$link\":\"" CID_A "\",\"$type\":\"x\"}}",
        "{\"l\":{\"$link\":null}}",
        "{\"b\":{\"$bytes\":[1,2,3]}}",
        "{\"b\":{\"$bytes\":\"AQID\",\"other\":\"blah\"}}",
        "{\"b\":{\"$bytes\":\"A\"}}",
        "{\"b\":{\"$bytes\":\"AQ-_\"}}", /* url alphabet */
        "{\"b\":{\"$bytes\":\"AQ ID\"}}",
        "{\"s\":\"\xff\"}",    /* invalid UTF-8 in a string */
        "{\"\xc0\x80\":1}",    /* ... and in a key */
        "{\"s\":\"\\ud800\"}", /* lone surrogate escape */
        "\xef\xbb\xbf{}",
        "{\"$link\":\"" CID_A "\"}", /* top level must be a map */
        "{\"$bytes\":\"AQID\"}",     /* BOM */
    };
    struct arena a;
    arena_init(&a);
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        struct dm_value *v;
        if (parse(&a, bad[i], &v) != ERR_INVALID) {
            CHECK(!"malformed JSON accepted");
            fprintf(stderr, "  %s\n", bad[i]);
        }
    }
    arena_clear(&a);
}

static void test_ipldjson_nul_in_strings(void)
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v;
    static const char text[] = "{\"s\":\"a\\u0000b\"}";
    CHECK_EQ(ipldjson_parse(BYTES_LIT(text), &a, &v), ERR_OK);
    CHECK(bytes_eq(dm_map_str(v, "s"), bytes_of("a\0b", 3)));
    struct buf out;
    buf_init(&out, 1024);
    CHECK_EQ(ipldjson_write(v, &out), ERR_OK);
    CHECK(bytes_eq(buf_bytes(&out), BYTES_LIT(text)));
    buf_clear(&out);
    arena_clear(&a);
}

static void test_ipldjson_limits(void)
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v;
    struct buf deep;
    buf_init(&deep, 1 << 16);
    /* IPLDJSON_MAX_DEPTH arrays inside the top map: the innermost 0 sits past the limit */
    CHECK_EQ(buf_append_str(&deep, "{\"a\":"), ERR_OK);
    for (int i = 0; i < IPLDJSON_MAX_DEPTH; i++) {
        CHECK_EQ(buf_append_byte(&deep, '['), ERR_OK);
    }
    CHECK_EQ(buf_append_byte(&deep, '0'), ERR_OK);
    for (int i = 0; i < IPLDJSON_MAX_DEPTH; i++) {
        CHECK_EQ(buf_append_byte(&deep, ']'), ERR_OK);
    }
    CHECK_EQ(buf_append_byte(&deep, '}'), ERR_OK);
    CHECK_EQ(ipldjson_parse(buf_bytes(&deep), &a, &v), ERR_TOO_LARGE);
    /* one level fewer parses, and encodes to DAG-CBOR */
    struct bytes less = {deep.ptr + 5, deep.len - 6}; /* the arrays without {"a": } */
    struct dm_value *arr;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)less.ptr, less.len, 0, &jerr);
    CHECK(j != NULL);
    CHECK_EQ(ipldjson_from_json(j, &a, &arr), ERR_OK);
    json_decref(j);
    struct buf cbor;
    buf_init(&cbor, 1 << 16);
    CHECK_EQ(dagcbor_encode(arr, &cbor), ERR_OK);
    buf_clear(&cbor);
    buf_clear(&deep);
    /* oversized input is refused before parsing */
    CHECK_EQ(ipldjson_parse(bytes_of("{}", IPLDJSON_MAX_INPUT_BYTES + 1), &a, &v), ERR_TOO_LARGE);
    arena_clear(&a);
}

static void test_ipldjson_output_form(void)
{
    /* compact, insertion order, links as $link, bytes as unpadded standard base64 */
    check_rewrite("{ \"z\" : 1, \"a\" : [ true, null ] }", "{\"z\":1,\"a\":[true,null]}");
    check_rewrite("{\"b\":{\"$bytes\":\"+/8=\"},\"c\":{\"$bytes\":\"Zm9vYg\"}}",
                  "{\"b\":{\"$bytes\":\"+/8\"},\"c\":{\"$bytes\":\"Zm9vYg\"}}");
    check_rewrite("{\"l\":{\"$link\":\"" CID_A "\"}}", "{\"l\":{\"$link\":\"" CID_A "\"}}");
    check_rewrite("{\"n\":123.0,\"u\":\"\xf0\x9f\x98\x80/\"}",
                  "{\"n\":123,\"u\":\"\xf0\x9f\x98\x80/\"}");
    /* a non-map value writes too (ipldjson_from_json accepts any type) */
    struct arena a;
    arena_init(&a);
    struct buf out;
    buf_init(&out, 1024);
    CHECK_EQ(ipldjson_write(dm_int(&a, -7), &out), ERR_OK);
    CHECK_STR((const char *)out.ptr, "-7");
    buf_reset(&out);
    /* values the data model cannot show as JSON */
    CHECK_EQ(ipldjson_write(dm_string(&a, BYTES_LIT("\xff")), &out), ERR_INVALID);
    struct dm_value *m = dm_map(&a);
    dm_map_put(&a, m, "k", dm_null(&a));
    dm_map_put(&a, m, "k", dm_null(&a));
    CHECK_EQ(ipldjson_write(m, &out), ERR_INVALID);
    struct dm_value *bk = dm_map(&a);
    dm_map_put_key(&a, bk, BYTES_LIT("\xff"), dm_null(&a));
    CHECK(ipldjson_to_json(bk) == NULL);
    struct buf tiny;
    buf_init(&tiny, 3);
    CHECK_EQ(ipldjson_write(dm_cstr(&a, "hello"), &tiny), ERR_TOO_LARGE);
    buf_clear(&tiny);
    buf_clear(&out);
    arena_clear(&a);
}

static void test_ipldjson_cbor_round_trip(void)
{
    static const char text[] =
        "{\"$type\":\"com.example.post\",\"text\":\"hi\",\"n\":-5,\"tags\":[\"a\",\"b\"],"
        "\"embed\":{\"$type\":\"blob\",\"ref\":{\"$link\":\"" CID_B "\"},"
        "\"mimeType\":\"image/jpeg\",\"size\":3},\"raw\":{\"$bytes\":\"AAEC\"},"
        "\"prev\":{\"$link\":\"" CID_A "\"},\"none\":null}";
    struct arena a;
    arena_init(&a);
    struct dm_value *v, *back, *again;
    CHECK_EQ(ipldjson_parse(BYTES_LIT(text), &a, &v), ERR_OK);
    struct buf cbor, json;
    buf_init(&cbor, 1 << 16);
    buf_init(&json, 1 << 16);
    CHECK_EQ(dagcbor_encode(v, &cbor), ERR_OK);
    CHECK_EQ(dagcbor_decode(buf_bytes(&cbor), &a, &back), ERR_OK);
    CHECK(dm_equal(v, back));
    CHECK_EQ(ipldjson_write(back, &json), ERR_OK);
    CHECK_EQ(ipldjson_parse(buf_bytes(&json), &a, &again), ERR_OK);
    CHECK(dm_equal(v, again));
    /* jansson sees the two texts as the same object */
    json_t *j1 = json_loadb(text, sizeof(text) - 1, 0, NULL);
    json_t *j2 = json_loadb((const char *)json.ptr, json.len, 0, NULL);
    CHECK(j1 && j2 && json_equal(j1, j2));
    json_decref(j1);
    json_decref(j2);
    buf_clear(&cbor);
    buf_clear(&json);
    arena_clear(&a);
}

static void test_ipldjson_from_json_any_type(void)
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v;
    json_t *j = json_string("x");
    CHECK_EQ(ipldjson_from_json(j, &a, &v), ERR_OK);
    CHECK(v->kind == DM_STRING);
    json_decref(j);
    j = json_real(2.0);
    CHECK_EQ(ipldjson_from_json(j, &a, &v), ERR_OK);
    CHECK(v->kind == DM_INT && v->u.integer == 2);
    json_decref(j);
    j = json_real(2.5);
    CHECK_EQ(ipldjson_from_json(j, &a, &v), ERR_INVALID);
    json_decref(j);
    CHECK_EQ(ipldjson_from_json(NULL, &a, &v), ERR_INVALID);
    /* values outlive the json_t they came from */
    j = json_pack("{s:s, s:{s:s}}", "k", "value", "l", "$link", CID_A);
    CHECK_EQ(ipldjson_from_json(j, &a, &v), ERR_OK);
    json_decref(j);
    CHECK(bytes_eq(dm_map_str(v, "k"), BYTES_LIT("value")));
    CHECK(bytes_eq(v->u.map.entries[0].key, BYTES_LIT("k")));
    CHECK(dm_map_get(v, "l")->kind == DM_LINK);
    arena_clear(&a);
}

int main(void)
{
    RUN(test_ipldjson_scalars_and_containers);
    RUN(test_ipldjson_link_and_bytes);
    RUN(test_ipldjson_integers);
    RUN(test_ipldjson_blobs);
    RUN(test_ipldjson_refuses_malformed);
    RUN(test_ipldjson_nul_in_strings);
    RUN(test_ipldjson_limits);
    RUN(test_ipldjson_output_form);
    RUN(test_ipldjson_cbor_round_trip);
    RUN(test_ipldjson_from_json_any_type);
    return test_report();
}
