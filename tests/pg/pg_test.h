/* pg_test.h - throw-away databases for the pg tests: PDS_TEST_DATABASE_URL names a server
 * (any database on it; the role must be allowed to CREATE DATABASE). Each test makes a
 * uniquely named database and drops it at the end. Exit code 77 means "skipped". */
#ifndef PDS_TESTS_PG_TEST_H
#define PDS_TESTS_PG_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define PGTEST_SKIP 77 /* ctest SKIP_RETURN_CODE */

static PGconn *pgtest_admin_;

static void pgtest_quiet_(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Connects to the server named by PDS_TEST_DATABASE_URL; exits 77 when unset. */
static void pgtest_connect_admin(void)
{
    const char *url = getenv("PDS_TEST_DATABASE_URL");
    if (!url || !*url) {
        printf("skipped: PDS_TEST_DATABASE_URL is not set\n");
        exit(PGTEST_SKIP);
    }
    pgtest_admin_ = PQconnectdb(url);
    if (PQstatus(pgtest_admin_) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect to PDS_TEST_DATABASE_URL: %s",
                PQerrorMessage(pgtest_admin_));
        exit(1);
    }
    PQsetNoticeProcessor(pgtest_admin_, pgtest_quiet_, NULL);
}

/* Creates a database with a unique name; returns a conninfo string for it (caller frees)
 * and writes the name into name (64 bytes). */
static char *pgtest_create_db(char name[64])
{
    static unsigned seq;
    snprintf(name, 64, "pds_test_%d_%ld_%u", (int)getpid(), (long)time(NULL), seq++);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    PGresult *r = PQexec(pgtest_admin_, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "CREATE DATABASE failed: %s", PQerrorMessage(pgtest_admin_));
        exit(1);
    }
    PQclear(r);
    /* the admin connection's parameters, with dbname replaced */
    PQconninfoOption *opts = PQconninfo(pgtest_admin_);
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        const char *v = strcmp(o->keyword, "dbname") == 0 ? name : o->val;
        if (!v || !*v) {
            continue;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s='", o->keyword);
        for (const char *p = v; *p && len + 4 < cap; p++) {
            if (*p == '\'' || *p == '\\') {
                out[len++] = '\\';
            }
            out[len++] = *p;
        }
        len += (size_t)snprintf(out + len, cap - len, "' ");
    }
    PQconninfoFree(opts);
    return out;
}

static void pgtest_drop_db(const char *name)
{
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    PGresult *r = PQexec(pgtest_admin_, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "DROP DATABASE failed: %s", PQerrorMessage(pgtest_admin_));
    }
    PQclear(r);
}

static void pgtest_disconnect_admin(void)
{
    PQfinish(pgtest_admin_);
}

#endif
