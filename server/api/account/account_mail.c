/* account_mail.c - the mails this server sends (token mails in plain text and HTML) and the
 * one call that sends any mail through the configured SMTP server (account_ops.h). */
#include "api/account/account_ops.h"
#include "api/account/totp.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "core/syntax.h"
#include "mail/mail.h"

#define MAIL_BODY_MAX_BYTES (16u << 10) /* one of our token mails, with room to spare */

enum err account_send_email(const struct config *cfg, const char *to, const char *subject,
                            const char *text, const char *html)
{
    if (!cfg->email_smtp_url || !cfg->email_from_address) {
        return ERR_UNSUPPORTED;
    }
    struct mail_server srv = {cfg->email_smtp_url, MAIL_TIMEOUT_MS_DEFAULT};
    struct mail_message m = {cfg->email_from_address, to, subject, text, html};
    char why[MAIL_WHY_MAX];
    enum err e = mail_send(&srv, &m, why);
    if (e) {
        log_warn(NULL, "could not send mail: %s", why);
    }
    return e;
}

/* What each mail says: subject, the sentence before the code, and the one after it. */
struct mail_words {
    const char *subject;
    const char *intro;
    const char *outro;
};

static const struct mail_words mail_words[] = {
    [ACCOUNT_MAIL_CONFIRM_EMAIL] = {"Confirm your email address",
                                    "To confirm this email address for your account, enter "
                                    "this code in your app:",
                                    "If you did not ask for this, you can ignore this mail."},
    [ACCOUNT_MAIL_UPDATE_EMAIL] = {"Update your email address",
                                   "Someone asked to change the email address of your account. "
                                   "To allow it, enter this code in your app:",
                                   "If this was not you, change your password: someone may "
                                   "know it."},
    [ACCOUNT_MAIL_RESET_PASSWORD] = {"Reset your password",
                                     "To choose a new password, enter this code in your app:",
                                     "If you did not ask to reset your password, you can "
                                     "ignore this mail: your password has not changed."},
    [ACCOUNT_MAIL_DELETE_ACCOUNT] = {"Account deletion request",
                                     "Someone asked to delete your account. To delete it for "
                                     "good, enter this code with your password:",
                                     "If this was not you, do not share this code, and change "
                                     "your password."},
    [ACCOUNT_MAIL_PLC_OPERATION] = {"Confirm a change of your identity",
                                    "Someone asked to sign a change to your account's identity "
                                    "(the DID document that says where your account lives and "
                                    "which keys control it). To allow it, use this code:",
                                    "If this was not you, do not share this code: it lets its "
                                    "holder move your account elsewhere."},
    [ACCOUNT_MAIL_SIGN_IN] = {"Your sign-in code", "Enter this code to finish signing in:",
                              "If you did not try to sign in, change your password: someone "
                              "may know it."},
};

/* Appends s to b with HTML's special characters escaped. */
static enum err put_html(struct buf *b, const char *s)
{
    enum err e = ERR_OK;
    for (; !e && *s; s++) {
        switch (*s) {
        case '&':
            e = buf_appendf(b, "&amp;");
            break;
        case '<':
            e = buf_appendf(b, "&lt;");
            break;
        case '>':
            e = buf_appendf(b, "&gt;");
            break;
        case '"':
            e = buf_appendf(b, "&quot;");
            break;
        default:
            e = buf_append(b, s, 1);
            break;
        }
    }
    return e;
}

static enum err compose(const struct config *cfg, const struct mail_words *w, const char *token,
                        const char *handle, struct buf *text, struct buf *html)
{
    const char *host = cfg->hostname;
    enum err e = buf_appendf(text, "Hello%s%s,\n\n%s\n\n    %s\n\n", handle ? " @" : "",
                             handle ? handle : "", w->intro, token);
    if (!e) {
        e = buf_appendf(text, "The code expires in %d minutes and works once.\n\n%s\n\n-- %s\n",
                        ACCOUNT_TOKEN_TTL_S / 60, w->outro, host);
    }
    if (!e) {
        e = buf_appendf(html, "<!doctype html><html><body style=\"font-family:sans-serif\">"
                              "<p>Hello");
    }
    if (!e && handle) {
        e = buf_appendf(html, " @");
        if (!e) {
            e = put_html(html, handle);
        }
    }
    if (!e) {
        e = buf_appendf(html, ",</p><p>");
    }
    if (!e) {
        e = put_html(html, w->intro);
    }
    if (!e) {
        e = buf_appendf(html, "</p><p style=\"font-size:24px;font-family:monospace;"
                              "letter-spacing:2px\"><strong>");
    }
    if (!e) {
        e = put_html(html, token);
    }
    if (!e) {
        e = buf_appendf(html,
                        "</strong></p><p>The code expires in %d minutes and works once.</p>"
                        "<p>",
                        ACCOUNT_TOKEN_TTL_S / 60);
    }
    if (!e) {
        e = put_html(html, w->outro);
    }
    if (!e) {
        e = buf_appendf(html, "</p><p style=\"color:#666\">&mdash; ");
    }
    if (!e) {
        e = put_html(html, host);
    }
    if (!e) {
        e = buf_appendf(html, "</p></body></html>\n");
    }
    return e;
}

int account_mail_token(struct xrpc_req *rq, enum account_mail kind, const char *to,
                       const char *token, const char *handle)
{
    if ((size_t)kind >= ARRAY_LEN(mail_words)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    struct buf text, html;
    buf_init(&text, MAIL_BODY_MAX_BYTES);
    buf_init(&html, MAIL_BODY_MAX_BYTES);
    enum err e = compose(rq->cfg, &mail_words[kind], token, handle, &text, &html);
    if (!e) {
        rq->log.action = "sending mail";
        e = account_send_email(rq->cfg, to, mail_words[kind].subject, (const char *)text.ptr,
                               (const char *)html.ptr);
        rq->log.action = NULL;
    }
    buf_clear(&text);
    buf_clear(&html);
    if (e == ERR_UNSUPPORTED) {
        log_error(&rq->log, "cannot send mail: PDS_EMAIL_SMTP_URL and PDS_EMAIL_FROM_ADDRESS"
                            " are not set");
    } else if (e) {
        log_error(&rq->log, "could not send a mail: %s", err_str(e));
    }
    return e ? xrpc_fail(rq, 500, NULL, NULL) : 0;
}

/* ---- the account's email fields, new tokens, sign-in codes ---------------------------- */

#define EMAIL_MAX_BYTES 254 /* RFC 5321 path limit */

bool account_email_valid(const char *e)
{
    size_t n = strlen(e);
    const char *at = strrchr(e, '@');
    if (n > EMAIL_MAX_BYTES || !at || at == e || strchr(e, '@') != at) {
        return false;
    }
    for (const char *p = e; *p; p++) {
        if (*p <= ' ' || *p >= 0x7f || strchr("()<>[]\\,;:\"", *p)) {
            return false;
        }
    }
    return syntax_handle_valid(bytes_str(at + 1)); /* hostname rules: labels, a TLD */
}

/* The account's email fields. 400 "account not found" when there is none. */
int account_email_load(struct xrpc_req *rq, const char *did, struct account_email *out)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT email, handle, email_confirmed_at IS NOT NULL, email_auth_factor"
                    " FROM account WHERE did = $1",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "account not found");
    }
    out->email = db_col_text(r, 0, 0);
    out->handle = db_col_text(r, 0, 1);
    out->confirmed = db_col_bool(r, 0, 2);
    out->auth_factor = db_col_bool(r, 0, 3);
    return 0;
}

int account_mail_new_token(struct xrpc_req *rq, const char *did, const char *purpose,
                           enum account_mail kind, const char *to, const char *handle)
{
    char token[ACCOUNT_TOKEN_BUF];
    if (account_token_create(rq->db, did, purpose, token)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return account_mail_token(rq, kind, to, token, handle);
}

/* ---- sign-in codes --------------------------------------------------------------------- */

int account_sign_in_factor_kind(struct xrpc_req *rq, const char *did, enum account_factor *out)
{
    *out = ACCOUNT_FACTOR_NONE;
    bool totp;
    if (account_totp_enabled(rq->db, did, &totp)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (totp) {
        *out = ACCOUNT_FACTOR_TOTP;
        return 0;
    }
    struct account_email acct;
    int st = account_email_load(rq, did, &acct);
    if (!st && acct.auth_factor && acct.email) {
        *out = ACCOUNT_FACTOR_EMAIL;
    }
    return st;
}

int account_sign_in_factor(struct xrpc_req *rq, const char *did, const char *token)
{
    enum account_factor kind;
    int st = account_sign_in_factor_kind(rq, did, &kind);
    if (st || kind == ACCOUNT_FACTOR_NONE) {
        return st;
    }
    if (kind == ACCOUNT_FACTOR_TOTP) {
        if (!token || !*token) {
            return xrpc_fail(rq, 401, "AuthFactorTokenRequired",
                             "A code from your authenticator app is required");
        }
        bool ok;
        if (account_totp_check(rq->db, did, token, &ok)) {
            return xrpc_fail(rq, 500, NULL, NULL);
        }
        return ok ? 0 : xrpc_fail(rq, 400, "InvalidToken", "Token is invalid");
    }
    struct account_email acct;
    if ((st = account_email_load(rq, did, &acct))) {
        return st;
    }
    if (!token || !*token) {
        if ((st = account_mail_new_token(rq, did, ACCOUNT_TOKEN_2FA, ACCOUNT_MAIL_SIGN_IN,
                                         acct.email, acct.handle))) {
            return st;
        }
        return xrpc_fail(rq, 401, "AuthFactorTokenRequired",
                         "A sign in code has been sent to your email address");
    }
    enum account_token_result tr;
    if (account_token_check(rq->db, rq->arena, did, ACCOUNT_TOKEN_2FA, token, true, &tr, NULL)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return tr == ACCOUNT_TOKEN_OK ? 0 : account_token_fail(rq, tr);
}
