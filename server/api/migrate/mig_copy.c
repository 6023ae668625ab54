/* mig_copy.c - the copying steps of a migration: the account on the new host, the
 * repository, the preferences, and the verification gate before anything irreversible.
 * Every step can run again after an interruption and finds its work done or redoes it. */
#include "api/migrate/mig_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/account/account_ops.h"
#include "api/common/app.h"
#include "api/migrate/mig_store.h"
#include "config/config.h"
#include "identity/resolver.h"
#include "repo/inventory.h"

#define SERVICE_AUTH_TTL_S 600 /* the createAccount token from the old host */
#define MISSING_PAGE       500

static void on_repo_bytes(void *ctx, uint64_t n)
{
    struct mig_ctx *x = ctx;
    mig_progress(x, "repoBytesDownloaded", json_integer((json_int_t)n), false);
    (void)mig_keepalive(x);
}

void mig_fetch_repo(struct mig_ctx *x, struct mig_result *r, struct buf *car, struct inventory *inv)
{
    struct did_doc doc;
    enum err e = resolver_resolve_atproto(app_get()->resolver, x->job.did, true, &doc);
    if (e || !doc.has_signing_key) {
        if (!e) {
            did_doc_clear(&doc);
        }
        if (e == ERR_UPSTREAM) {
            mig_again(r, "The DID directory did not answer; trying again shortly.");
        } else {
            mig_fail(r, "BadIdentity", "The account's DID document has no usable signing key.");
        }
        return;
    }
    uint64_t cap = MIG_CAR_MAX_BYTES;
    if (x->job.dir == MIG_IN && x->cfg->max_repo_import_size > 0 &&
        (uint64_t)x->cfg->max_repo_import_size < cap) {
        cap = (uint64_t)x->cfg->max_repo_import_size;
    }
    char *q = mig_http_escape(x->job.did);
    char *query = xprintf("did=%s", q);
    free(q);
    struct mig_call c;
    mig_call_init(&c, "GET", "com.atproto.sync.getRepo");
    c.query = query;
    c.max_bytes = cap;
    c.timeout_ms = 30 * 60 * 1000; /* a large repository; stalls end it sooner */
    c.pace = MIG_PACE_REPO;
    c.on_bytes = on_repo_bytes;
    c.ctx = x;
    struct mig_http_resp resp;
    struct mig_fail f;
    e = mig_peer_call(&x->old, &c, NULL, &resp, &f);
    free(query);
    if (e == ERR_TOO_LARGE) {
        mig_fail(r, "RepoTooLarge",
                 "The repository is larger than %llu bytes, the most this host takes.",
                 (unsigned long long)cap);
    } else if (e) {
        mig_from_call(x, r, e, &f, &x->old, "downloading the repository");
    } else {
        buf_clear(car);
        *car = resp.body;
        buf_init(&resp.body, 0);
        if ((e = inventory_read(inv, buf_bytes(car), x->job.did, &doc.signing_key))) {
            mig_fail(r, "BadRepository", "The repository from %s does not verify: %s.",
                     mig_host_name(&x->old), inv->why);
        } else {
            r->kind = MIG_OK;
        }
    }
    mig_http_resp_clear(&resp);
    did_doc_clear(&doc);
}

int mig_new_host_did(struct mig_ctx *x, struct mig_result *r, char *out, size_t cap)
{
    if (x->fresh.self) {
        snprintf(out, cap, "%s", x->cfg->service_did);
        return 0;
    }
    const char *did = json_string_value(json_object_get(x->job.plan, "newHostDid"));
    if (!did) {
        mig_fail(r, "Internal", "The destination's DID is unknown; start again.");
        return -1;
    }
    snprintf(out, cap, "%s", did);
    return 0;
}

/* Inbound: the account exists here already (an earlier run made it). 1 yes (deactivated),
 * 0 no, -1 failed (r set). */
static int local_account(struct mig_ctx *x, struct mig_result *r)
{
    struct account_state s;
    if (account_get_state(x->db, x->job.did, &s)) {
        mig_again(r, "The database did not answer; trying again shortly.");
        return -1;
    }
    if (!s.exists) {
        return 0;
    }
    if (s.active) {
        mig_fail(r, "AlreadyHere", "This account is already active on this server.");
        return -1;
    }
    return 1;
}

/* The destination already holds the account (an earlier try): sign in there instead. */
static bool remote_sign_in(struct mig_ctx *x)
{
    if (!x->job.sec.password) {
        return false;
    }
    json_t *body =
        json_pack("{s:s,s:s}", "identifier", x->job.did, "password", x->job.sec.password);
    struct mig_call c;
    mig_call_init(&c, "POST", "com.atproto.server.createSession");
    c.body = body;
    c.no_auth = true;
    json_t *out = NULL;
    struct mig_fail f;
    enum err e = mig_peer_call(x->remote, &c, &out, NULL, &f);
    json_decref(body);
    const char *a = json_string_value(json_object_get(out, "accessJwt"));
    const char *rf = json_string_value(json_object_get(out, "refreshJwt"));
    const char *did = json_string_value(json_object_get(out, "did"));
    bool ok = !e && a && rf && did && strcmp(did, x->job.did) == 0;
    if (ok) {
        mig_secret_set(&x->job.sec.remote_access, a);
        mig_secret_set(&x->job.sec.remote_refresh, rf);
        x->job.sec_dirty = true;
    }
    json_decref(out);
    return ok;
}

static void create_failed(struct mig_ctx *x, struct mig_result *r, enum err e,
                          const struct mig_fail *f)
{
    const char *host = mig_host_name(&x->fresh);
    if (e == ERR_INVALID && strstr(f->message, "Handle already taken")) {
        mig_fail(r, "HandleTaken", "The handle %s is already taken at %s. Choose another one.",
                 x->job.new_handle, host);
    } else if (e == ERR_INVALID && strcmp(f->error, "InvalidInviteCode") == 0) {
        mig_fail(r, "InvalidInviteCode", "%s did not accept the invite code: %s", host, f->message);
    } else if (e == ERR_INVALID && strstr(f->message, "Email already taken")) {
        mig_fail(r, "EmailTaken", "Another account at %s already uses the email address %s.", host,
                 x->job.email);
    } else {
        mig_from_call(x, r, e, f, &x->fresh, "creating the account");
    }
}

void mig_step_create_account(struct mig_ctx *x, struct mig_result *r)
{
    int have = x->fresh.self ? local_account(x, r) : 0;
    if (have < 0) {
        return;
    }
    if (have == 1) {
        r->kind = MIG_OK;
        r->detail = json_pack("{s:b}", "reused", 1);
        return;
    }
    char aud[512];
    if (mig_new_host_did(x, r, aud, sizeof aud)) {
        return;
    }
    char *a = mig_http_escape(aud);
    char *query = xprintf("aud=%s&lxm=com.atproto.server.createAccount&exp=%lld", a,
                          (long long)time(NULL) + SERVICE_AUTH_TTL_S);
    free(a);
    json_t *tok = NULL;
    struct mig_fail f;
    enum err e = mig_peer_get(&x->old, "com.atproto.server.getServiceAuth", query, &tok, &f);
    free(query);
    const char *token = json_string_value(json_object_get(tok, "token"));
    if (e || !token) {
        json_decref(tok);
        mig_from_call(x, r, e ? e : ERR_INVALID, &f, &x->old, "asking for a sign-up token");
        return;
    }
    json_t *body = json_pack("{s:s,s:s,s:s*,s:s*,s:s*}", "did", x->job.did, "handle",
                             x->job.new_handle, "email", x->job.email, "password",
                             x->job.sec.password, "inviteCode", x->job.invite_code);
    struct mig_call c;
    mig_call_init(&c, "POST", "com.atproto.server.createAccount");
    c.body = body;
    c.bearer = token;
    json_t *out = NULL;
    e = mig_peer_call(&x->fresh, &c, &out, NULL, &f);
    json_decref(body);
    json_decref(tok);
    if (!e && !x->fresh.self) {
        const char *acc = json_string_value(json_object_get(out, "accessJwt"));
        const char *ref = json_string_value(json_object_get(out, "refreshJwt"));
        if (!acc || !ref) {
            e = ERR_INVALID;
            snprintf(f.message, sizeof f.message, "its answer has no session");
        } else {
            mig_secret_set(&x->job.sec.remote_access, acc);
            mig_secret_set(&x->job.sec.remote_refresh, ref);
            x->job.sec_dirty = true;
        }
    }
    json_decref(out);
    if (e && e != ERR_UPSTREAM && !x->fresh.self && remote_sign_in(x)) {
        e = ERR_OK; /* made by an earlier try whose answer was lost */
    }
    if (e && x->fresh.self && local_account(x, r) == 1) {
        e = ERR_OK;
    }
    if (e) {
        create_failed(x, r, e, &f);
        return;
    }
    r->kind = MIG_OK;
    r->detail = json_pack("{s:s}", "handle", x->job.new_handle);
}

static json_t *inventory_json(const struct inventory *inv)
{
    char commit[CID_STR_MAX];
    cid_format(&inv->commit, commit);
    return json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:b}", "commit", commit, "rev", inv->rev,
                     "records", (json_int_t)inv->records, "blocks", (json_int_t)inv->blocks,
                     "carBytes", (json_int_t)inv->car_bytes, "blobs", (json_int_t)inv->nblobs,
                     "blobBytes", (json_int_t)inv->blob_bytes, "largestBlob",
                     (json_int_t)inv->largest_blob, "signatureValid", inv->sig_valid);
}

void mig_step_import_repo(struct mig_ctx *x, struct mig_result *r)
{
    struct buf car;
    buf_init(&car, 0);
    struct inventory inv;
    inventory_init(&inv);
    mig_fetch_repo(x, r, &car, &inv);
    if (r->kind != MIG_OK) {
        goto out;
    }
    r->kind = MIG_AGAIN;
    mig_progress(x, "recordsTotal", json_integer((json_int_t)inv.records), false);
    mig_progress(x, "recordsImported", json_integer(0), true);
    if (mig_store_blobs_set(x->db, x->job.id, &inv)) {
        mig_again(r, "The database did not answer; trying again shortly.");
        goto out;
    }
    struct mig_call c;
    mig_call_init(&c, "POST", "com.atproto.repo.importRepo");
    c.content_type = "application/vnd.ipld.car";
    c.raw = buf_bytes(&car);
    c.timeout_ms = 30 * 60 * 1000;
    c.pace = MIG_PACE_REPO;
    struct mig_fail f;
    enum err e = mig_peer_call(&x->fresh, &c, NULL, NULL, &f);
    if (e) {
        if (e == ERR_INVALID && f.status == 413) {
            mig_fail(r, "RepoTooLarge", "%s does not take a repository this large.",
                     mig_host_name(&x->fresh));
        } else if (e == ERR_INVALID && strstr(f.error, "Quota")) {
            mig_fail(r, "OverQuota", "%s refused the repository: %s", mig_host_name(&x->fresh),
                     f.message);
        } else {
            mig_from_call(x, r, e, &f, &x->fresh, "importing the repository");
        }
        goto out;
    }
    json_t *st = NULL;
    e = mig_peer_get(&x->fresh, "com.atproto.server.checkAccountStatus", NULL, &st, &f);
    if (e) {
        mig_from_call(x, r, e, &f, &x->fresh, "checking the import");
        goto out;
    }
    json_t *imported = json_object_get(st, "indexedRecords");
    mig_progress(x, "recordsImported", json_incref(imported ? imported : json_integer(0)), true);
    json_decref(st);
    r->kind = MIG_OK;
    r->detail = inventory_json(&inv);
out:
    inventory_clear(&inv);
    buf_clear(&car);
}

void mig_step_preferences(struct mig_ctx *x, struct mig_result *r)
{
    json_t *prefs = NULL;
    struct mig_fail f;
    enum err e = mig_peer_get(&x->old, "app.bsky.actor.getPreferences", NULL, &prefs, &f);
    if (e) {
        mig_from_call(x, r, e, &f, &x->old, "reading the preferences");
        return;
    }
    json_t *list = json_object_get(prefs, "preferences");
    if (!json_is_array(list)) {
        json_decref(prefs);
        mig_fail(r, "BadAnswer", "%s sent preferences this server cannot read.",
                 mig_host_name(&x->old));
        return;
    }
    json_t *body = json_pack("{s:O}", "preferences", list);
    e = mig_peer_post(&x->fresh, "app.bsky.actor.putPreferences", body, NULL, &f);
    size_t n = json_array_size(list);
    json_decref(body);
    json_decref(prefs);
    if (e) {
        mig_from_call(x, r, e, &f, &x->fresh, "saving the preferences");
        return;
    }
    r->kind = MIG_OK;
    r->detail = json_pack("{s:I}", "preferences", (json_int_t)n);
}

/* The blobs the new host still lacks (listMissingBlobs, every page), as a JSON array of
 * CIDs (at most 50 kept); *count gets them all. */
static enum err missing_blobs(struct mig_ctx *x, json_t **out, int64_t *count, struct mig_fail *f)
{
    *out = json_array();
    *count = 0;
    char *cursor = NULL;
    for (int page = 0; page < 10000; page++) {
        char *cq = cursor ? mig_http_escape(cursor) : NULL;
        char *query = cq ? xprintf("limit=%d&cursor=%s", MISSING_PAGE, cq)
                         : xprintf("limit=%d", MISSING_PAGE);
        free(cq);
        json_t *res = NULL;
        enum err e = mig_peer_get(&x->fresh, "com.atproto.repo.listMissingBlobs", query, &res, f);
        free(query);
        if (e) {
            free(cursor);
            return e;
        }
        json_t *blobs = json_object_get(res, "blobs");
        size_t i;
        json_t *b;
        json_array_foreach(blobs, i, b)
        {
            if (json_array_size(*out) < 50) {
                json_array_append(*out, json_object_get(b, "cid"));
            }
        }
        *count += (int64_t)json_array_size(blobs);
        const char *next = json_string_value(json_object_get(res, "cursor"));
        free(cursor);
        cursor = next && json_array_size(blobs) ? xstrndup(next, strlen(next)) : NULL;
        json_decref(res);
        if (!cursor) {
            break;
        }
    }
    free(cursor);
    return ERR_OK;
}

int mig_old_moved(struct mig_ctx *x, struct mig_result *r, const char *commit)
{
    if (!commit) {
        return 1; /* nothing copied yet */
    }
    char *d = mig_http_escape(x->job.did);
    char *query = xprintf("did=%s", d);
    free(d);
    json_t *latest = NULL;
    struct mig_fail f;
    enum err e = mig_peer_get(&x->old, "com.atproto.sync.getLatestCommit", query, &latest, &f);
    free(query);
    if (e) {
        mig_from_call(x, r, e, &f, &x->old, "checking for new posts");
        return -1;
    }
    const char *cid = json_string_value(json_object_get(latest, "cid"));
    int moved = cid && strcmp(cid, commit) != 0;
    json_decref(latest);
    return moved;
}

/* The gate. Nothing irreversible happens before it passes. */
void mig_step_verify(struct mig_ctx *x, struct mig_result *r)
{
    json_t *inv = mig_store_step_detail(x->db, x->job.id, MIG_STEP_IMPORT_REPO);
    const char *commit = json_string_value(json_object_get(inv, "commit"));
    int64_t records = json_integer_value(json_object_get(inv, "records"));
    int64_t blobs = json_integer_value(json_object_get(inv, "blobs"));
    bool sig = json_is_true(json_object_get(inv, "signatureValid"));
    json_t *st = NULL, *missing = NULL;
    struct mig_fail f;
    if (!commit) {
        r->kind = MIG_REDO;
        r->redo_from = MIG_STEP_IMPORT_REPO;
        goto out;
    }
    int moved = mig_old_moved(x, r, commit);
    if (moved < 0) {
        goto out;
    }
    if (moved) {
        r->kind = MIG_REDO;
        r->redo_from = MIG_STEP_IMPORT_REPO;
        goto out;
    }
    enum err e = mig_peer_get(&x->fresh, "com.atproto.server.checkAccountStatus", NULL, &st, &f);
    int64_t nmissing = 0;
    if (!e) {
        e = missing_blobs(x, &missing, &nmissing, &f);
    }
    if (e) {
        mig_from_call(x, r, e, &f, &x->fresh, "checking the copy");
        goto out;
    }
    struct mig_blob_counts bc;
    if (mig_store_blob_counts(x->db, x->job.id, &bc)) {
        mig_again(r, "The database did not answer; trying again shortly.");
        goto out;
    }
    const char *repo_commit = json_string_value(json_object_get(st, "repoCommit"));
    int64_t indexed = json_integer_value(json_object_get(st, "indexedRecords"));
    int64_t expected = json_integer_value(json_object_get(st, "expectedBlobs"));
    int64_t imported = json_integer_value(json_object_get(st, "importedBlobs"));
    json_t *report = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:s?,s:s}", "records", records,
                               "recordsHere", indexed, "blobs", blobs, "blobsExpectedHere",
                               expected, "blobsHere", imported, "blobsMissing", nmissing,
                               "signatureValid", sig, "commitHere", repo_commit, "commit", commit);
    json_object_set(report, "missing", missing);
    if (!sig || !repo_commit || strcmp(repo_commit, commit) != 0 || indexed != records) {
        mig_progress(x, "verify", report, true);
        mig_fail(r, "RecordsMissing",
                 "The copy of the repository at %s does not match: %lld of %lld records, "
                 "commit %s. Retry copying the repository.",
                 mig_host_name(&x->fresh), (long long)indexed, (long long)records,
                 repo_commit ? repo_commit : "none");
        goto out;
    }
    if (nmissing > 0 || bc.done < bc.total || imported < expected || expected != blobs) {
        mig_progress(x, "verify", report, true);
        mig_fail(r, "BlobsMissing",
                 "%lld of %lld blobs are at %s; %lld still missing. Retry copying the blobs.",
                 (long long)(imported < blobs ? imported : blobs), (long long)blobs,
                 mig_host_name(&x->fresh), (long long)(nmissing ? nmissing : blobs - imported));
        goto out;
    }
    mig_progress(x, "verify", json_incref(report), true);
    r->kind = MIG_OK;
    r->detail = report;
out:
    json_decref(st);
    json_decref(missing);
    json_decref(inv);
}

void mig_cleanup_cancelled(struct db *db, const struct mig_job *j)
{
    if (mig_store_erase_secrets(db, j->id)) {
        log_warn(NULL, "migration %lld: could not erase its credentials", (long long)j->id);
    }
    if (j->dir != MIG_IN || !j->done[MIG_STEP_CREATE_ACCOUNT] || j->done[MIG_STEP_ACTIVATE]) {
        return;
    }
    struct account_state s;
    if (account_get_state(db, j->did, &s) || !s.exists || s.active) {
        return; /* never an account that went live */
    }
    if (account_delete(db, j->did)) {
        log_warn(NULL, "migration %lld: could not delete the unfinished account %s",
                 (long long)j->id, j->did);
    } else {
        log_info(NULL, "migration %lld cancelled: the unfinished copy of %s is deleted",
                 (long long)j->id, j->did);
    }
}
