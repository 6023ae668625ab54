/* cli_settings.c - the server's own settings as pdsadmin's backup, restore and doctor need
 * them (the database, the data directory, the blob store, identity and relays), read the
 * way the server reads them: the environment first, then the env file pdsadmin found
 * (cli_config.c). Defaults are the server's (docs/configuration.md). */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SETTINGS_LINE_MAX 4096

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n && strchr(" \t\r\n", s[n - 1])) {
        s[--n] = '\0';
    }
    return s;
}

/* The value of key in an env file (KEY=VALUE, `export`, matching quotes), malloc'd; NULL. */
static char *file_value(const char *path, const char *key)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        return NULL;
    }
    char line[SETTINGS_LINE_MAX];
    char *found = NULL;
    while (fgets(line, sizeof line, f)) {
        char *s = trim(line);
        if (strncmp(s, "export ", 7) == 0) {
            s = trim(s + 7);
        }
        char *eq = strchr(s, '=');
        if (*s == '#' || !eq) {
            continue;
        }
        *eq = '\0';
        if (strcmp(trim(s), key) != 0) {
            continue;
        }
        char *v = trim(eq + 1);
        size_t n = strlen(v);
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
            v[n - 1] = '\0';
            v++;
        }
        free(found);
        found = xstrndup(v, strlen(v)); /* the last one wins, as in a shell */
    }
    explicit_bzero(line, sizeof line);
    fclose(f);
    return found;
}

char *cli_server_setting(const struct cli *c, const char *key, const char *dflt)
{
    const char *v = getenv(key);
    if (v && *v) {
        return xstrndup(v, strlen(v));
    }
    char *f = file_value(c->env_file, key);
    if (f && *f) {
        return f;
    }
    free(f);
    return dflt ? xstrndup(dflt, strlen(dflt)) : NULL;
}

/* A conninfo value in single quotes (libpq: backslash and quote escaped). */
static char *conninfo_quote(const char *s)
{
    struct buf b;
    buf_init(&b, BUF_MAX_DEFAULT);
    enum err e = buf_append_byte(&b, '\'');
    for (const char *p = s; *p && !e; p++) {
        if (*p == '\\' || *p == '\'') {
            e = buf_append_byte(&b, '\\');
        }
        if (!e) {
            e = buf_append_byte(&b, (uint8_t)*p);
        }
    }
    if (!e) {
        e = buf_append_byte(&b, '\'');
    }
    size_t n;
    char *out = e ? NULL : (char *)buf_take(&b, &n);
    buf_clear(&b);
    return out ? out : xstrndup("''", 2);
}

int cli_storage_resolve(const struct cli *c, struct cli_storage *out)
{
    memset(out, 0, sizeof *out);
    out->data_dir = cli_server_setting(c, "PDS_DATA_DIRECTORY", "./data");
    char *blocks = xprintf("%s/blocks", out->data_dir);
    out->blob_dir = cli_server_setting(c, "PDS_BLOBSTORE_DISK_LOCATION", blocks);
    free(blocks);
    out->s3_bucket = cli_server_setting(c, "PDS_BLOBSTORE_S3_BUCKET", NULL);
    out->pg_bin_dir = cli_server_setting(c, "PDS_POSTGRES_BIN_DIR", NULL);
    out->database_url = cli_server_setting(c, "PDS_DATABASE_URL", NULL);
    if (!out->database_url) {
        /* the private cluster of db/cluster.h: database "pds", reachable by its socket */
        char *abs = realpath(out->data_dir, NULL);
        if (!abs) {
            cli_error("no PDS_DATABASE_URL, and the data directory \"%s\" (PDS_DATA_DIRECTORY) "
                      "cannot be read: %s",
                      out->data_dir, strerror(errno));
            return CLI_FAIL;
        }
        char *sock = xprintf("%s/postgres/run", abs);
        char *q = conninfo_quote(sock);
        out->database_url = xprintf("host=%s port=5432 user=pds dbname=pds", q);
        out->private_cluster = true;
        free(q);
        free(sock);
        free(abs);
    }
    return CLI_OK;
}

void cli_storage_clear(struct cli_storage *s)
{
    if (s->database_url) {
        explicit_bzero(s->database_url, strlen(s->database_url)); /* may hold a password */
    }
    free(s->database_url);
    free(s->data_dir);
    free(s->blob_dir);
    free(s->s3_bucket);
    free(s->pg_bin_dir);
    memset(s, 0, sizeof *s);
}
