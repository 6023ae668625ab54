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
    /* an expired entry that the sweep has not removed yet counts as absent; the function
     * (migrations/0010) commits without waiting for the WAL flush */
    static const struct db_stmt use = {"oauth_replay_use", "SELECT oauth_replay_use($1, $2, $3)"};
    PGresult *r;
    enum err e = db_query_stmt(db, &use, &p, &r);
    if (e == ERR_OK) {
        *fresh = db_col_bool(r, 0, 0);
        PQclear(r);
    }
    return e;
}
