/* relay_standing.c - asking the relays about this host and its accounts, and repairing the
 * accounts a relay dropped or left behind. */
#include "api/sync/relay_standing.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "api/sync/crawlers.h"
#include "config/config.h"
#include "core/bytes.h"
#include "core/cid.h"
#include "db/log.h"
#include "db/outbox.h"
#include "http/hostbudget.h"
#include "repo/events.h"

struct relay {
    char *url; /* base, no trailing "/" */
    int64_t next_host_ms, next_repo_ms;
    int64_t warned_ms;
    bool failing;
    /* the batch of accounts being walked */
    char **dids;
    size_t n_dids, at;
};

struct relay_standing {
    const struct config *cfg;
    struct crawlers *crawlers;
    struct relay *relays;
    size_t n;
    struct db db;
    pthread_t thread;
    pthread_mutex_t lock; /* guards stop, with wake */
    pthread_cond_t wake;
    bool stop;
    bool leader;
    int64_t next_lock_ms;
};

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int64_t real_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- asking a relay ---- */

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    struct buf *b = ud;
    return buf_append(b, p, size * n) == ERR_OK ? size * n : 0;
}

/* GET url; *status the HTTP status (0: no answer), *out the JSON body (NULL if none). */
static void get_json(const char *url, long *status, json_t **out)
{
    *status = 0;
    *out = NULL;
    CURL *h = curl_easy_init();
    if (!h) {
        return;
    }
    struct buf b;
    buf_init(&b, RELAY_RESPONSE_MAX_BYTES);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)RELAY_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)RELAY_TIMEOUT_MS / 2);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "pds (relay standing)");
    if (curl_easy_perform(h) == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
        json_error_t jerr;
        *out = b.len ? json_loadb((const char *)b.ptr, b.len, 0, &jerr) : NULL;
    }
    curl_easy_cleanup(h);
    buf_clear(&b);
}

static char *escaped(const char *s)
{
    char *e = curl_escape(s, 0);
    char *copy = xstrndup(e ? e : "", e ? strlen(e) : 0);
    curl_free(e);
    return copy;
}

/* An integer member, or -1 when absent. */
static int64_t int_or_none(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static void param_opt_i64(struct db_params *p, int64_t v)
{
    if (v >= 0) {
        db_param_i64(p, v);
    } else {
        db_param_text(p, NULL);
    }
}

/* The smallest account limit any relay reported (0: none did): the budget follows it. */
static void publish_relay_limit(struct relay_standing *rs)
{
    PGresult *r;
    if (!db_query(&rs->db, "SELECT coalesce(min(account_limit), 0) FROM relay_host_status", NULL,
                  &r)) {
        hostbudget_set_relay_limit(db_col_i64(r, 0, 0));
        PQclear(r);
    }
}

static void check_host(struct relay_standing *rs, struct relay *rl)
{
    char *host = escaped(rs->cfg->hostname);
    char *url = xprintf("%s/xrpc/com.atproto.sync.getHostStatus?hostname=%s", rl->url, host);
    long status;
    json_t *o;
    get_json(url, &status, &o);
    free(url);
    free(host);
    const char *error = NULL;
    char st_buf[32] = "";
    const char *st = NULL; /* a copy: o is released before the warnings below */
    int64_t count = -1, limit = -1, seq = -1;
    if (status == 200 && json_is_object(o)) {
        const char *s = json_string_value(json_object_get(o, "status"));
        if (s) {
            snprintf(st_buf, sizeof st_buf, "%s", s);
            st = st_buf;
        }
        count = int_or_none(o, "accountCount");
        limit = int_or_none(o, "accountLimit"); /* not in the lexicon; some relays add it */
        seq = int_or_none(o, "seq");
    } else if (status == 404) {
        error = "the relay does not know this host (HostNotFound)";
    } else if (status == 0) {
        error = "no answer";
    } else {
        error = "unexpected answer";
    }
    if (error && !rl->failing) {
        log_warn(NULL, "relay standing: getHostStatus at %s: %s (HTTP %ld)", rl->url, error,
                 status);
    }
    rl->failing = error != NULL;
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, rl->url);
    db_param_text(&p, st);
    param_opt_i64(&p, count);
    param_opt_i64(&p, limit);
    param_opt_i64(&p, seq);
    db_param_text(&p, error);
    if (db_exec(&rs->db,
                "INSERT INTO relay_host_status (relay, status, account_count, account_limit, seq,"
                " checked_at, error) VALUES ($1, $2, $3::bigint, $4::bigint, $5::bigint, now(), $6)"
                " ON CONFLICT (relay) DO UPDATE SET status = EXCLUDED.status,"
                " account_count = EXCLUDED.account_count, account_limit = EXCLUDED.account_limit,"
                " seq = EXCLUDED.seq, checked_at = now(), error = EXCLUDED.error",
                &p, NULL)) {
        json_decref(o);
        return;
    }
    json_decref(o);
    publish_relay_limit(rs);
    /* warn as the relay's own alert does: at 80 % of the limit, again every 6 hours */
    int64_t known = rs->cfg->relay_account_limit_n > 0 ? rs->cfg->relay_account_limit_n : limit;
    PGresult *r;
    if (db_query(
            &rs->db,
            "SELECT count(*) FROM account WHERE takedown_ref IS NULL AND deactivated_at IS NULL",
            NULL, &r)) {
        return;
    }
    int64_t active = db_col_i64(r, 0, 0);
    PQclear(r);
    int64_t lim = known > 0 ? known : 100; /* a new host's limit when none is known */
    bool near = !rs->cfg->relay_trusted && active * 100 >= lim * RELAY_WARN_SHARE;
    bool throttled = st && (strcmp(st, "throttled") == 0 || strcmp(st, "banned") == 0);
    int64_t now = mono_ms();
    if ((near || throttled) && (rl->warned_ms == 0 || now - rl->warned_ms >= RELAY_WARN_EVERY_MS)) {
        rl->warned_ms = now;
        if (throttled) {
            log_warn(NULL, "relay standing: %s reports this host as %s", rl->url, st);
        }
        if (near) {
            log_warn(NULL,
                     "relay standing: %lld active accounts, %lld%% of the account limit %lld%s at"
                     " %s: accounts past it will be throttled there; ask the relay's operators"
                     " to raise it",
                     (long long)active, (long long)(active * 100 / lim), (long long)lim,
                     known > 0 ? "" : " (assumed: the relays' default)", rl->url);
        }
    }
}

/* ---- accounts ---- */

static void batch_clear(struct relay *rl)
{
    for (size_t i = 0; i < rl->n_dids; i++) {
        free(rl->dids[i]);
    }
    free(rl->dids);
    rl->dids = NULL;
    rl->n_dids = rl->at = 0;
}

/* The next accounts to ask about: active ones, checked longest ago (never checked first). */
static void next_batch(struct relay_standing *rs, struct relay *rl)
{
    batch_clear(rl);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, rl->url);
    db_param_i64(&p, RELAY_BATCH);
    PGresult *r;
    if (db_query(&rs->db,
                 "SELECT a.did FROM account a JOIN repo_root rr ON rr.did = a.did"
                 " LEFT JOIN relay_repo_status s ON s.relay = $1 AND s.did = a.did"
                 " WHERE a.takedown_ref IS NULL AND a.deactivated_at IS NULL"
                 " ORDER BY s.checked_at NULLS FIRST, a.did LIMIT $2",
                 &p, &r)) {
        return;
    }
    int n = PQntuples(r);
    rl->dids = xcalloc((size_t)(n ? n : 1), sizeof *rl->dids);
    for (int i = 0; i < n; i++) {
        const char *d = db_col_text(r, i, 0);
        rl->dids[i] = xstrndup(d, strlen(d));
    }
    rl->n_dids = (size_t)n;
    PQclear(r);
}

static bool is_throttle(const char *status)
{
    return status && (strcmp(status, "throttled") == 0 || strcmp(status, "host-throttled") == 0);
}

/* Emits a #sync event of did's current commit (paced into the host's budget). */
static bool emit_sync(struct relay_standing *rs, const char *did)
{
    if (hostbudget_acquire(&rs->db, did, RELAY_REPAIR_WAIT_MS)) {
        return false; /* no room now: the next round tries again */
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query(&rs->db,
                 "SELECT r.rev, r.commit_cid, b.data FROM repo_root r"
                 " JOIN repo_block b ON b.did = r.did AND b.cid = r.commit_cid WHERE r.did = $1",
                 &p, &r)) {
        return false;
    }
    bool ok = false;
    struct cid commit;
    if (PQntuples(r) == 1 && !cid_from_bytes(db_col_bytes(r, 0, 1), &commit)) {
        struct buf ev;
        buf_init(&ev, BUF_MAX_DEFAULT);
        if (!events_sync(did, db_col_text(r, 0, 0), &commit, db_col_bytes(r, 0, 2), real_ms(),
                         &ev)) {
            if (!db_begin(&rs->db)) {
                if (!outbox_insert(&rs->db, did, "sync", buf_bytes(&ev)) && !db_commit(&rs->db)) {
                    ok = true;
                } else {
                    db_rollback(&rs->db);
                }
            }
        }
        buf_clear(&ev);
    }
    PQclear(r);
    return ok;
}

struct repo_view {
    bool found, active, behind;
    const char *status, *rev;
};

static void record(struct relay_standing *rs, const struct relay *rl, const char *did,
                   const struct repo_view *v, const char *our_rev, bool repaired)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, rl->url);
    db_param_text(&p, did);
    db_param_bool(&p, v->found);
    db_param_bool(&p, v->active);
    db_param_text(&p, v->status);
    db_param_text(&p, v->rev);
    db_param_text(&p, our_rev);
    db_param_bool(&p, v->behind);
    db_param_bool(&p, repaired);
    if (db_exec(&rs->db,
                "INSERT INTO relay_repo_status (relay, did, found, active, status, rev, our_rev,"
                " behind, checked_at, repaired_at, repairs)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), CASE WHEN $9 THEN now() END,"
                " CASE WHEN $9 THEN 1 ELSE 0 END)"
                " ON CONFLICT (relay, did) DO UPDATE SET found = EXCLUDED.found,"
                " active = EXCLUDED.active, status = EXCLUDED.status, rev = EXCLUDED.rev,"
                " our_rev = EXCLUDED.our_rev, behind = EXCLUDED.behind, checked_at = now(),"
                " repaired_at = CASE WHEN $9 THEN now() ELSE relay_repo_status.repaired_at END,"
                " repairs = relay_repo_status.repairs + CASE WHEN $9 THEN 1 ELSE 0 END",
                &p, NULL)) {
        log_warn(NULL, "relay standing: could not record %s at %s", did, rl->url);
    }
}

/* Our rev and its age, the relay's last answer about did, and the last repair of did by
 * any relay's check. false when did is no longer an active account with a repository. */
struct ours {
    char rev[32];
    int64_t age_ms;
    bool was_known, was_active;
    char was_status[32];
    int64_t since_repair_ms; /* -1: never repaired */
};

static bool load_ours(struct relay_standing *rs, const struct relay *rl, const char *did,
                      struct ours *o)
{
    memset(o, 0, sizeof *o);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_text(&p, rl->url);
    PGresult *r;
    if (db_query(&rs->db,
                 "SELECT rr.rev, (extract(epoch FROM now() - rr.updated_at) * 1000)::bigint,"
                 " s.active, s.status,"
                 " (SELECT (extract(epoch FROM now() - max(repaired_at)) * 1000)::bigint"
                 "  FROM relay_repo_status WHERE did = $1)"
                 " FROM account a JOIN repo_root rr ON rr.did = a.did"
                 " LEFT JOIN relay_repo_status s ON s.relay = $2 AND s.did = a.did"
                 " WHERE a.did = $1 AND a.takedown_ref IS NULL AND a.deactivated_at IS NULL",
                 &p, &r)) {
        return false;
    }
    bool ok = PQntuples(r) == 1;
    if (ok) {
        snprintf(o->rev, sizeof o->rev, "%s", db_col_text(r, 0, 0));
        o->age_ms = db_col_i64(r, 0, 1);
        o->was_known = !db_col_null(r, 0, 2);
        o->was_active = db_col_bool(r, 0, 2);
        snprintf(o->was_status, sizeof o->was_status, "%s",
                 db_col_null(r, 0, 3) ? "" : db_col_text(r, 0, 3));
        o->since_repair_ms = db_col_null(r, 0, 4) ? -1 : db_col_i64(r, 0, 4);
    }
    PQclear(r);
    return ok;
}

static void check_repo(struct relay_standing *rs, struct relay *rl, const char *did)
{
    struct ours o;
    if (!load_ours(rs, rl, did, &o)) {
        return;
    }
    char *d = escaped(did);
    char *url = xprintf("%s/xrpc/com.atproto.sync.getRepoStatus?did=%s", rl->url, d);
    free(d);
    long status;
    json_t *j;
    get_json(url, &status, &j);
    free(url);
    struct repo_view v = {0};
    if (status == 200 && json_is_object(j)) {
        v.found = true;
        v.active = json_is_true(json_object_get(j, "active"));
        v.status = json_string_value(json_object_get(j, "status"));
        v.rev = json_string_value(json_object_get(j, "rev"));
    } else if (status != 400 && status != 404) {
        json_decref(j);
        return; /* no answer, or not one we understand: ask again next round */
    }
    /* a commit younger than one check interval (at most a minute) may still be on its way */
    int64_t grace = rs->cfg->relay_check_interval_ms < RELAY_GRACE_MAX_MS
                        ? rs->cfg->relay_check_interval_ms
                        : RELAY_GRACE_MAX_MS;
    v.behind = (!v.rev || strcmp(v.rev, o.rev) < 0) && o.age_ms >= grace;
    bool back = o.was_known && !o.was_active && is_throttle(o.was_status) && v.active;
    bool cooled = o.since_repair_ms < 0 || o.since_repair_ms >= RELAY_REPAIR_COOLDOWN_MS;
    /* a throttled or unknown account's events would be dropped again: wait until the relay
     * takes it (found and active) */
    bool repair = v.found && v.active && (v.behind || back) && cooled;
    bool repaired = repair && emit_sync(rs, did);
    if (repaired) {
        log_info(NULL, "relay standing: %s %s at %s (its rev %s, ours %s): sent #sync", did,
                 back ? "is active again" : "is behind", rl->url, v.rev ? v.rev : "none", o.rev);
        crawlers_urge(rs->crawlers);
    }
    record(rs, rl, did, &v, o.rev, repaired);
    json_decref(j);
}

/* ---- the thread ---- */

static bool lead(struct relay_standing *rs)
{
    int64_t now = mono_ms();
    if (now < rs->next_lock_ms) {
        return rs->leader;
    }
    rs->next_lock_ms = now + rs->cfg->relay_check_interval_ms;
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, RELAY_LOCK_KEY);
    PGresult *r;
    /* a session lock: held while this connection lives; asked again every interval in
     * case the connection was replaced (and the lock with it) */
    rs->leader = !db_query(&rs->db, "SELECT pg_try_advisory_lock($1::bigint)", &p, &r) &&
                 db_col_bool(r, 0, 0);
    if (r) {
        PQclear(r);
    }
    return rs->leader;
}

static void *standing_main(void *arg)
{
    struct relay_standing *rs = arg;
    pthread_mutex_lock(&rs->lock);
    while (!rs->stop) {
        pthread_mutex_unlock(&rs->lock);
        int64_t now = mono_ms(), next = now + rs->cfg->relay_check_interval_ms;
        if (lead(rs)) {
            for (size_t i = 0; i < rs->n; i++) {
                struct relay *rl = &rs->relays[i];
                if (now >= rl->next_host_ms) {
                    check_host(rs, rl);
                    rl->next_host_ms = mono_ms() + rs->cfg->relay_check_interval_ms;
                }
                if (now >= rl->next_repo_ms) {
                    if (rl->at >= rl->n_dids) {
                        next_batch(rs, rl);
                    }
                    if (rl->at < rl->n_dids) {
                        check_repo(rs, rl, rl->dids[rl->at++]);
                    }
                    /* an empty host rests a whole interval */
                    rl->next_repo_ms =
                        mono_ms() + (rl->n_dids ? rs->cfg->relay_repo_check_interval_ms
                                                : rs->cfg->relay_check_interval_ms);
                }
                next = rl->next_host_ms < next ? rl->next_host_ms : next;
                next = rl->next_repo_ms < next ? rl->next_repo_ms : next;
            }
        }
        pthread_mutex_lock(&rs->lock);
        int64_t wait = next - mono_ms();
        if (!rs->stop && wait > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (wait % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&rs->wake, &rs->lock, &ts);
        }
    }
    pthread_mutex_unlock(&rs->lock);
    return NULL;
}

static void standing_free(struct relay_standing *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        batch_clear(&rs->relays[i]);
        free(rs->relays[i].url);
    }
    free(rs->relays);
    db_clear(&rs->db);
    pthread_mutex_destroy(&rs->lock);
    pthread_cond_destroy(&rs->wake);
    free(rs);
}

enum err relay_standing_start(const struct config *cfg, const char *db_url,
                              struct crawlers *crawlers, struct relay_standing **out)
{
    *out = NULL;
    if (cfg->crawlers.len == 0) {
        return ERR_OK;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT); /* counted by libcurl: safe to repeat */
    struct relay_standing *rs = xcalloc(1, sizeof *rs);
    rs->cfg = cfg;
    rs->crawlers = crawlers;
    rs->n = cfg->crawlers.len;
    rs->relays = xcalloc(rs->n, sizeof *rs->relays);
    for (size_t i = 0; i < rs->n; i++) {
        const char *u = cfg->crawlers.items[i];
        size_t len = strlen(u);
        while (len > 0 && u[len - 1] == '/') {
            len--;
        }
        rs->relays[i].url = xstrndup(u, len);
    }
    db_init(&rs->db, db_url);
    pthread_mutex_init(&rs->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rs->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&rs->thread, NULL, standing_main, rs) != 0) {
        log_error(NULL, "relay standing: could not start");
        standing_free(rs);
        return ERR_INTERNAL;
    }
    *out = rs;
    return ERR_OK;
}

void relay_standing_stop(struct relay_standing *rs)
{
    if (!rs) {
        return;
    }
    pthread_mutex_lock(&rs->lock);
    rs->stop = true;
    pthread_cond_signal(&rs->wake);
    pthread_mutex_unlock(&rs->lock);
    pthread_join(rs->thread, NULL);
    standing_free(rs);
}

/* ---- status ---- */

static json_t *did_list(struct db *db, const char *relay, const char *where)
{
    json_t *out = json_array();
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, relay);
    char *sql = xprintf("SELECT did FROM relay_repo_status WHERE relay = $1 AND %s"
                        " ORDER BY did LIMIT 20",
                        where);
    PGresult *r;
    if (!db_query(db, sql, &p, &r)) {
        for (int i = 0; i < PQntuples(r); i++) {
            json_array_append_new(out, json_string(db_col_text(r, i, 0)));
        }
        PQclear(r);
    }
    free(sql);
    return out;
}

json_t *relay_standing_status_json(struct db *db, const struct config *cfg)
{
    json_t *out = json_array();
    PGresult *r;
    if (db_query(db,
                 "SELECT h.relay, h.status, h.account_count, h.account_limit, h.seq,"
                 " (extract(epoch FROM h.checked_at))::bigint, h.error,"
                 " count(s.did), count(s.did) FILTER (WHERE s.found AND s.active),"
                 " count(s.did) FILTER (WHERE s.status IN ('throttled', 'host-throttled')),"
                 " count(s.did) FILTER (WHERE s.behind), count(s.did) FILTER (WHERE NOT s.found),"
                 " coalesce(sum(s.repairs), 0)::bigint,"
                 " (SELECT count(*) FROM account WHERE takedown_ref IS NULL"
                 "  AND deactivated_at IS NULL)"
                 " FROM relay_host_status h LEFT JOIN relay_repo_status s ON s.relay = h.relay"
                 " GROUP BY h.relay ORDER BY h.relay",
                 NULL, &r)) {
        return out;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        const char *relay = db_col_text(r, i, 0);
        json_t *o =
            json_pack("{s:s,s:I}", "url", relay, "checkedAt", (json_int_t)db_col_i64(r, i, 5));
        if (!db_col_null(r, i, 1)) {
            json_object_set_new(o, "status", json_string(db_col_text(r, i, 1)));
        }
        static const char *const counts[] = {"accountCount", "accountLimit", "seq"};
        for (int k = 0; k < 3; k++) {
            if (!db_col_null(r, i, 2 + k)) {
                json_object_set_new(o, counts[k], json_integer(db_col_i64(r, i, 2 + k)));
            }
        }
        if (!db_col_null(r, i, 6)) {
            json_object_set_new(o, "error", json_string(db_col_text(r, i, 6)));
        }
        json_object_set_new(
            o, "accounts",
            json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "checked", (json_int_t)db_col_i64(r, i, 7),
                      "active", (json_int_t)db_col_i64(r, i, 8), "throttled",
                      (json_int_t)db_col_i64(r, i, 9), "behind", (json_int_t)db_col_i64(r, i, 10),
                      "notFound", (json_int_t)db_col_i64(r, i, 11), "repairs",
                      (json_int_t)db_col_i64(r, i, 12)));
        json_object_set_new(o, "throttledAccounts",
                            did_list(db, relay, "status IN ('throttled', 'host-throttled')"));
        json_object_set_new(o, "behindAccounts", did_list(db, relay, "behind"));
        int64_t active = db_col_i64(r, i, 13);
        int64_t limit = cfg->relay_account_limit_n > 0 ? cfg->relay_account_limit_n
                        : db_col_null(r, i, 3)         ? 0
                                                       : db_col_i64(r, i, 3);
        int64_t lim = limit > 0 ? limit : 100;
        if (!cfg->relay_trusted && active * 100 >= lim * RELAY_WARN_SHARE) {
            char *w = xprintf("%lld active accounts: %lld%% of the account limit %lld%s; accounts"
                              " past it are throttled by the relay",
                              (long long)active, (long long)(active * 100 / lim), (long long)lim,
                              limit > 0 ? "" : " (assumed: the relays' default for a new host)");
            json_object_set_new(o, "warning", json_string(w));
            free(w);
        }
        const char *st = db_col_null(r, i, 1) ? NULL : db_col_text(r, i, 1);
        if (st && (strcmp(st, "throttled") == 0 || strcmp(st, "banned") == 0)) {
            char *w = xprintf("the relay reports this host as %s", st);
            json_object_set_new(o, "hostWarning", json_string(w));
            free(w);
        }
        json_array_append_new(out, o);
    }
    PQclear(r);
    return out;
}
