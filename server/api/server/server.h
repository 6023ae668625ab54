/* server.h - com.atproto.server.*: accounts, sessions, app passwords, invites, email, account
 * status, service auth. Handlers (describe.c, create_account.c, session.c, app_password.c,
 * invite.c, email.c, account_status.c, service_auth.c) run on HTTP worker threads, each using only
 * its request's state; the route table is in routes.c. */
#ifndef PDS_API_SERVER_SERVER_H
#define PDS_API_SERVER_SERVER_H

#include "http/router.h"

extern const struct route_table api_server_routes;

int api_server_activate_account(struct xrpc_req *rq);
int api_server_check_account_status(struct xrpc_req *rq);
int api_server_confirm_email(struct xrpc_req *rq);
int api_server_create_account(struct xrpc_req *rq);
int api_server_create_app_password(struct xrpc_req *rq);
int api_server_create_invite_code(struct xrpc_req *rq);
int api_server_create_invite_codes(struct xrpc_req *rq);
int api_server_create_session(struct xrpc_req *rq);
int api_server_deactivate_account(struct xrpc_req *rq);
int api_server_delete_account(struct xrpc_req *rq);
int api_server_delete_session(struct xrpc_req *rq);
int api_server_describe_server(struct xrpc_req *rq);
int api_server_get_account_invite_codes(struct xrpc_req *rq);
int api_server_get_service_auth(struct xrpc_req *rq);
int api_server_get_session(struct xrpc_req *rq);
int api_server_list_app_passwords(struct xrpc_req *rq);
int api_server_refresh_session(struct xrpc_req *rq);
int api_server_request_account_delete(struct xrpc_req *rq);
int api_server_request_email_confirmation(struct xrpc_req *rq);
int api_server_request_email_update(struct xrpc_req *rq);
int api_server_request_password_reset(struct xrpc_req *rq);
int api_server_reserve_signing_key(struct xrpc_req *rq);
int api_server_reset_password(struct xrpc_req *rq);
int api_server_revoke_app_password(struct xrpc_req *rq);
int api_server_update_email(struct xrpc_req *rq);

#endif
