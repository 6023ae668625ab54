/* cli_migrate.c - `pdsadmin account migrate-in`, `migrate-token`, `migrations`, and the
 * migration lines of `pdsadmin status`: the operator's side of the server's migration jobs
 * (the admin API /xrpc/_migrate.*). An operator moving a community asks each user for their
 * password (consent) and later for the code their old host emails them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define POLL_MS     1000
#define WAIT_MAX_S  (60 * 60) /* an hour at most, for a large repository */
#define OPEN_LISTED 20

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long long jint(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static void nap(void)
{
    struct timespec ts = {POLL_MS / 1000, (long)(POLL_MS % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* One line on where the job is; printed when it changes. */
static void describe(json_t *job, char *last, size_t last_len)
{
    json_t *blobs = json_object_get(job, "blobs");
    char line[512];
    snprintf(line, sizeof line, "migration %lld: %s%s%s, files %lld/%lld", jint(job, "id"),
             jstr(job, "state"), *jstr(job, "step") ? " at " : "", jstr(job, "step"),
             jint(blobs, "done"), jint(blobs, "total"));
    if (strcmp(line, last) != 0) {
        fprintf(stderr, "%s\n", line);
        snprintf(last, last_len, "%s", line);
    }
}

static bool settled(json_t *job, bool after_token)
{
    const char *st = jstr(job, "state");
    if (strcmp(st, "awaiting_token") == 0) {
        /* after a code was given, waiting again means it was refused */
        return !after_token || strcmp(jstr(job, "errorCode"), "WrongToken") == 0;
    }
    return strcmp(st, "failed") == 0 || strcmp(st, "done") == 0 || strcmp(st, "cancelled") == 0 ||
           (strcmp(st, "confirm") == 0 &&
            !json_is_true(json_object_get(json_object_get(job, "plan"), "ok")));
}

/* Polls job id until it settles; *out the last view (caller decrefs). */
static int follow(struct cli *c, long long id, bool after_token, json_t **out)
{
    char query[64], last[512] = "";
    snprintf(query, sizeof query, "id=%lld", id);
    *out = NULL;
    for (time_t end = time(NULL) + WAIT_MAX_S; time(NULL) < end;) {
        json_t *job;
        int rc = cli_xrpc(c, "_migrate.get", query, NULL, true, &job);
        if (rc != CLI_OK) {
            return rc;
        }
        describe(job, last, sizeof last);
        if (settled(job, after_token)) {
            *out = job;
            return CLI_OK;
        }
        json_decref(job);
        nap();
    }
    cli_error("migration %lld: still running after an hour; `pdsadmin account migrations` "
              "shows it",
              id);
    return CLI_FAIL;
}

/* What the settled job means for the operator; the exit status. */
static int report(struct cli *c, json_t *job)
{
    const char *st = jstr(job, "state");
    long long id = jint(job, "id");
    if (c->json) {
        json_dumpf(job, stdout, JSON_INDENT(2));
        putchar('\n');
    }
    if (strcmp(st, "done") == 0) {
        if (!c->json) {
            printf("migration %lld done: %s (%s) now lives here\n", id, jstr(job, "newHandle"),
                   jstr(job, "did"));
        }
        return CLI_OK;
    }
    if (strcmp(st, "awaiting_token") == 0) {
        if (!c->json) {
            printf("migration %lld: everything is copied and verified. %s has emailed a code to "
                   "%s.\n%s%sWhen the user gives it to you:\n  pdsadmin account migrate-token "
                   "%lld <CODE>\n",
                   id, jstr(job, "oldHost"), jstr(job, "email"), jstr(job, "error"),
                   *jstr(job, "error") ? "\n" : "", id);
        }
        return CLI_OK;
    }
    if (strcmp(st, "confirm") == 0) {
        json_t *checks = json_object_get(json_object_get(job, "plan"), "checks");
        cli_error("migration %lld: the checks before the move did not pass:", id);
        for (size_t i = 0; i < json_array_size(checks); i++) {
            json_t *ch = json_array_get(checks, i);
            if (strcmp(jstr(ch, "level"), "fail") == 0) {
                fprintf(stderr, "  %s\n", jstr(ch, "text"));
            }
        }
        return CLI_FAIL;
    }
    cli_error("migration %lld %s: %s", id, st, jstr(job, "error"));
    return CLI_FAIL;
}

/* pdsadmin account migrate-in --from URL --handle H [--new-handle H] [--invite-code C]
 * The user's password comes from stdin. */
int cli_migrate_in(struct cli *c, int argc, char **argv)
{
    const char *from = NULL, *handle = NULL, *new_handle = NULL, *invite = NULL;
    int rc;
    if ((rc = cli_take_option(&argc, argv, "--from", &from)) ||
        (rc = cli_take_option(&argc, argv, "--handle", &handle)) ||
        (rc = cli_take_option(&argc, argv, "--new-handle", &new_handle)) ||
        (rc = cli_take_option(&argc, argv, "--invite-code", &invite))) {
        return rc;
    }
    if (argc != 2 || !handle) {
        cli_error("usage: pdsadmin account migrate-in --handle HANDLE [--from URL] "
                  "[--new-handle HANDLE] [--invite-code CODE]   (the user's password on stdin)");
        return CLI_USAGE;
    }
    char *password = cli_prompt("The user's password at their current host: ");
    if (!password || !*password) {
        free(password);
        cli_error("no password given (on stdin)");
        return CLI_USAGE;
    }
    json_t *body = json_pack("{s:s,s:s,s:s*,s:s*,s:s*}", "handle", handle, "password", password,
                             "from", from, "newHandle", new_handle, "inviteCode", invite);
    memset(password, 0, strlen(password));
    free(password);
    json_t *job = NULL;
    rc = cli_xrpc(c, "_migrate.createInbound", NULL, body, true, &job);
    json_decref(body);
    if (rc != CLI_OK) {
        return rc;
    }
    long long id = jint(job, "id");
    json_decref(job);
    fprintf(stderr, "migration %lld started\n", id);
    if ((rc = follow(c, id, false, &job)) != CLI_OK) {
        return rc;
    }
    rc = report(c, job);
    json_decref(job);
    return rc;
}

/* pdsadmin account migrate-token <ID> <CODE> */
int cli_migrate_token(struct cli *c, int argc, char **argv)
{
    char *end = NULL;
    long long id = argc == 4 ? strtoll(argv[2], &end, 10) : 0;
    if (argc != 4 || !end || *end || id <= 0) {
        cli_error("usage: pdsadmin account migrate-token <MIGRATION-ID> <CODE>");
        return CLI_USAGE;
    }
    json_t *body = json_pack("{s:I,s:s}", "id", (json_int_t)id, "token", argv[3]);
    json_t *job = NULL;
    int rc = cli_xrpc(c, "_migrate.submitToken", NULL, body, true, &job);
    json_decref(body);
    json_decref(job);
    if (rc != CLI_OK) {
        return rc;
    }
    if ((rc = follow(c, id, true, &job)) != CLI_OK) {
        return rc;
    }
    rc = report(c, job);
    json_decref(job);
    return rc;
}

static void print_jobs(json_t *jobs, size_t max)
{
    for (size_t i = 0; i < json_array_size(jobs) && i < max; i++) {
        json_t *j = json_array_get(jobs, i);
        printf("  #%-5lld %-3s %-15s %-15s %s %s -> %s%s%s\n", jint(j, "id"), jstr(j, "direction"),
               jstr(j, "state"), jstr(j, "step"), jstr(j, "did"), jstr(j, "oldHost"),
               jstr(j, "newHost"), *jstr(j, "error") ? "  " : "", jstr(j, "error"));
    }
}

/* pdsadmin account migrations [--json] */
int cli_migrations(struct cli *c, int argc, char **argv)
{
    if (argc != 2) {
        cli_error("usage: pdsadmin account migrations [--json]");
        return CLI_USAGE;
    }
    json_t *out = NULL;
    int rc = cli_xrpc(c, "_migrate.list", "limit=100", NULL, true, &out);
    if (rc != CLI_OK) {
        return rc;
    }
    if (c->json) {
        json_dumpf(out, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        json_t *jobs = json_object_get(out, "jobs");
        printf("%zu migration%s (newest first)\n", json_array_size(jobs),
               json_array_size(jobs) == 1 ? "" : "s");
        print_jobs(jobs, 100);
    }
    json_decref(out);
    return CLI_OK;
}

json_t *cli_migrations_status(struct cli *c)
{
    json_t *out = NULL;
    if (cli_xrpc(c, "_migrate.list", "limit=100", NULL, true, &out) != CLI_OK) {
        return NULL;
    }
    return out;
}

void cli_migrations_print(json_t *m)
{
    json_t *k = json_object_get(m, "counts");
    printf("Migrations:   %lld running, %lld waiting for a code, %lld failed, %lld done\n",
           jint(k, "active"), jint(k, "awaitingToken"), jint(k, "failed"), jint(k, "done"));
    json_t *jobs = json_object_get(m, "jobs"), *open = json_array();
    for (size_t i = 0; i < json_array_size(jobs); i++) {
        const char *st = jstr(json_array_get(jobs, i), "state");
        if (strcmp(st, "done") && strcmp(st, "cancelled")) {
            json_array_append(open, json_array_get(jobs, i));
        }
    }
    print_jobs(open, OPEN_LISTED);
    json_decref(open);
}
