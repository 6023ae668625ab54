/* mig_preflight.c - the checks before anything changes: where the account is, what the old
 * host says of it (handle, email), what the new host requires (invite code, handle
 * domains), and the repository's real size, records and blobs, read from its export and
 * verified, against this host's limits and quota. The result is the plan the page shows;
 * the job then waits for the user's go-ahead. */
#include "api/migrate/mig_run.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/account/account_ops.h"
#include "api/common/app.h"
#include "api/migrate/mig_store.h"
#include "config/config.h"
#include "identity/resolver.h"
#include "repo/inventory.h"

static void check(json_t *checks, const char *id, const char *level, const char *fmt, ...)
    PRINTF_LIKE(4, 5);

static void check(json_t *checks, const char *id, const char *level, const char *fmt, ...)
{
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    json_array_append_new(checks,
                          json_pack("{s:s,s:s,s:s}", "id", id, "level", level, "text", text));
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

/* The host's handle domains: this server's, or describeServer's of the other one. */
static json_t *domains_of(struct mig_ctx *x, struct mig_peer *p, json_t *described)
{
    if (p->self) {
        json_t *a = json_array();
        for (size_t i = 0; i < x->cfg->handle_domains.len; i++) {
            json_array_append_new(a, json_string(x->cfg->handle_domains.items[i]));
        }
        return a;
    }
    json_t *d = json_object_get(described, "availableUserDomains");
    return json_is_array(d) ? json_incref(d) : json_array();
}

static bool under_any(const char *handle, json_t *domains)
{
    size_t i;
    json_t *d;
    json_array_foreach(domains, i, d)
    {
        if (json_is_string(d) && ends_with(handle, json_string_value(d))) {
            return true;
        }
    }
    return false;
}

/* Checks only this server can make as the new host. */
static void local_checks(struct mig_ctx *x, json_t *checks, const struct inventory *inv,
                         const char *email, const char *handle, bool custom, bool *ok)
{
    const struct config *cfg = x->cfg;
    struct account_state s;
    if (account_get_state(x->db, x->job.did, &s) == ERR_OK && s.exists) {
        if (s.active) {
            check(checks, "account", "fail", "This account is already active on this server.");
            *ok = false;
        } else {
            check(checks, "account", "warn",
                  "An unfinished copy from an earlier attempt is here; it will be reused.");
        }
    } else {
        check(checks, "account", "ok", "The account is not on this server yet.");
    }
    if (!cfg->accepting_repo_imports) {
        check(checks, "imports", "fail", "This server does not accept repository imports now.");
        *ok = false;
    }
    if (cfg->max_repo_import_size > 0 && (int64_t)inv->car_bytes > cfg->max_repo_import_size) {
        check(checks, "repoSize", "fail",
              "The repository is %llu bytes; this server takes at most %lld.",
              (unsigned long long)inv->car_bytes, (long long)cfg->max_repo_import_size);
        *ok = false;
    } else {
        check(checks, "repoSize", "ok",
              "The repository (%llu bytes) is within this server's limit.",
              (unsigned long long)inv->car_bytes);
    }
    int64_t total = (int64_t)inv->car_bytes + inv->blob_bytes;
    if (cfg->account_storage_quota > 0 && total > cfg->account_storage_quota) {
        check(checks, "quota", "fail",
              "The repository and its blobs take %lld bytes; each account here may use %lld.",
              (long long)total, (long long)cfg->account_storage_quota);
        *ok = false;
    } else if (cfg->account_storage_quota > 0) {
        check(checks, "quota", "ok", "%lld bytes in all, within the %lld-byte quota.",
              (long long)total, (long long)cfg->account_storage_quota);
    }
    if (inv->largest_blob > cfg->blob_upload_limit) {
        check(checks, "largestBlob", "fail",
              "The largest blob is %lld bytes; this server takes blobs up to %lld.",
              (long long)inv->largest_blob, (long long)cfg->blob_upload_limit);
        *ok = false;
    } else {
        check(checks, "largestBlob", "ok", "The largest blob (%lld bytes) is within the limit.",
              (long long)inv->largest_blob);
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, email);
    db_param_text(&p, x->job.did);
    db_param_text(&p, handle);
    PGresult *r;
    if (db_query(x->db,
                 "SELECT EXISTS (SELECT 1 FROM account WHERE lower(email) = lower($1)"
                 " AND did <> $2), EXISTS (SELECT 1 FROM account WHERE handle = $3 AND did <> $2)",
                 &p, &r) == ERR_OK) {
        if (email && db_col_bool(r, 0, 0)) {
            check(checks, "emailFree", "fail",
                  "Another account on this server already uses the email address %s.", email);
            *ok = false;
        }
        if (custom && db_col_bool(r, 0, 1)) {
            check(checks, "handleFree", "warn",
                  "Another account here holds the handle %s; choose another one.", handle);
        }
        PQclear(r);
    }
}

/* The new host's description: ours, or its describeServer (NULL when unreachable, r set). */
static json_t *describe_new(struct mig_ctx *x, struct mig_result *r)
{
    if (x->fresh.self) {
        return json_pack("{s:s,s:b}", "did", x->cfg->service_did, "inviteCodeRequired",
                         x->cfg->invite_required);
    }
    json_t *d = NULL;
    struct mig_call c;
    mig_call_init(&c, "GET", "com.atproto.server.describeServer");
    c.no_auth = true;
    struct mig_fail f;
    enum err e = mig_peer_call(&x->fresh, &c, &d, NULL, &f);
    if (e || !json_string_value(json_object_get(d, "did"))) {
        json_decref(d);
        if (e == ERR_UPSTREAM) {
            mig_again(r, "%s did not answer; trying again shortly.", x->fresh.url);
        } else {
            mig_fail(r, "NotAPds", "%s does not answer as a PDS (describeServer).", x->fresh.url);
        }
        return NULL;
    }
    return d;
}

static json_t *describe_old(struct mig_ctx *x)
{
    if (x->old.self) {
        return json_object();
    }
    json_t *d = NULL;
    struct mig_call c;
    mig_call_init(&c, "GET", "com.atproto.server.describeServer");
    c.no_auth = true;
    struct mig_fail f;
    if (mig_peer_call(&x->old, &c, &d, NULL, &f)) {
        return json_object();
    }
    return d;
}

static json_t *suggest_handle(const char *handle, bool custom, json_t *domains)
{
    if (custom) {
        return json_string(handle);
    }
    const char *first = json_string_value(json_array_get(domains, 0));
    const char *dot = strchr(handle, '.');
    if (!first || !dot) {
        return json_null();
    }
    char *s = xprintf("%.*s%s", (int)(dot - handle), handle, first);
    json_t *out = json_string(s);
    free(s);
    return out;
}

void mig_step_preflight(struct mig_ctx *x, struct mig_result *r)
{
    json_t *session = NULL, *fresh_desc = NULL, *old_desc = NULL, *old_domains = NULL,
           *new_domains = NULL;
    struct buf car;
    buf_init(&car, 0);
    struct inventory inv;
    inventory_init(&inv);
    struct mig_fail f;
    enum err e = mig_peer_get(&x->old, "com.atproto.server.getSession", NULL, &session, &f);
    if (e) {
        mig_from_call(x, r, e, &f, &x->old, "reading the account");
        goto out;
    }
    const char *did = json_string_value(json_object_get(session, "did"));
    if (!did || strcmp(did, x->job.did) != 0) {
        mig_fail(r, "WrongAccount", "The sign-in at %s is for another account.",
                 mig_host_name(&x->old));
        goto out;
    }
    if (!(fresh_desc = describe_new(x, r))) {
        goto out;
    }
    mig_fetch_repo(x, r, &car, &inv);
    if (r->kind != MIG_OK) {
        goto out;
    }
    r->kind = MIG_AGAIN;
    buf_clear(&car); /* the import reads it again, as it then stands */
    old_desc = describe_old(x);
    old_domains = domains_of(x, &x->old, old_desc);
    new_domains = domains_of(x, &x->fresh, fresh_desc);
    const char *handle = json_string_value(json_object_get(session, "handle"));
    const char *email = json_string_value(json_object_get(session, "email"));
    if (x->job.dir == MIG_OUT && x->job.email) {
        email = x->job.email; /* the address the user gave for the destination */
    }
    bool confirmed = json_is_true(json_object_get(session, "emailConfirmed"));
    bool custom = handle && !under_any(handle, old_domains);
    bool invite = json_is_true(json_object_get(fresh_desc, "inviteCodeRequired"));
    json_t *checks = json_array();
    bool ok = true;
    if (!email) {
        check(checks, "email", "fail",
              "The account has no email address; the new host needs one for the identity "
              "change code.");
        ok = false;
    } else {
        check(checks, "email", confirmed ? "ok" : "warn", "Email %s (%s at %s).", email,
              confirmed ? "confirmed" : "not confirmed", mig_host_name(&x->old));
    }
    check(checks, "repository", "ok",
          "The repository verifies: %llu records, %zu blobs (%lld bytes), signed by the "
          "account's key.",
          (unsigned long long)inv.records, inv.nblobs, (long long)inv.blob_bytes);
    if (x->fresh.self) {
        local_checks(x, checks, &inv, email, handle ? handle : "", custom, &ok);
    } else {
        check(checks, "largestBlob", "ok",
              "The largest blob is %lld bytes; %s does not publish its limit.",
              (long long)inv.largest_blob, x->fresh.url);
    }
    if (invite) {
        check(checks, "invite", "warn", "%s needs an invite code.", mig_host_name(&x->fresh));
    }
    check(checks, "handle", "ok",
          custom ? "The handle %s is your own domain: you can keep it."
                 : "The handle %s belongs to the old host: choose one at the new host.",
          handle ? handle : "(none)");
    json_t *plan = json_pack(
        "{s:b,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:s?,s:b,s:o,s:O,s:b,s:s?,s:b,s:s,s:s,s:s}", "ok", ok,
        "checks", checks, "records", (json_int_t)inv.records, "blocks", (json_int_t)inv.blocks,
        "carBytes", (json_int_t)inv.car_bytes, "blobs", (json_int_t)inv.nblobs, "blobBytes",
        (json_int_t)inv.blob_bytes, "largestBlob", (json_int_t)inv.largest_blob, "rev", inv.rev,
        "handle", handle, "handleIsCustom", custom, "suggestedHandle",
        suggest_handle(handle ? handle : "", custom, new_domains), "domains", new_domains,
        "inviteRequired", invite, "email", email, "emailConfirmed", confirmed, "newHostDid",
        json_string_value(json_object_get(fresh_desc, "did")), "oldHost", x->job.old_url, "newHost",
        x->job.new_url);
    if (mig_store_set_plan(x->db, x->job.id, plan, email, handle)) {
        json_decref(plan);
        mig_again(r, "The database did not answer; trying again shortly.");
        goto out;
    }
    json_decref(x->job.plan);
    x->job.plan = plan;
    r->kind = MIG_OK;
out:
    json_decref(session);
    json_decref(fresh_desc);
    json_decref(old_desc);
    json_decref(old_domains);
    json_decref(new_domains);
    inventory_clear(&inv);
    buf_clear(&car);
}
