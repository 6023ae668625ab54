/* audit.c - the audit log: one admin_audit row per console action and sign-in attempt. */
#include "api/console/console.h"

#include <stdlib.h>
#include <string.h>

#include "db/log.h"

#define AUDIT_TEXT_MAX 512 /* bytes of a subject kept */

void console_audit(struct xrpc_req *rq, const char *actor, const char *action, const char *subject,
                   const char *outcome, json_t *detail)
{
    char *d = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, actor ? actor : "admin");
    db_param_text(&p, rq->client_ip);
    db_param_text(&p, action);
    db_param_text(&p, subject ? arena_strndup(rq->arena, subject, strnlen(subject, AUDIT_TEXT_MAX))
                              : NULL);
    db_param_text(&p, outcome);
    db_param_text(&p, d);
    if (db_exec(rq->db,
                "INSERT INTO admin_audit (actor, client_ip, action, subject, outcome, detail)"
                " VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
                &p, NULL)) {
        log_error(&rq->log, "audit: could not record %s on %s", action, subject ? subject : "-");
    }
    log_info(&rq->log, "console: %s %s%s%s: %s", actor ? actor : "admin", action,
             subject ? " " : "", subject ? subject : "", outcome);
    free(d);
}
