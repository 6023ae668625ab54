/* db.h - one PostgreSQL connection with parameterised queries, transactions and typed getters.
 * A struct db belongs to one thread; each HTTP worker thread has its own (db_thread), so a
 * request never waits for a connection. SQL errors go to the log, never to clients.
 *
 * Results are always in binary format (so bytea comes back as raw bytes, not "\x…" text);
 * read them with the db_col_* getters below, which know the binary layouts we use. */
#ifndef PDS_DB_DB_H
#define PDS_DB_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "core/arena.h"
#include "core/bytes.h"
#include "core/err.h"

#define DB_PARAMS_MAX        24 /* parameters of one statement; raise if a query needs more */
#define DB_CONNECT_TIMEOUT_S 10 /* libpq connect_timeout for each attempt */
#define DB_SQLSTATE_LEN      5

#define DB_PREPARED_MAX 32 /* distinct hot statements prepared on one connection */

/* A statement to prepare once per connection: `static const struct db_stmt s = {"name",
 * "SELECT ..."};` (names unique across the program). Saves parsing and planning on hot
 * paths such as the repository write. */
struct db_stmt {
    const char *name;
    const char *sql;
};

struct db {
    PGconn *_conn;                       /* NULL until first use or after a failure closed it */
    char *_url;                          /* owned copy of the connection URL */
    bool _in_tx;                         /* between db_begin and db_commit/db_rollback */
    char _sqlstate[DB_SQLSTATE_LEN + 1]; /* SQLSTATE of the last failure, "" if none */
    const struct db_stmt *_prepared[DB_PREPARED_MAX]; /* prepared on the current _conn */
    int _nprepared;
};

/* Parameters of one statement: values are borrowed and must outlive the query call.
 * Text parameters are sent as text (PostgreSQL casts them to the column type); bytes as binary
 * (for bytea columns). Adding past DB_PARAMS_MAX aborts: it is a programming error. */
struct db_params {
    int n;
    const char *values[DB_PARAMS_MAX];
    int lengths[DB_PARAMS_MAX];
    int formats[DB_PARAMS_MAX];
    char _nums[DB_PARAMS_MAX][24]; /* storage for db_param_i64 */
};

void db_params_init(struct db_params *p);
void db_param_text(struct db_params *p, const char *s); /* NULL sends SQL NULL */
/* A text parameter given by length (need not be NUL-terminated); it is sent in text's binary
 * form, so use it only where the parameter's type is text/varchar. */
void db_param_textn(struct db_params *p, const char *s, size_t len);
void db_param_bytes(struct db_params *p, struct bytes b); /* binary: for bytea */
void db_param_i64(struct db_params *p, int64_t v);
void db_param_bool(struct db_params *p, bool v);

/* Prepares db to talk to url (a postgresql:// URL or key=value conninfo); connects lazily on
 * the first query. Never fails; clear with db_clear. */
void db_init(struct db *db, const char *url);
/* Closes the connection and frees the URL. Safe on a zeroed or cleared struct. */
void db_clear(struct db *db);

/* The URL db was initialised with (for opening a second connection, e.g. a streamed
 * response that must not tie up the worker's). Contains the password, if any: never log it. */
const char *db_url(const struct db *db);

/* Connects now, retrying every 500 ms until timeout_ms passes: for start-up, while a database
 * that was just started accepts connections. ERR_DB when it never answered (logged). */
enum err db_connect_wait(struct db *db, int timeout_ms) MUST_CHECK;

/* Runs one statement with parameters ($1..$n; p may be NULL). On ERR_OK *out holds a result
 * (rows or none) that the caller frees with PQclear; on failure *out is NULL.
 * Errors: ERR_CONFLICT on unique_violation (SQLSTATE 23505), ERR_DB otherwise (logged with the
 * statement's first words; the connection is reset on the next call if it broke). */
enum err db_query(struct db *db, const char *sql, const struct db_params *p,
                  PGresult **out) MUST_CHECK;
/* As db_query for a prepared statement (prepared on first use on each connection). */
enum err db_query_stmt(struct db *db, const struct db_stmt *stmt, const struct db_params *p,
                       PGresult **out) MUST_CHECK;
/* As db_query, but the result is freed when arena a is reset (the request arena). */
enum err db_query_in(struct db *db, struct arena *a, const char *sql, const struct db_params *p,
                     PGresult **out) MUST_CHECK;
/* As db_query_stmt, with the result freed when arena a is reset. */
enum err db_query_stmt_in(struct db *db, struct arena *a, const struct db_stmt *stmt,
                          const struct db_params *p, PGresult **out) MUST_CHECK;
/* As db_query for statements whose rows are not needed; *affected (may be NULL) gets the
 * row count of INSERT/UPDATE/DELETE. */
enum err db_exec(struct db *db, const char *sql, const struct db_params *p,
                 int64_t *affected) MUST_CHECK;
/* Runs trusted SQL text that may hold several statements and no parameters (migrations).
 * Never pass anything derived from a request. */
enum err db_exec_script(struct db *db, const char *sql) MUST_CHECK;

/* A function called after every successful db_commit (any thread): the sequencer's wake-up,
 * so events committed in a transaction are numbered at once. Set once at start-up. */
void db_set_commit_hook(void (*fn)(void));

/* A function called with the duration of every statement, in microseconds (any thread):
 * overload protection's measure of how loaded the database is. Set once at start-up. */
void db_set_latency_hook(void (*fn)(int64_t us));

/* Transactions. db_begin fails if one is open. After any failed statement inside a
 * transaction, call db_rollback (PostgreSQL rejects everything else until then).
 * db_rollback is safe to call when no transaction is open and never fails visibly. */
enum err db_begin(struct db *db) MUST_CHECK;
enum err db_commit(struct db *db) MUST_CHECK;
void db_rollback(struct db *db);
bool db_in_tx(const struct db *db);
/* Connected, healthy and outside any transaction, its own or one begun with a raw BEGIN:
 * fit to be handed to another request (db/spare.h). */
bool db_reusable(const struct db *db);

/* SQLSTATE of the last failed statement ("40001", "23505"...), "" after success. */
const char *db_sqlstate(const struct db *db);
/* True when the last failure was a serialization failure or deadlock: retry the transaction. */
bool db_should_retry(const struct db *db);

/* Result getters (binary format). Row and column must exist (asserted). */
bool db_col_null(const PGresult *r, int row, int col);
/* text, varchar, name and jsonb (version byte skipped): NUL-terminated, NULL for SQL NULL.
 * Points into r. */
const char *db_col_text(const PGresult *r, int row, int col);
/* bytea (or any column) as raw bytes; {NULL,0} for SQL NULL. Points into r. */
struct bytes db_col_bytes(const PGresult *r, int row, int col);
/* int2, int4, int8 (also accepts text holding a decimal number); 0 for SQL NULL. */
int64_t db_col_i64(const PGresult *r, int row, int col);
bool db_col_bool(const PGresult *r, int row, int col); /* false for SQL NULL */
/* timestamptz / timestamp as Unix microseconds; 0 for SQL NULL. */
int64_t db_col_time_us(const PGresult *r, int row, int col);

/* This thread's connection handle (created on first call, closed when the thread exits).
 * Uses the URL given to db_thread_set_url, which must be called once before any thread asks. */
struct db *db_thread(void);
void db_thread_set_url(const char *url);

#endif
