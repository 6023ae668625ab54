/* repo.h - com.atproto.repo.*: record writes and reads, blob uploads, repository import.
 * Handlers (write.c, read.c, blob.c, import.c) run on HTTP worker threads, each using only its
 * request's state; the route table is in routes.c. */
#ifndef PDS_API_REPO_REPO_H
#define PDS_API_REPO_REPO_H

#include "http/router.h"

extern const struct route_table api_repo_routes;

int api_repo_apply_writes(struct xrpc_req *rq);
int api_repo_create_record(struct xrpc_req *rq);
int api_repo_delete_record(struct xrpc_req *rq);
int api_repo_describe_repo(struct xrpc_req *rq);
int api_repo_get_record(struct xrpc_req *rq);
int api_repo_import_repo(struct xrpc_req *rq);
int api_repo_list_missing_blobs(struct xrpc_req *rq);
int api_repo_list_records(struct xrpc_req *rq);
int api_repo_put_record(struct xrpc_req *rq);
int api_repo_upload_blob(struct xrpc_req *rq);
int api_repo_import_repo_body(struct xrpc_req *rq, const uint8_t *chunk, size_t len);
int api_repo_upload_blob_body(struct xrpc_req *rq, const uint8_t *chunk, size_t len);

#endif
