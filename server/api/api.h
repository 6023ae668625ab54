/* api.h - every endpoint handler, grouped by lexicon group (one .c file per group). Each is
 * an xrpc_handler_fn (see http/xrpc.h) and has one line in the route table (http/router.c).
 * Handlers run on HTTP worker threads; each uses only its request's state. */
#ifndef PDS_API_API_H
#define PDS_API_API_H

#include "http/xrpc.h"

/* basic.c: routes outside the lexicons */
int api_basic_root(struct xrpc_req *rq);        /* GET / */
int api_basic_robots(struct xrpc_req *rq);      /* GET /robots.txt */
int api_basic_health(struct xrpc_req *rq);      /* GET /xrpc/_health */
int api_basic_atproto_did(struct xrpc_req *rq); /* GET /.well-known/atproto-did */

/* server.c, server_account.c, server_session.c, server_app_password.c, server_invite.c:
 * com.atproto.server.* */
int api_server_describe_server(struct xrpc_req *rq);
int api_server_create_account(struct xrpc_req *rq);
int api_server_create_session(struct xrpc_req *rq);
int api_server_get_session(struct xrpc_req *rq);
int api_server_refresh_session(struct xrpc_req *rq);
int api_server_delete_session(struct xrpc_req *rq);
int api_server_create_app_password(struct xrpc_req *rq);
int api_server_list_app_passwords(struct xrpc_req *rq);
int api_server_revoke_app_password(struct xrpc_req *rq);
int api_server_create_invite_code(struct xrpc_req *rq);
int api_server_create_invite_codes(struct xrpc_req *rq);
int api_server_get_account_invite_codes(struct xrpc_req *rq);

/* repo_write.c, repo_read.c: com.atproto.repo.* */
int api_repo_create_record(struct xrpc_req *rq);
int api_repo_put_record(struct xrpc_req *rq);
int api_repo_delete_record(struct xrpc_req *rq);
int api_repo_apply_writes(struct xrpc_req *rq);
int api_repo_get_record(struct xrpc_req *rq);
int api_repo_list_records(struct xrpc_req *rq);
int api_repo_describe_repo(struct xrpc_req *rq);

/* sync.c: com.atproto.sync.* */
int api_sync_get_repo(struct xrpc_req *rq);
int api_sync_get_record(struct xrpc_req *rq);
int api_sync_get_blocks(struct xrpc_req *rq);
int api_sync_get_latest_commit(struct xrpc_req *rq);
int api_sync_get_repo_status(struct xrpc_req *rq);
int api_sync_list_repos(struct xrpc_req *rq);

#endif
