/* proxy.h - forwarding XRPC calls to other services (the AppView, chat, moderation, or the
 * service an `atproto-proxy: <did>#<serviceId>` header names) with a fresh service-auth JWT
 * (iss = the caller, aud = the service's bare DID, lxm = the NSID), streaming the body both
 * ways. Request-scoped; thread-safe. */
#ifndef PDS_API_PROXY_PROXY_H
#define PDS_API_PROXY_PROXY_H

#include "http/xrpc.h"

#define PROXY_BODY_MAX_BYTES     ((size_t)100 << 20) /* largest request body forwarded */
#define PROXY_SPOOL_MEMORY_BYTES ((size_t)64 << 10)  /* larger bodies wait in a temp file */
#define PROXY_ERROR_BODY_MAX     ((size_t)64 << 10)  /* upstream error answers we read */
#define PROXY_DID_MAX            2048
#define PROXY_SERVICE_MAX        256

/* Splits an atproto-proxy value "did#serviceId" (exactly one '#', both parts non-empty, no
 * spaces). NULL on success; otherwise the reference's message for the 400 (e.g. "no
 * service id specified in proxy header"). did and svc get NUL-terminated copies. */
const char *api_proxy_parse_header(const char *value, char did[PROXY_DID_MAX],
                                   char svc[PROXY_SERVICE_MAX]);

/* Forwards this request (method, path, query, rq->body or the fallback route's spooled
 * body) to its service for caller iss (NULL: no credentials) and sets the response: the upstream's
 * status, body (streamed) and the reference's forwarded headers; its XRPC error (500 turned into
 * 502 UpstreamFailure); 502 UpstreamFailure when unreachable, 504 UpstreamTimeout on a timeout; 400
 * InvalidRequest "No service configured for <nsid>" when nothing serves the method. */
int api_proxy_forward(struct xrpc_req *rq, const char *iss);

/* A forwarded call whose answer a handler looks at before the client gets it (the
 * reference's pipethrough() inside a handler: read-after-write). Opened like
 * api_proxy_forward (same target, headers and service auth for iss; NULL: none), except that
 * the upstream is asked for an uncompressed body. Owned by the caller until handed to one of
 * the replies, which free it; otherwise api_proxy_call_free. */
struct proxy_call;

/* 0 with *out once the upstream's status and headers are in (any status); otherwise the
 * error already set, as api_proxy_forward sets it. */
int api_proxy_open(struct xrpc_req *rq, const char *iss, struct proxy_call **out);
long api_proxy_call_status(const struct proxy_call *c);
/* A response header (case-insensitive), or NULL. */
const char *api_proxy_call_header(const struct proxy_call *c, const char *name);
/* The whole body into out (out's max bounds it: ERR_TOO_LARGE); ERR_INVALID for a body with
 * a content-encoding. */
enum err api_proxy_call_body(struct proxy_call *c, struct buf *out) MUST_CHECK;
/* The `error` name of an upstream error answer (its body is read once), or NULL. */
const char *api_proxy_call_error_name(struct proxy_call *c);
/* Passes the answer on as api_proxy_forward does: streamed, or the upstream's error. */
int api_proxy_call_reply(struct xrpc_req *rq, struct proxy_call *c);
/* Passes on an answer whose body was read into body (taken), with the forwarded headers. */
int api_proxy_call_reply_buffered(struct xrpc_req *rq, struct proxy_call *c, struct buf *body);
void api_proxy_call_free(struct proxy_call *c); /* NULL is a no-op */

/* GET nsid on the configured AppView with a service JWT for iss (the reference's
 * bskyAppView.client.call with appviewAuthHeaders); params are name, value pairs (n_params
 * strings). The 200 body into out. ERR_NOT_FOUND without an AppView, ERR_UPSTREAM for an
 * unreachable one or another status. */
enum err api_proxy_appview_get(struct xrpc_req *rq, const char *iss, const char *nsid,
                               const char *const *params, size_t n_params,
                               struct buf *out) MUST_CHECK;

struct auth;

/* The permission check of a call to another service (reference computeProxyTo then
 * assertRpc): the audience is the atproto-proxy header's "did#serviceId", or the service
 * that serves lxm by default ("<AppView DID>#bsky_appview", "<moderation DID>
 * #atproto_labeler"). 0 when a may call it (auth_permit_rpc), else the error set. With no
 * service for lxm, 0: forwarding then fails with "No service configured". */
int api_proxy_permit(struct xrpc_req *rq, const struct auth *a, const char *lxm);

/* The router's fallback for NSIDs we do not serve (see proxy.c for which are forwarded
 * without a header), with its body callback. */
int api_proxy(struct xrpc_req *rq);
int api_proxy_body(struct xrpc_req *rq, const uint8_t *chunk, size_t len);

#endif
