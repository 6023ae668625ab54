/* lexcache.c - the PostgreSQL cache of resolved Lexicons. */
#include "oauth/lexcache.h"

#include <stdio.h>
#include <string.h>

struct cached {
    bool found;
    bool has_doc;
    int64_t updated_age_ms;
    int64_t success_age_ms; /* -1 when it never succeeded */
};

static enum err load(struct db *db, const char *nsid, struct cached *c, struct lexres_result *out)
{
    memset(c, 0, sizeof *c);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, nsid);
    PGresult *r;
    enum err e =
        db_query(db,
                 "SELECT uri, cid, doc::text,"
                 " (extract(epoch FROM now() - updated_at) * 1000)::int8,"
                 " coalesce((extract(epoch FROM now() - last_succeeded_at) * 1000)::int8, -1)"
                 " FROM lexicon_cache WHERE nsid = $1",
                 &p, &r);
    if (e) {
        return e;
    }
    if (PQntuples(r) == 1) {
        c->found = true;
        c->updated_age_ms = db_col_i64(r, 0, 3);
        c->success_age_ms = db_col_i64(r, 0, 4);
        const char *doc = db_col_text(r, 0, 2);
        if (doc && !db_col_null(r, 0, 0) && !db_col_null(r, 0, 1)) {
            out->doc = json_loads(doc, 0, NULL);
            c->has_doc = out->doc != NULL;
            snprintf(out->uri, sizeof out->uri, "%s", db_col_text(r, 0, 0));
            snprintf(out->cid, sizeof out->cid, "%s", db_col_text(r, 0, 1));
        }
    }
    PQclear(r);
    return ERR_OK;
}

static enum err store_success(struct db *db, const char *nsid, const struct lexres_result *res)
{
    char *doc = json_dumps(res->doc, JSON_COMPACT);
    if (!doc) {
        return ERR_INTERNAL;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, nsid);
    db_param_text(&p, res->uri);
    db_param_text(&p, res->cid);
    db_param_text(&p, doc);
    enum err e = db_exec(db,
                         "INSERT INTO lexicon_cache (nsid, uri, cid, doc, last_succeeded_at)"
                         " VALUES ($1, $2, $3, $4::jsonb, now())"
                         " ON CONFLICT (nsid) DO UPDATE SET uri = $2, cid = $3, doc = $4::jsonb,"
                         " updated_at = now(), last_succeeded_at = now()",
                         &p, NULL);
    free(doc);
    return e;
}

/* A failed resolution: remember when, keep whatever good document there was. */
static enum err store_failure(struct db *db, const char *nsid)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, nsid);
    return db_exec(db,
                   "INSERT INTO lexicon_cache (nsid) VALUES ($1)"
                   " ON CONFLICT (nsid) DO UPDATE SET updated_at = now()",
                   &p, NULL);
}

enum err lexcache_get(struct db *db, const struct lexres_config *c, const char *nsid,
                      bool force_refresh, struct lexres_result *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof *out);
    struct cached st;
    enum err e = load(db, nsid, &st, out);
    if (e) {
        return e;
    }
    bool usable = st.has_doc && st.success_age_ms >= 0 && st.success_age_ms < LEXCACHE_MAX_AGE_MS;
    int64_t fresh_ms = c->cache_fresh_ms > 0 ? c->cache_fresh_ms : LEXCACHE_FRESH_MS;
    if (st.found && !force_refresh && st.updated_age_ms < fresh_ms) {
        if (usable) {
            return ERR_OK;
        }
        json_decref(out->doc);
        memset(out, 0, sizeof *out);
        if (why) {
            snprintf(why, why_len, "the Lexicon could not be resolved a moment ago");
        }
        return ERR_NOT_FOUND;
    }
    struct lexres_result fresh;
    e = lexres_resolve(c, nsid, &fresh, why, why_len);
    if (e == ERR_OK) {
        json_decref(out->doc);
        *out = fresh;
        return store_success(db, nsid, out);
    }
    if (store_failure(db, nsid) != ERR_OK) {
        json_decref(out->doc);
        memset(out, 0, sizeof *out);
        return ERR_DB;
    }
    if (usable) {
        return ERR_OK; /* reference LexiconGetter: a failed refresh serves the cached data */
    }
    json_decref(out->doc);
    memset(out, 0, sizeof *out);
    return e;
}
