/* session.c - signing in to the console, its sessions, and signing out.
 *
 * The admin password is the only credential (as for the admin XRPC API); the name typed
 * beside it is who the audit log says acted. Sign-in is limited per client address by the
 * failures the audit log already records, so the limit holds across processes. */
#include "api/console/console.h"

#include <sodium.h>
#include <stdio.h>

#include "api/common/app.h"
#include "api/common/auth.h"
#include "config/config.h"
#include "core/base.h"
#include "core/sha256.h"
#include "crypto/ready.h"
#include "http/form.h"
#include "web/cookie.h"
#include "web/csrf.h"
#include "web/page.h"

#define SIGNIN_PATH     "/admin/sign-in"
#define FORM_FIELDS_MAX 16

static void token_hash(const char *token, uint8_t out[SHA256_BYTES])
{
    sha256(token, strlen(token), out);
}

int console_session_require(struct xrpc_req *rq, bool page, bool mutating,
                            struct console_session *out)
{
    const struct config *cfg = rq->cfg;
    const char *token = web_cookie(rq, CONSOLE_COOKIE);
    PGresult *r = NULL;
    if (token && strlen(token) < 128) {
        uint8_t h[SHA256_BYTES];
        token_hash(token, h);
        struct db_params p;
        db_params_init(&p);
        db_param_bytes(&p, bytes_of(h, sizeof h));
        db_param_i64(&p, cfg->admin_session_idle_ms);
        db_param_i64(&p, cfg->admin_session_max_ms);
        /* one statement: find a live session and mark it used, so idleness is measured
         * from the last request whatever process served it */
        if (db_query_in(rq->db, rq->arena,
                        "UPDATE admin_session SET last_seen_at = now()"
                        " WHERE token_hash = $1 AND ended_at IS NULL"
                        " AND last_seen_at > now() - $2::bigint * interval '1 millisecond'"
                        " AND created_at > now() - $3::bigint * interval '1 millisecond'"
                        " RETURNING actor",
                        &p, &r)) {
            return xrpc_fail(rq, 500, NULL, NULL);
        }
    }
    web_page_headers(rq);
    if (!r || PQntuples(r) == 0) {
        if (page) {
            xrpc_set_header(rq, "Location", SIGNIN_PATH);
            return xrpc_reply_static(rq, 303, "text/plain; charset=utf-8",
                                     "Sign in first: " SIGNIN_PATH "\n");
        }
        return xrpc_fail(rq, 401, "AuthenticationRequired",
                         "Your console session has ended: sign in again");
    }
    if (mutating) {
        int st = web_csrf_require(rq, NULL);
        if (st) {
            return st;
        }
    }
    out->actor = arena_strndup(rq->arena, db_col_text(r, 0, 0), strlen(db_col_text(r, 0, 0)));
    auth_console_admin(rq);
    return 0;
}

static int render_signin(struct xrpc_req *rq, int status, const char *message)
{
    const struct web_var vars[] = {{"title", "Sign in"}, {"message", message}};
    return web_reply_page(rq, status, "admin/sign-in.html", vars, ARRAY_LEN(vars));
}

/* Failed sign-ins from this address in the window. */
static int recent_failures(struct xrpc_req *rq, int64_t *n)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, rq->client_ip);
    db_param_i64(&p, CONSOLE_SIGNIN_WINDOW_S);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT count(*) FROM admin_audit WHERE action = 'signin_failed'"
                    " AND client_ip = $1 AND at > now() - $2::bigint * interval '1 second'",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    *n = db_col_i64(r, 0, 0);
    return 0;
}

/* Whether password is the admin password (hashed both sides: constant time, any length). */
static bool password_ok(const char *password)
{
    const char *want = app_get()->cfg->admin_password;
    if (!want || !password) {
        return false;
    }
    uint8_t a[32], b[32];
    crypto_generichash(a, sizeof a, (const uint8_t *)password, strlen(password), NULL, 0);
    crypto_generichash(b, sizeof b, (const uint8_t *)want, strlen(want), NULL, 0);
    return sodium_memcmp(a, b, sizeof a) == 0;
}

/* The name for the audit log: printable, trimmed, at most CONSOLE_ACTOR_MAX characters. */
static const char *actor_name(struct xrpc_req *rq, const char *name)
{
    if (!name) {
        return "admin";
    }
    while (*name == ' ') {
        name++;
    }
    size_t n = strnlen(name, CONSOLE_ACTOR_MAX);
    while (n && name[n - 1] == ' ') {
        n--;
    }
    char *out = arena_strndup(rq->arena, name, n);
    for (char *p = out; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            *p = ' ';
        }
    }
    return *out ? out : "admin";
}

/* GET /admin/sign-in: the form; POST: signing in (name, password, csrf_token) */
int console_signin(struct xrpc_req *rq)
{
    if (rq->method_bit == HTTP_GET) {
        return render_signin(rq, 200, "");
    }
    web_page_headers(rq);
    struct xrpc_param *fields;
    size_t n;
    if (form_parse(rq->arena, rq->body, FORM_FIELDS_MAX, &fields, &n)) {
        return render_signin(rq, 400, "The form could not be read: reload the page.");
    }
    if (!web_csrf_valid(rq, form_get(fields, n, WEB_CSRF_FIELD))) {
        return render_signin(rq, 403,
                             "This form has expired or came from another site: "
                             "reload the page and sign in again.");
    }
    const char *actor = actor_name(rq, form_get(fields, n, "name"));
    int64_t failures = 0;
    int st = recent_failures(rq, &failures);
    if (st) {
        return st;
    }
    if (failures >= rq->cfg->admin_signin_failures_max) {
        console_audit(rq, actor, "signin_refused", NULL, "RateLimitExceeded", NULL);
        return render_signin(rq, 429,
                             "Too many failed sign-ins from this address: wait 15 "
                             "minutes, then try again.");
    }
    if (!password_ok(form_get(fields, n, "password"))) {
        console_audit(rq, actor, "signin_failed", NULL, "InvalidPassword", NULL);
        return render_signin(rq, 401, "That is not the admin password (PDS_ADMIN_PASSWORD).");
    }
    ready_sodium();
    uint8_t rnd[CONSOLE_TOKEN_BYTES];
    randombytes_buf(rnd, sizeof rnd);
    struct buf tok;
    buf_init(&tok, 128);
    if (base64url_encode(bytes_of(rnd, sizeof rnd), &tok)) {
        buf_clear(&tok);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    sodium_memzero(rnd, sizeof rnd);
    uint8_t h[SHA256_BYTES];
    token_hash((const char *)tok.ptr, h);
    struct db_params p;
    db_params_init(&p);
    db_param_bytes(&p, bytes_of(h, sizeof h));
    db_param_text(&p, actor);
    db_param_text(&p, rq->client_ip);
    const char *ua = xrpc_header(rq, "user-agent");
    db_param_text(&p, ua ? arena_strndup(rq->arena, ua, strnlen(ua, 256)) : NULL);
    if (db_exec(rq->db,
                "INSERT INTO admin_session (token_hash, actor, client_ip, user_agent)"
                " VALUES ($1, $2, $3, $4)",
                &p, NULL)) {
        buf_clear(&tok);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    web_set_cookie(rq, CONSOLE_COOKIE, (const char *)tok.ptr, "/admin", WEB_SAME_SITE_STRICT,
                   rq->cfg->admin_session_max_ms / 1000);
    sodium_memzero(tok.ptr, tok.len);
    buf_clear(&tok);
    console_audit(rq, actor, "signin", NULL, "ok", NULL);
    xrpc_set_header(rq, "Location", "/admin");
    return xrpc_reply_static(rq, 303, "text/plain; charset=utf-8", "Signed in: /admin\n");
}

/* POST /admin/api/sign-out */
int console_signout(struct xrpc_req *rq)
{
    struct console_session s;
    int st = console_session_require(rq, false, true, &s);
    if (st) {
        return st;
    }
    uint8_t h[SHA256_BYTES];
    token_hash(web_cookie(rq, CONSOLE_COOKIE), h);
    struct db_params p;
    db_params_init(&p);
    db_param_bytes(&p, bytes_of(h, sizeof h));
    if (db_exec(rq->db, "UPDATE admin_session SET ended_at = now() WHERE token_hash = $1", &p,
                NULL)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    web_set_cookie(rq, CONSOLE_COOKIE, "", "/admin", WEB_SAME_SITE_STRICT, -1);
    console_audit(rq, s.actor, "signout", NULL, "ok", NULL);
    return xrpc_reply_json(rq, 200, json_pack("{s:b}", "signedOut", 1));
}
