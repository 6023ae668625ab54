/* account.c - com.atproto.admin.{updateAccountHandle,updateAccountEmail,
 * updateAccountPassword,deleteAccount,sendEmail}: an administrator acting on one account.
 * The state changes themselves are account_ops.h's, shared with the user endpoints. */
#include <sodium.h>

#include "api/account/account_ops.h"
#include "api/admin/admin_common.h"
#include "api/admin/admin.h"
#include "api/common/auth.h"
#include "api/common/input.h"
#include "api/common/repo_common.h"
#include "api/server/server_common.h"
#include "core/syntax.h"
#include "config/config.h"

#define EMAIL_MAX_BYTES      254                    /* RFC 5321 path limit */
#define MAIL_CONTENT_MAX     (64 << 10)             /* bytes of an admin message */
#define MAIL_SUBJECT_MAX     998                    /* RFC 5322 line limit */
#define MAIL_SUBJECT_DEFAULT "Message via your PDS" /* the reference's */
#define EMAIL_IN_USE         "This email address is already in use, please use a different email."

/* com.atproto.admin.updateAccountHandle: any valid handle (reserved names allowed), with the
 * PLC update and #identity of a user's own change. */
int api_admin_update_account_handle(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *did, *handle, *now;
    int st;
    if ((st = auth_admin(rq, &a)) || (st = input_str(rq, "did", true, &did)) ||
        (st = input_str(rq, "handle", true, &handle))) {
        return st;
    }
    if (!syntax_did_valid(bytes_str(did))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid did: %s", did);
    }
    if ((st = account_update_handle(rq, did, handle, true, &now))) {
        return st;
    }
    log_info(&rq->log, "handle of %s set to %s by the admin", did, now);
    return xrpc_reply_empty(rq, 200);
}

/* com.atproto.admin.updateAccountEmail: sets the address (lower-cased) as unconfirmed and
 * drops the account's outstanding emailed tokens, as the reference. */
int api_admin_update_account_email(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *ident, *email;
    int st;
    if ((st = auth_admin(rq, &a)) || (st = input_str(rq, "account", true, &ident)) ||
        (st = input_str(rq, "email", true, &email))) {
        return st;
    }
    if (!*email || strlen(email) > EMAIL_MAX_BYTES || !strchr(email, '@')) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid email: %s", email);
    }
    bool found;
    struct api_account acct;
    if ((st = api_account_find(rq, ident, &found, &acct))) {
        return st;
    }
    if (!found) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Account does not exist: %s", ident);
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, acct.did);
    db_param_text(&p, email);
    enum err e = db_begin(rq->db);
    if (!e) {
        e = db_exec(rq->db,
                    "UPDATE account SET email = lower($2), email_confirmed_at = NULL"
                    " WHERE did = $1",
                    &p, NULL);
    }
    if (!e) {
        p.n = 1; /* just the DID */
        e = db_exec(rq->db, "DELETE FROM email_token WHERE did = $1", &p, NULL);
    }
    if (!e) {
        e = db_commit(rq->db);
    }
    if (e) {
        db_rollback(rq->db);
        if (e == ERR_CONFLICT) {
            return xrpc_fail(rq, 400, "InvalidRequest", EMAIL_IN_USE);
        }
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    log_info(&rq->log, "email of %s changed by the admin", acct.did);
    return xrpc_reply_empty(rq, 200);
}

/* com.atproto.admin.updateAccountPassword: new password hash; every refresh token and any
 * password-reset token of the account is revoked (access tokens already issued live out
 * their two hours, as in the reference). */
int api_admin_update_account_password(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *did, *password;
    int st;
    if ((st = auth_admin(rq, &a)) || (st = input_str(rq, "did", true, &did)) ||
        (st = input_str(rq, "password", true, &password))) {
        return st;
    }
    if (!*password || account_password_chars(password) > ACCOUNT_NEW_PASSWORD_MAX_CHARS) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid password length.");
    }
    bool found;
    if ((st = admin_account_exists(rq, did, &found))) {
        return st;
    }
    if (!found) {
        return xrpc_fail(rq, 400, "NotFound", "Account not found");
    }
    char hash[PASSWORD_HASH_MAX];
    if (account_password_hash(password, hash)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_text(&p, hash);
    struct db_params q;
    db_params_init(&q);
    db_param_text(&q, did);
    db_param_text(&q, ACCOUNT_TOKEN_RESET_PASSWORD);
    int64_t n = 0;
    enum err e = db_begin(rq->db);
    if (!e) {
        e = db_exec(rq->db, "UPDATE account SET password_hash = $2 WHERE did = $1", &p, &n);
    }
    if (!e) {
        e = db_exec(rq->db, "DELETE FROM email_token WHERE did = $1 AND purpose = $2", &q, NULL);
    }
    if (!e) {
        q.n = 1; /* just the DID */
        e = db_exec(rq->db, "DELETE FROM refresh_token WHERE did = $1", &q, NULL);
    }
    if (!e) {
        e = db_commit(rq->db);
    }
    sodium_memzero(hash, sizeof(hash));
    if (e) {
        db_rollback(rq->db);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (n == 0) {
        return xrpc_fail(rq, 400, "NotFound", "Account not found");
    }
    log_info(&rq->log, "password of %s reset by the admin; sessions revoked", did);
    return xrpc_reply_empty(rq, 200);
}

/* com.atproto.admin.deleteAccount: everything the account owns, in one transaction, with
 * #account {status:"deleted"}. */
int api_admin_delete_account(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *did;
    int st;
    if ((st = auth_admin(rq, &a)) || (st = input_str(rq, "did", true, &did))) {
        return st;
    }
    if (!syntax_did_valid(bytes_str(did))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid did: %s", did);
    }
    enum err e = account_delete(rq->db, did);
    if (e == ERR_NOT_FOUND) {
        return xrpc_fail(rq, 400, "NotFound", "Account not found");
    }
    if (e) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    log_info(&rq->log, "account %s deleted by the admin", did);
    return xrpc_reply_empty(rq, 200);
}

/* text as HTML: escaped, line breaks kept. In rq->arena. */
static char *html_of(struct xrpc_req *rq, const char *text)
{
    struct buf b;
    buf_init(&b, MAIL_CONTENT_MAX * 8);
    enum err e = buf_appendf(&b, "<html><body><p>");
    for (const char *s = text; !e && *s; s++) {
        switch (*s) {
        case '<':
            e = buf_appendf(&b, "&lt;");
            break;
        case '>':
            e = buf_appendf(&b, "&gt;");
            break;
        case '&':
            e = buf_appendf(&b, "&amp;");
            break;
        case '"':
            e = buf_appendf(&b, "&quot;");
            break;
        case '\n':
            e = buf_appendf(&b, "<br>\n");
            break;
        default:
            e = buf_append(&b, s, 1);
        }
    }
    if (!e) {
        e = buf_appendf(&b, "</p></body></html>\n");
    }
    char *out = e ? NULL : arena_strndup(rq->arena, (const char *)b.ptr, b.len);
    buf_clear(&b);
    return out;
}

/* com.atproto.admin.sendEmail: a message to the account's address, through the moderation
 * mail server (PDS_MODERATION_EMAIL_*) when configured, else the account mail server.
 * {sent:false} when neither is configured (the reference silently drops the message). */
int api_admin_send_email(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *recipient, *content, *subject, *sender, *comment;
    int st;
    if ((st = auth_admin(rq, &a)) || (st = input_str(rq, "recipientDid", true, &recipient)) ||
        (st = input_str(rq, "content", true, &content)) ||
        (st = input_str(rq, "subject", false, &subject)) ||
        (st = input_str(rq, "senderDid", true, &sender)) ||
        (st = input_str(rq, "comment", false, &comment))) {
        return st;
    }
    if (strlen(content) > MAIL_CONTENT_MAX || (subject && strlen(subject) > MAIL_SUBJECT_MAX)) {
        return xrpc_fail(rq, 413, "PayloadTooLarge", "message is too long");
    }
    if (subject && strpbrk(subject, "\r\n")) {
        return xrpc_fail(rq, 400, "InvalidRequest", "subject must be one line");
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, recipient);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, "SELECT email FROM account WHERE did = $1", &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Recipient not found");
    }
    const char *to = db_col_text(r, 0, 0);
    if (!to || !*to) {
        return xrpc_fail(rq, 400, "InvalidRequest", "account does not have an email address");
    }
    struct config mail = *rq->cfg; /* shallow: only the two mail fields differ */
    if (rq->cfg->moderation_email_smtp_url && rq->cfg->moderation_email_address) {
        mail.email_smtp_url = rq->cfg->moderation_email_smtp_url;
        mail.email_from_address = rq->cfg->moderation_email_address;
    }
    char *html = html_of(rq, content);
    if (!html) {
        return xrpc_fail(rq, 413, "PayloadTooLarge", "message is too long");
    }
    enum err e =
        account_send_email(&mail, to, subject ? subject : MAIL_SUBJECT_DEFAULT, content, html);
    if (e == ERR_UNSUPPORTED) {
        log_warn(&rq->log, "sendEmail to %s not sent: no mail server configured", recipient);
        return xrpc_reply_json(rq, 200, json_pack("{s:b}", "sent", 0));
    }
    if (e) {
        return xrpc_fail(rq, 502, "UpstreamFailure", "could not send the email");
    }
    log_info(&rq->log, "email sent to %s for %s", recipient, sender);
    return xrpc_reply_json(rq, 200, json_pack("{s:b}", "sent", 1));
}
