/* xrpc_error.c - error codes to HTTP statuses and XRPC error names, and error responses.
 * Names and messages are the reference's (@atproto/xrpc ResponseType and its strings). */
#include "http/xrpc_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http/xrpc.h"

#define XRPC_MESSAGE_MAX 1024 /* bytes of an error message */

static const struct xrpc_error_row error_rows[] = {
    {ERR_OK, 200, NULL},
    {ERR_INVALID, 400, "InvalidRequest"},
    {ERR_TOO_LARGE, 413, "PayloadTooLarge"},
    {ERR_NOT_FOUND, 400, NULL}, /* lexicons name it (RecordNotFound is a 400) */
    {ERR_CONFLICT, 400, "InvalidRequest"},
    {ERR_AUTH, 401, "AuthenticationRequired"},
    {ERR_FORBIDDEN, 403, "Forbidden"},
    {ERR_RATE_LIMITED, 429, "RateLimitExceeded"},
    {ERR_UPSTREAM, 502, "UpstreamFailure"},
    {ERR_DB, 500, "InternalServerError"},
    {ERR_INTERNAL, 500, "InternalServerError"},
    {ERR_TRUNCATED, 400, "InvalidRequest"},
    {ERR_UNSUPPORTED, 400, "InvalidRequest"},
    {ERR_MISSING, 500, "InternalServerError"},
};

struct status_row {
    int status;
    const char *name;
    const char *message;
};

static const struct status_row status_rows[] = {
    {400, "InvalidRequest", "Invalid Request"},
    {401, "AuthenticationRequired", "Authentication Required"},
    {403, "Forbidden", "Forbidden"},
    {404, "XRPCNotSupported", "XRPC Not Supported"},
    {406, "NotAcceptable", "Not Acceptable"},
    {413, "PayloadTooLarge", "Payload Too Large"},
    {415, "UnsupportedMediaType", "Unsupported Media Type"},
    {429, "RateLimitExceeded", "Rate Limit Exceeded"},
    {500, "InternalServerError", "Internal Server Error"},
    {501, "MethodNotImplemented", "Method Not Implemented"},
    {502, "UpstreamFailure", "Upstream Failure"},
    {503, "NotEnoughResources", "Not Enough Resources"},
    {504, "UpstreamTimeout", "Upstream Timeout"},
};

const struct xrpc_error_row *xrpc_error_row(enum err e)
{
    for (size_t i = 0; i < ARRAY_LEN(error_rows); i++) {
        if (error_rows[i].code == e) {
            return &error_rows[i];
        }
    }
    return NULL;
}

int xrpc_error_status(enum err e)
{
    const struct xrpc_error_row *row = xrpc_error_row(e);
    return row ? row->status : 500;
}

const char *xrpc_error_name(enum err e)
{
    const struct xrpc_error_row *row = xrpc_error_row(e);
    return row ? row->name : "InternalServerError";
}

static const struct status_row *status_row(int status)
{
    if (status != 400 && status != 500 && (status < 400 || status > 599)) {
        status = 500;
    }
    for (size_t i = 0; i < ARRAY_LEN(status_rows); i++) {
        if (status_rows[i].status == status) {
            return &status_rows[i];
        }
    }
    /* Unlisted statuses take their class's default, as the reference's client does. */
    return status_row(status >= 500 ? 500 : 400);
}

const char *xrpc_status_name(int status)
{
    return status_row(status)->name;
}

const char *xrpc_status_message(int status)
{
    return status_row(status)->message;
}

static int fail_v(struct xrpc_req *rq, int status, const char *name, const char *fmt, va_list ap)
{
    if (status < 400 || status > 599) {
        status = 500;
    }
    char message[XRPC_MESSAGE_MAX];
    if (fmt && status != 500) {
        vsnprintf(message, sizeof message, fmt, ap);
    } else {
        if (fmt) {
            /* the detail is for the operator only */
            vsnprintf(message, sizeof message, fmt, ap);
            log_warn(&rq->log, "internal error: %s", message);
        }
        snprintf(message, sizeof message, "%s", xrpc_status_message(status));
    }
    json_t *body = json_object();
    json_object_set_new(body, "error", json_string(name ? name : xrpc_status_name(status)));
    /* json_string refuses invalid UTF-8 (a message quoting wire bytes): fall back */
    json_t *msg = json_string(message);
    json_object_set_new(body, "message", msg ? msg : json_string(xrpc_status_message(status)));
    return xrpc_reply_json(rq, status, body);
}

int xrpc_fail(struct xrpc_req *rq, int status, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int st = fail_v(rq, status, name, fmt, ap);
    va_end(ap);
    return st;
}

int xrpc_fail_err(struct xrpc_req *rq, enum err e, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int st = fail_v(rq, xrpc_error_status(e), name ? name : xrpc_error_name(e), fmt, ap);
    va_end(ap);
    return st;
}
