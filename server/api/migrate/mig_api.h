/* mig_api.h - private to server/api/migrate: the route handlers (routes.c): pages
 * (mig_pages.c), the pages' JSON endpoints (mig_api.c) and the admin API (mig_admin.c). */
#ifndef PDS_API_MIGRATE_MIG_API_H
#define PDS_API_MIGRATE_MIG_API_H

#include "http/xrpc.h"

int mig_page_in(struct xrpc_req *rq);  /* GET /migrate */
int mig_page_out(struct xrpc_req *rq); /* GET /migrate/out */

int mig_api_lookup(struct xrpc_req *rq);
int mig_api_in_start(struct xrpc_req *rq);
int mig_api_out_start(struct xrpc_req *rq);
int mig_api_out_resume(struct xrpc_req *rq);
int mig_api_job(struct xrpc_req *rq);
int mig_api_confirm(struct xrpc_req *rq);
int mig_api_request_token(struct xrpc_req *rq);
int mig_api_plc(struct xrpc_req *rq);
int mig_api_retry(struct xrpc_req *rq);
int mig_api_cancel(struct xrpc_req *rq);

int mig_admin_list(struct xrpc_req *rq);
int mig_admin_get(struct xrpc_req *rq);
int mig_admin_create_inbound(struct xrpc_req *rq);
int mig_admin_submit_token(struct xrpc_req *rq);
int mig_admin_retry(struct xrpc_req *rq);
int mig_admin_cancel(struct xrpc_req *rq);

#endif
