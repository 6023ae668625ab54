/* spare.h - a few idle connections kept for responses that stream from a connection of
 * their own (getRepo's snapshot), so that such a request does not start a PostgreSQL
 * backend each time. Owns the idle connections; thread-safe. */
#ifndef PDS_DB_SPARE_H
#define PDS_DB_SPARE_H

#include "db/db.h"

/* Idle connections kept at most: the streams running at once on a busy host. */
#define DB_SPARE_MAX 8

/* Fills *db with an idle connection to url, or prepares a new one (it connects on first
 * use). *from_spare says which: a kept connection may have been closed by the server
 * meanwhile, so a caller retries once with a new one when its first statement fails. */
void db_spare_take(struct db *db, const char *url, bool *from_spare);
/* Keeps db for the next taker if it is reusable (db_reusable) and there is room; closes
 * it otherwise. *db is cleared either way. */
void db_spare_give(struct db *db);
/* Closes every kept connection (at shutdown). */
void db_spare_close_all(void);

#endif
