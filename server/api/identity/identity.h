/* identity.h - com.atproto.identity.*: handles, PLC operations, DID and handle resolution.
 * Handlers (identity.c) run on HTTP worker threads, each using only its request's state; the
 * route table is in routes.c. */
#ifndef PDS_API_IDENTITY_IDENTITY_H
#define PDS_API_IDENTITY_IDENTITY_H

#include "http/router.h"

extern const struct route_table api_identity_routes;

int api_identity_get_recommended_did_credentials(struct xrpc_req *rq);
int api_identity_refresh_identity(struct xrpc_req *rq);
int api_identity_request_plc_operation_signature(struct xrpc_req *rq);
int api_identity_resolve_did(struct xrpc_req *rq);
int api_identity_resolve_handle(struct xrpc_req *rq);
int api_identity_resolve_identity(struct xrpc_req *rq);
int api_identity_sign_plc_operation(struct xrpc_req *rq);
int api_identity_submit_plc_operation(struct xrpc_req *rq);
int api_identity_update_handle(struct xrpc_req *rq);

#endif
