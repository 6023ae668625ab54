/* test_repo_store.c - repositories in a real PostgreSQL: the one-statement commit, the
 * record index, exact garbage collection, lost races, concurrent writers, and the outbox. */
#include "unit/test.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/dagcbor.h"
#include "db/migrate.h"
#include "db/repo_store.h"
#include "pg/pg_test.h"
#include "repo/mst.h"

#define DID               "did:plc:testtesttesttesttesttest"
#define WRITERS           4
#define WRITES_PER_WRITER 25

static char *url;
static struct sigkey key;
static struct tid_gen tids;

static int64_t count(struct db *db, const char *sql)
{
    PGresult *r;
    if (db_query(db, sql, NULL, &r)) {
        return -1;
    }
    int64_t n = db_col_i64(r, 0, 0);
    PQclear(r);
    return n;
}

static struct bytes record(struct arena *a, const char *text)
{
    struct dm_value *v = dm_map(a);
    dm_map_put(a, v, "$type", dm_cstr(a, "app.bsky.feed.post"));
    dm_map_put(a, v, "text", dm_cstr(a, text));
    struct buf b;
    buf_init(&b, BUF_MAX_DEFAULT);
    if (dagcbor_encode(v, &b)) {
        abort();
    }
    struct bytes out = bytes_of(arena_memdup(a, b.ptr, b.len), b.len);
    buf_clear(&b);
    return out;
}

/* One write with retries on lost races, as the endpoint does. */
static _Thread_local unsigned backoff_seed = 1;

static enum err write_one(struct db *db, struct blockcache *cache, struct repo_write *w, size_t n,
                          int *races)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        struct repo_head head;
        enum err e = repo_store_head(db, DID, &head);
        if (e == ERR_NOT_FOUND) {
            head.exists = false;
            head.did = BYTES_LIT(DID);
        } else if (e) {
            return e;
        }
        head.did = BYTES_LIT(DID);
        struct repo_source src = {db, DID, cache};
        struct repo_commit c;
        repo_commit_init(&c);
        size_t failed;
        for (size_t i = 0; i < n; i++) {
            w[i].had_prev = w[i].noop = false;
        }
        e = n ? repo_apply_writes(repo_source(&src), &head, w, n, &key, &tids, 1795512233000, &c,
                                  &failed)
              : repo_apply_empty(repo_source(&src), &head, &key, &tids, 1795512233000, &c);
        bool raced = false;
        if (!e && !c.empty) {
            e = repo_store_apply(db, &head, &c, w, n, cache, &raced);
        }
        repo_commit_clear(&c);
        if (e == ERR_MISSING) {
            raced = true; /* a concurrent commit collected a node we were reading */
        } else if (e || !raced) {
            return e;
        }
        (*races)++;
        /* back off as the server's write path does (api/repo/write.c): without it a writer
         * slowed by a loaded machine can lose every round to the others */
        struct timespec ts = {
            0, (long)(rand_r(&backoff_seed) % (1000 << (attempt < 6 ? attempt : 6))) * 1000};
        nanosleep(&ts, NULL);
    }
    return ERR_CONFLICT;
}

static enum err count_node(void *ctx, const struct cid *cid, struct bytes block)
{
    (*(int64_t *)ctx)++;
    return ERR_OK;
}

/* The stored blocks are exactly the commit, the MST nodes and the live records. */
static bool blocks_exact(struct db *db)
{
    struct repo_head head;
    if (repo_store_head(db, DID, &head)) {
        return false;
    }
    struct repo_source src = {db, DID, NULL};
    struct mst *m = mst_load(repo_source(&src), &head.data);
    int64_t nodes = 0;
    bool ok = mst_walk_nodes(m, count_node, &nodes) == ERR_OK;
    mst_free(m);
    int64_t records = count(db, "SELECT count(DISTINCT cid) FROM record");
    int64_t stored = count(db, "SELECT count(*) FROM repo_block");
    int64_t accounted = count(db, "SELECT repo_bytes FROM account WHERE did = '" DID "'");
    int64_t actual = count(db, "SELECT coalesce(sum(length(data)), 0) FROM repo_block");
    if (accounted != actual) {
        fprintf(stderr, "repo_bytes says %lld, blocks hold %lld\n", (long long)accounted,
                (long long)actual);
        return false;
    }
    if (!ok || stored != 1 + nodes + records) {
        fprintf(stderr, "stored %lld blocks, expected 1 + %lld nodes + %lld records\n",
                (long long)stored, (long long)nodes, (long long)records);
        return false;
    }
    return true;
}

static void test_repo_store_writes_index_and_gc(void)
{
    struct db db;
    db_init(&db, url);
    struct arena a;
    arena_init(&a);
    struct blockcache *cache = blockcache_new(1 << 20);
    int races = 0;
    CHECK(db_exec(&db, "INSERT INTO account (did, handle) VALUES ('" DID "', 'alice.test')", NULL,
                  NULL) == ERR_OK);
    CHECK(write_one(&db, cache, NULL, 0, &races) == ERR_OK); /* the first, empty commit */
    CHECK_EQ(count(&db, "SELECT count(*) FROM repo_root"), 1);

    char rkey[16], text[32];
    for (int i = 0; i < 40; i++) {
        snprintf(rkey, sizeof(rkey), "3jzfcijpj2z%02d", i);
        snprintf(text, sizeof(text), "post %d", i);
        struct repo_write w = {.action = REPO_CREATE,
                               .collection = BYTES_LIT("app.bsky.feed.post"),
                               .rkey = bytes_of(arena_strndup(&a, rkey, 13), 13),
                               .record = record(&a, text)};
        CHECK(write_one(&db, cache, &w, 1, &races) == ERR_OK);
    }
    CHECK_EQ(count(&db, "SELECT count(*) FROM record"), 40);
    CHECK(blocks_exact(&db));
    /* the cache holds the live tree's nodes, not the commit, the records or replaced nodes */
    struct repo_head before, after;
    CHECK(repo_store_head(&db, DID, &before) == ERR_OK);
    {
        snprintf(rkey, sizeof(rkey), "3jzfcijpj2z%02d", 40);
        struct repo_write w = {.action = REPO_CREATE,
                               .collection = BYTES_LIT("app.bsky.feed.post"),
                               .rkey = bytes_of(arena_strndup(&a, rkey, 13), 13),
                               .record = record(&a, "post 40")};
        CHECK(write_one(&db, cache, &w, 1, &races) == ERR_OK);
        CHECK(repo_store_head(&db, DID, &after) == ERR_OK);
        struct bytes got;
        CHECK(blockcache_get(cache, &after.data, &a, &got));
        CHECK(!blockcache_get(cache, &after.commit, &a, &got));
        CHECK(!blockcache_get(cache, &w.cid, &a, &got));
        CHECK(!blockcache_get(cache, &before.data, &a, &got)); /* the old root is garbage */
        struct repo_write undo = {
            .action = REPO_DELETE, .collection = BYTES_LIT("app.bsky.feed.post"), .rkey = w.rkey};
        CHECK(write_one(&db, cache, &undo, 1, &races) == ERR_OK);
    }
    /* two records with the same content: deleting one keeps the shared block */
    struct repo_write same[2] = {
        {.action = REPO_UPDATE,
         .collection = BYTES_LIT("app.bsky.feed.post"),
         .rkey = BYTES_LIT("3jzfcijpj2z00"),
         .record = record(&a, "twin")},
        {.action = REPO_UPDATE,
         .collection = BYTES_LIT("app.bsky.feed.post"),
         .rkey = BYTES_LIT("3jzfcijpj2z01"),
         .record = record(&a, "twin")},
    };
    CHECK(write_one(&db, cache, same, 2, &races) == ERR_OK);
    CHECK(blocks_exact(&db));
    struct repo_write del = {.action = REPO_DELETE,
                             .collection = BYTES_LIT("app.bsky.feed.post"),
                             .rkey = BYTES_LIT("3jzfcijpj2z00")};
    CHECK(write_one(&db, cache, &del, 1, &races) == ERR_OK);
    CHECK_EQ(count(&db, "SELECT count(*) FROM record"), 39);
    CHECK_EQ(count(&db, "SELECT count(*) FROM record WHERE rkey = '3jzfcijpj2z01'"), 1);
    CHECK(blocks_exact(&db));
    /* one outbox event per commit, none numbered yet */
    CHECK_EQ(count(&db, "SELECT count(*) FROM repo_seq WHERE event_type = 'commit'"),
             1 + 40 + 2 + 2);
    CHECK_EQ(count(&db, "SELECT count(*) FROM repo_seq WHERE seq IS NOT NULL"), 0);
    CHECK_EQ(races, 0);
    blockcache_free(cache);
    arena_clear(&a);
    db_clear(&db);
}

/* A commit computed against a root that moved is refused and writes nothing. */
static void test_repo_store_lost_race_writes_nothing(void)
{
    struct db db;
    db_init(&db, url);
    struct arena a;
    arena_init(&a);
    struct repo_head head;
    CHECK(repo_store_head(&db, DID, &head) == ERR_OK);
    head.did = BYTES_LIT(DID);
    struct repo_source src = {&db, DID, NULL};
    struct repo_write w1 = {.action = REPO_CREATE,
                            .collection = BYTES_LIT("app.bsky.feed.like"),
                            .rkey = BYTES_LIT("3jzfcijpj2zaa"),
                            .record = record(&a, "a")};
    struct repo_write w2 = {.action = REPO_CREATE,
                            .collection = BYTES_LIT("app.bsky.feed.like"),
                            .rkey = BYTES_LIT("3jzfcijpj2zbb"),
                            .record = record(&a, "b")};
    struct repo_commit c1, c2;
    repo_commit_init(&c1);
    repo_commit_init(&c2);
    size_t failed;
    CHECK(repo_apply_writes(repo_source(&src), &head, &w1, 1, &key, &tids, 0, &c1, &failed) ==
          ERR_OK);
    CHECK(repo_apply_writes(repo_source(&src), &head, &w2, 1, &key, &tids, 0, &c2, &failed) ==
          ERR_OK);
    int64_t blocks = count(&db, "SELECT count(*) FROM repo_block");
    int64_t events = count(&db, "SELECT count(*) FROM repo_seq");
    bool raced = true;
    CHECK(repo_store_apply(&db, &head, &c1, &w1, 1, NULL, &raced) == ERR_OK && !raced);
    int64_t blocks_after_first = count(&db, "SELECT count(*) FROM repo_block");
    CHECK(repo_store_apply(&db, &head, &c2, &w2, 1, NULL, &raced) == ERR_OK && raced);
    CHECK_EQ(count(&db, "SELECT count(*) FROM repo_block"), blocks_after_first);
    CHECK_EQ(count(&db, "SELECT count(*) FROM repo_seq"), events + 1);
    CHECK_EQ(count(&db, "SELECT count(*) FROM record WHERE rkey = '3jzfcijpj2zbb'"), 0);
    CHECK(blocks != blocks_after_first);
    /* a commit rolled back with its transaction leaves nothing either */
    struct repo_head now;
    CHECK(repo_store_head(&db, DID, &now) == ERR_OK);
    now.did = BYTES_LIT(DID);
    repo_commit_clear(&c2);
    repo_commit_init(&c2);
    CHECK(repo_apply_writes(repo_source(&src), &now, &w2, 1, &key, &tids, 0, &c2, &failed) ==
          ERR_OK);
    CHECK(db_begin(&db) == ERR_OK);
    CHECK(repo_store_apply(&db, &now, &c2, &w2, 1, NULL, &raced) == ERR_OK && !raced);
    db_rollback(&db);
    CHECK_EQ(count(&db, "SELECT count(*) FROM repo_block"), blocks_after_first);
    CHECK_EQ(count(&db, "SELECT count(*) FROM record WHERE rkey = '3jzfcijpj2zbb'"), 0);
    CHECK(blocks_exact(&db));
    repo_commit_clear(&c1);
    repo_commit_clear(&c2);
    arena_clear(&a);
    db_clear(&db);
}

struct writer_arg {
    int id;
    int races;
    enum err result;
};

static void *writer(void *p)
{
    struct writer_arg *arg = p;
    struct db db;
    db_init(&db, url);
    struct arena a;
    arena_init(&a);
    arg->result = ERR_OK;
    backoff_seed = (unsigned)arg->id * 7919u + 1u; /* each writer its own back-off */
    for (int i = 0; i < WRITES_PER_WRITER && !arg->result; i++) {
        char rkey[16], text[32];
        snprintf(rkey, sizeof(rkey), "3kzfcijp%d%04d", arg->id, i);
        snprintf(text, sizeof(text), "w%d-%d", arg->id, i);
        struct repo_write w = {.action = REPO_CREATE,
                               .collection = BYTES_LIT("app.bsky.feed.post"),
                               .rkey = bytes_of(arena_strndup(&a, rkey, 13), 13),
                               .record = record(&a, text)};
        arg->result = write_one(&db, NULL, &w, 1, &arg->races);
    }
    arena_clear(&a);
    db_clear(&db);
    return NULL;
}

/* Writers racing on one repository all get their writes in, each exactly once. */
static void test_repo_store_concurrent_writers(void)
{
    struct db db;
    db_init(&db, url);
    int64_t before = count(&db, "SELECT count(*) FROM record");
    pthread_t th[WRITERS];
    struct writer_arg args[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        args[i] = (struct writer_arg){.id = i};
        pthread_create(&th[i], NULL, writer, &args[i]);
    }
    int races = 0;
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(th[i], NULL);
        if (args[i].result) {
            fprintf(stderr, "writer %d: %s\n", i, err_str(args[i].result));
        }
        CHECK(args[i].result == ERR_OK);
        races += args[i].races;
    }
    CHECK_EQ(count(&db, "SELECT count(*) FROM record"), before + WRITERS * WRITES_PER_WRITER);
    CHECK(blocks_exact(&db));
    printf("concurrent writers: %d lost races, all retried\n", races);
    db_clear(&db);
}

int main(void)
{
    pgtest_connect_admin();
    char name[64];
    url = pgtest_create_db(name);
    struct db db;
    db_init(&db, url);
    int applied = 0;
    if (migrate_run(&db, migrations_embedded, migrations_embedded_len, &applied)) {
        fprintf(stderr, "migrations failed\n");
        return 1;
    }
    db_clear(&db);
    if (sigkey_generate(SIGKEY_K256, &key)) {
        return 1;
    }
    tid_gen_init(&tids, 3);
    RUN(test_repo_store_writes_index_and_gc);
    RUN(test_repo_store_lost_race_writes_nothing);
    RUN(test_repo_store_concurrent_writers);
    pgtest_drop_db(name);
    pgtest_disconnect_admin();
    free(url);
    return test_report();
}
