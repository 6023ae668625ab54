/* blobstore.h - where blob bytes live: a sharded directory tree on local disk, or an
 * S3-compatible bucket (requests signed with AWS SigV4). Uploads are first written to a
 * temporary file on local disk (hashed as they arrive, see blob/upload.h); blobstore_put
 * then moves that file into the store under its CID.
 *
 * Metadata (which blobs exist, their type and size, temporary or permanent) is in
 * PostgreSQL, not here: the store only holds bytes by (DID, CID).
 * Thread-safe: a store is created once and shared; each call uses only its own state. */
#ifndef PDS_BLOB_BLOBSTORE_H
#define PDS_BLOB_BLOBSTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/cid.h"
#include "core/err.h"

#define BLOBSTORE_PATH_MAX 4096

/* Exactly one of disk_root and s3_bucket is set. tmp_dir is always local. */
struct blobstore_config {
    const char *disk_root;            /* PDS_BLOBSTORE_DISK_LOCATION */
    const char *tmp_dir;              /* PDS_BLOBSTORE_DISK_TMP_LOCATION */
    const char *s3_bucket;            /* PDS_BLOBSTORE_S3_BUCKET */
    const char *s3_region;            /* default us-east-1 */
    const char *s3_endpoint;          /* e.g. http://127.0.0.1:9000; NULL: AWS for the region */
    bool s3_force_path_style;         /* <endpoint>/<bucket>/<key> instead of <bucket>.<host> */
    const char *s3_access_key_id;     /* NULL: AWS_ACCESS_KEY_ID from the environment */
    const char *s3_secret_access_key; /* NULL: AWS_SECRET_ACCESS_KEY from the environment */
    long s3_upload_timeout_ms;        /* a whole PUT */
    long s3_request_timeout_ms;       /* other requests: until headers, and between chunks */
};

struct blobstore;
struct blobstore_reader;

/* Creates the store (and the local directories it needs). ERR_INVALID with a reason in why
 * for an unusable configuration; ERR_INTERNAL when a directory cannot be created.
 * Caller frees with blobstore_free. */
enum err blobstore_new(const struct blobstore_config *cfg, struct blobstore **out, char *why,
                       size_t why_len) MUST_CHECK;
void blobstore_free(struct blobstore *s);              /* NULL is a no-op */
const char *blobstore_kind(const struct blobstore *s); /* "disk" or "s3" */

/* Creates a new empty temporary file for an upload; *fd is open for writing and path (a
 * BLOBSTORE_PATH_MAX buffer) names it. The caller closes fd, and unlinks path unless
 * blobstore_put consumed it. */
enum err blobstore_tmp_create(struct blobstore *s, int *fd, char *path) MUST_CHECK;

/* Moves the finished temporary file tmp_path (size bytes) into the store as (did, cid),
 * replacing any bytes already there (same CID, same bytes). The temporary file is gone
 * afterwards whatever the outcome. Disk: an atomic rename (a copy first when the
 * temporary directory is on another filesystem). S3: a PUT of the file. */
enum err blobstore_put(struct blobstore *s, const char *did, const struct cid *cid,
                       const char *tmp_path, uint64_t size) MUST_CHECK;

/* Removes (did, cid); absent bytes are not an error. */
enum err blobstore_delete(struct blobstore *s, const char *did, const struct cid *cid) MUST_CHECK;

/* Whether (did, cid) has bytes stored. */
enum err blobstore_exists(struct blobstore *s, const char *did, const struct cid *cid,
                          bool *out) MUST_CHECK;

/* Opens [offset, offset + len) of (did, cid) for reading. ERR_NOT_FOUND when absent.
 * Caller frees with blobstore_reader_free. */
enum err blobstore_reader_open(struct blobstore *s, const char *did, const struct cid *cid,
                               uint64_t offset, uint64_t len,
                               struct blobstore_reader **out) MUST_CHECK;
/* Copies the next bytes (at most max) to out: the count, 0 at the end of the range, -1 on
 * failure (including bytes ending before the range does). */
ssize_t blobstore_reader_read(struct blobstore_reader *r, uint8_t *out, size_t max);
void blobstore_reader_free(struct blobstore_reader *r); /* NULL is a no-op */

/* The disk layout, for tests and operators: <root>/<2 hex of SHA-256(did)>/<did>/<2 chars
 * of the CID before its last 6>/<cid>. Writes at most BLOBSTORE_PATH_MAX bytes; false when
 * the path does not fit or did contains "/" or is "." or "..". */
bool blobstore_disk_path(const char *root, const char *did, const struct cid *cid, char *out);
/* The S3 object key: blocks/<did>/<cid>. */
bool blobstore_s3_key(const char *did, const struct cid *cid, char *out);

/* Backends (blobstore_disk.c, blobstore_s3.c) behind the calls above. */
struct blobstore_ops {
    const char *kind;
    enum err (*put)(struct blobstore *s, const char *did, const struct cid *cid,
                    const char *tmp_path, uint64_t size);
    enum err (*del)(struct blobstore *s, const char *did, const struct cid *cid);
    enum err (*exists)(struct blobstore *s, const char *did, const struct cid *cid, bool *out);
    enum err (*open)(struct blobstore *s, const char *did, const struct cid *cid, uint64_t offset,
                     uint64_t len, struct blobstore_reader **out);
    ssize_t (*read)(struct blobstore_reader *r, uint8_t *out, size_t max);
    void (*reader_free)(struct blobstore_reader *r);
    void (*free)(struct blobstore *s);
};

struct blobstore {
    const struct blobstore_ops *ops;
    char *tmp_dir;
    void *impl;
};

/* Backend constructors: fill s->ops and s->impl. */
enum err blobstore_disk_init(struct blobstore *s, const struct blobstore_config *cfg, char *why,
                             size_t why_len) MUST_CHECK;
enum err blobstore_s3_init(struct blobstore *s, const struct blobstore_config *cfg, char *why,
                           size_t why_len) MUST_CHECK;

/* Creates dir and its parents (mode 0700 for new ones); existing is fine. */
enum err blobstore_mkdirs(const char *dir) MUST_CHECK;

#endif
