/* cli_restore.c - `pdsadmin verify-backup DIR` (every checksum, every blob against its CID,
 * the dump's table of contents, without restoring anything) and `pdsadmin restore DIR`
 * (into a fresh data directory and an empty database: the one PDS_DATABASE_URL names, or a
 * new private cluster under the data directory; then the blobs, then the secrets). */
#include "cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "blob/blobstore.h"
#include "core/cid.h"
#include "core/sha256.h"
#include "db/cluster.h"

#define BACKUP_FORMAT  "pds-backup/1"
#define MANIFEST_MAX   ((size_t)1 << 30)
#define PROBLEMS_SHOWN 20

static json_t *load_manifest(const char *dir)
{
    char *path = xprintf("%s/manifest.json", dir), *sum_path = xprintf("%s/manifest.sha256", dir);
    json_error_t jerr;
    json_t *m = json_load_file(path, 0, &jerr);
    uint8_t sha[32];
    uint64_t size;
    char want[80] = "", hex[65];
    FILE *f = fopen(sum_path, "r");
    if (f) {
        if (!fgets(want, sizeof want, f)) {
            want[0] = '\0';
        }
        fclose(f);
    }
    if (!m) {
        cli_error("%s is not a backup: manifest.json missing or unreadable (%s)", dir, jerr.text);
    } else if (cli_hash_file(path, sha, &size) != CLI_OK || (cli_hex(sha, 32, hex), 0) ||
               strncmp(want, hex, 64) != 0) {
        cli_error("manifest.json does not match manifest.sha256: the backup was changed or cut");
        json_decref(m);
        m = NULL;
    } else if (!json_is_string(json_object_get(m, "format")) ||
               strcmp(json_string_value(json_object_get(m, "format")), BACKUP_FORMAT) != 0) {
        cli_error("%s is not a backup this pdsadmin reads (format %s)", dir, BACKUP_FORMAT);
        json_decref(m);
        m = NULL;
    }
    free(path);
    free(sum_path);
    return m;
}

static void problem(int *n, const char *fmt, const char *a, const char *b)
{
    if ((*n)++ < PROBLEMS_SHOWN) {
        fprintf(stderr, "pdsadmin: ");
        fprintf(stderr, fmt, a, b);
        fputc('\n', stderr);
    }
}

static int check_files(const char *dir, json_t *files, int *bad)
{
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        const char *rel = json_string_value(json_object_get(f, "path"));
        const char *want = json_string_value(json_object_get(f, "sha256"));
        char *path = xprintf("%s/%s", dir, rel ? rel : "?");
        uint8_t sha[32];
        uint64_t size = 0;
        char hex[65] = "";
        int rc = rel && want ? cli_hash_file(path, sha, &size) : CLI_FAIL;
        if (!rc) {
            cli_hex(sha, 32, hex);
        }
        if (rc == CLI_MISSING) {
            problem(bad, "%s is missing%s", rel, "");
        } else if (rc || strcmp(hex, want) != 0 ||
                   (json_int_t)size != json_integer_value(json_object_get(f, "size"))) {
            problem(bad, "%s does not match its checksum%s", rel ? rel : "a file entry", "");
        }
        free(path);
    }
    return CLI_OK;
}

/* The CID a blob entry names. */
static bool entry_cid(json_t *b, struct cid *cid)
{
    const char *s = json_string_value(json_object_get(b, "cid"));
    return s && cid_parse_str(s, cid) == ERR_OK && cli_cid_sha256(cid);
}

static int check_blobs(const char *dir, json_t *blobs, int *bad, size_t *checked)
{
    size_t i;
    json_t *b;
    json_array_foreach(blobs, i, b)
    {
        if (json_is_false(json_object_get(b, "copied")) ||
            json_is_true(json_object_get(b, "missing"))) {
            continue; /* S3 (listed only), or absent from the source store */
        }
        const char *rel = json_string_value(json_object_get(b, "path"));
        struct cid cid;
        if (!rel || !entry_cid(b, &cid)) {
            problem(bad, "a blob entry is malformed%s%s", "", "");
            continue;
        }
        char *path = xprintf("%s/%s", dir, rel);
        uint8_t sha[32];
        uint64_t size = 0;
        int rc = cli_hash_file(path, sha, &size);
        if (rc == CLI_MISSING) {
            problem(bad, "%s is missing%s", rel, "");
        } else if (rc || memcmp(sha, cli_cid_sha256(&cid), 32) != 0) {
            problem(bad, "%s does not match its CID%s", rel, "");
        }
        (*checked)++;
        free(path);
    }
    return CLI_OK;
}

/* The dump's table of contents reads, and holds the tables a host cannot lack. */
static int check_dump(const char *dir, int *bad)
{
    struct cli_storage s = {0};
    char *pg_restore = cli_pg_program(&s, "pg_restore");
    char *file = xprintf("%s/database.dump", dir);
    char *list = xprintf("%s/.toc.txt", dir);
    char *out = xprintf("--file=%s", list);
    char *args[] = {pg_restore, "--list", out, file, NULL};
    int rc = cli_pg_run(pg_restore, args, NULL, true);
    if (rc) {
        problem(bad, "database.dump cannot be read by pg_restore%s%s", "", "");
    } else {
        FILE *f = fopen(list, "r");
        char line[1024];
        int found = 0;
        while (f && fgets(line, sizeof line, f)) {
            found += strstr(line, "TABLE DATA public account ") != NULL ||
                     strstr(line, "TABLE DATA public repo_block ") != NULL ||
                     strstr(line, "TABLE DATA public repo_seq ") != NULL;
        }
        if (f) {
            fclose(f);
        }
        if (found < 3) {
            problem(bad, "database.dump lacks the account, repo_block or repo_seq data%s%s", "",
                    "");
        }
    }
    unlink(list);
    free(pg_restore);
    free(file);
    free(list);
    free(out);
    return CLI_OK;
}

/* Every check; prints a summary. CLI_OK when the backup is whole. */
static int verify(const char *dir, json_t **manifest_out)
{
    json_t *m = load_manifest(dir);
    if (!m) {
        return CLI_FAIL;
    }
    int bad = 0;
    size_t checked = 0;
    check_files(dir, json_object_get(m, "files"), &bad);
    check_blobs(dir, json_object_get(m, "blobs"), &bad, &checked);
    check_dump(dir, &bad);
    json_t *snap = json_object_get(m, "snapshot");
    if (bad) {
        cli_error("backup %s is damaged: %d problem%s (listed above)", dir, bad,
                  bad == 1 ? "" : "s");
        json_decref(m);
        return CLI_FAIL;
    }
    printf("Backup %s is whole: snapshot at %s, %lld accounts, head seq %lld, %zu files and "
           "%zu blobs checked%s\n",
           dir, json_string_value(json_object_get(snap, "at")),
           (long long)json_integer_value(json_object_get(snap, "accounts")),
           (long long)json_integer_value(json_object_get(snap, "headSeq")),
           json_array_size(json_object_get(m, "files")), checked,
           strcmp(json_string_value(json_object_get(m, "blobStore")), "s3") == 0
               ? " (blob bytes are in the S3 bucket, not in the backup)"
               : "");
    if (manifest_out) {
        *manifest_out = m;
    } else {
        json_decref(m);
    }
    return CLI_OK;
}

int cli_verify_backup(struct cli *c, int argc, char **argv)
{
    if (argc != 2) {
        cli_error("usage: pdsadmin verify-backup DIR");
        return CLI_USAGE;
    }
    return verify(argv[1], NULL);
}

/* A data directory that does not exist yet or is empty (created here). */
static int fresh_dir(const char *dir)
{
    /* 0755 as `pds serve` makes it: a private cluster's postgres user must enter it */
    if (cli_mkdirs(dir, 0755)) {
        return CLI_FAIL;
    }
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        entries += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    if (d) {
        closedir(d);
    }
    if (entries) {
        cli_error("the data directory \"%s\" is not empty: restore goes into a fresh one "
                  "(set PDS_DATA_DIRECTORY)",
                  dir);
        return CLI_FAIL;
    }
    return CLI_OK;
}

static int database_empty(const char *url)
{
    PGconn *db = PQconnectdb(url);
    PGresult *r = PQstatus(db) == CONNECTION_OK
                      ? PQexec(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
                      : NULL;
    int rc = CLI_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        cli_error("could not connect to PDS_DATABASE_URL: %s", PQerrorMessage(db));
        rc = CLI_FAIL;
    } else if (strcmp(PQgetvalue(r, 0, 0), "0") != 0) {
        cli_error("the database PDS_DATABASE_URL names is not empty: restore into a new one");
        rc = CLI_FAIL;
    }
    PQclear(r);
    PQfinish(db);
    return rc;
}

static int restore_database(const struct cli_storage *s, const char *dir)
{
    char *pg_restore = cli_pg_program(s, "pg_restore");
    char *file = xprintf("%s/database.dump", dir);
    char *dbname = cli_pg_dbname(s->database_url);
    char *d = xprintf("--dbname=%s", dbname);
    char *args[] = {pg_restore,
                    "--single-transaction",
                    "--exit-on-error",
                    "--no-owner",
                    "--no-privileges",
                    d,
                    file,
                    NULL};
    int rc = cli_pg_run(pg_restore, args, s->database_url, false);
    free(pg_restore);
    free(file);
    free(dbname);
    free(d);
    return rc;
}

static int restore_blobs(const struct cli_storage *s, const char *dir, json_t *blobs, size_t *n)
{
    size_t i;
    json_t *b;
    json_array_foreach(blobs, i, b)
    {
        if (json_is_false(json_object_get(b, "copied")) ||
            json_is_true(json_object_get(b, "missing"))) {
            continue;
        }
        struct cid cid;
        const char *did = json_string_value(json_object_get(b, "did"));
        const char *rel = json_string_value(json_object_get(b, "path"));
        char dst[BLOBSTORE_PATH_MAX];
        if (!did || !rel || !entry_cid(b, &cid) ||
            !blobstore_disk_path(s->blob_dir, did, &cid, dst)) {
            cli_error("a blob entry of the manifest is malformed");
            return CLI_FAIL;
        }
        char *src = xprintf("%s/%s", dir, rel);
        uint8_t sha[32];
        uint64_t size;
        int rc = cli_copy_file(src, dst, 0600, sha, &size);
        free(src);
        if (rc == CLI_MISSING) {
            cli_error("%s is missing from the backup", rel);
        }
        if (rc) {
            return CLI_FAIL;
        }
        (*n)++;
    }
    return CLI_OK;
}

static int restore_secrets(const struct cli_storage *s, const char *dir)
{
    char *src = xprintf("%s/secrets/secrets.env", dir),
         *dst = xprintf("%s/secrets.env", s->data_dir);
    uint8_t sha[32];
    uint64_t size;
    int rc = cli_copy_file(src, dst, 0600, sha, &size);
    if (rc == CLI_MISSING) {
        rc = CLI_OK;
    }
    free(src);
    free(dst);
    src = xprintf("%s/secrets/pds.env", dir);
    if (!rc && access(src, R_OK) == 0) {
        printf("The server's env file (PDS_JWT_SECRET, PDS_ADMIN_PASSWORD, the PLC rotation "
               "key...) is in the backup: %s\n  install it where the server reads it "
               "(e.g. /pds/pds.env, mode 0600) before starting the server.\n",
               src);
    }
    free(src);
    return rc;
}

int cli_restore(struct cli *c, int argc, char **argv)
{
    if (argc != 2) {
        cli_error("usage: pdsadmin restore DIR (into PDS_DATA_DIRECTORY and PDS_DATABASE_URL)");
        return CLI_USAGE;
    }
    const char *dir = argv[1];
    json_t *m = NULL;
    int rc = verify(dir, &m);
    char *data_dir = cli_server_setting(c, "PDS_DATA_DIRECTORY", "./data");
    if (!rc) {
        rc = fresh_dir(data_dir);
    }
    free(data_dir);
    struct cli_storage s = {0};
    struct cluster cluster = {0};
    if (!rc) {
        rc = cli_storage_resolve(c, &s);
    }
    if (!rc && strcmp(json_string_value(json_object_get(m, "blobStore")), "s3") == 0 &&
        !s.s3_bucket) {
        cli_error("this backup's blobs are in an S3 bucket: set PDS_BLOBSTORE_S3_BUCKET");
        rc = CLI_FAIL;
    }
    if (!rc && s.private_cluster) {
        /* a new private cluster, as `pds serve` would make it, and its empty database */
        rc = cluster_start(&cluster, s.data_dir, s.pg_bin_dir) == ERR_OK ? CLI_OK : CLI_FAIL;
    } else if (!rc) {
        rc = database_empty(s.database_url);
    }
    if (!rc) {
        rc = restore_database(&s, dir);
    }
    size_t blobs = 0;
    if (!rc && !s.s3_bucket) {
        rc = restore_blobs(&s, dir, json_object_get(m, "blobs"), &blobs);
    }
    if (!rc) {
        rc = restore_secrets(&s, dir);
    }
    cluster_stop(&cluster);
    if (!rc) {
        json_t *snap = json_object_get(m, "snapshot");
        printf("Restored %s into %s: %lld accounts, head seq %lld, %zu blobs.\n", dir, s.data_dir,
               (long long)json_integer_value(json_object_get(snap, "accounts")),
               (long long)json_integer_value(json_object_get(snap, "headSeq")), blobs);
        printf("Start the server on it; relays continue from the restored head.\n");
    }
    json_decref(m);
    cli_storage_clear(&s);
    return rc;
}
