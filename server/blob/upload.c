/* upload.c - a blob streamed to a temporary file while it is hashed. */
#include "blob/upload.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

enum err blob_upload_begin(struct blob_upload *u, struct blobstore *s)
{
    memset(u, 0, sizeof *u);
    u->fd = -1;
    enum err e = blobstore_tmp_create(s, &u->fd, u->path);
    if (e) {
        u->path[0] = '\0';
        return e;
    }
    sha256_init(&u->_hash);
    u->_hashing = true;
    return ERR_OK;
}

enum err blob_upload_write(struct blob_upload *u, const uint8_t *p, size_t n)
{
    if (u->fd < 0 || !u->_hashing) {
        return ERR_INTERNAL;
    }
    if (u->head_len < SNIFF_HEAD_BYTES) {
        size_t k = SNIFF_HEAD_BYTES - u->head_len;
        k = k < n ? k : n;
        memcpy(u->head + u->head_len, p, k);
        u->head_len += k;
    }
    sha256_update(&u->_hash, p, n);
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(u->fd, p + done, n - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return ERR_INTERNAL;
        }
        done += (size_t)w;
    }
    u->size += n;
    return ERR_OK;
}

enum err blob_upload_finish(struct blob_upload *u)
{
    if (u->fd < 0 || !u->_hashing) {
        return ERR_INTERNAL;
    }
    uint8_t digest[SHA256_BYTES];
    sha256_final(&u->_hash, digest);
    u->_hashing = false;
    /* raw CIDv1: 0x01, codec 0x55, multihash sha2-256 (0x12, 32 bytes) */
    u->cid.len = 4 + SHA256_BYTES;
    u->cid.bytes[0] = CID_VERSION_1;
    u->cid.bytes[1] = CID_CODEC_RAW;
    u->cid.bytes[2] = CID_MH_SHA256;
    u->cid.bytes[3] = SHA256_BYTES;
    memcpy(u->cid.bytes + 4, digest, SHA256_BYTES);
    return fsync(u->fd) == 0 ? ERR_OK : ERR_INTERNAL;
}

void blob_upload_clear(struct blob_upload *u)
{
    if (u->_hashing) {
        uint8_t scratch[SHA256_BYTES];
        sha256_final(&u->_hash, scratch); /* frees the hash state */
        u->_hashing = false;
    }
    if (u->fd >= 0) {
        close(u->fd);
        u->fd = -1;
    }
    if (u->path[0]) {
        unlink(u->path);
        u->path[0] = '\0';
    }
}
