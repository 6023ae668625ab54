/* test_lexicon.c - lexicon schema checks, catalog lookup, grapheme counting, blob accept
 * patterns and record validation (unions, unknown, nullable, messages). */
#include "core/lexicon.h"

#include "core/arena.h"
#include "core/ipldjson.h"
#include "unit/test.h"

/* A schema document used by the validation tests; refs to com.example.missing never
 * resolve. */
static const char demo_lexicon[] =
    "{\"lexicon\":1,\"id\":\"com.example.demo\",\"defs\":{"
    "\"main\":{\"type\":\"record\",\"key\":\"tid\",\"record\":{\"type\":\"object\","
    "  \"required\":[\"text\"],\"nullable\":[\"note\"],\"properties\":{"
    "  \"text\":{\"type\":\"string\",\"maxLength\":40,\"maxGraphemes\":3},"
    "  \"note\":{\"type\":\"string\"},"
    "  \"any\":{\"type\":\"unknown\"},"
    "  \"image\":{\"type\":\"blob\",\"accept\":[\"image/*\"],\"maxSize\":1000},"
    "  \"video\":{\"type\":\"blob\",\"accept\":[\"video/mp4\"]},"
    "  \"open\":{\"type\":\"union\",\"refs\":[\"#point\",\"com.example.other#thing\"]},"
    "  \"closed\":{\"type\":\"union\",\"refs\":[\"#point\"],\"closed\":true},"
    "  \"far\":{\"type\":\"ref\",\"ref\":\"com.example.missing#x\"},"
    "  \"points\":{\"type\":\"array\",\"items\":{\"type\":\"ref\",\"ref\":\"#point\"}}}}},"
    "\"point\":{\"type\":\"object\",\"required\":[\"x\"],\"properties\":{"
    "  \"x\":{\"type\":\"integer\",\"minimum\":0}}},"
    "\"flag\":{\"type\":\"token\"}}}";

static struct lexicon_catalog *demo_catalog(void)
{
    struct lexicon_catalog *c = lexicon_catalog_new();
    char msg[LEXICON_MSG_MAX] = "";
    enum err e = lexicon_catalog_add_text(c, bytes_str(demo_lexicon), msg);
    CHECK_EQ(e, ERR_OK);
    if (e) {
        fprintf(stderr, "demo lexicon: %s\n", msg);
    }
    return c;
}

/* Validates record JSON text against com.example.demo; msg gets the message. */
static enum err check_record(const struct lexicon_catalog *c, const char *json,
                             char msg[LEXICON_MSG_MAX])
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v = NULL;
    enum err e = ipldjson_parse(bytes_str(json), &a, &v);
    CHECK_EQ(e, ERR_OK);
    msg[0] = '\0';
    if (!e) {
        e = lexicon_validate_record(c, BYTES_LIT("com.example.demo"), v, msg);
    }
    arena_clear(&a);
    return e;
}

static enum err check_doc(const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    CHECK(j != NULL);
    char msg[LEXICON_MSG_MAX];
    enum err e = lexicon_check(j, msg);
    json_decref(j);
    return e;
}

/* woman ZWJ woman ZWJ boy ZWJ boy: 25 bytes, one grapheme */
#define FAMILY                                                                                     \
    "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa6\xe2\x80\x8d\xf0\x9f" \
    "\x91\xa6"

static size_t graphemes(const char *s)
{
    return lexicon_grapheme_count(bytes_str(s), SIZE_MAX - 1);
}

static void test_lexicon_graphemes_follow_uax29(void)
{
    CHECK_EQ(graphemes(""), 0);
    CHECK_EQ(graphemes("abc"), 3);
    CHECK_EQ(graphemes("e\xcc\x81"), 1);                            /* e + combining acute */
    CHECK_EQ(graphemes("\r\n"), 1);                                 /* GB3 */
    CHECK_EQ(graphemes("\n\r"), 2);                                 /* GB4 */
    CHECK_EQ(graphemes("\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8"), 1); /* Hangul L V T */
    /* flags: regional indicators pair up (GB12/13) */
    CHECK_EQ(graphemes("\xf0\x9f\x87\xa9\xf0\x9f\x87\xaa"), 1);
    CHECK_EQ(graphemes("\xf0\x9f\x87\xa9\xf0\x9f\x87\xaa\xf0\x9f\x87\xa9"), 2);
    /* rainbow flag: white flag, VS16, ZWJ, rainbow (GB11) */
    CHECK_EQ(graphemes("\xf0\x9f\x8f\xb3\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x8c\x88"), 1);
    /* family: woman ZWJ woman ZWJ boy ZWJ boy, twice */
    CHECK_EQ(graphemes(FAMILY FAMILY), 2);
    /* a ZWJ after a letter does not join the next pictograph */
    CHECK_EQ(graphemes("a\xe2\x80\x8d\xf0\x9f\x8c\x88"), 2);
    /* skin-tone modifier extends the hand */
    CHECK_EQ(graphemes("\xf0\x9f\x91\x8b\xf0\x9f\x8f\xbd"), 1);
    /* counting stops once past the limit */
    CHECK_EQ(lexicon_grapheme_count(BYTES_LIT("abcdefgh"), 3), 4);
    /* invalid UTF-8 bytes count, without reading past the end */
    CHECK_EQ(lexicon_grapheme_count(BYTES_LIT("a\xff\xf0\x9f"), 10), 3);
}

static void test_lexicon_mime_accepts_wildcards(void)
{
    CHECK(lexicon_mime_accepts(BYTES_LIT("image/*"), BYTES_LIT("image/png")));
    CHECK(lexicon_mime_accepts(BYTES_LIT("image/*"), BYTES_LIT("IMAGE/webp")));
    CHECK(!lexicon_mime_accepts(BYTES_LIT("image/*"), BYTES_LIT("image/")));
    CHECK(!lexicon_mime_accepts(BYTES_LIT("image/*"), BYTES_LIT("text/plain")));
    CHECK(!lexicon_mime_accepts(BYTES_LIT("image/*"), BYTES_LIT("imagex/png")));
    CHECK(lexicon_mime_accepts(BYTES_LIT("*/*"), BYTES_LIT("application/octet-stream")));
    CHECK(lexicon_mime_accepts(BYTES_LIT("video/mp4"), BYTES_LIT("video/MP4")));
    CHECK(!lexicon_mime_accepts(BYTES_LIT("video/mp4"), BYTES_LIT("video/mp4v")));
}

static void test_lexicon_check_rejects_bad_schemas(void)
{
    CHECK_EQ(check_doc("{\"lexicon\":1,\"id\":\"a.b.c\",\"defs\":{\"x\":{\"type\":\"integer\"}}}"),
             ERR_OK);
    CHECK_EQ(
        check_doc("{\"lexicon\":1.0,\"id\":\"a.b.c\",\"defs\":{\"x\":{\"type\":\"integer\"}}}"),
        ERR_INVALID);
    CHECK_EQ(check_doc("{\"lexicon\":2,\"id\":\"a.b.c\",\"defs\":{\"x\":{\"type\":\"integer\"}}}"),
             ERR_INVALID);
    CHECK_EQ(check_doc("{\"lexicon\":1,\"id\":\"a.b.c\",\"defs\":{}}"), ERR_INVALID);
    CHECK_EQ(check_doc("{\"lexicon\":1,\"id\":\"a.b.c\",\"defs\":{\"x\":{\"type\":\"union\","
                       "\"refs\":[]}}}"),
             ERR_INVALID); /* unions cannot be named defs */
    CHECK_EQ(check_doc("{\"lexicon\":1,\"id\":\"a.b.c\",\"defs\":{\"x\":{\"type\":\"object\","
                       "\"properties\":{\"u\":{\"type\":\"union\",\"refs\":[],"
                       "\"closed\":true}}}}}"),
             ERR_INVALID); /* empty closed union */
    CHECK_EQ(check_doc("{\"lexicon\":1,\"id\":\"a.b.c\",\"defs\":{\"x\":{\"type\":\"object\","
                       "\"properties\":{\"u\":{\"type\":\"union\",\"refs\":[]}}}}}"),
             ERR_OK); /* empty open union is allowed */
    CHECK_EQ(check_doc("{\"lexicon\":1,\"id\":\"a.b.c\",\"defs\":{\"x\":{\"type\":\"string\","
                       "\"const\":\"a\",\"default\":\"a\"}}}"),
             ERR_INVALID);
    CHECK_EQ(check_doc("{\"lexicon\":1,\"id\":\"a.b.c\",\"defs\":{\"x\":{\"type\":\"string\","
                       "\"format\":\"email\"}}}"),
             ERR_INVALID);
    CHECK_EQ(check_doc("{\"lexicon\":1,\"id\":\"a.b.c\",\"defs\":{\"x\":{\"type\":\"string\","
                       "\"minLength\":5,\"maxLength\":4}}}"),
             ERR_INVALID);
    CHECK_EQ(check_doc("{\"lexicon\":1,\"id\":\"a.b.c\",\"defs\":{\"x\":{\"type\":\"blob\","
                       "\"accept\":[\"text/ht*\"]}}}"),
             ERR_INVALID);
    CHECK_EQ(check_doc("{\"lexicon\":1,\"id\":\"a.b.c\",\"defs\":{\"x\":{\"type\":\"blob\","
                       "\"accept\":[\"*\"]}}}"),
             ERR_INVALID);
    CHECK_EQ(check_doc("{\"lexicon\":1,\"id\":\"a.b.c\",\"defs\":{\"main\":{\"type\":\"record\","
                       "\"key\":\"sometimes\",\"record\":{\"type\":\"object\"}}}}"),
             ERR_INVALID);
    CHECK_EQ(check_doc("{\"lexicon\":1,\"id\":\"a.b.c\",\"defs\":{\"main\":{\"type\":\"record\","
                       "\"key\":\"literal:self\",\"record\":{\"type\":\"object\","
                       "\"required\":[\"y\"],\"properties\":{}}}}}"),
             ERR_INVALID); /* required names an undeclared property */
    CHECK_EQ(check_doc("{\"lexicon\":1,\"id\":\"a.b.c\",\"defs\":{\"x\":{\"type\":\"object\","
                       "\"properties\":{\"t\":{\"type\":\"token\"}}}}}"),
             ERR_INVALID); /* tokens are named defs only */
    CHECK_EQ(check_doc("{\"lexicon\":1,\"id\":\"a.b.c\",\"defs\":{\"x\":{\"type\":\"object\","
                       "\"properties\":{\"r\":{\"type\":\"ref\",\"ref\":\"not a ref\"}}}}}"),
             ERR_INVALID);
}

static void test_lexicon_catalog_lookup_and_conflict(void)
{
    struct lexicon_catalog *c = demo_catalog();
    CHECK_EQ(lexicon_catalog_len(c), 1);
    const struct lexicon_def *d = lexicon_catalog_lookup(c, BYTES_LIT("com.example.demo"));
    CHECK(d && d->schema->type == LEXICON_RECORD);
    CHECK(d && bytes_eq(d->schema->u.record.key, BYTES_LIT("tid")));
    d = lexicon_catalog_lookup(c, BYTES_LIT("com.example.demo#point"));
    CHECK(d && d->schema->type == LEXICON_OBJECT);
    CHECK(lexicon_catalog_lookup(c, BYTES_LIT("com.example.demo#nope")) == NULL);
    CHECK(lexicon_catalog_lookup(c, BYTES_LIT("com.example.missing")) == NULL);
    /* local refs are stored fully qualified */
    d = lexicon_catalog_lookup(c, BYTES_LIT("com.example.demo"));
    const struct lexicon_schema *rec = d ? d->schema->u.record.record : NULL;
    bool found = false;
    for (size_t i = 0; rec && i < rec->u.object.len; i++) {
        const struct lexicon_prop *p = &rec->u.object.props[i];
        if (bytes_eq(p->name, BYTES_LIT("closed"))) {
            found =
                bytes_eq(p->schema->u.union_.refs.items[0], BYTES_LIT("com.example.demo#point"));
        }
    }
    CHECK(found);
    char msg[LEXICON_MSG_MAX];
    CHECK_EQ(lexicon_catalog_add_text(c, bytes_str(demo_lexicon), msg), ERR_CONFLICT);
    CHECK_EQ(lexicon_catalog_add_text(c, BYTES_LIT("{not json"), msg), ERR_INVALID);
    CHECK_EQ(lexicon_catalog_len(c), 1);
    lexicon_catalog_free(c);
    lexicon_catalog_free(NULL);
}

static void test_lexicon_validate_messages_name_the_path(void)
{
    struct lexicon_catalog *c = demo_catalog();
    char msg[LEXICON_MSG_MAX];
    CHECK_EQ(check_record(c, "{\"$type\":\"com.example.demo\",\"text\":\"hi\"}", msg), ERR_OK);
    CHECK_EQ(check_record(c, "{\"$type\":\"com.example.demo\",\"text\":5}", msg), ERR_INVALID);
    CHECK_STR(msg, "record/text must be a string");
    CHECK_EQ(check_record(c, "{\"$type\":\"com.example.demo\"}", msg), ERR_INVALID);
    CHECK_STR(msg, "record must have the property \"text\"");
    CHECK_EQ(check_record(c, "{\"$type\":\"com.example.other\",\"text\":\"hi\"}", msg),
             ERR_INVALID);
    CHECK_EQ(check_record(c, "{\"text\":\"hi\"}", msg), ERR_INVALID);
    CHECK_EQ(check_record(c,
                          "{\"$type\":\"com.example.demo\",\"text\":\"hi\","
                          "\"points\":[{\"x\":1},{\"x\":-1}]}",
                          msg),
             ERR_INVALID);
    CHECK_STR(msg, "record/points/1/x can not be less than 0");
    /* nullable: null allowed for note, not for text */
    CHECK_EQ(check_record(c, "{\"$type\":\"com.example.demo\",\"text\":\"hi\",\"note\":null}", msg),
             ERR_OK);
    CHECK_EQ(check_record(c, "{\"$type\":\"com.example.demo\",\"text\":null}", msg), ERR_INVALID);
    /* open objects: undeclared fields are ignored */
    CHECK_EQ(check_record(c, "{\"$type\":\"com.example.demo\",\"text\":\"hi\",\"extra\":1.0}", msg),
             ERR_OK);
    /* a record type nobody loaded */
    struct arena a;
    arena_init(&a);
    struct dm_value *v = NULL;
    CHECK_EQ(ipldjson_parse(BYTES_LIT("{\"$type\":\"com.example.nope\"}"), &a, &v), ERR_OK);
    CHECK_EQ(lexicon_validate_record(c, BYTES_LIT("com.example.nope"), v, msg), ERR_NOT_FOUND);
    CHECK_EQ(lexicon_validate_record(c, BYTES_LIT("com.example.demo#point"), v, msg),
             ERR_NOT_FOUND);
    arena_clear(&a);
    lexicon_catalog_free(c);
}

static void test_lexicon_validate_counts_graphemes_not_bytes(void)
{
    struct lexicon_catalog *c = demo_catalog();
    char msg[LEXICON_MSG_MAX];
    /* three flags: 24 bytes, 3 graphemes (max 3) */
    CHECK_EQ(check_record(c,
                          "{\"$type\":\"com.example.demo\",\"text\":\"\xf0\x9f\x87\xa9\xf0\x9f"
                          "\x87\xaa\xf0\x9f\x87\xa9\xf0\x9f\x87\xaa\xf0\x9f\x87\xa9\xf0\x9f"
                          "\x87\xaa\"}",
                          msg),
             ERR_OK);
    CHECK_EQ(check_record(c, "{\"$type\":\"com.example.demo\",\"text\":\"abcd\"}", msg),
             ERR_INVALID);
    CHECK_STR(msg, "record/text must not be longer than 3 graphemes");
    /* byte limit (40) applies too: two families are 50 bytes, 2 graphemes */
    CHECK_EQ(
        check_record(c, "{\"$type\":\"com.example.demo\",\"text\":\"" FAMILY FAMILY "\"}", msg),
        ERR_INVALID);
    CHECK_STR(msg, "record/text must not be longer than 40 bytes");
    lexicon_catalog_free(c);
}

static void test_lexicon_validate_unions(void)
{
    struct lexicon_catalog *c = demo_catalog();
    char msg[LEXICON_MSG_MAX];
    const char *ok[] = {
        "{\"$type\":\"com.example.demo\",\"text\":\"\","
        "\"open\":{\"$type\":\"com.example.demo#point\",\"x\":3}}",
        /* open union: an unlisted type passes unchecked */
        "{\"$type\":\"com.example.demo\",\"text\":\"\","
        "\"open\":{\"$type\":\"com.example.unlisted\",\"x\":\"any\"}}",
        "{\"$type\":\"com.example.demo\",\"text\":\"\","
        "\"closed\":{\"$type\":\"com.example.demo#point\",\"x\":0}}",
    };
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        CHECK_EQ(check_record(c, ok[i], msg), ERR_OK);
    }
    const char *bad[] = {
        "{\"$type\":\"com.example.demo\",\"text\":\"\",\"open\":{\"x\":3}}",
        "{\"$type\":\"com.example.demo\",\"text\":\"\",\"open\":[]}",
        "{\"$type\":\"com.example.demo\",\"text\":\"\","
        "\"open\":{\"$type\":\"com.example.demo#point\",\"x\":\"3\"}}",
        "{\"$type\":\"com.example.demo\",\"text\":\"\","
        "\"closed\":{\"$type\":\"com.example.unlisted\",\"x\":0}}",
        /* "#main" is never a valid $type; "#point" must be fully qualified */
        "{\"$type\":\"com.example.demo\",\"text\":\"\","
        "\"closed\":{\"$type\":\"#point\",\"x\":0}}",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        CHECK_EQ(check_record(c, bad[i], msg), ERR_INVALID);
    }
    /* a listed ref that is not in the catalog, and a ref that is not: not found */
    CHECK_EQ(check_record(c,
                          "{\"$type\":\"com.example.demo\",\"text\":\"\","
                          "\"open\":{\"$type\":\"com.example.other#thing\"}}",
                          msg),
             ERR_NOT_FOUND);
    CHECK_EQ(check_record(c, "{\"$type\":\"com.example.demo\",\"text\":\"\",\"far\":{}}", msg),
             ERR_NOT_FOUND);
    CHECK(strstr(msg, "com.example.missing#x") != NULL);
    lexicon_catalog_free(c);
}

static void test_lexicon_validate_unknown_and_blobs(void)
{
    struct lexicon_catalog *c = demo_catalog();
    char msg[LEXICON_MSG_MAX];
#define LINK "{\"$link\":\"bafkreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454\"}"
    CHECK_EQ(
        check_record(c, "{\"$type\":\"com.example.demo\",\"text\":\"\",\"any\":{\"a\":1}}", msg),
        ERR_OK);
    const char *bad_unknown[] = {
        "false", "{\"$bytes\":\"aGk\"}",
        "[1]",   "\"s\"",
        LINK,    "{\"$type\":\"blob\",\"ref\":" LINK ",\"mimeType\":\"text/plain\",\"size\":1}"};
    for (size_t i = 0; i < ARRAY_LEN(bad_unknown); i++) {
        char rec[512];
        snprintf(rec, sizeof(rec), "{\"$type\":\"com.example.demo\",\"text\":\"\",\"any\":%s}",
                 bad_unknown[i]);
        CHECK_EQ(check_record(c, rec, msg), ERR_INVALID);
        CHECK_STR(msg, "record/any must be an object");
    }
    const char *blobs[][2] = {
        {"image", "image/png"},  {"image", "image/jpeg"}, {"video", "video/mp4"},
        {"image", "text/plain"}, {"video", "video/webm"}, {"image", "image"},
    };
    for (size_t i = 0; i < ARRAY_LEN(blobs); i++) {
        char rec[512];
        snprintf(rec, sizeof(rec),
                 "{\"$type\":\"com.example.demo\",\"text\":\"\",\"%s\":{\"$type\":\"blob\","
                 "\"ref\":" LINK ",\"mimeType\":\"%s\",\"size\":10}}",
                 blobs[i][0], blobs[i][1]);
        CHECK_EQ(check_record(c, rec, msg), i < 3 ? ERR_OK : ERR_INVALID);
    }
    CHECK_EQ(check_record(c,
                          "{\"$type\":\"com.example.demo\",\"text\":\"\",\"image\":{"
                          "\"$type\":\"blob\",\"ref\":" LINK
                          ",\"mimeType\":\"image/png\",\"size\":1001}}",
                          msg),
             ERR_INVALID);
    CHECK_STR(msg, "record/image must not be larger than 1000 bytes");
    /* a plain map shaped like a blob without $type is not a blob */
    CHECK_EQ(check_record(c,
                          "{\"$type\":\"com.example.demo\",\"text\":\"\",\"image\":{"
                          "\"ref\":" LINK ",\"mimeType\":\"image/png\",\"size\":1}}",
                          msg),
             ERR_INVALID);
#undef LINK
    lexicon_catalog_free(c);
}

static void test_lexicon_record_key_types(void)
{
    CHECK(lexicon_record_key_allows(BYTES_LIT("tid"), BYTES_LIT("3kznmn7xqxl22")));
    CHECK(!lexicon_record_key_allows(BYTES_LIT("tid"), BYTES_LIT("self")));
    CHECK(lexicon_record_key_allows(BYTES_LIT("literal:self"), BYTES_LIT("self")));
    CHECK(!lexicon_record_key_allows(BYTES_LIT("literal:self"), BYTES_LIT("selfie")));
    CHECK(lexicon_record_key_allows(BYTES_LIT("nsid"), BYTES_LIT("com.example.thing")));
    CHECK(!lexicon_record_key_allows(BYTES_LIT("nsid"), BYTES_LIT("self")));
    CHECK(lexicon_record_key_allows(BYTES_LIT("any"), BYTES_LIT("a:b~c")));
    CHECK(!lexicon_record_key_allows(BYTES_LIT("any"), BYTES_LIT("..")));
    CHECK(!lexicon_record_key_allows(BYTES_LIT("other"), BYTES_LIT("self")));
}

static void test_lexicon_validate_schema_node(void)
{
    struct lexicon_catalog *c = lexicon_catalog_new();
    char msg[LEXICON_MSG_MAX];
    CHECK_EQ(lexicon_catalog_add_text(
                 c,
                 BYTES_LIT("{\"lexicon\":1,\"id\":\"com.example.proc\",\"defs\":{\"main\":{"
                           "\"type\":\"procedure\",\"input\":{\"encoding\":\"application/json\","
                           "\"schema\":{\"type\":\"object\",\"required\":[\"p\"],"
                           "\"properties\":{\"p\":{\"type\":\"ref\",\"ref\":\"#pt\"}}}}},"
                           "\"pt\":{\"type\":\"string\",\"format\":\"did\"}}}"),
                 msg),
             ERR_OK);
    const struct lexicon_def *d = lexicon_catalog_lookup(c, BYTES_LIT("com.example.proc"));
    CHECK(d && d->schema->type == LEXICON_PROCEDURE && d->schema->u.xrpc.input.present);
    if (d && d->schema->u.xrpc.input.schema) {
        struct arena a;
        arena_init(&a);
        struct dm_value *v = NULL;
        CHECK_EQ(ipldjson_parse(BYTES_LIT("{\"p\":\"did:plc:abc\"}"), &a, &v), ERR_OK);
        CHECK_EQ(lexicon_validate_schema(c, d->schema->u.xrpc.input.schema, v, "input", msg),
                 ERR_OK);
        CHECK_EQ(ipldjson_parse(BYTES_LIT("{\"p\":\"nope\"}"), &a, &v), ERR_OK);
        CHECK_EQ(lexicon_validate_schema(c, d->schema->u.xrpc.input.schema, v, "input", msg),
                 ERR_INVALID);
        CHECK_STR(msg, "input/p must be a valid did");
        /* a procedure holds no data itself */
        CHECK_EQ(lexicon_validate_value(c, BYTES_LIT("com.example.proc"), v, NULL, msg),
                 ERR_INVALID);
        arena_clear(&a);
    }
    lexicon_catalog_free(c);
}

int main(void)
{
    RUN(test_lexicon_graphemes_follow_uax29);
    RUN(test_lexicon_mime_accepts_wildcards);
    RUN(test_lexicon_check_rejects_bad_schemas);
    RUN(test_lexicon_catalog_lookup_and_conflict);
    RUN(test_lexicon_validate_messages_name_the_path);
    RUN(test_lexicon_validate_counts_graphemes_not_bytes);
    RUN(test_lexicon_validate_unions);
    RUN(test_lexicon_validate_unknown_and_blobs);
    RUN(test_lexicon_record_key_types);
    RUN(test_lexicon_validate_schema_node);
    return test_report();
}
