/* ops.c - the endpoints an operator's tools read: GET /metrics (Prometheus text format;
 * HTTP Basic admin auth, or a client address in PDS_METRICS_ALLOW_IPS), GET /xrpc/_ready
 * (readiness: 503 while PostgreSQL or the blob store cannot be used) and GET /xrpc/_checks
 * (admin; the server's half of `pdsadmin doctor`: database, blob store, disk space, clock,
 * mail delivery, the DID documents of recent accounts). */
#include "api/console/console.h"

#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "api/account/account_ops.h"
#include "api/common/auth.h"
#include "api/sync/subscribe.h"
#include "blob/blobsvc.h"
#include "config/config.h"
#include "db/metrics.h"
#include "db/outbox.h"

#define METRICS_MAX_BYTES   ((size_t)8 << 20)
#define DISK_FREE_MIN_BYTES ((int64_t)1 << 30) /* warn below 1 GiB free ... */
#define DISK_FREE_MIN_PCT   10                 /* ... or below 10 % */
#define DID_DOC_SAMPLE      5                  /* recent accounts whose documents are checked */

static bool ip_allowed(struct xrpc_req *rq)
{
    const struct config_list *l = &rq->cfg->metrics_allow_ips;
    for (size_t i = 0; rq->client_ip && i < l->len; i++) {
        if (strcmp(l->items[i], rq->client_ip) == 0) {
            return true;
        }
    }
    return false;
}

/* Figures read from PostgreSQL at scrape time (never on the request path). */
static enum err write_db_figures(struct xrpc_req *rq, struct buf *out)
{
    PGresult *r;
    if (db_query_in(
            rq->db, rq->arena,
            "SELECT count(*) FILTER (WHERE takedown_ref IS NULL AND deactivated_at IS NULL),"
            " count(*) FILTER (WHERE deactivated_at IS NOT NULL AND takedown_ref IS NULL),"
            " count(*) FILTER (WHERE takedown_ref IS NOT NULL),"
            " coalesce(sum(repo_bytes), 0)::bigint, coalesce(sum(blob_bytes), 0)::bigint,"
            " pg_database_size(current_database()) FROM account",
            NULL, &r)) {
        return ERR_DB;
    }
    int64_t head = 0, pruned = 0;
    if (outbox_head(rq->db, &head, &pruned)) {
        return ERR_DB;
    }
    static const char *const status_label[] = {"status"};
    const char *statuses[] = {"active", "deactivated", "takendown"};
    enum err e = metrics_write_header(out, "pds_accounts", "Accounts on this host, by status",
                                      METRICS_GAUGE);
    for (int i = 0; i < 3 && !e; i++) {
        e = metrics_write_sample(out, "pds_accounts", status_label, &statuses[i], 1,
                                 (double)db_col_i64(r, 0, i));
    }
    struct {
        const char *name, *help;
        double v;
    } g[] = {
        {"pds_repo_bytes", "Bytes of repository blocks stored", (double)db_col_i64(r, 0, 3)},
        {"pds_blob_store_bytes", "Bytes of permanent blobs in the blob store",
         (double)db_col_i64(r, 0, 4)},
        {"pds_database_bytes", "Size of the PostgreSQL database", (double)db_col_i64(r, 0, 5)},
        {"pds_firehose_head_seq", "Highest event sequence number assigned", (double)head},
        {"pds_firehose_subscribers", "subscribeRepos connections to this process",
         (double)sync_subscribe_count()},
    };
    for (size_t i = 0; i < ARRAY_LEN(g) && !e; i++) {
        e = metrics_write_header(out, g[i].name, g[i].help, METRICS_GAUGE);
        if (!e) {
            e = metrics_write_sample(out, g[i].name, NULL, NULL, 0, g[i].v);
        }
    }
    return e;
}

/* GET /metrics */
int console_metrics(struct xrpc_req *rq)
{
    if (!ip_allowed(rq)) {
        const struct auth *a;
        int st = auth_admin(rq, &a);
        if (st) {
            return st;
        }
    }
    struct buf out;
    buf_init(&out, METRICS_MAX_BYTES);
    enum err e = write_db_figures(rq, &out);
    if (!e) {
        e = metrics_write(&out);
    }
    if (e) {
        buf_clear(&out);
        log_error(&rq->log, "metrics: %s", err_str(e));
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    xrpc_set_header(rq, "Cache-Control", "no-store");
    return xrpc_reply_buf(rq, 200, "text/plain; version=0.0.4; charset=utf-8", &out);
}

/* The blob store answers: the disk root is a writable directory; S3 answers a HEAD. */
static bool blobstore_ok(struct xrpc_req *rq, char *why, size_t why_len)
{
    struct blobstore *s = blobsvc_store();
    if (!s) {
        snprintf(why, why_len, "the blob store was not opened");
        return false;
    }
    if (!rq->cfg->blobstore_s3_bucket) {
        if (access(rq->cfg->blobstore_disk, R_OK | W_OK | X_OK) != 0) {
            snprintf(why, why_len, "the blob directory is missing or not writable");
            return false;
        }
        return true;
    }
    struct cid probe;
    cid_compute(CID_CODEC_RAW, bytes_str("readiness"), &probe);
    bool exists;
    if (blobstore_exists(s, "did:web:readiness.invalid", &probe, &exists)) {
        snprintf(why, why_len, "the S3 bucket did not answer");
        return false;
    }
    return true;
}

/* GET /xrpc/_ready */
int console_ready(struct xrpc_req *rq)
{
    char why[128] = "";
    bool db = db_exec(rq->db, "SELECT 1", NULL, NULL) == ERR_OK;
    bool blobs = blobstore_ok(rq, why, sizeof why);
    json_t *out = json_pack("{s:b,s:{s:s,s:s}}", "ready", db && blobs, "checks", "database",
                            db ? "ok" : "unreachable", "blobStore", blobs ? "ok" : why);
    if (!db || !blobs) {
        log_warn(&rq->log, "not ready: database %s, blob store %s", db ? "ok" : "unreachable",
                 blobs ? "ok" : why);
    }
    return xrpc_reply_json(rq, db && blobs ? 200 : 503, out);
}

static void add_check(json_t *list, const char *name, const char *status, const char *message,
                      const char *fix)
{
    json_t *o = json_pack("{s:s,s:s,s:s}", "name", name, "status", status, "message", message);
    if (fix) {
        json_object_set_new(o, "fix", json_string(fix));
    }
    json_array_append_new(list, o);
}

static void check_disk(json_t *list, const char *name, const char *path)
{
    struct statvfs v;
    char msg[256];
    if (!path || statvfs(path, &v) != 0) {
        snprintf(msg, sizeof msg, "cannot read the free space of %s", path ? path : "(unset)");
        add_check(list, name, "fail", msg, "check that the directory exists and is readable");
        return;
    }
    int64_t free_b = (int64_t)v.f_bavail * (int64_t)v.f_frsize;
    int64_t total = (int64_t)v.f_blocks * (int64_t)v.f_frsize;
    int pct = total > 0 ? (int)(free_b * 100 / total) : 0;
    snprintf(msg, sizeof msg, "%.1f GiB free of %.1f GiB (%d%%)", (double)free_b / (1 << 30),
             (double)total / (1 << 30), pct);
    bool low = free_b < DISK_FREE_MIN_BYTES || pct < DISK_FREE_MIN_PCT;
    add_check(list, name, low ? "warn" : "ok", msg,
              low ? "free space or grow the volume before writes start failing" : NULL);
}

static void check_mail(struct xrpc_req *rq, json_t *list, const char *to)
{
    const struct config *cfg = rq->cfg;
    if (!cfg->email_smtp_url) {
        add_check(list, "email", "warn",
                  "no mail server is configured: sign-up confirmations,"
                  " password resets and sign-in codes cannot be sent",
                  "set PDS_EMAIL_SMTP_URL and PDS_EMAIL_FROM_ADDRESS");
        return;
    }
    if (!to) {
        add_check(list, "email", "skip", "configured; no test mail sent",
                  "pass --mail-to ADDRESS to send one");
        return;
    }
    enum err e = account_send_email(cfg, to, "Test mail from your PDS",
                                    "This is a test mail sent by pdsadmin doctor.\n",
                                    "<p>This is a test mail sent by pdsadmin doctor.</p>\n");
    char msg[300];
    if (e) {
        snprintf(msg, sizeof msg, "the mail server did not accept a test mail to %s", to);
        add_check(list, "email", "fail", msg,
                  "check PDS_EMAIL_SMTP_URL (host, port, user, password) and that the mail "
                  "server is running and reachable from this host; the server log has the "
                  "SMTP error");
        return;
    }
    snprintf(msg, sizeof msg, "a test mail to %s was accepted by the mail server", to);
    add_check(list, "email", "ok", msg, NULL);
}

/* The DID documents of the most recent active accounts name this server and their key. */
static void check_did_docs(struct xrpc_req *rq, json_t *list)
{
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, DID_DOC_SAMPLE);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT did FROM account WHERE takedown_ref IS NULL AND deactivated_at IS NULL"
                    " ORDER BY created_at DESC LIMIT $1",
                    &p, &r)) {
        add_check(list, "did-documents", "fail", "could not list accounts", NULL);
        return;
    }
    int n = PQntuples(r), bad = 0;
    const char *first_bad = NULL;
    for (int i = 0; i < n; i++) {
        const char *did = db_col_text(r, i, 0);
        if (!account_did_doc_is_valid(rq, did)) {
            bad++;
            first_bad = first_bad ? first_bad : did;
        }
    }
    char msg[512];
    if (n == 0) {
        add_check(list, "did-documents", "skip", "no active accounts yet", NULL);
    } else if (bad) {
        snprintf(msg, sizeof msg,
                 "%d of the %d newest accounts have a DID document that does not name this "
                 "server (%s) or their signing key, e.g. %s",
                 bad, n, rq->cfg->public_url, first_bad);
        add_check(list, "did-documents", "fail", msg,
                  "check PDS_DID_PLC_URL and PDS_HOSTNAME; an account can fix its own with "
                  "com.atproto.identity.requestPlcOperationSignature / signPlcOperation");
    } else {
        snprintf(msg, sizeof msg, "the DID documents of the %d newest accounts are right", n);
        add_check(list, "did-documents", "ok", msg, NULL);
    }
}

/* GET /xrpc/_checks?mailTo= (admin) */
int console_checks(struct xrpc_req *rq)
{
    const struct auth *a;
    int st = auth_admin(rq, &a);
    if (st) {
        return st;
    }
    const struct config *cfg = rq->cfg;
    json_t *list = json_array();
    bool db = db_exec(rq->db, "SELECT 1", NULL, NULL) == ERR_OK;
    add_check(list, "database", db ? "ok" : "fail",
              db ? "PostgreSQL answers" : "PostgreSQL does not answer",
              db ? NULL : "check PDS_DATABASE_URL and that PostgreSQL is running");
    char why[128];
    bool blobs = blobstore_ok(rq, why, sizeof why);
    add_check(list, "blob-store", blobs ? "ok" : "fail", blobs ? "the blob store answers" : why,
              blobs ? NULL
                    : "check PDS_BLOBSTORE_DISK_LOCATION (exists, owned by the server's user) or "
                      "the S3 settings");
    check_disk(list, "disk-data", cfg->data_dir);
    if (!cfg->blobstore_s3_bucket) {
        check_disk(list, "disk-blobs", cfg->blobstore_disk);
    }
    check_mail(rq, list, xrpc_param(rq, "mailTo"));
    if (db) {
        check_did_docs(rq, list);
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return xrpc_reply_json(rq, 200,
                           json_pack("{s:o,s:I,s:s,s:s,s:s}", "checks", list, "serverTimeMs",
                                     (json_int_t)now.tv_sec * 1000 + now.tv_nsec / 1000000,
                                     "publicUrl", cfg->public_url, "serviceDid", cfg->service_did,
                                     "version", cfg->version));
}
