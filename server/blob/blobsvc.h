/* blobsvc.h - the process's blob store and its sweeper thread, built from the configuration
 * on first use (or at start-up). Thread-safe: start is idempotent and the store, once made,
 * is never replaced until blobsvc_stop. */
#ifndef PDS_BLOB_BLOBSVC_H
#define PDS_BLOB_BLOBSVC_H

#include "blob/blobstore.h"

struct config;

/* Creates the store from cfg (disk or S3) and starts the sweeper thread, which runs every
 * PDS_BLOB_SWEEP_INTERVAL on its own database connection (db_thread). A second call returns
 * the first call's result. ERR_INVALID / ERR_INTERNAL when the store cannot be made
 * (logged). */
enum err blobsvc_start(const struct config *cfg) MUST_CHECK;
/* The store; NULL before a successful blobsvc_start. */
struct blobstore *blobsvc_store(void);
/* Asks the sweeper to run now rather than at its next period. */
void blobsvc_wake(void);
/* Stops the sweeper and frees the store (at shutdown, after the HTTP server stopped). */
void blobsvc_stop(void);

#endif
