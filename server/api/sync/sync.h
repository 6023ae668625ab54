/* sync.h - com.atproto.sync.*: repository export, blocks, records, blobs, listings, the event
 * stream. Handlers (read.c, blob.c, subscribe.c) run on HTTP worker threads, each using only its
 * request's state; the route table is in routes.c. */
#ifndef PDS_API_SYNC_SYNC_H
#define PDS_API_SYNC_SYNC_H

#include "http/router.h"

extern const struct route_table api_sync_routes;

int api_sync_get_blob(struct xrpc_req *rq);
int api_sync_get_blocks(struct xrpc_req *rq);
int api_sync_get_checkout(struct xrpc_req *rq);
int api_sync_get_head(struct xrpc_req *rq);
int api_sync_get_latest_commit(struct xrpc_req *rq);
int api_sync_get_record(struct xrpc_req *rq);
int api_sync_get_repo(struct xrpc_req *rq);
int api_sync_get_repo_status(struct xrpc_req *rq);
int api_sync_list_blobs(struct xrpc_req *rq);
int api_sync_list_repos(struct xrpc_req *rq);
int api_sync_subscribe_repos(struct xrpc_req *rq); /* sync_subscribe.c: WebSocket */

#endif
