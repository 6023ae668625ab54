/* account_mail.c - the mails this server sends (token mails in plain text and HTML) and the
 * one call that sends any mail through the configured SMTP server (account_ops.h). */
#include "api/account_ops.h"

#include <stdio.h>
#include <string.h>

#include "mail/mail.h"
#include "main/config.h"

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
