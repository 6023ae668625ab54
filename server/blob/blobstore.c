/* blobstore.c - the store's interface: temporary upload files, dispatching each call to the
 * backend, and the helpers backends share. Backends depend on this file, never the reverse;
 * blobstore_new.c picks one. */
#include "blob/blobstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob/sigv4.h"

#define TMP_NAME_RANDOM_BYTES 16

/* Every backend's reader starts with its ops, so the generic calls can dispatch. */
struct blobstore_reader {
    const struct blobstore_ops *ops;
};

enum err blobstore_mkdirs(const char *dir)
{
    char path[BLOBSTORE_PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        return ERR_INVALID;
    }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] == '/' || path[i] == '\0') {
            char c = path[i];
            path[i] = '\0';
            if (mkdir(path, 0700) != 0 && errno != EEXIST) {
                return ERR_INTERNAL;
            }
            path[i] = c;
        }
    }
    return ERR_OK;
}

void blobstore_free(struct blobstore *s)
{
    if (!s) {
        return;
    }
    if (s->ops && s->ops->free) {
        s->ops->free(s);
    }
    free(s->tmp_dir);
    free(s);
}

const char *blobstore_kind(const struct blobstore *s)
{
    return s->ops->kind;
}

enum err blobstore_tmp_create(struct blobstore *s, int *fd, char *path)
{
    uint8_t r[TMP_NAME_RANDOM_BYTES];
    char hex[2 * TMP_NAME_RANDOM_BYTES + 1];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        return ERR_INTERNAL;
    }
    sigv4_hex(r, sizeof r, hex);
    int n = snprintf(path, BLOBSTORE_PATH_MAX, "%s/upload-%s", s->tmp_dir, hex);
    if (n < 0 || n >= BLOBSTORE_PATH_MAX) {
        return ERR_INVALID;
    }
    *fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    return *fd < 0 ? ERR_INTERNAL : ERR_OK;
}

enum err blobstore_put(struct blobstore *s, const char *did, const struct cid *cid,
                       const char *tmp_path, uint64_t size)
{
    enum err e = s->ops->put(s, did, cid, tmp_path, size);
    unlink(tmp_path); /* gone whatever the outcome (a no-op after a rename) */
    return e;
}

enum err blobstore_delete(struct blobstore *s, const char *did, const struct cid *cid)
{
    return s->ops->del(s, did, cid);
}

enum err blobstore_exists(struct blobstore *s, const char *did, const struct cid *cid, bool *out)
{
    return s->ops->exists(s, did, cid, out);
}

enum err blobstore_reader_open(struct blobstore *s, const char *did, const struct cid *cid,
                               uint64_t offset, uint64_t len, struct blobstore_reader **out)
{
    *out = NULL;
    return s->ops->open(s, did, cid, offset, len, out);
}

ssize_t blobstore_reader_read(struct blobstore_reader *r, uint8_t *out, size_t max)
{
    return r->ops->read(r, out, max);
}

void blobstore_reader_free(struct blobstore_reader *r)
{
    if (r) {
        r->ops->reader_free(r);
    }
}

bool blobstore_s3_key(const char *did, const struct cid *cid, char *out)
{
    char cs[CID_STR_MAX];
    cid_format(cid, cs);
    int n = snprintf(out, BLOBSTORE_PATH_MAX, "blocks/%s/%s", did, cs);
    return n > 0 && n < BLOBSTORE_PATH_MAX && !strchr(did, '/');
}
