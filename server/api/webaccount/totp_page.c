/* totp_page.c - turning TOTP two-factor sign-in on (a secret shown as an otpauth:// URI and
 * a QR code, confirmed by a first code; recovery codes shown once) and off (with a code). */
#include "api/webaccount/webaccount.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "api/account/totp.h"
#include "config/config.h"
#include "core/qrcode.h"
#include "web/page.h"

static void pct(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        bool keep = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || strchr("-._~", *p);
        char t[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        (void)!(keep ? buf_append_byte(b, *p) : buf_append(b, t, 3));
    }
}

/* otpauth://totp/<issuer>:<account>?secret=..&issuer=..&algorithm=SHA1&digits=6&period=30
 * (the Key Uri Format authenticator apps read). */
static const char *otpauth_uri(struct xrpc_req *rq, const char *did, const char *secret)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    const char *label = did;
    if (db_query_in(rq->db, rq->arena, "SELECT handle FROM account WHERE did = $1", &p, &r) ==
            ERR_OK &&
        PQntuples(r) == 1 && !db_col_null(r, 0, 0)) {
        label = db_col_text(r, 0, 0);
    }
    const char *issuer = rq->cfg->hostname;
    struct buf b;
    buf_init(&b, 4096);
    (void)!buf_append_str(&b, "otpauth://totp/");
    pct(&b, issuer);
    (void)!buf_append_byte(&b, ':');
    pct(&b, label);
    (void)!buf_appendf(&b, "?secret=%s&issuer=", secret);
    pct(&b, issuer);
    (void)!buf_appendf(&b, "&algorithm=SHA1&digits=%d&period=%d", TOTP_DIGITS, TOTP_STEP_S);
    const char *out = arena_strndup(rq->arena, (const char *)b.ptr, b.len);
    buf_clear(&b);
    return out;
}

/* POST /account/totp/start {did} */
int api_web_totp_start(struct xrpc_req *rq)
{
    json_t *in;
    const char *did;
    int st = webaccount_begin(rq, &in, &did);
    if (st) {
        return st;
    }
    char secret[TOTP_SECRET_B32_CHARS + 1];
    enum err e = account_totp_begin(rq->db, did, secret);
    if (e == ERR_CONFLICT) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Two-factor sign-in is already on.");
    }
    if (e) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *out = json_pack("{s:s,s:s}", "secret", secret, "uri", otpauth_uri(rq, did, secret));
    sodium_memzero(secret, sizeof secret);
    return xrpc_reply_json(rq, 200, out);
}

/* GET /account/totp/qr.svg?did=: the pending secret's otpauth:// URI as a QR code. An image
 * request carries no CSRF header: the page adds the token to the URL (csrf_token=). */
int api_web_totp_qr(struct xrpc_req *rq)
{
    json_t *in;
    const char *did;
    int st = webaccount_begin(rq, &in, &did);
    if (st) {
        return st;
    }
    const char *secret;
    enum err e = account_totp_secret(rq->db, rq->arena, did, &secret);
    if (e == ERR_NOT_FOUND) {
        return xrpc_fail(rq, 404, "NotFound", "No two-factor enrolment is pending.");
    }
    if (e) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    struct qrcode *qp = arena_alloc(rq->arena, sizeof *qp); /* 3 KB: not on the stack */
    if (qrcode_encode(bytes_str(otpauth_uri(rq, did, secret)), qp)) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "The code is too long for a QR code: use the "
                         "text key instead.");
    }
    struct buf svg;
    buf_init(&svg, 1 << 20);
    if (qrcode_svg(qp, &svg)) {
        buf_clear(&svg);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return xrpc_reply_buf(rq, 200, "image/svg+xml", &svg);
}

/* POST /account/totp/enable {did, code} */
int api_web_totp_enable(struct xrpc_req *rq)
{
    json_t *in;
    const char *did;
    int st = webaccount_begin(rq, &in, &did);
    if (st) {
        return st;
    }
    const char *code = json_string_value(json_object_get(in, "code"));
    char codes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_CODE_CHARS + 1];
    bool ok;
    if (!code || account_totp_enable(rq->db, did, code, codes, &ok)) {
        return code ? xrpc_fail(rq, 500, NULL, NULL)
                    : xrpc_fail(rq, 400, "InvalidRequest", "code is required");
    }
    if (!ok) {
        return xrpc_fail(rq, 400, "InvalidToken",
                         "That code is not right. Check the time on your device and try the "
                         "next code.");
    }
    json_t *list = json_array();
    for (int i = 0; i < TOTP_RECOVERY_CODES; i++) {
        json_array_append_new(list, json_string(codes[i]));
    }
    sodium_memzero(codes, sizeof codes);
    log_info(&rq->log, "account page: TOTP turned on");
    return xrpc_reply_json(rq, 200, json_pack("{s:o}", "recoveryCodes", list));
}

/* POST /account/totp/disable {did, code} */
int api_web_totp_disable(struct xrpc_req *rq)
{
    json_t *in;
    const char *did;
    int st = webaccount_begin(rq, &in, &did);
    if (st) {
        return st;
    }
    const char *code = json_string_value(json_object_get(in, "code"));
    bool ok;
    if (!code) {
        return xrpc_fail(rq, 400, "InvalidRequest", "code is required");
    }
    if (account_totp_disable(rq->db, did, code, &ok)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (!ok) {
        return xrpc_fail(rq, 400, "InvalidToken", "That code is not right.");
    }
    log_info(&rq->log, "account page: TOTP turned off");
    return xrpc_reply_json(rq, 200, json_object());
}
