/* cli_backup.c - `pdsadmin backup DIR`: a consistent snapshot of the host while it serves.
 *
 * One repeatable-read transaction fixes the moment: pg_dump reads the database through its
 * exported snapshot, and the same transaction lists every blob row, whose bytes are copied
 * from the disk store. Blob bytes are immutable and only the sweeper deletes them; it pauses
 * while the backup holds BLOB_SWEEP_PAUSE_LOCK (taken before the snapshot, so no deletion
 * in flight can be missed). So every blob the snapshot names is copied, and nothing written
 * after the snapshot is half in. Then the secrets files, and a manifest with the SHA-256 of
 * every file (a blob's is its CID). S3 stores: the blobs are listed, not copied (see
 * docs/operator-guide.md). */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "blob/blobstore.h"
#include "blob/sweep.h"
#include "core/cid.h"
#include "core/sha256.h"

#define BACKUP_FORMAT      "pds-backup/1"
#define BLOB_MISSING_RETRY 20 /* tries, 100 ms apart: an upload whose bytes are moving in */

static int sql_fail(PGconn *db, const char *what)
{
    cli_error("%s: %s", what, PQerrorMessage(db));
    return CLI_FAIL;
}

static int exec_ok(PGconn *db, const char *sql, const char *what)
{
    PGresult *r = PQexec(db, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return ok ? CLI_OK : sql_fail(db, what);
}

static json_t *file_entry(const char *rel, const uint8_t sha[32], uint64_t size)
{
    char hex[65];
    cli_hex(sha, 32, hex);
    return json_pack("{s:s,s:I,s:s}", "path", rel, "size", (json_int_t)size, "sha256", hex);
}

/* Copies one blob into DIR/blobs/<did>/<cid>, checking its bytes against the CID. */
static int copy_blob(const struct cli_storage *s, const char *dir, const char *did,
                     const char *cid_hex, json_t *blobs, uint64_t *bytes)
{
    uint8_t raw[CID_BYTES_MAX];
    size_t n = 0;
    struct cid cid;
    if (!cli_unhex(cid_hex, raw, sizeof raw, &n) || cid_from_bytes(bytes_of(raw, n), &cid) ||
        !cli_cid_sha256(&cid)) {
        cli_error("a blob of %s has a malformed CID in the database", did);
        return CLI_FAIL;
    }
    char cs[CID_STR_MAX], src[BLOBSTORE_PATH_MAX];
    cid_format(&cid, cs);
    if (!blobstore_disk_path(s->blob_dir, did, &cid, src)) {
        cli_error("no blob store path for %s %s", did, cs);
        return CLI_FAIL;
    }
    char *rel = xprintf("blobs/%s/%s", did, cs);
    char *dst = xprintf("%s/%s", dir, rel);
    uint8_t sha[32];
    uint64_t size = 0;
    int rc = CLI_MISSING;
    for (int i = 0; i < BLOB_MISSING_RETRY && rc == CLI_MISSING; i++) {
        if (i) {
            struct timespec nap = {0, 100 * 1000000L};
            nanosleep(&nap, NULL);
        }
        rc = cli_copy_file(src, dst, 0600, sha, &size);
    }
    json_t *e = json_pack("{s:s,s:s,s:s,s:I}", "did", did, "cid", cs, "path", rel, "size",
                          (json_int_t)size);
    if (rc == CLI_MISSING) {
        /* the source store lacks it too (an import whose blobs never came): say so */
        fprintf(stderr, "pdsadmin: warning: %s %s has a row but no bytes in the blob store\n", did,
                cs);
        json_object_set_new(e, "missing", json_true());
        rc = CLI_OK;
    } else if (!rc && memcmp(sha, cli_cid_sha256(&cid), 32) != 0) {
        cli_error("blob %s %s in the store does not match its CID", did, cs);
        rc = CLI_FAIL;
    }
    *bytes += size;
    json_array_append_new(blobs, e);
    free(rel);
    free(dst);
    return rc;
}

static int copy_blobs(PGconn *db, const struct cli_storage *s, const char *dir, json_t *blobs,
                      uint64_t *bytes)
{
    PGresult *r = PQexec(db, "SELECT did, encode(cid, 'hex') FROM blob ORDER BY did, cid");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return sql_fail(db, "could not list the blobs");
    }
    int rc = CLI_OK;
    for (int i = 0; i < PQntuples(r) && !rc; i++) {
        if (s->s3_bucket) {
            json_array_append_new(blobs, json_pack("{s:s,s:s,s:b}", "did", PQgetvalue(r, i, 0),
                                                   "cidHex", PQgetvalue(r, i, 1), "copied", 0));
        } else {
            rc = copy_blob(s, dir, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), blobs, bytes);
        }
    }
    PQclear(r);
    return rc;
}

/* The secrets: <data>/secrets.env (development secrets) and the env file, if any. */
static int copy_secrets(const struct cli *c, const struct cli_storage *s, const char *dir,
                        json_t *files)
{
    const char *names[] = {"secrets/secrets.env", "secrets/pds.env"};
    char *srcs[] = {xprintf("%s/secrets.env", s->data_dir),
                    c->env_file ? xstrndup(c->env_file, strlen(c->env_file)) : NULL};
    int rc = CLI_OK;
    for (size_t i = 0; i < 2 && !rc; i++) {
        if (!srcs[i]) {
            continue;
        }
        char *dst = xprintf("%s/%s", dir, names[i]);
        uint8_t sha[32];
        uint64_t size;
        rc = cli_copy_file(srcs[i], dst, 0600, sha, &size);
        if (rc == CLI_MISSING) {
            rc = CLI_OK;
        } else if (!rc) {
            json_array_append_new(files, file_entry(names[i], sha, size));
        }
        free(dst);
    }
    free(srcs[0]);
    free(srcs[1]);
    return rc;
}

static int dump_database(const struct cli_storage *s, const char *dir, const char *snapshot,
                         json_t *files)
{
    char *pg_dump = cli_pg_program(s, "pg_dump");
    char *file = xprintf("%s/database.dump", dir);
    char *snap = xprintf("--snapshot=%s", snapshot);
    char *out = xprintf("--file=%s", file);
    char *args[] = {pg_dump, "--format=custom", "--no-owner", "--no-privileges", snap, out, NULL};
    int rc = cli_pg_run(pg_dump, args, s->database_url, false);
    uint8_t sha[32];
    uint64_t size;
    if (!rc && !(rc = cli_hash_file(file, sha, &size))) {
        json_array_append_new(files, file_entry("database.dump", sha, size));
    }
    free(pg_dump);
    free(file);
    free(snap);
    free(out);
    return rc;
}

static int write_manifest(const char *dir, json_t *manifest)
{
    char *text = json_dumps(manifest, JSON_INDENT(1) | JSON_SORT_KEYS);
    char *path = xprintf("%s/manifest.json", dir);
    int rc = cli_write_file(path, text, 0600);
    if (!rc) {
        uint8_t sha[32];
        sha256(text, strlen(text), sha);
        char hex[65];
        cli_hex(sha, 32, hex);
        char *line = xprintf("%s  manifest.json\n", hex);
        char *sum = xprintf("%s/manifest.sha256", dir);
        rc = cli_write_file(sum, line, 0600);
        free(line);
        free(sum);
    }
    free(text);
    free(path);
    return rc;
}

static int make_dir(const char *dir)
{
    if (mkdir(dir, 0700) == 0) {
        return CLI_OK;
    }
    if (errno == EEXIST && rmdir(dir) == 0 && mkdir(dir, 0700) == 0) {
        return CLI_OK; /* it was empty */
    }
    cli_error("\"%s\" %s: give a new directory for the backup", dir,
              errno == EEXIST || errno == ENOTEMPTY ? "is not empty" : strerror(errno));
    return CLI_FAIL;
}

/* The snapshot's moment: snapshot id and figures, in the open transaction. */
static int snapshot_facts(PGconn *db, json_t *manifest, char **snapshot)
{
    PGresult *r = PQexec(
        db,
        "SELECT pg_export_snapshot(), (SELECT coalesce(max(version), 0) FROM schema_migrations),"
        " (SELECT count(*) FROM account), (SELECT coalesce(max(seq), 0) FROM repo_seq),"
        " (SELECT count(*) FROM repo_block), current_setting('server_version'),"
        " (SELECT count(*) FROM repo_seq WHERE seq IS NULL),"
        " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return sql_fail(db, "could not take a snapshot");
    }
    *snapshot = xstrndup(PQgetvalue(r, 0, 0), strlen(PQgetvalue(r, 0, 0)));
    json_object_set_new(manifest, "snapshot",
                        json_pack("{s:s,s:I,s:I,s:I,s:I,s:s}", "at", PQgetvalue(r, 0, 7),
                                  "schemaVersion",
                                  (json_int_t)strtoll(PQgetvalue(r, 0, 1), NULL, 10), "accounts",
                                  (json_int_t)strtoll(PQgetvalue(r, 0, 2), NULL, 10), "headSeq",
                                  (json_int_t)strtoll(PQgetvalue(r, 0, 3), NULL, 10), "repoBlocks",
                                  (json_int_t)strtoll(PQgetvalue(r, 0, 4), NULL, 10),
                                  "postgresVersion", PQgetvalue(r, 0, 5)));
    /* events committed but not yet numbered: the restored server's sequencer numbers them
     * next, after headSeq, as this one did */
    json_object_set_new(json_object_get(manifest, "snapshot"), "unsequencedEvents",
                        json_integer((json_int_t)strtoll(PQgetvalue(r, 0, 6), NULL, 10)));
    PQclear(r);
    return CLI_OK;
}

int cli_backup(struct cli *c, int argc, char **argv)
{
    if (argc != 2) {
        cli_error("usage: pdsadmin backup DIR");
        return CLI_USAGE;
    }
    const char *dir = argv[1];
    struct cli_storage s;
    int rc = cli_storage_resolve(c, &s);
    if (rc || (rc = make_dir(dir))) {
        cli_storage_clear(&s);
        return rc;
    }
    PGconn *db = PQconnectdb(s.database_url);
    json_t *manifest = json_pack("{s:s,s:s,s:s}", "format", BACKUP_FORMAT, "pdsadminVersion",
                                 PDS_VERSION, "blobStore", s.s3_bucket ? "s3" : "disk");
    json_t *files = json_array(), *blobs = json_array();
    char *snapshot = NULL;
    uint64_t blob_bytes = 0;
    char lock[64];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_lock(%lld)", (long long)BLOB_SWEEP_PAUSE_LOCK);
    if (PQstatus(db) != CONNECTION_OK) {
        rc = sql_fail(db, s.private_cluster ? "could not reach the private cluster (is the "
                                              "server running?)"
                                            : "could not connect to PDS_DATABASE_URL");
    }
    /* the pause first: a sweep deleting bytes now finishes before the snapshot is taken */
    if (!rc && !(rc = exec_ok(db, lock, "could not pause the blob sweeper")) &&
        !(rc = exec_ok(db, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                       "could not start the snapshot"))) {
        rc = snapshot_facts(db, manifest, &snapshot);
    }
    if (!rc) {
        rc = dump_database(&s, dir, snapshot, files);
    }
    if (!rc) {
        rc = copy_blobs(db, &s, dir, blobs, &blob_bytes);
    }
    if (!rc) {
        rc = exec_ok(db, "COMMIT", "could not end the snapshot");
    }
    PQfinish(db); /* ends the pause too */
    if (!rc) {
        rc = copy_secrets(c, &s, dir, files);
    }
    if (!rc) {
        json_object_set_new(manifest, "files", files);
        json_object_set_new(manifest, "blobs", blobs);
        json_object_set_new(manifest, "blobBytes", json_integer((json_int_t)blob_bytes));
        rc = write_manifest(dir, manifest);
        files = blobs = NULL;
    }
    if (!rc) {
        json_t *snap = json_object_get(manifest, "snapshot");
        printf("Backup written to %s\n", dir);
        printf("  snapshot at %s: %lld accounts, head seq %lld\n",
               json_string_value(json_object_get(snap, "at")),
               (long long)json_integer_value(json_object_get(snap, "accounts")),
               (long long)json_integer_value(json_object_get(snap, "headSeq")));
        printf("  %zu blobs (%llu bytes)%s\n", json_array_size(json_object_get(manifest, "blobs")),
               (unsigned long long)blob_bytes,
               s.s3_bucket ? ", listed only: they stay in the S3 bucket" : "");
        printf("Check it with: pdsadmin verify-backup %s\n", dir);
    }
    json_decref(files);
    json_decref(blobs);
    json_decref(manifest);
    free(snapshot);
    cli_storage_clear(&s);
    return rc;
}
