/* router.h - finding a request's route in the route tables the program installs at start-up
 * (one table per area, e.g. server/api/<group>/routes.c: one line per XRPC method, named by
 * its NSID, or per plain path, named from its leading "/"). Installed once, before the HTTP
 * server starts, and read-only afterwards: lookups are thread-safe. */
#ifndef PDS_HTTP_ROUTER_H
#define PDS_HTTP_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "http/xrpc.h"

#define XRPC_INPUT_JSON "application/json"
#define XRPC_INPUT_ANY  "*/*" /* any Content-Type (uploadBlob) */

/* Route flags. */
enum route_flag {
    ROUTE_PREFIX = 1 << 0,   /* path routes: match any path starting with name */
    ROUTE_RAW_BODY = 1 << 1, /* XRPC: keep a JSON body as bytes, do not parse it */
    ROUTE_ON_HEAD = 1 << 2,  /* on_body is first called with no bytes (NULL, 0) once the head
                                is in, before any body is read: it can refuse from the
                                headers (auth, a declared length over a configured limit) */
    ROUTE_REPLICA = 1 << 3,  /* a public read a fresh replica may serve (db/replica.h) when
                                the request has no Authorization and no atproto-repo-rev */
};

/* Body chunk callback of a streaming route: called for each chunk as it arrives (before the
 * handler), instead of buffering the body. Keep state in rq->body_sink (arena_defer its
 * cleanup). Return 0 to continue, or set an error response with xrpc_fail and return its
 * status to stop reading (e.g. a blob upload writing to a temporary file while hashing).
 * The route's body_max still caps the total. */
typedef int xrpc_body_fn(struct xrpc_req *rq, const uint8_t *chunk, size_t len);
typedef int xrpc_handler_fn(struct xrpc_req *rq);

struct xrpc_route {
    const char *name; /* NSID ("com.atproto.server.describeServer") or path ("/") */
    unsigned methods; /* enum http_method bits: HTTP_GET query, HTTP_POST procedure */
    xrpc_handler_fn *handler;
    const char *input;     /* XRPC procedures: accepted Content-Types, comma-separated
                              ("application/json"), XRPC_INPUT_ANY; NULL: no body */
    size_t body_max;       /* bytes; 0 = XRPC_BODY_MAX_DEFAULT */
    unsigned flags;        /* enum route_flag */
    xrpc_body_fn *on_body; /* NULL: buffer the body into rq->body */
};

/* A constant table of routes. Names starting with "/" are plain paths; the rest NSIDs. */
struct route_table {
    const struct xrpc_route *routes;
    size_t len;
};

/* Installs the tables (kept by reference: they must outlive the server) and the fallback
 * route for NSIDs no table has (NULL: 501 MethodNotImplemented). Call before
 * http_server_start; not thread-safe against lookups. */
void router_install(const struct route_table *const *tables, size_t n,
                    const struct xrpc_route *fallback);

/* The XRPC route for nsid, NULL when unknown. */
const struct xrpc_route *router_find_xrpc(const char *nsid);
/* The plain route for path (exact, then ROUTE_PREFIX entries), NULL when none. */
const struct xrpc_route *router_find_path(const char *path);
/* Handler for NSIDs no table has (e.g. proxying app.bsky.* to the AppView); NULL means
 * answer 501 MethodNotImplemented, as the reference does. */
const struct xrpc_route *router_fallback(void);

#endif
