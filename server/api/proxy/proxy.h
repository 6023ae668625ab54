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
 * body) to its service for caller iss and sets the response: the upstream's status, body
 * (streamed) and the reference's forwarded headers; its XRPC error (500 turned into 502
 * UpstreamFailure); 502 UpstreamFailure when unreachable, 504 UpstreamTimeout on a timeout;
 * 400 InvalidRequest "No service configured for <nsid>" when nothing serves the method. */
int api_proxy_forward(struct xrpc_req *rq, const char *iss);

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
