/* replay.c - the single-use cache. */
#include "oauth/replay.h"

enum err replay_use(struct db *db, const char *ns, const char *value, int64_t ttl_s, bool *fresh)
{
    *fresh = false;
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, ns);
    db_param_text(&p, value);
    db_param_i64(&p, ttl_s);
    /* an expired entry that the sweep has not removed yet counts as absent */
    int64_t n = 0;
    enum err e = db_exec(db,
                         "INSERT INTO oauth_replay (namespace, value, expires_at)"
                         " VALUES ($1, $2, now() + make_interval(secs => $3::bigint))"
                         " ON CONFLICT (namespace, value) DO UPDATE"
                         " SET expires_at = EXCLUDED.expires_at"
                         " WHERE oauth_replay.expires_at < now()",
                         &p, &n);
    if (e == ERR_OK) {
        *fresh = n == 1;
    }
    return e;
}
