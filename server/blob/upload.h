/* upload.h - one blob upload as it arrives: written to a temporary file of the blob store
 * while its SHA-256 (hence its raw CID), size and first bytes (for type sniffing) are
 * computed, so the body is never held in memory. One thread at a time. */
#ifndef PDS_BLOB_UPLOAD_H
#define PDS_BLOB_UPLOAD_H

#include "blob/blobstore.h"
#include "blob/sniff.h"
#include "core/sha256.h"

struct blob_upload {
    int fd;                        /* the temporary file, -1 when none */
    char path[BLOBSTORE_PATH_MAX]; /* its name, "" once handed over or removed */
    struct sha256_ctx _hash;
    bool _hashing;
    uint64_t size; /* bytes written so far */
    uint8_t head[SNIFF_HEAD_BYTES];
    size_t head_len;
    struct cid cid; /* set by blob_upload_finish */
};

/* Opens a temporary file in s. On failure u is still safe to clear. */
enum err blob_upload_begin(struct blob_upload *u, struct blobstore *s) MUST_CHECK;
/* Appends bytes. ERR_INTERNAL when the disk write fails (full disk). */
enum err blob_upload_write(struct blob_upload *u, const uint8_t *p, size_t n) MUST_CHECK;
/* Flushes the file to disk and sets u->cid (raw codec, SHA-256). */
enum err blob_upload_finish(struct blob_upload *u) MUST_CHECK;
/* Closes the file and removes it unless blobstore_put took it (then path is ""). */
void blob_upload_clear(struct blob_upload *u);

#endif
