/* test_lexicons.c - the schemas compiled into the server: every shipped document loads and
 * checks, the records the reference refuses are refused (and good ones pass), and
 * PDS_LEXICON_DIR adds schemas and replaces shipped ones by id. */
#include "unit/test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/common/lexicons.h"
#include "core/arena.h"
#include "core/embedded.h"
#include "core/ipldjson.h"
#include "core/lexicon.h"

extern const struct embedded_file lexicon_files[];
extern const size_t lexicon_files_len;

static size_t shipped_json_files(void)
{
    size_t n = 0;
    for (size_t i = 0; i < lexicon_files_len; i++) {
        size_t len = strlen(lexicon_files[i].path);
        n += len > 5 && strcmp(lexicon_files[i].path + len - 5, ".json") == 0;
    }
    return n;
}

/* lexicon_validate_record on JSON text; ERR_* */
static enum err validate(const struct lexicon_catalog *c, const char *nsid, const char *json,
                         char msg[LEXICON_MSG_MAX])
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v;
    enum err e = ipldjson_parse(bytes_str(json), &a, &v);
    if (!e) {
        e = lexicon_validate_record(c, bytes_str(nsid), v, msg);
    }
    arena_clear(&a);
    return e;
}

static struct lexicon_catalog *shipped(void)
{
    struct lexicon_catalog *c = NULL;
    struct lexicons_info info;
    char why[512] = "";
    enum err e = lexicons_load(NULL, &c, &info, why, sizeof why);
    if (e) {
        fprintf(stderr, "lexicons_load: %s\n", why);
    }
    return c;
}

static void test_lexicons_every_shipped_document_loads(void)
{
    struct lexicon_catalog *c = NULL;
    struct lexicons_info info;
    char why[512] = "";
    CHECK_EQ(lexicons_load(NULL, &c, &info, why, sizeof why), ERR_OK);
    CHECK(c != NULL);
    CHECK(shipped_json_files() > 300);
    CHECK_EQ(info.shipped, shipped_json_files());
    CHECK_EQ(lexicon_catalog_len(c), shipped_json_files());
    CHECK_EQ(info.extra, 0);
    CHECK(strncmp(info.source, "@atproto/api ", 13) == 0);
    /* the namespaces the issue names, and the record types the reference validates */
    static const char *const ids[] = {
        "com.atproto.repo.strongRef", "app.bsky.feed.post",          "app.bsky.actor.profile",
        "app.bsky.feed.like",         "app.bsky.graph.follow",       "chat.bsky.actor.declaration",
        "com.atproto.lexicon.schema", "com.germnetwork.declaration", "app.bsky.feed.getTimeline",
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        CHECK(lexicon_catalog_lookup(c, bytes_str(ids[i])) != NULL);
    }
    lexicon_catalog_free(c);
}

#define NOW "\"createdAt\":\"2026-01-01T00:00:00.000Z\""
#define STRONG_REF                                                                                 \
    "{\"uri\":\"at://did:plc:abc/app.bsky.feed.post/3kabc\",\"cid\":"                              \
    "\"bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm\"}"

static void test_lexicons_refuse_what_the_reference_refuses(void)
{
    struct lexicon_catalog *c = shipped();
    char msg[LEXICON_MSG_MAX];
    /* 400 KB of text (maxLength 3000 bytes, maxGraphemes 300) */
    size_t big = 400 * 1024;
    char *post = malloc(big + 200);
    int n = snprintf(post, 200, "{\"$type\":\"app.bsky.feed.post\"," NOW ",\"text\":\"");
    memset(post + n, 'a', big);
    memcpy(post + n + big, "\"}", 3);
    CHECK_EQ(validate(c, "app.bsky.feed.post", post, msg), ERR_INVALID);
    free(post);
    CHECK_EQ(validate(c, "app.bsky.feed.post", "{\"$type\":\"app.bsky.feed.post\",\"text\":\"hi\"}",
                      msg),
             ERR_INVALID);
    CHECK(strstr(msg, "createdAt") != NULL);
    CHECK_EQ(validate(c, "app.bsky.feed.post",
                      "{\"$type\":\"app.bsky.feed.post\"," NOW ",\"text\":5}", msg),
             ERR_INVALID);
    char *profile = malloc(10000 + 100);
    n = snprintf(profile, 100, "{\"$type\":\"app.bsky.actor.profile\",\"displayName\":\"");
    memset(profile + n, 'x', 10000);
    memcpy(profile + n + 10000, "\"}", 3);
    CHECK_EQ(validate(c, "app.bsky.actor.profile", profile, msg), ERR_INVALID);
    free(profile);
    CHECK_EQ(validate(c, "app.bsky.feed.like",
                      "{\"$type\":\"app.bsky.feed.like\"," NOW
                      ",\"subject\":\"at://did:plc:abc/app.bsky.feed.post/3kabc\"}",
                      msg),
             ERR_INVALID);
    lexicon_catalog_free(c);
}

static void test_lexicons_accept_good_records(void)
{
    struct lexicon_catalog *c = shipped();
    char msg[LEXICON_MSG_MAX] = "";
    CHECK_EQ(validate(c, "app.bsky.feed.post",
                      "{\"$type\":\"app.bsky.feed.post\"," NOW
                      ",\"text\":\"hello\",\"langs\":[\"en\"],"
                      "\"reply\":{\"root\":" STRONG_REF ",\"parent\":" STRONG_REF "},"
                      "\"embed\":{\"$type\":\"app.bsky.embed.record\",\"record\":" STRONG_REF "}}",
                      msg),
             ERR_OK);
    CHECK_EQ(validate(c, "app.bsky.feed.like",
                      "{\"$type\":\"app.bsky.feed.like\"," NOW ",\"subject\":" STRONG_REF "}", msg),
             ERR_OK);
    CHECK_EQ(validate(c, "app.bsky.actor.profile",
                      "{\"$type\":\"app.bsky.actor.profile\",\"displayName\":\"Alice\"}", msg),
             ERR_OK);
    /* an open union takes a type it does not know */
    CHECK_EQ(validate(c, "app.bsky.feed.post",
                      "{\"$type\":\"app.bsky.feed.post\"," NOW ",\"text\":\"x\","
                      "\"embed\":{\"$type\":\"com.example.embed\",\"n\":1}}",
                      msg),
             ERR_OK);
    lexicon_catalog_free(c);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_lexicons_extra_dir_adds_and_replaces(void)
{
    char dir[] = "/tmp/pds-test-lexicons-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char sub[sizeof dir + 16], a[sizeof dir + 64], b[sizeof dir + 64];
    snprintf(sub, sizeof sub, "%s/com", dir);
    mkdir(sub, 0700);
    snprintf(a, sizeof a, "%s/thing.json", sub);
    snprintf(b, sizeof b, "%s/like.json", dir);
    write_file(a, "{\"lexicon\":1,\"id\":\"com.example.thing\",\"defs\":{\"main\":{\"type\":"
                  "\"record\",\"key\":\"tid\",\"record\":{\"type\":\"object\",\"required\":[\"n\"],"
                  "\"properties\":{\"n\":{\"type\":\"integer\",\"maximum\":3}}}}}}");
    /* a looser like: subject may be any string */
    write_file(b, "{\"lexicon\":1,\"id\":\"app.bsky.feed.like\",\"defs\":{\"main\":{\"type\":"
                  "\"record\",\"key\":\"tid\",\"record\":{\"type\":\"object\",\"properties\":{"
                  "\"subject\":{\"type\":\"string\"}}}}}}");
    struct lexicon_catalog *c = NULL;
    struct lexicons_info info;
    char why[512] = "", msg[LEXICON_MSG_MAX];
    CHECK_EQ(lexicons_load(dir, &c, &info, why, sizeof why), ERR_OK);
    CHECK_EQ(info.extra, 2);
    CHECK_EQ(info.shipped + 1, shipped_json_files());
    CHECK_EQ(validate(c, "com.example.thing", "{\"$type\":\"com.example.thing\",\"n\":2}", msg),
             ERR_OK);
    CHECK_EQ(validate(c, "com.example.thing", "{\"$type\":\"com.example.thing\",\"n\":9}", msg),
             ERR_INVALID);
    CHECK_EQ(validate(c, "app.bsky.feed.like",
                      "{\"$type\":\"app.bsky.feed.like\",\"subject\":\"anything\"}", msg),
             ERR_OK);
    lexicon_catalog_free(c);
    /* a broken document stops start-up with its path */
    write_file(a, "{\"lexicon\":1,\"id\":\"com.example.thing\",\"defs\":{\"main\":{\"type\":5}}}");
    CHECK_EQ(lexicons_load(dir, &c, &info, why, sizeof why), ERR_INVALID);
    CHECK(c == NULL);
    CHECK(strstr(why, "thing.json") != NULL);
    unlink(a);
    unlink(b);
    rmdir(sub);
    rmdir(dir);
    CHECK_EQ(lexicons_load("/nonexistent/lexicons", &c, &info, why, sizeof why), ERR_INVALID);
}

int main(void)
{
    RUN(test_lexicons_every_shipped_document_loads);
    RUN(test_lexicons_refuse_what_the_reference_refuses);
    RUN(test_lexicons_accept_good_records);
    RUN(test_lexicons_extra_dir_adds_and_replaces);
    return test_report();
}
