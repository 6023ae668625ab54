/* test_blobref.c - blob references are found anywhere in a record, once each. */
#include "unit/test.h"

#include "core/blobref.h"
#include "core/ipldjson.h"

#define BLOB_A "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
#define BLOB_B "bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"

static size_t collect(const char *json, enum err *e)
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v;
    struct cid *cids = NULL;
    size_t n = 0;
    *e = ipldjson_parse(bytes_str(json), &a, &v);
    if (!*e) {
        *e = blobref_collect(v, &a, &cids, &n);
    }
    arena_clear(&a);
    return n;
}

static void test_blobref_finds_nested_and_dedupes(void)
{
    enum err e;
    const char *post =
        "{\"$type\":\"app.bsky.feed.post\",\"text\":\"hi\",\"embed\":{\"$type\":"
        "\"app.bsky.embed.images\",\"images\":[{\"alt\":\"\",\"image\":{\"$type\":\"blob\","
        "\"ref\":{\"$link\":\"" BLOB_A "\"},\"mimeType\":\"image/png\",\"size\":10}},"
        "{\"alt\":\"\",\"image\":{\"$type\":\"blob\",\"ref\":{\"$link\":\"" BLOB_B "\"},"
        "\"mimeType\":\"image/png\",\"size\":10}},{\"alt\":\"again\",\"image\":{\"$type\":"
        "\"blob\",\"ref\":{\"$link\":\"" BLOB_A "\"},\"mimeType\":\"image/png\",\"size\":10}}]}}";
    CHECK_EQ(collect(post, &e), 2);
    CHECK(e == ERR_OK);
    CHECK_EQ(collect("{\"text\":\"no blobs\",\"n\":[1,2,{\"x\":null}]}", &e), 0);
    CHECK(e == ERR_OK);
    CHECK_EQ(collect("{\"avatar\":{\"cid\":\"" BLOB_A "\",\"mimeType\":\"image/jpeg\"}}", &e), 1);
    CHECK(e == ERR_OK);
    collect("{\"avatar\":{\"cid\":\"not-a-cid\",\"mimeType\":\"image/jpeg\"}}", &e);
    CHECK(e == ERR_INVALID);
}

int main(void)
{
    RUN(test_blobref_finds_nested_and_dedupes);
    return test_report();
}
