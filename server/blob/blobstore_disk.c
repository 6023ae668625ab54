/* blobstore_disk.c - blobs as files: <root>/<2 hex of SHA-256(did)>/<did>/<2 CID chars>/<cid>.
 * Spreading accounts over 256 directories by a hash of the DID, and one account's blobs over
 * up to 1,024 by two base32 characters of the CID (from its hash, near the end), keeps every
 * directory small however many accounts and blobs there are. Files are written by renaming
 * a complete temporary file into place, so a reader never sees a partial blob. */
#include "blob/blobstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob/sigv4.h"
#include "core/sha256.h"

#define CID_SHARD_FROM_END 8 /* the shard is cid[len-8 .. len-6) */
#define COPY_CHUNK_BYTES   ((size_t)64 << 10)

struct disk_store {
    char *root;
};

struct disk_reader {
    const struct blobstore_ops *ops;
    int fd;
    uint64_t pos, end;
};

bool blobstore_disk_path(const char *root, const char *did, const struct cid *cid, char *out)
{
    if (!*did || strchr(did, '/') || strcmp(did, ".") == 0 || strcmp(did, "..") == 0) {
        return false;
    }
    uint8_t h[SHA256_BYTES];
    sha256(did, strlen(did), h);
    char hx[3];
    sigv4_hex(h, 1, hx);
    char cs[CID_STR_MAX];
    size_t n = cid_format(cid, cs);
    if (n < CID_SHARD_FROM_END) {
        return false;
    }
    int k = snprintf(out, BLOBSTORE_PATH_MAX, "%s/%s/%s/%.2s/%s", root, hx, did,
                     cs + n - CID_SHARD_FROM_END, cs);
    return k > 0 && k < BLOBSTORE_PATH_MAX;
}

static const char *root_of(struct blobstore *s)
{
    return ((struct disk_store *)s->impl)->root;
}

/* The directory part of path, as a new string in dir. */
static void dirname_of(const char *path, char *dir)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    memcpy(dir, path, n);
    dir[n] = '\0';
}

/* Copies src into a fresh file beside dst, then renames it over dst (other filesystem). */
static enum err copy_into_place(const char *src, const char *dst)
{
    char tmp[BLOBSTORE_PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s.partial.%d", dst, (int)getpid());
    if (n < 0 || n >= (int)sizeof tmp) {
        return ERR_INVALID;
    }
    int in = open(src, O_RDONLY | O_CLOEXEC);
    int out = in >= 0 ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    enum err e = in >= 0 && out >= 0 ? ERR_OK : ERR_INTERNAL;
    uint8_t *chunk = xmalloc(COPY_CHUNK_BYTES);
    while (!e) {
        ssize_t got = read(in, chunk, COPY_CHUNK_BYTES);
        if (got == 0) {
            break;
        }
        if (got < 0 || write(out, chunk, (size_t)got) != got) {
            e = ERR_INTERNAL;
        }
    }
    free(chunk);
    if (!e && fsync(out) != 0) {
        e = ERR_INTERNAL;
    }
    if (in >= 0) {
        close(in);
    }
    if (out >= 0 && close(out) != 0) {
        e = ERR_INTERNAL;
    }
    if (!e && rename(tmp, dst) != 0) {
        e = ERR_INTERNAL;
    }
    if (e) {
        unlink(tmp);
    }
    return e;
}

static enum err disk_put(struct blobstore *s, const char *did, const struct cid *cid,
                         const char *tmp_path, uint64_t size)
{
    char path[BLOBSTORE_PATH_MAX], dir[BLOBSTORE_PATH_MAX];
    if (!blobstore_disk_path(root_of(s), did, cid, path)) {
        return ERR_INVALID;
    }
    dirname_of(path, dir);
    enum err e = blobstore_mkdirs(dir);
    if (e) {
        return e;
    }
    if (rename(tmp_path, path) == 0) {
        return ERR_OK;
    }
    return errno == EXDEV ? copy_into_place(tmp_path, path) : ERR_INTERNAL;
}

static enum err disk_del(struct blobstore *s, const char *did, const struct cid *cid)
{
    char path[BLOBSTORE_PATH_MAX];
    if (!blobstore_disk_path(root_of(s), did, cid, path)) {
        return ERR_INVALID;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        return ERR_INTERNAL;
    }
    return ERR_OK;
}

static enum err disk_exists(struct blobstore *s, const char *did, const struct cid *cid, bool *out)
{
    char path[BLOBSTORE_PATH_MAX];
    if (!blobstore_disk_path(root_of(s), did, cid, path)) {
        return ERR_INVALID;
    }
    struct stat st;
    *out = stat(path, &st) == 0 && S_ISREG(st.st_mode);
    return ERR_OK;
}

static const struct blobstore_ops disk_ops;

static enum err disk_open(struct blobstore *s, const char *did, const struct cid *cid,
                          uint64_t offset, uint64_t len, struct blobstore_reader **out)
{
    char path[BLOBSTORE_PATH_MAX];
    if (!blobstore_disk_path(root_of(s), did, cid, path)) {
        return ERR_INVALID;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? ERR_NOT_FOUND : ERR_INTERNAL;
    }
    struct disk_reader *r = xcalloc(1, sizeof *r);
    r->ops = &disk_ops;
    r->fd = fd;
    r->pos = offset;
    r->end = offset + len;
    *out = (struct blobstore_reader *)r;
    return ERR_OK;
}

static ssize_t disk_read(struct blobstore_reader *rd, uint8_t *out, size_t max)
{
    struct disk_reader *r = (struct disk_reader *)rd;
    if (r->pos >= r->end) {
        return 0;
    }
    uint64_t left = r->end - r->pos;
    size_t want = left < max ? (size_t)left : max;
    ssize_t got = pread(r->fd, out, want, (off_t)r->pos);
    if (got <= 0) {
        return -1; /* the file is shorter than the range: never a silent short blob */
    }
    r->pos += (uint64_t)got;
    return got;
}

static void disk_reader_free(struct blobstore_reader *rd)
{
    struct disk_reader *r = (struct disk_reader *)rd;
    close(r->fd);
    free(r);
}

static void disk_free(struct blobstore *s)
{
    struct disk_store *d = s->impl;
    if (d) {
        free(d->root);
        free(d);
    }
}

static const struct blobstore_ops disk_ops = {
    .kind = "disk",
    .put = disk_put,
    .del = disk_del,
    .exists = disk_exists,
    .open = disk_open,
    .read = disk_read,
    .reader_free = disk_reader_free,
    .free = disk_free,
};

enum err blobstore_disk_init(struct blobstore *s, const struct blobstore_config *cfg, char *why,
                             size_t why_len)
{
    if (!cfg->disk_root || !*cfg->disk_root) {
        snprintf(why, why_len, "PDS_BLOBSTORE_DISK_LOCATION is not set");
        return ERR_INVALID;
    }
    if (blobstore_mkdirs(cfg->disk_root)) {
        snprintf(why, why_len, "could not create the blob directory %s", cfg->disk_root);
        return ERR_INTERNAL;
    }
    struct disk_store *d = xcalloc(1, sizeof *d);
    d->root = xstrndup(cfg->disk_root, strlen(cfg->disk_root));
    s->impl = d;
    s->ops = &disk_ops;
    return ERR_OK;
}
