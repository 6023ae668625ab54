/* test_events.c - the stored bodies of #identity, #account and #sync decode strictly (so
 * their keys are in canonical order) and carry the lexicon's fields. */
#include "unit/test.h"

#include "core/dagcbor.h"
#include "repo/car.h"
#include "repo/events.h"

static struct dm_value *decode(struct arena *a, const struct buf *b)
{
    struct dm_value *v = NULL;
    return dagcbor_decode(buf_bytes(b), a, &v) == ERR_OK ? v : NULL;
}

static void test_events_identity_and_account(void)
{
    struct arena a;
    arena_init(&a);
    struct buf b;
    buf_init(&b, BUF_MAX_DEFAULT);
    CHECK(events_identity("did:plc:abc", "alice.test", 1795512233000, &b) == ERR_OK);
    struct dm_value *v = decode(&a, &b);
    CHECK(v && bytes_eq(dm_map_str(v, "handle"), BYTES_LIT("alice.test")) &&
          bytes_eq(dm_map_str(v, "did"), BYTES_LIT("did:plc:abc")) &&
          dm_map_str(v, "time").len == 24 && !dm_map_get(v, "seq"));
    buf_reset(&b);
    CHECK(events_identity("did:plc:abc", NULL, 1795512233000, &b) == ERR_OK);
    v = decode(&a, &b);
    CHECK(v && !dm_map_get(v, "handle"));
    buf_reset(&b);
    CHECK(events_account("did:plc:abc", false, EVENT_STATUS_DEACTIVATED, 0, &b) == ERR_OK);
    v = decode(&a, &b);
    CHECK(v && dm_map_get(v, "active") && dm_map_get(v, "active")->kind == DM_BOOL &&
          !dm_map_get(v, "active")->u.boolean &&
          bytes_eq(dm_map_str(v, "status"), BYTES_LIT("deactivated")));
    buf_reset(&b);
    CHECK(events_account("did:plc:abc", true, NULL, 0, &b) == ERR_OK);
    v = decode(&a, &b);
    CHECK(v && !dm_map_get(v, "status") && dm_map_get(v, "active")->u.boolean);
    buf_clear(&b);
    arena_clear(&a);
}

static int blocks_seen;

static enum err on_block(void *ctx, const struct cid *cid, struct bytes data)
{
    blocks_seen++;
    return ERR_OK;
}

static void test_events_sync_carries_only_the_commit(void)
{
    struct arena a;
    arena_init(&a);
    struct buf b;
    buf_init(&b, BUF_MAX_DEFAULT);
    struct cid c;
    cid_compute(CID_CODEC_DAGCBOR, BYTES_LIT("\xa0"), &c);
    CHECK(events_sync("did:plc:abc", "3jzfcijpj2z2a", &c, BYTES_LIT("\xa0"), 0, &b) == ERR_OK);
    struct dm_value *v = decode(&a, &b);
    struct dm_value *blocks = v ? dm_map_get(v, "blocks") : NULL;
    CHECK(blocks && blocks->kind == DM_BYTES);
    blocks_seen = 0;
    CHECK(blocks && car_read_all(blocks->u.str, CAR_VERIFY, NULL, on_block, NULL) == ERR_OK);
    CHECK_EQ(blocks_seen, 1);
    CHECK(bytes_eq(dm_map_str(v, "rev"), BYTES_LIT("3jzfcijpj2z2a")));
    buf_clear(&b);
    arena_clear(&a);
}

int main(void)
{
    RUN(test_events_identity_and_account);
    RUN(test_events_sync_carries_only_the_commit);
    return test_report();
}
