/* test_migrate.c - the migration runner against a real PostgreSQL: a fresh database gets
 * every embedded migration, a second run changes nothing, a database newer than the binary is
 * refused, a failing migration leaves nothing behind, and concurrent starters do not race. */
#include "db/migrate.h"

#include <pthread.h>

#include "db/log.h"
#include "pg_test.h"
#include "unit/test.h"

static char *url_a;
static char name_a[64];

static int64_t scalar(struct db *db, const char *sql)
{
    PGresult *r;
    if (db_query(db, sql, NULL, &r) != ERR_OK) {
        return -1;
    }
    int64_t v = PQntuples(r) ? db_col_i64(r, 0, 0) : -1;
    PQclear(r);
    return v;
}

static void test_migrate_fresh_database_gets_every_migration(void)
{
    struct db db;
    db_init(&db, url_a);
    int applied = -1, version = -1;
    CHECK_EQ(migrate_current_version(&db, &version), ERR_OK);
    CHECK_EQ(version, 0);
    CHECK_EQ(migrate_run(&db, migrations_embedded, migrations_embedded_len, &applied), ERR_OK);
    CHECK_EQ(applied, (int)migrations_embedded_len);
    CHECK_EQ(migrate_current_version(&db, &version), ERR_OK);
    CHECK_EQ(version, migrations_embedded[migrations_embedded_len - 1].version);
    CHECK_EQ(scalar(&db, "SELECT count(*) FROM schema_migrations"),
             (int64_t)migrations_embedded_len);
    /* the schema the rest of the server relies on is there */
    CHECK_EQ(scalar(&db, "SELECT count(*) FROM information_schema.tables WHERE table_name IN "
                         "('account','repo_root','repo_block','record','app_password',"
                         "'refresh_token','invite_code','invite_code_use','preference','blob',"
                         "'record_blob','email_token','repo_seq')"),
             13);
    db_clear(&db);
}

static void test_migrate_second_run_changes_nothing(void)
{
    struct db db;
    db_init(&db, url_a);
    int applied = -1;
    CHECK_EQ(migrate_run(&db, migrations_embedded, migrations_embedded_len, &applied), ERR_OK);
    CHECK_EQ(applied, 0);
    CHECK_EQ(scalar(&db, "SELECT count(*) FROM schema_migrations"),
             (int64_t)migrations_embedded_len);
    db_clear(&db);
}

static void test_migrate_refuses_database_newer_than_binary(void)
{
    struct db db;
    db_init(&db, url_a);
    CHECK_EQ(db_exec(&db, "INSERT INTO schema_migrations (version, name) VALUES (999999, 'future')",
                     NULL, NULL),
             ERR_OK);
    int applied = -1;
    CHECK_EQ(migrate_run(&db, migrations_embedded, migrations_embedded_len, &applied),
             ERR_CONFLICT);
    CHECK_EQ(applied, 0);
    CHECK_EQ(db_in_tx(&db), false);
    /* an older binary (fewer migrations) is refused the same way */
    CHECK_EQ(db_exec(&db, "DELETE FROM schema_migrations WHERE version = 999999", NULL, NULL),
             ERR_OK);
    if (migrations_embedded_len >= 2) {
        CHECK_EQ(migrate_run(&db, migrations_embedded, migrations_embedded_len - 1, &applied),
                 ERR_CONFLICT);
    }
    CHECK_EQ(migrate_run(&db, migrations_embedded, migrations_embedded_len, &applied), ERR_OK);
    CHECK_EQ(applied, 0);
    db_clear(&db);
}

static void test_migrate_failed_migration_leaves_nothing(void)
{
    struct migration list[64];
    size_t n = migrations_embedded_len;
    CHECK(n + 1 <= 64);
    memcpy(list, migrations_embedded, n * sizeof list[0]);
    list[n] = (struct migration){900000, "broken",
                                 "CREATE TABLE half_done (x int);\n"
                                 "SELECT no_such_function();\n"};
    struct db db;
    db_init(&db, url_a);
    int applied = -1;
    CHECK_EQ(migrate_run(&db, list, n + 1, &applied), ERR_DB);
    CHECK_EQ(applied, 0);
    CHECK_EQ(db_in_tx(&db), false);
    CHECK_EQ(scalar(&db, "SELECT count(*) FROM information_schema.tables "
                         "WHERE table_name = 'half_done'"),
             0);
    CHECK_EQ(scalar(&db, "SELECT count(*) FROM schema_migrations WHERE version = 900000"), 0);
    db_clear(&db);
}

static void test_migrate_rejects_unordered_list(void)
{
    struct migration list[2] = {{2, "b", "SELECT 1"}, {1, "a", "SELECT 1"}};
    struct db db;
    db_init(&db, url_a);
    CHECK_EQ(migrate_run(&db, list, 2, NULL), ERR_INVALID);
    CHECK_EQ(migrate_run(&db, list, 0, NULL), ERR_INVALID);
    db_clear(&db);
}

struct racer {
    const char *url;
    enum err result;
    int applied;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct db db;
    db_init(&db, r->url);
    r->result = migrate_run(&db, migrations_embedded, migrations_embedded_len, &r->applied);
    db_clear(&db);
    return NULL;
}

static void test_migrate_concurrent_starters_apply_once(void)
{
    char name[64];
    char *url = pgtest_create_db(name);
    struct racer racers[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        racers[i] = (struct racer){url, ERR_INTERNAL, -1};
        pthread_create(&threads[i], NULL, race, &racers[i]);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CHECK_EQ(racers[i].result, ERR_OK);
        total += racers[i].applied;
    }
    CHECK_EQ(total, (int)migrations_embedded_len);
    struct db db;
    db_init(&db, url);
    CHECK_EQ(scalar(&db, "SELECT count(*) FROM schema_migrations"),
             (int64_t)migrations_embedded_len);
    db_clear(&db);
    pgtest_drop_db(name);
    free(url);
}

int main(void)
{
    pgtest_connect_admin();
    log_set_level(LOG_LEVEL_WARN);
    url_a = pgtest_create_db(name_a);
    RUN(test_migrate_fresh_database_gets_every_migration);
    RUN(test_migrate_second_run_changes_nothing);
    RUN(test_migrate_refuses_database_newer_than_binary);
    RUN(test_migrate_failed_migration_leaves_nothing);
    RUN(test_migrate_rejects_unordered_list);
    RUN(test_migrate_concurrent_starters_apply_once);
    pgtest_drop_db(name_a);
    free(url_a);
    pgtest_disconnect_admin();
    return test_report();
}
