/* console.h - the operator's web console at /admin (pages in admin-ui/admin/, JSON
 * endpoints under /admin/api/ that the pages' scripts call) and the machine endpoints an
 * operator's tools read: /metrics (Prometheus), /xrpc/_ready (readiness) and
 * /xrpc/_checks (the server's half of `pdsadmin doctor`).
 *
 * Console requests carry a session: the cookie "pds-admin" (HttpOnly, SameSite=Strict,
 * Path=/admin) holds a random token whose SHA-256 is an admin_session row; a session ends
 * at sign-out, after PDS_ADMIN_SESSION_IDLE_TIMEOUT unused, or PDS_ADMIN_SESSION_MAX_AGE
 * after sign-in. Every state change also needs the page's CSRF token (web/csrf.h), and is
 * written to the audit log (admin_audit) with who, from where, what and the outcome.
 * Account operations are those of api/account and the admin XRPC handlers, called on the
 * signed-in request (auth_console_admin), not copies of them.
 * Handlers run on HTTP worker threads with their request's state only; thread-safe. */
#ifndef PDS_API_CONSOLE_CONSOLE_H
#define PDS_API_CONSOLE_CONSOLE_H

#include <stdbool.h>

#include "http/router.h"

#define CONSOLE_COOKIE           "pds-admin"
#define CONSOLE_TOKEN_BYTES      32 /* random bytes of a session token */
#define CONSOLE_ACTOR_MAX        64 /* characters of the name given at sign-in */
#define CONSOLE_SIGNIN_WINDOW_S  (15 * 60)
#define CONSOLE_RELAY_TIMEOUT_MS 5000 /* one getHostStatus or requestCrawl call */

extern const struct route_table api_console_routes;

/* The signed-in operator of a console request. */
struct console_session {
    const char *actor; /* in rq->arena */
};

/* session.c: the session of rq, or the refusal already set. A page without a session is
 * redirected (303) to /admin/sign-in; an API call answers 401 AuthenticationRequired. With
 * mutating, the CSRF token must be valid too (403 InvalidCsrfToken). On success rq is
 * marked as the administrator's (auth_console_admin) and 0 is returned. */
int console_session_require(struct xrpc_req *rq, bool page, bool mutating,
                            struct console_session *out);

/* audit.c: records action on subject (may be NULL) by the session's actor (NULL: the
 * request's sign-in attempt, actor given) with outcome ("ok" or an error name) and detail
 * (a JSON object or NULL; stolen). Failures are logged, never fatal to the action. */
void console_audit(struct xrpc_req *rq, const char *actor, const char *action, const char *subject,
                   const char *outcome, json_t *detail);

/* reports.c: records a report forwarded by the proxy (createReport): reporter, the
 * report's JSON body (reasonType, subject, reason), the service it went to and the HTTP
 * status it answered. Logged on failure; never fails the forward. */
void console_report_forwarded(struct xrpc_req *rq, const char *reporter, struct bytes body,
                              const char *service_did, long status);

/* id_page.c: a list newest first, a page at a time (GET ...?before=<id>), for a signed-in
 * session: sql takes $1 = the id to read below and $2 = page, and returns per row a JSON
 * object (text) and its id. 0 with *out = {key: [objects], before: the last id, only when
 * the page is full}, owned by the caller; or the error set (no session, a bad cursor, 500). */
int console_id_page(struct xrpc_req *rq, const char *sql, int page, const char *key, json_t **out);

/* Handlers (one file each: pages.c, session.c, dashboard.c, accounts.c, invites.c,
 * relays.c, settings.c, reports.c, audit.c, ops.c). */
int console_page(struct xrpc_req *rq);
int console_signin(struct xrpc_req *rq);
int console_signout(struct xrpc_req *rq);
int console_api_dashboard(struct xrpc_req *rq);
int console_chart_signups(struct xrpc_req *rq);
int console_chart_writes(struct xrpc_req *rq);
int console_api_accounts(struct xrpc_req *rq);
int console_api_account(struct xrpc_req *rq);
int console_api_account_action(struct xrpc_req *rq);
int console_api_invites(struct xrpc_req *rq);
int console_api_invite_create(struct xrpc_req *rq);
int console_api_invite_disable(struct xrpc_req *rq);
int console_api_relays(struct xrpc_req *rq);
int console_api_relay_crawl(struct xrpc_req *rq);
int console_api_config(struct xrpc_req *rq);
int console_api_reports(struct xrpc_req *rq);
int console_api_audit(struct xrpc_req *rq);
int console_metrics(struct xrpc_req *rq);
int console_ready(struct xrpc_req *rq);
int console_checks(struct xrpc_req *rq);

#endif
