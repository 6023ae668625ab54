/* actor_prefs.c - app.bsky.actor.getPreferences / putPreferences, kept by the PDS (the
 * AppView never sees them), with the reference's rules (actor-store/preference):
 * - putPreferences replaces every preference of the app.bsky namespace; each item needs a
 *   $type in that namespace;
 * - app.bsky.actor.defs#personalDetailsPref is read and written with full access only (an
 *   app-password session neither sees it nor loses it on a put);
 * - app.bsky.actor.defs#declaredAgePref is computed from the birth date on reads, and never
 *   stored.
 * A request whose atproto-proxy header names another service than the configured AppView
 * is forwarded there instead, as the reference does. Unlike the reference we serve these
 * locally also when no AppView is configured (it then does not register them at all). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/bsky/bsky.h"
#include "api/common/auth.h"
#include "api/common/input.h"
#include "api/proxy/proxy.h"
#include "config/config.h"

#define PREF_NAMESPACE       "app.bsky"
#define PREF_PERSONAL        "app.bsky.actor.defs#personalDetailsPref"
#define PREF_DECLARED_AGE    "app.bsky.actor.defs#declaredAgePref"
#define PREF_APPVIEW_SERVICE "bsky_appview"
#define PREFS_MAX            1000 /* items in one putPreferences */

static bool in_namespace(const char *type)
{
    size_t n = strlen(PREF_NAMESPACE);
    return strncmp(type, PREF_NAMESPACE, n) == 0 && (type[n] == '\0' || type[n] == '.');
}

/* prefAllowed: the full-access-only type needs a password session. */
static bool pref_allowed(const char *type, bool full)
{
    return full || strcmp(type, PREF_PERSONAL) != 0;
}

/* Whether the request should go to another AppView than ours (see the file comment). */
static bool proxied_elsewhere(struct xrpc_req *rq)
{
    const char *to = xrpc_header(rq, "atproto-proxy");
    if (!to) {
        return false;
    }
    const char *did = rq->cfg->bsky_app_view_did;
    size_t n = did ? strlen(did) : 0;
    return !(did && strncmp(to, did, n) == 0 && to[n] == '#' &&
             strcmp(to + n + 1, PREF_APPVIEW_SERVICE) == 0);
}

/* Full years between an ISO date (YYYY-MM-DD...) and today, UTC; -1 if unreadable. */
static int age_from(const char *birth)
{
    int y, m, d;
    char *end;
    y = (int)strtol(birth, &end, 10);
    if (*end != '-') {
        return -1;
    }
    m = (int)strtol(end + 1, &end, 10);
    if (*end != '-') {
        return -1;
    }
    d = (int)strtol(end + 1, &end, 10);
    time_t now = time(NULL);
    struct tm t;
    gmtime_r(&now, &t);
    int age = t.tm_year + 1900 - y;
    int dm = t.tm_mon + 1 - m;
    if (dm < 0 || (dm == 0 && t.tm_mday < d)) {
        age--;
    }
    return age;
}

/* app.bsky.actor.getPreferences */
int api_actor_get_preferences(struct xrpc_req *rq)
{
    const struct auth *a;
    int st = auth_access(rq, AUTH_STANDARD | AUTH_OAUTH | AUTH_TAKENDOWN, &a);
    if (st || (st = api_proxy_permit(rq, a, "app.bsky.actor.getPreferences"))) {
        return st;
    }
    if (proxied_elsewhere(rq)) {
        return api_proxy_forward(rq, a->did);
    }
    bool full = a->scope == AUTH_SCOPE_ACCESS;
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, a->did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT name, value_json FROM preference WHERE did = $1 ORDER BY id", &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *prefs = json_array();
    int age = -1;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *name = db_col_text(r, i, 0);
        if (!in_namespace(name)) {
            continue;
        }
        const char *text = db_col_text(r, i, 1);
        json_t *v = json_loads(text, 0, NULL);
        if (!json_is_object(v)) {
            json_decref(v);
            continue;
        }
        const char *birth = json_string_value(json_object_get(v, "birthDate"));
        if (strcmp(name, PREF_PERSONAL) == 0 && birth) {
            age = age_from(birth);
        }
        if (pref_allowed(name, full)) {
            json_array_append_new(prefs, v);
        } else {
            json_decref(v);
        }
    }
    if (age >= 0) { /* derived for every session, also where the birth date is hidden */
        json_array_append_new(prefs, json_pack("{s:s,s:b,s:b,s:b}", "$type", PREF_DECLARED_AGE,
                                               "isOverAge13", age >= 13, "isOverAge16", age >= 16,
                                               "isOverAge18", age >= 18));
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:o}", "preferences", prefs));
}

/* Checks the items; 0 or 400 set. */
static int check_prefs(struct xrpc_req *rq, json_t *list, bool full)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(json_object_get(v, "$type"))) {
            return xrpc_fail(rq, 400, "InvalidRequest", "Preference is missing a $type");
        }
    }
    json_array_foreach(list, i, v)
    {
        if (!in_namespace(json_string_value(json_object_get(v, "$type")))) {
            return xrpc_fail(rq, 400, "InvalidRequest",
                             "Some preferences are not in the " PREF_NAMESPACE " namespace");
        }
    }
    struct buf denied;
    buf_init(&denied, BUF_MAX_DEFAULT);
    json_array_foreach(list, i, v)
    {
        const char *type = json_string_value(json_object_get(v, "$type"));
        if (!pref_allowed(type, full) &&
            buf_appendf(&denied, "%s%s", denied.len ? ", " : "", type)) {
            break;
        }
    }
    int st = 0;
    if (denied.len) {
        st =
            xrpc_fail(rq, 400, "InvalidRequest", "Do not have authorization to set preferences: %s",
                      (const char *)denied.ptr);
    }
    buf_clear(&denied);
    return st;
}

static enum err replace_prefs(struct xrpc_req *rq, const char *did, json_t *list, bool full)
{
    enum err e = db_begin(rq->db);
    if (e) {
        return e;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_bool(&p, full);
    /* the namespace's rows this session may see; a hidden personalDetailsPref survives */
    e = db_exec(rq->db,
                "DELETE FROM preference WHERE did = $1"
                " AND (name = '" PREF_NAMESPACE "' OR name LIKE '" PREF_NAMESPACE ".%')"
                " AND ($2 OR name <> '" PREF_PERSONAL "')",
                &p, NULL);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *type = json_string_value(json_object_get(v, "$type"));
        if (e || strcmp(type, PREF_DECLARED_AGE) == 0) {
            continue; /* read-only: computed, never stored */
        }
        char *text = json_dumps(v, JSON_COMPACT);
        struct db_params q;
        db_params_init(&q);
        db_param_text(&q, did);
        db_param_text(&q, type);
        db_param_text(&q, text);
        e = text ? db_exec(rq->db,
                           "INSERT INTO preference (did, name, value_json) VALUES ($1, $2, $3)", &q,
                           NULL)
                 : ERR_INTERNAL;
        free(text);
    }
    if (e) {
        db_rollback(rq->db);
        return e;
    }
    return db_commit(rq->db);
}

/* app.bsky.actor.putPreferences */
int api_actor_put_preferences(struct xrpc_req *rq)
{
    const struct auth *a;
    int st = auth_access(rq, AUTH_STANDARD | AUTH_OAUTH | AUTH_CHECK_TAKEDOWN, &a);
    if (st || (st = api_proxy_permit(rq, a, "app.bsky.actor.putPreferences"))) {
        return st;
    }
    if (proxied_elsewhere(rq)) {
        return api_proxy_forward(rq, a->did);
    }
    if ((st = input_require_object(rq))) {
        return st;
    }
    json_t *list = json_object_get(rq->json, "preferences");
    if (!list) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input must have the property \"preferences\"");
    }
    if (!json_is_array(list)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/preferences must be an array");
    }
    if (json_array_size(list) > PREFS_MAX) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Too many preferences");
    }
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (!json_is_object(v)) {
            return xrpc_fail(rq, 400, "InvalidRequest", "Input/preferences/%zu must be an object",
                             i);
        }
    }
    bool full = a->scope == AUTH_SCOPE_ACCESS;
    if ((st = check_prefs(rq, list, full))) {
        return st;
    }
    if (replace_prefs(rq, a->did, list, full)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return xrpc_reply_empty(rq, 200);
}
