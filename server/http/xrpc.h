/* xrpc.h - what a handler sees: the request (method, NSID, query parameters, headers, body,
 * arena, database handle, client IP) and the calls that set its response.
 * A request lives on one worker thread from first byte to last; nothing here is shared.
 *
 * A handler is `int fn(struct xrpc_req *rq)`: it sets a response with one xrpc_reply_* or
 * xrpc_fail call and returns what that call returned (the HTTP status):
 *
 *     // com.atproto.repo.getRecord
 *     int api_repo_get_record(struct xrpc_req *rq)
 *     {
 *         const char *repo;
 *         int st = xrpc_param_str(rq, "repo", true, &repo);
 *         if (st) {
 *             return st;       // 400 InvalidRequest already set
 *         }
 *         ...
 *         return xrpc_reply_json(rq, 200, json_pack("{s:s}", "uri", uri));
 *     }
 *
 * Returning without a response gives 500. Everything allocated from rq->arena, and every
 * arena_defer'd cleanup, lives until the response has been sent. */
#ifndef PDS_HTTP_XRPC_H
#define PDS_HTTP_XRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/bytes.h"
#include "core/err.h"
#include "db/db.h"
#include "db/log.h"

struct config;
struct xrpc_route;

#define XRPC_BODY_MAX_DEFAULT ((size_t)1 << 20) /* 1 MiB: JSON procedure bodies */
/* Query parameters per request, more is 400: one per two bytes of a head at its limit
 * (HTTP_HEAD_MAX_BYTES, http/head.h), which is the real bound, as in the reference. */
#define XRPC_PARAMS_MAX     8192
#define XRPC_REQUEST_ID_LEN 16

/* HTTP methods, as a bit set so a path route may accept several. */
enum http_method {
    HTTP_GET = 1 << 0,  /* XRPC queries and subscriptions; HEAD is served as GET */
    HTTP_POST = 1 << 1, /* XRPC procedures */
    HTTP_PUT = 1 << 2,
    HTTP_DELETE = 1 << 3,
    HTTP_OTHER = 1 << 4,
};

/* One query parameter, percent-decoded ("+" is a space, as URLSearchParams reads it).
 * Repeated names appear once per occurrence, in order. */
struct xrpc_param {
    const char *name;
    const char *value;
};

struct xrpc_header {
    const char *name;
    const char *value;
};

/* Streamed response body: write up to max bytes at buf for offset pos; return the count
 * written (> 0), XRPC_STREAM_END when done, or XRPC_STREAM_ERROR to abort the connection.
 * Runs on the same worker thread after the handler returned, interleaved with other requests
 * of that thread: it must not hold rq->db inside a transaction between calls. */
#define XRPC_STREAM_END   ((ssize_t)-1)
#define XRPC_STREAM_ERROR ((ssize_t)-2)
typedef ssize_t xrpc_stream_fn(void *ctx, uint64_t pos, uint8_t *buf, size_t max);

/* Connection upgrade (WebSocket): called on the worker thread once the 101 answer is sent,
 * with the raw socket and any bytes the client sent past the handshake. The callee owns the
 * connection from then on: it should hand fd to its own thread (never block the worker) and
 * finish with xrpc_upgrade_close(handle), which closes the socket. ctx is the handler's. */
typedef void xrpc_upgrade_fn(void *ctx, int fd, const uint8_t *extra, size_t extra_len,
                             void *handle);

/* The response being built; set through the xrpc_reply_* calls, not directly. */
struct xrpc_resp {
    int status; /* 0 until a reply is set */
    const char *content_type;
    const uint8_t *body;
    size_t body_len;
    bool body_malloced; /* body is ours to free() after sending */
    xrpc_stream_fn *stream;
    void *stream_ctx;
    void (*stream_free)(void *ctx);
    int64_t stream_size; /* -1: unknown (chunked) */
    xrpc_upgrade_fn *upgrade;
    void *upgrade_ctx;
    struct xrpc_header *headers;
    size_t n_headers, cap_headers;
};

struct xrpc_req {
    /* What was asked */
    const char *method; /* "GET", "POST", ... as sent */
    enum http_method method_bit;
    const char *path; /* raw path without the query: "/xrpc/com.atproto.sync.getRepo" */
    const char *nsid; /* the XRPC method for /xrpc/ paths, else NULL */
    const struct xrpc_param *params;
    size_t n_params;
    const char *content_type; /* media type, lower-case, parameters removed; NULL if absent */
    struct bytes body;        /* the whole body; empty for streamed (on_body) routes */
    json_t *json;             /* the body parsed, for JSON procedures; freed with the request */
    const char *client_ip;    /* peer address, or X-Forwarded-For's when the peer is a trusted
                                 proxy (PDS_TRUSTED_PROXIES) */
    const struct xrpc_route *route;

    /* What a handler works with */
    struct arena *arena;      /* freed after the response is sent */
    struct db *db;            /* this worker thread's connection (connects on first use) */
    const struct config *cfg; /* read-only */
    struct log_ctx log;       /* pass &rq->log to log_info/log_warn/...; set log.did once known */
    void *auth;               /* set by the auth layer for authenticated requests; else NULL */
    void *body_sink;          /* state of a streaming route's on_body, owned by that route */
    void *ratelimit;          /* rate-limit state of this request (http/ratelimit.c), or NULL */
    int overload_class;       /* overload slot held (http/overload.c), 0 when none */
    void *hostbudget;         /* host budget event held for this request (http/hostbudget.c) */

    struct xrpc_resp resp;
    char request_id[XRPC_REQUEST_ID_LEN + 1];
    void *_conn; /* struct MHD_Connection */
};

/* Request headers, case-insensitive name; NULL when absent. The value lives as long as rq.
 * Never log authorization, dpop or cookie values. */
const char *xrpc_header(const struct xrpc_req *rq, const char *name);

/* First value of a query parameter, NULL when absent (an empty value counts as absent, as in
 * the reference). */
const char *xrpc_param(const struct xrpc_req *rq, const char *name);
/* All values of a repeated parameter (arrays): *out is an arena array of *n strings. */
void xrpc_param_all(struct xrpc_req *rq, const char *name, const char ***out, size_t *n);

/* Typed getters. They return 0 and fill *out, or set a 400 InvalidRequest response (message
 * in the reference's words: `Params must have the property "repo"`) and return 400; pass
 * that on. Absent and optional: *out gets the default (NULL for strings). */
int xrpc_param_str(struct xrpc_req *rq, const char *name, bool required, const char **out);
int xrpc_param_int(struct xrpc_req *rq, const char *name, int64_t min, int64_t max, int64_t dflt,
                   int64_t *out);
int xrpc_param_bool(struct xrpc_req *rq, const char *name, bool dflt, bool *out);

/* Responses. Each returns status. */
/* JSON body; steals root's reference (NULL root: 500). Content-Type application/json. */
int xrpc_reply_json(struct xrpc_req *rq, int status, json_t *root);
/* Copies data into the arena. */
int xrpc_reply_bytes(struct xrpc_req *rq, int status, const char *content_type, const void *data,
                     size_t len);
/* Takes b's memory (b is left empty): for large bodies such as CAR files. */
int xrpc_reply_buf(struct xrpc_req *rq, int status, const char *content_type, struct buf *b);
/* Text that outlives the request (a literal); not copied. */
int xrpc_reply_static(struct xrpc_req *rq, int status, const char *content_type, const char *text);
/* Bytes that outlive the request (embedded files); not copied. */
int xrpc_reply_const(struct xrpc_req *rq, int status, const char *content_type, const void *data,
                     size_t len);
/* No body and no Content-Type (a procedure without output). */
int xrpc_reply_empty(struct xrpc_req *rq, int status);
/* Body produced by fn after the handler returns; size -1 when unknown (chunked). free_ctx
 * (may be NULL) runs once when the response is done or abandoned. */
int xrpc_reply_stream(struct xrpc_req *rq, int status, const char *content_type, int64_t size,
                      xrpc_stream_fn *fn, void *ctx, void (*free_ctx)(void *ctx));
/* Answers 101 Switching Protocols with the headers added by xrpc_set_header (the handler
 * checks the handshake and sets Upgrade, Sec-WebSocket-Accept...), then calls fn (see
 * xrpc_upgrade_fn). Returns 101. */
int xrpc_reply_upgrade(struct xrpc_req *rq, xrpc_upgrade_fn *fn, void *ctx);
/* Closes an upgraded connection (the handle given to an xrpc_upgrade_fn). Any thread. */
void xrpc_upgrade_close(void *handle);

/* Adds a response header (copied); call before or after the reply call. */
void xrpc_set_header(struct xrpc_req *rq, const char *name, const char *value);

/* Error response {"error": name, "message": …}. name NULL: the status's default name
 * (xrpc_status_name). fmt NULL: the status's default message. For 500 the message is always
 * "Internal Server Error": details go to the log, never to the client (as the reference). */
int xrpc_fail(struct xrpc_req *rq, int status, const char *name, const char *fmt, ...)
    PRINTF_LIKE(4, 5);
/* As xrpc_fail with the status and default name of e (see xrpc_error.h); name overrides.
 * ERR_NOT_FOUND has no default name: pass one (RecordNotFound, RepoNotFound...). */
int xrpc_fail_err(struct xrpc_req *rq, enum err e, const char *name, const char *fmt, ...)
    PRINTF_LIKE(4, 5);

#endif
