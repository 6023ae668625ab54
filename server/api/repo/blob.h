/* blob.h - what the blob endpoints share with the rest of the API: the process's blob
 * store (started on first use when `pds serve` has not started it), the blob JSON shape,
 * and the per-account storage quota. Request-scoped; thread-safe. */
#ifndef PDS_API_REPO_BLOB_H
#define PDS_API_REPO_BLOB_H

#include "blob/blobstore.h"
#include "http/xrpc.h"

/* The error answered past the quota (no reference equivalent: no other PDS has quotas). */
#define API_QUOTA_ERROR "StorageQuotaExceeded"

/* The blob store, starting it (and its sweeper) if needed. NULL after a 500 was set. */
struct blobstore *api_blobstore(struct xrpc_req *rq);

/* Bytes did uses: repository blocks + permanent blobs + pending (temporary) uploads.
 * 0, or 500 already set. */
int api_storage_used(struct xrpc_req *rq, const char *did, int64_t *used);

/* PDS_ACCOUNT_STORAGE_QUOTA: 0 when did may store `adding` more bytes (or there is no
 * quota), else 400 StorageQuotaExceeded already set. Deletes never call this. */
int api_storage_quota_check(struct xrpc_req *rq, const char *did, int64_t adding);

#endif
