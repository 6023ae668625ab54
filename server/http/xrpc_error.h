/* xrpc_error.h - one table from enum err to HTTP status and default XRPC error name, and the
 * reference's default name and message per status. Pure; thread-safe. */
#ifndef PDS_HTTP_XRPC_ERROR_H
#define PDS_HTTP_XRPC_ERROR_H

#include <stdbool.h>

#include "core/err.h"

struct xrpc_error_row {
    enum err code;
    int status;
    const char *name; /* default error name; NULL where the handler must choose one */
};

/* The row for e; NULL only for a code missing from the table (a test forbids that). */
const struct xrpc_error_row *xrpc_error_row(enum err e);
int xrpc_error_status(enum err e);       /* 500 for an unknown code */
const char *xrpc_error_name(enum err e); /* may be NULL (ERR_NOT_FOUND) */

/* The reference's default error name for a status: 400 InvalidRequest, 401
 * AuthenticationRequired, 403 Forbidden, 404 XRPCNotSupported, 413 PayloadTooLarge, 429
 * RateLimitExceeded, 500 InternalServerError, 501 MethodNotImplemented, 502 UpstreamFailure,
 * 503 NotEnoughResources, 504 UpstreamTimeout; others map to the nearest class. */
const char *xrpc_status_name(int status);
/* Human text for a status: "Invalid Request", "Internal Server Error"... */
const char *xrpc_status_message(int status);

#endif
