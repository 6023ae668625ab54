/* blobstore_new.c - opening the configured store: the one place that knows every backend
 * (disk, S3), so that the interface (blobstore.c) depends on none of them. */
#include "blob/blobstore.h"

#include <stdio.h>
#include <string.h>

enum err blobstore_new(const struct blobstore_config *cfg, struct blobstore **out, char *why,
                       size_t why_len)
{
    *out = NULL;
    if (!cfg->tmp_dir || !*cfg->tmp_dir) {
        snprintf(why, why_len, "PDS_BLOBSTORE_DISK_TMP_LOCATION is not set");
        return ERR_INVALID;
    }
    if (blobstore_mkdirs(cfg->tmp_dir)) {
        snprintf(why, why_len, "could not create the blob temporary directory %s", cfg->tmp_dir);
        return ERR_INTERNAL;
    }
    struct blobstore *s = xcalloc(1, sizeof *s);
    s->tmp_dir = xstrndup(cfg->tmp_dir, strlen(cfg->tmp_dir));
    enum err e = cfg->s3_bucket && *cfg->s3_bucket ? blobstore_s3_init(s, cfg, why, why_len)
                                                   : blobstore_disk_init(s, cfg, why, why_len);
    if (e) {
        blobstore_free(s);
        return e;
    }
    *out = s;
    return ERR_OK;
}
