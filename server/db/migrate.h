/* migrate.h - the schema migrations compiled into the binary, and the runner that applies them
 * at start-up. Two processes starting together are serialised by an advisory lock. */
#ifndef PDS_DB_MIGRATE_H
#define PDS_DB_MIGRATE_H

#include <stddef.h>

#include "core/err.h"
#include "db/db.h"

/* Key of pg_advisory_xact_lock taken by every migration transaction ("pdsmigr" in ASCII). */
#define MIGRATE_LOCK_KEY 0x7064736d696772LL

/* One numbered SQL file, migrations/NNNN_name.sql. sql holds no BEGIN/COMMIT of its own. */
struct migration {
    int version; /* NNNN; strictly increasing along a list */
    const char *name;
    const char *sql;
};

/* Generated at build time from migrations/ (migrations/embed.cmake), in version order. */
extern const struct migration migrations_embedded[];
extern const size_t migrations_embedded_len;

/* Applies the not-yet-applied migrations of list (n >= 1, in version order) to db, each in its
 * own transaction under pg_advisory_xact_lock(MIGRATE_LOCK_KEY), recording each in
 * schema_migrations(version, name, applied_at). Idempotent. *applied (may be NULL) gets the
 * number applied now. Errors (logged): ERR_CONFLICT when the database's newest applied version
 * is newer than list's newest (an older binary on a newer database: refused, nothing changed);
 * ERR_INVALID for a list out of order; ERR_DB when a statement fails (that migration is rolled
 * back). db must not be inside a transaction. */
enum err migrate_run(struct db *db, const struct migration *list, size_t n,
                     int *applied) MUST_CHECK;

/* Newest applied version, 0 for an empty database. */
enum err migrate_current_version(struct db *db, int *version) MUST_CHECK;

#endif
