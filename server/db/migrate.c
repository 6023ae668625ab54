/* migrate.c - applies embedded SQL migrations in order, one transaction each, serialised
 * across processes by a transaction-scoped advisory lock. */
#include "db/migrate.h"

#include "db/log.h"

static const char create_table_sql[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                       " version integer PRIMARY KEY,"
                                       " name text NOT NULL,"
                                       " applied_at timestamptz NOT NULL DEFAULT now())";

static enum err lock_and_read(struct db *db, int *current)
{
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, MIGRATE_LOCK_KEY);
    enum err e = db_exec(db, "SELECT pg_advisory_xact_lock($1::bigint)", &p, NULL);
    if (e == ERR_OK) {
        e = db_exec(db, create_table_sql, NULL, NULL);
    }
    PGresult *r = NULL;
    if (e == ERR_OK) {
        e = db_query(db, "SELECT coalesce(max(version), 0)::int8 FROM schema_migrations", NULL, &r);
    }
    if (e == ERR_OK) {
        *current = (int)db_col_i64(r, 0, 0);
    }
    PQclear(r);
    return e;
}

enum err migrate_current_version(struct db *db, int *version)
{
    *version = 0;
    PGresult *r;
    enum err e = db_query(db, "SELECT to_regclass('schema_migrations') IS NOT NULL", NULL, &r);
    if (e != ERR_OK) {
        return e;
    }
    bool exists = db_col_bool(r, 0, 0);
    PQclear(r);
    if (!exists) {
        return ERR_OK;
    }
    e = db_query(db, "SELECT coalesce(max(version), 0)::int8 FROM schema_migrations", NULL, &r);
    if (e == ERR_OK) {
        *version = (int)db_col_i64(r, 0, 0);
        PQclear(r);
    }
    return e;
}

/* One transaction: lock, check the database is not newer than us, apply m if missing. */
static enum err apply_one(struct db *db, const struct migration *m, int newest, bool *did_apply)
{
    *did_apply = false;
    enum err e = db_begin(db);
    if (e != ERR_OK) {
        return e;
    }
    int current = 0;
    e = lock_and_read(db, &current);
    if (e == ERR_OK && current > newest) {
        log_error(NULL,
                  "the database schema is at version %d, newer than this pds (%d): run a newer "
                  "pds or restore a backup",
                  current, newest);
        e = ERR_CONFLICT;
    }
    PGresult *r = NULL;
    if (e == ERR_OK) {
        struct db_params p;
        db_params_init(&p);
        db_param_i64(&p, m->version);
        e = db_query(db, "SELECT 1 FROM schema_migrations WHERE version = $1::int", &p, &r);
    }
    bool present = e == ERR_OK && PQntuples(r) > 0;
    PQclear(r);
    if (e == ERR_OK && !present) {
        log_info(NULL, "applying migration %04d_%s", m->version, m->name);
        e = db_exec_script(db, m->sql);
        if (e == ERR_OK) {
            struct db_params p;
            db_params_init(&p);
            db_param_i64(&p, m->version);
            db_param_text(&p, m->name);
            e = db_exec(db, "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)",
                        &p, NULL);
        }
        if (e != ERR_OK) {
            log_error(NULL, "migration %04d_%s failed; nothing of it was applied", m->version,
                      m->name);
        }
    }
    if (e != ERR_OK) {
        db_rollback(db);
        return e;
    }
    e = db_commit(db);
    *did_apply = e == ERR_OK && !present;
    return e;
}

enum err migrate_run(struct db *db, const struct migration *list, size_t n, int *applied)
{
    if (applied) {
        *applied = 0;
    }
    if (n == 0 || db_in_tx(db)) {
        return ERR_INVALID;
    }
    for (size_t i = 1; i < n; i++) {
        if (list[i].version <= list[i - 1].version) {
            log_error(NULL, "migrations out of order at %04d_%s", list[i].version, list[i].name);
            return ERR_INVALID;
        }
    }
    int newest = list[n - 1].version;
    for (size_t i = 0; i < n; i++) {
        bool did_apply;
        enum err e = apply_one(db, &list[i], newest, &did_apply);
        if (e != ERR_OK) {
            return e;
        }
        if (did_apply && applied) {
            (*applied)++;
        }
    }
    return ERR_OK;
}
