/* cli_pgtool.c - running PostgreSQL's own client programs (pg_dump, pg_restore) for backup
 * and restore: found in PDS_POSTGRES_BIN_DIR, else the newest Debian install, else PATH;
 * the connection is handed over in PG* environment variables (never on the command line,
 * where any user could read a password from the process list). */
#include "cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#define PG_ROOT "/usr/lib/postgresql"

char *cli_pg_program(const struct cli_storage *s, const char *name)
{
    if (s->pg_bin_dir) {
        return xprintf("%s/%s", s->pg_bin_dir, name);
    }
    DIR *d = opendir(PG_ROOT);
    long best = -1;
    for (struct dirent *e; d && (e = readdir(d));) {
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (end != e->d_name && *end == '\0' && v > best) {
            char *p = xprintf("%s/%ld/bin/%s", PG_ROOT, v, name);
            if (access(p, X_OK) == 0) {
                best = v;
            }
            free(p);
        }
    }
    if (d) {
        closedir(d);
    }
    return best >= 0 ? xprintf("%s/%ld/bin/%s", PG_ROOT, best, name) : xstrndup(name, strlen(name));
}

int cli_pg_run(const char *program, char *const *args, const char *conninfo, bool quiet)
{
    char *err = NULL;
    PQconninfoOption *opts = conninfo ? PQconninfoParse(conninfo, &err) : NULL;
    if (conninfo && !opts) {
        cli_error("the database URL cannot be read: %s", err ? err : "malformed");
        PQfreemem(err);
        return CLI_FAIL;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        cli_error("could not start %s: %s", program, strerror(errno));
        PQconninfoFree(opts);
        return CLI_FAIL;
    }
    if (pid == 0) {
        for (PQconninfoOption *o = opts; o && o->keyword; o++) {
            if (o->envvar && o->val && *o->val) {
                setenv(o->envvar, o->val, 1);
            }
        }
        if (quiet) {
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0) {
                dup2(null, STDOUT_FILENO);
            }
        }
        execvp(program, args);
        fprintf(stderr, "pdsadmin: could not run %s: %s\n", program, strerror(errno));
        _exit(127);
    }
    PQconninfoFree(opts);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        cli_error("%s failed (exit status %d)", program,
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return CLI_FAIL;
    }
    return CLI_OK;
}

char *cli_pg_dbname(const char *conninfo)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    PQfreemem(err);
    char *name = NULL;
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (strcmp(o->keyword, "dbname") == 0 && o->val && *o->val) {
            name = xstrndup(o->val, strlen(o->val));
        }
    }
    PQconninfoFree(opts);
    return name ? name : xstrndup("pds", 3);
}
