/* login.c - the account a sign-in identifier names. */
#include "api/account/login.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/syntax.h"

int account_login_lookup(struct xrpc_req *rq, const char *identifier, bool *found,
                         struct account_login *out)
{
    *found = false;
    size_t n = strlen(identifier);
    char *id = arena_strndup(rq->arena, identifier, n);
    for (size_t i = 0; i < n; i++) {
        id[i] = (char)tolower((unsigned char)id[i]);
    }
    const char *where;
    if (strchr(id, '@')) {
        where = "lower(email) = $1";
    } else if (strncmp(id, "did:", 4) == 0) {
        if (!syntax_did_valid(bytes_str(id))) {
            return 0;
        }
        where = "did = $1";
    } else {
        if (!syntax_handle_valid(bytes_str(id))) {
            return 0;
        }
        where = "handle = $1";
    }
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT did, password_hash, takedown_ref IS NOT NULL, deactivated_at IS NOT NULL"
             " FROM account WHERE %s",
             where);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, id);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, sql, &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 1) {
        *found = true;
        out->did = db_col_text(r, 0, 0);
        out->password_hash = db_col_text(r, 0, 1);
        out->takendown = db_col_bool(r, 0, 2);
        out->deactivated = db_col_bool(r, 0, 3);
    }
    return 0;
}
