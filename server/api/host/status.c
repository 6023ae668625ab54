/* status.c - routes for running the host, outside the lexicons (ours unless noted):
 * GET /xrpc/_status (admin) for pdsadmin status, and GET /tls-check?domain= for a reverse
 * proxy's on-demand TLS (the reference distribution's path and answers). */
#include "api/sync/subscribe.h"
#include "api/host/host.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "api/common/auth.h"
#include "db/outbox.h"
#include "config/config.h"

#define DOMAIN_MAX_BYTES 253 /* spec(handle): a DNS name */

/* This process's firehose subscriber count, defined by the firehose (api/sync_subscribe.c)
 * once it exports one; weak, so the status route builds and answers null without it. */

/* Seconds since this process started (Linux: its start in clock ticks after boot, from
 * /proc/self/stat, against /proc/uptime); -1 when unknown. */
static int64_t uptime_s(void)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    buf[n] = '\0';
    /* field 22 (starttime) counts from the one after the ")" closing the command name */
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++) {
        p = strchr(p + 1, ' ');
    }
    char up[64];
    f = fopen("/proc/uptime", "r");
    n = f ? fread(up, 1, sizeof(up) - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    up[n] = '\0';
    char *end;
    double boot_s = strtod(up, &end);
    long ticks = sysconf(_SC_CLK_TCK);
    if (!p || end == up || ticks <= 0) {
        return -1;
    }
    double start_s = strtod(p + 1, NULL) / (double)ticks;
    return (int64_t)(boot_s - start_s);
}

/* Free and total bytes of the filesystem holding path; false if it cannot be read. */
static bool fs_space(const char *path, int64_t *free_b, int64_t *total_b)
{
    struct statvfs v;
    if (!path || statvfs(path, &v) != 0) {
        return false;
    }
    *free_b = (int64_t)v.f_bavail * (int64_t)v.f_frsize;
    *total_b = (int64_t)v.f_blocks * (int64_t)v.f_frsize;
    return true;
}

/* GET /xrpc/_status (admin; ours): the numbers `pdsadmin status` prints. */
int api_host_status(struct xrpc_req *rq)
{
    const struct auth *a;
    int st = auth_admin(rq, &a);
    if (st) {
        return st;
    }
    int64_t up = uptime_s();
    PGresult *r;
    if (db_query_in(
            rq->db, rq->arena,
            "SELECT count(*),"
            " count(*) FILTER (WHERE takedown_ref IS NULL AND deactivated_at IS NULL),"
            " count(*) FILTER (WHERE takedown_ref IS NOT NULL),"
            " count(*) FILTER (WHERE deactivated_at IS NOT NULL AND takedown_ref IS NULL),"
            " coalesce(sum(repo_bytes), 0)::bigint,"
            " (SELECT count(*) FROM blob), (SELECT coalesce(sum(size), 0)::bigint FROM blob),"
            " pg_database_size(current_database()), current_setting('server_version')"
            " FROM account",
            NULL, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    int64_t head = 0, pruned = 0;
    if (outbox_head(rq->db, &head, &pruned)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    const struct config *cfg = rq->cfg;
    json_t *blobs =
        json_pack("{s:s,s:I,s:I}", "store", cfg->blobstore_s3_bucket ? "s3" : "disk", "count",
                  (json_int_t)db_col_i64(r, 0, 5), "bytes", (json_int_t)db_col_i64(r, 0, 6));
    int64_t fb, tb;
    if (!cfg->blobstore_s3_bucket && fs_space(cfg->blobstore_disk, &fb, &tb)) {
        json_object_set_new(blobs, "diskFreeBytes", json_integer(fb));
        json_object_set_new(blobs, "diskTotalBytes", json_integer(tb));
    }
    json_t *firehose =
        json_pack("{s:I,s:I}", "headSeq", (json_int_t)head, "prunedThroughSeq", (json_int_t)pruned);
    json_object_set_new(firehose, "subscribers", json_integer((json_int_t)sync_subscribe_count()));
    json_t *out = json_pack(
        "{s:s,s:s,s:s,s:s,s:I,s:{s:I,s:I,s:I,s:I},s:{s:I,s:s,s:b},s:o,s:o,s:I,s:o}", "version",
        cfg->version, "hostname", cfg->hostname, "did", cfg->service_did, "publicUrl",
        cfg->public_url, "uptimeSeconds", (json_int_t)up, "accounts", "total",
        (json_int_t)db_col_i64(r, 0, 0), "active", (json_int_t)db_col_i64(r, 0, 1), "takendown",
        (json_int_t)db_col_i64(r, 0, 2), "deactivated", (json_int_t)db_col_i64(r, 0, 3), "database",
        "bytes", (json_int_t)db_col_i64(r, 0, 7), "serverVersion", db_col_text(r, 0, 8),
        "privateCluster", cfg->database_url == NULL, "blobs", blobs, "firehose", firehose,
        "repoBytes", (json_int_t)db_col_i64(r, 0, 4), "rateLimits", api_host_limits_summary(rq));
    return xrpc_reply_json(rq, 200, out);
}

/* Under one of the service's handle domains (a name below it, not the bare domain). */
static bool under_service_domain(const struct config *cfg, const char *d)
{
    size_t n = strlen(d);
    for (size_t i = 0; i < cfg->handle_domains.len; i++) {
        const char *suffix = cfg->handle_domains.items[i];
        size_t sn = strlen(suffix);
        if (n > sn && strcmp(d + n - sn, suffix) == 0) {
            return true;
        }
    }
    return false;
}

/* GET /tls-check?domain=<name> (the reference distribution's service/index.js): 200
 * {success:true} for our hostname or a handle under our handle domains held by an active
 * account; 404 for any other name, so a proxy never asks a CA for names we do not serve;
 * 400 without a usable domain. */
int api_host_tls_check(struct xrpc_req *rq)
{
    const char *domain = xrpc_param(rq, "domain");
    if (!domain || strlen(domain) > DOMAIN_MAX_BYTES) {
        return xrpc_fail(rq, 400, "InvalidRequest", "bad or missing domain query param");
    }
    char *d = arena_strndup(rq->arena, domain, strlen(domain));
    for (char *p = d; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    if (strcmp(d, rq->cfg->hostname) == 0) {
        return xrpc_reply_json(rq, 200, json_pack("{s:b}", "success", 1));
    }
    if (!under_service_domain(rq->cfg, d)) {
        return xrpc_fail(rq, 404, "NotFound", "handles are not provided on this domain");
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, d);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT 1 FROM account WHERE handle = $1"
                    " AND takedown_ref IS NULL AND deactivated_at IS NULL",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 0) {
        return xrpc_fail(rq, 404, "NotFound", "handle not found for this domain");
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:b}", "success", 1));
}
