/* admin.h - com.atproto.admin.*: the admin API (HTTP Basic admin auth).
 * Handlers (admin.c, account.c, subject.c) run on HTTP worker threads, each using only its
 * request's state; the route table is in routes.c. */
#ifndef PDS_API_ADMIN_ADMIN_H
#define PDS_API_ADMIN_ADMIN_H

#include "http/router.h"

extern const struct route_table api_admin_routes;

int api_admin_delete_account(struct xrpc_req *rq);
int api_admin_disable_account_invites(struct xrpc_req *rq);
int api_admin_disable_invite_codes(struct xrpc_req *rq);
int api_admin_enable_account_invites(struct xrpc_req *rq);
int api_admin_get_account_info(struct xrpc_req *rq);
int api_admin_get_account_infos(struct xrpc_req *rq);
int api_admin_get_invite_codes(struct xrpc_req *rq);
int api_admin_get_subject_status(struct xrpc_req *rq);
int api_admin_search_accounts(struct xrpc_req *rq);
int api_admin_send_email(struct xrpc_req *rq);
int api_admin_update_account_email(struct xrpc_req *rq);
int api_admin_update_account_handle(struct xrpc_req *rq);
int api_admin_update_account_password(struct xrpc_req *rq);
int api_admin_update_subject_status(struct xrpc_req *rq);

#endif
