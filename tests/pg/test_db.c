/* test_db.c - the connection layer against a real PostgreSQL: parameters and binary results
 * round-trip, errors map to codes, transactions commit and roll back, a killed connection is
 * replaced, and each thread gets its own handle. */
#include "db/db.h"

#include <pthread.h>

#include "db/log.h"
#include "db/spare.h"
#include "pg_test.h"
#include "unit/test.h"

static char *url;
static char db_name[64];

static void test_db_params_and_binary_results_round_trip(void)
{
    struct db db;
    db_init(&db, url);
    static const uint8_t raw[] = {0x01, 0x71, 0x00, 0x12, 0x20, 0xff};
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, "did:plc:abc");
    db_param_bytes(&p, bytes_of(raw, sizeof raw));
    db_param_i64(&p, -9007199254740993LL);
    db_param_bool(&p, true);
    db_param_text(&p, NULL);
    db_param_textn(&p, "collection/rkey-and-more", 10);
    PGresult *r;
    CHECK_EQ(db_query(&db,
                      "SELECT $1::text, $2::bytea, $3::int8, $4::bool, $5::text, $6::text, "
                      "7::int2, 8::int4, '{\"a\": 1}'::jsonb, now(), "
                      "'2000-01-01T00:00:01Z'::timestamptz",
                      &p, &r),
             ERR_OK);
    CHECK_STR(db_col_text(r, 0, 0), "did:plc:abc");
    struct bytes b = db_col_bytes(r, 0, 1);
    CHECK_EQ(b.len, sizeof raw);
    CHECK(b.len == sizeof raw && memcmp(b.ptr, raw, sizeof raw) == 0);
    CHECK_EQ(db_col_i64(r, 0, 2), -9007199254740993LL);
    CHECK(db_col_bool(r, 0, 3));
    CHECK(db_col_null(r, 0, 4));
    CHECK(db_col_text(r, 0, 4) == NULL);
    CHECK_STR(db_col_text(r, 0, 5), "collection");
    CHECK_EQ(db_col_i64(r, 0, 6), 7);
    CHECK_EQ(db_col_i64(r, 0, 7), 8);
    CHECK_STR(db_col_text(r, 0, 8), "{\"a\": 1}");
    int64_t now_us = (int64_t)time(NULL) * 1000000;
    int64_t got = db_col_time_us(r, 0, 9);
    CHECK(got > now_us - 60000000 && got < now_us + 60000000);
    CHECK_EQ(db_col_time_us(r, 0, 10), 946684801000000LL);
    PQclear(r);
    db_clear(&db);
}

static void test_db_errors_map_to_codes(void)
{
    struct db db;
    db_init(&db, url);
    CHECK_EQ(db_exec(&db, "CREATE TABLE t_unique (k text PRIMARY KEY)", NULL, NULL), ERR_OK);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, "one");
    int64_t n = -1;
    CHECK_EQ(db_exec(&db, "INSERT INTO t_unique VALUES ($1)", &p, &n), ERR_OK);
    CHECK_EQ(n, 1);
    CHECK_STR(db_sqlstate(&db), "");
    CHECK_EQ(db_exec(&db, "INSERT INTO t_unique VALUES ($1)", &p, NULL), ERR_CONFLICT);
    CHECK_STR(db_sqlstate(&db), "23505");
    log_set_level(LOG_LEVEL_ERROR);
    PGresult *r = (PGresult *)&p; /* must be reset to NULL on failure */
    CHECK_EQ(db_query(&db, "SELEC nonsense", NULL, &r), ERR_DB);
    CHECK(r == NULL);
    CHECK_STR(db_sqlstate(&db), "42601");
    CHECK(!db_should_retry(&db));
    db_clear(&db);
}

/* The one bigint a query answers; -1 when it fails. */
static int64_t query_i64(struct db *db, const char *sql, const struct db_params *p)
{
    PGresult *r;
    if (db_query(db, sql, p, &r) != ERR_OK) {
        return -1;
    }
    int64_t n = db_col_i64(r, 0, 0);
    PQclear(r);
    return n;
}

static int64_t count_rows(struct db *db, const char *key)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, key);
    return query_i64(db, "SELECT count(*) FROM t_tx WHERE k = $1", &p);
}

static int64_t backend_pid(struct db *db)
{
    return query_i64(db, "SELECT pg_backend_pid()", NULL);
}

static void test_db_transactions_commit_and_roll_back(void)
{
    struct db db, other;
    db_init(&db, url);
    db_init(&other, url);
    CHECK_EQ(db_exec(&db, "CREATE TABLE t_tx (k text)", NULL, NULL), ERR_OK);

    CHECK_EQ(db_begin(&db), ERR_OK);
    CHECK(db_in_tx(&db));
    CHECK_EQ(db_begin(&db), ERR_INTERNAL); /* no nesting */
    CHECK_EQ(db_exec(&db, "INSERT INTO t_tx VALUES ('gone')", NULL, NULL), ERR_OK);
    CHECK_EQ(count_rows(&other, "gone"), 0); /* invisible before commit */
    db_rollback(&db);
    CHECK(!db_in_tx(&db));
    CHECK_EQ(count_rows(&db, "gone"), 0);

    CHECK_EQ(db_begin(&db), ERR_OK);
    CHECK_EQ(db_exec(&db, "INSERT INTO t_tx VALUES ('kept')", NULL, NULL), ERR_OK);
    CHECK_EQ(db_commit(&db), ERR_OK);
    CHECK_EQ(count_rows(&other, "kept"), 1);

    /* a failed statement aborts the transaction; rollback makes the connection usable */
    CHECK_EQ(db_begin(&db), ERR_OK);
    CHECK_EQ(db_exec(&db, "INSERT INTO t_tx VALUES ('x')", NULL, NULL), ERR_OK);
    CHECK_EQ(db_exec(&db, "SELECT 1/0", NULL, NULL), ERR_DB);
    CHECK_STR(db_sqlstate(&db), "22012");
    db_rollback(&db);
    CHECK_STR(db_sqlstate(&db), "22012"); /* the caller still sees why */
    CHECK_EQ(count_rows(&db, "x"), 0);
    db_rollback(&db); /* harmless outside a transaction */
    db_clear(&db);
    db_clear(&other);
}

static void test_db_reconnects_after_the_connection_dies(void)
{
    struct db db, killer;
    db_init(&db, url);
    db_init(&killer, url);
    int64_t pid = backend_pid(&db);
    CHECK(pid > 0);
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, pid);
    CHECK_EQ(db_exec(&killer, "SELECT pg_terminate_backend($1::int)", &p, NULL), ERR_OK);
    struct timespec nap = {0, 100000000};
    nanosleep(&nap, NULL);
    /* the first statement finds the connection dead; the next one reconnects */
    enum err first = db_exec(&db, "SELECT 1", NULL, NULL);
    CHECK(first == ERR_DB || first == ERR_OK);
    int64_t again = backend_pid(&db);
    CHECK(again > 0); /* the query succeeded */
    CHECK(again != pid);
    db_clear(&db);
    db_clear(&killer);
}

static void test_db_query_in_frees_with_the_arena(void)
{
    struct db db;
    db_init(&db, url);
    struct arena a;
    arena_init(&a);
    PGresult *r;
    CHECK_EQ(db_query_in(&db, &a, "SELECT 'x'::text", NULL, &r), ERR_OK);
    CHECK_STR(db_col_text(r, 0, 0), "x");
    arena_clear(&a); /* ASan reports a leak if the result was not freed */
    db_clear(&db);
}

static void test_db_connect_wait_gives_up_on_a_dead_server(void)
{
    struct db db;
    db_init(&db, "postgresql:///nowhere?host=/nonexistent-socket-dir");
    CHECK_EQ(db_connect_wait(&db, 100), ERR_DB);
    CHECK_EQ(db_exec(&db, "SELECT 1", NULL, NULL), ERR_DB);
    db_clear(&db);
}

static void *thread_handle(void *arg)
{
    struct db **out = arg;
    out[0] = db_thread();
    out[1] = db_thread();
    out[2] = db_exec(out[0], "SELECT 1", NULL, NULL) == ERR_OK ? out[0] : NULL;
    return NULL;
}

static void test_db_thread_handles_are_per_thread(void)
{
    db_thread_set_url(url);
    struct db *a[3], *b[3];
    pthread_t ta, tb;
    pthread_create(&ta, NULL, thread_handle, a);
    pthread_create(&tb, NULL, thread_handle, b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(a[0] == a[1]);
    CHECK(b[0] == b[1]);
    CHECK(a[2] != NULL && b[2] != NULL); /* both connected and ran a statement */
    /* the handles were freed at thread exit: only identity within a thread is checked */
}

/* Spare connections: one given back idle is taken again (same backend); one left in a
 * transaction, or to another URL, is not; close_all empties the pool. */
static void test_db_spare_connections_are_reused_only_when_idle(void)
{
    struct db a, b;
    bool spare;
    db_spare_take(&a, url, &spare);
    CHECK(!spare);
    int64_t pid = backend_pid(&a);
    CHECK(pid > 0);
    db_spare_give(&a);
    db_spare_take(&b, url, &spare);
    CHECK(spare);
    CHECK_EQ(backend_pid(&b), pid);
    CHECK_EQ(db_exec(&b, "BEGIN", NULL, NULL), ERR_OK); /* a raw BEGIN, as getRepo's */
    CHECK(!db_reusable(&b));
    db_spare_give(&b); /* closed, not kept */
    db_spare_take(&a, url, &spare);
    CHECK(!spare);
    CHECK(backend_pid(&a) != pid);
    db_spare_give(&a);
    db_spare_take(&b, "postgresql:///other?host=/nonexistent-socket-dir", &spare);
    CHECK(!spare);
    db_clear(&b);
    db_spare_close_all();
    db_spare_take(&a, url, &spare);
    CHECK(!spare);
    db_clear(&a);
}

int main(void)
{
    pgtest_connect_admin();
    log_set_level(LOG_LEVEL_WARN);
    url = pgtest_create_db(db_name);
    RUN(test_db_params_and_binary_results_round_trip);
    RUN(test_db_errors_map_to_codes);
    RUN(test_db_transactions_commit_and_roll_back);
    RUN(test_db_reconnects_after_the_connection_dies);
    RUN(test_db_query_in_frees_with_the_arena);
    RUN(test_db_connect_wait_gives_up_on_a_dead_server);
    RUN(test_db_thread_handles_are_per_thread);
    RUN(test_db_spare_connections_are_reused_only_when_idle);
    pgtest_drop_db(db_name);
    free(url);
    pgtest_disconnect_admin();
    return test_report();
}
