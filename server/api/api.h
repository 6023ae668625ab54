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
int api_sync_get_head(struct xrpc_req *rq);
int api_sync_get_checkout(struct xrpc_req *rq);
int api_sync_subscribe_repos(struct xrpc_req *rq); /* sync_subscribe.c: WebSocket */

/* host.c: routes for running the host (ours) */
int api_host_status(struct xrpc_req *rq);    /* GET /xrpc/_status (admin) */
int api_host_tls_check(struct xrpc_req *rq); /* GET /tls-check?domain= (on-demand TLS) */

/* admin.c, admin_subject.c, admin_account.c: com.atproto.admin.* (HTTP Basic admin) */
int api_admin_get_account_info(struct xrpc_req *rq);
int api_admin_get_account_infos(struct xrpc_req *rq);
int api_admin_search_accounts(struct xrpc_req *rq);
int api_admin_enable_account_invites(struct xrpc_req *rq);
int api_admin_disable_account_invites(struct xrpc_req *rq);
int api_admin_disable_invite_codes(struct xrpc_req *rq);
int api_admin_get_invite_codes(struct xrpc_req *rq);
int api_admin_get_subject_status(struct xrpc_req *rq);
int api_admin_update_subject_status(struct xrpc_req *rq);
int api_admin_update_account_handle(struct xrpc_req *rq);
int api_admin_update_account_email(struct xrpc_req *rq);
int api_admin_update_account_password(struct xrpc_req *rq);
int api_admin_delete_account(struct xrpc_req *rq);
int api_admin_send_email(struct xrpc_req *rq);

/* repo_blob.c, sync_blob.c, repo_import.c: blobs and repository import. The *_body
 * functions are the routes' on_body callbacks (the body streams, never buffered). */
int api_repo_upload_blob(struct xrpc_req *rq);
int api_repo_upload_blob_body(struct xrpc_req *rq, const uint8_t *chunk, size_t len);
int api_repo_list_missing_blobs(struct xrpc_req *rq);
int api_repo_import_repo(struct xrpc_req *rq);
int api_repo_import_repo_body(struct xrpc_req *rq, const uint8_t *chunk, size_t len);
int api_sync_get_blob(struct xrpc_req *rq);
int api_sync_list_blobs(struct xrpc_req *rq);

/* server_service_auth.c, actor_prefs.c, proxy.c: service auth, preferences, proxying */
int api_server_get_service_auth(struct xrpc_req *rq);
int api_actor_get_preferences(struct xrpc_req *rq);
int api_actor_put_preferences(struct xrpc_req *rq);
int api_proxy(struct xrpc_req *rq); /* the router's fallback: methods served elsewhere */
int api_proxy_body(struct xrpc_req *rq, const uint8_t *chunk, size_t len);

/* identity.c: com.atproto.identity.* */
int api_identity_resolve_handle(struct xrpc_req *rq);
int api_identity_update_handle(struct xrpc_req *rq);
int api_identity_get_recommended_did_credentials(struct xrpc_req *rq);
int api_identity_request_plc_operation_signature(struct xrpc_req *rq);
int api_identity_sign_plc_operation(struct xrpc_req *rq);
int api_identity_submit_plc_operation(struct xrpc_req *rq);
int api_identity_resolve_did(struct xrpc_req *rq);
int api_identity_resolve_identity(struct xrpc_req *rq);
int api_identity_refresh_identity(struct xrpc_req *rq);

/* server_email.c, server_account_status.c: email, password reset, hosting status, deletion */
int api_server_request_email_confirmation(struct xrpc_req *rq);
int api_server_confirm_email(struct xrpc_req *rq);
int api_server_request_email_update(struct xrpc_req *rq);
int api_server_update_email(struct xrpc_req *rq);
int api_server_request_password_reset(struct xrpc_req *rq);
int api_server_reset_password(struct xrpc_req *rq);
int api_server_deactivate_account(struct xrpc_req *rq);
int api_server_activate_account(struct xrpc_req *rq);
int api_server_check_account_status(struct xrpc_req *rq);
int api_server_request_account_delete(struct xrpc_req *rq);
int api_server_delete_account(struct xrpc_req *rq);
int api_server_reserve_signing_key(struct xrpc_req *rq);

#endif
