/* blobstore_s3.c - blobs as objects of an S3-compatible bucket, keyed blocks/<did>/<cid> as
 * in the reference PDS. Each call is one signed HTTP request (AWS SigV4, header form, the
 * payload hash sent in x-amz-content-sha256); reads stream through blob/httppull.h. */
#include "blob/blobstore.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blob/httppull.h"
#include "blob/sigv4.h"
#include "core/sha256.h"
#include "db/log.h"

#define S3_DEFAULT_REGION  "us-east-1"
#define S3_SERVICE         "s3"
#define S3_ERROR_BODY_MAX  4096 /* bytes of an error answer kept for the log */
#define S3_HEADER_LINE_MAX 512

struct s3_store {
    char *scheme;    /* "https" or "http" */
    char *authority; /* host[:port] requests go to (the bucket's, in virtual-host style) */
    char *base_path; /* "" or "/<bucket>" (path style), plus any endpoint path */
    char *region;
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* AWS_SESSION_TOKEN, or NULL */
    long upload_timeout_ms, request_timeout_ms;
};

struct s3_reader {
    const struct blobstore_ops *ops;
    struct httppull *pull;
    uint64_t left;
};

static char *sdup(const char *s)
{
    return s ? xstrndup(s, strlen(s)) : NULL;
}

/* One signed request, prepared: URL and header lines, valid while the struct lives. */
struct s3_call {
    char url[BLOBSTORE_PATH_MAX + 512];
    char lines[6][S3_HEADER_LINE_MAX];
    const char *hdrs[6];
    size_t n;
};

static void add_line(struct s3_call *c, const char *name, const char *value)
{
    snprintf(c->lines[c->n], S3_HEADER_LINE_MAX, "%s: %s", name, value);
    c->hdrs[c->n] = c->lines[c->n];
    c->n++;
}

/* Builds and signs method on the object (did, cid). range may be NULL. */
static enum err s3_prepare(const struct s3_store *st, const char *method, const char *did,
                           const struct cid *cid, const char *payload_hash, const char *range,
                           struct s3_call *c)
{
    char key[BLOBSTORE_PATH_MAX];
    if (!blobstore_s3_key(did, cid, key)) {
        return ERR_INVALID;
    }
    struct buf path;
    buf_init(&path, BLOBSTORE_PATH_MAX);
    enum err e = buf_appendf(&path, "%s/", st->base_path);
    if (!e) {
        e = sigv4_uri_encode(key, true, &path);
    }
    char amz_date[SIGV4_AMZ_DATE_LEN + 1];
    sigv4_amz_date((int64_t)time(NULL), amz_date);
    struct sigv4_header h[5] = {
        {"host", st->authority},
        {"x-amz-content-sha256", payload_hash},
        {"x-amz-date", amz_date},
    };
    size_t nh = 3;
    if (range) {
        h[nh++] = (struct sigv4_header){"range", range};
    }
    if (st->session_token) {
        h[nh++] = (struct sigv4_header){"x-amz-security-token", st->session_token};
    }
    struct sigv4_request rq = {
        .method = method,
        .path = path.ptr ? (const char *)path.ptr : "/",
        .query = "",
        .headers = h,
        .n_headers = nh,
        .payload_hash = payload_hash,
        .amz_date = amz_date,
        .region = st->region,
        .service = S3_SERVICE,
        .access_key_id = st->access_key_id,
        .secret_access_key = st->secret_access_key,
    };
    struct sigv4_result sig;
    if (!e) {
        e = sigv4_sign(&rq, &sig);
    }
    if (!e) {
        c->n = 0;
        snprintf(c->url, sizeof c->url, "%s://%s%s", st->scheme, st->authority,
                 (const char *)path.ptr);
        for (size_t i = 0; i < nh; i++) {
            add_line(c, h[i].name, h[i].value);
        }
        add_line(c, "Authorization", (const char *)sig.authorization.ptr);
    }
    sigv4_result_clear(&sig);
    buf_clear(&path);
    return e;
}

/* Sends a prepared call; *out is the started transfer. Logs failures. */
static enum err s3_send(const struct s3_store *st, const char *method, struct s3_call *c,
                        int body_fd, uint64_t body_len, long timeout_ms, struct httppull **out)
{
    struct httppull_opts o = {
        .method = method,
        .url = c->url,
        .headers = c->hdrs,
        .n_headers = c->n,
        .body_fd = body_fd,
        .body_len = body_len,
        .headers_timeout_ms = timeout_ms,
        .body_timeout_ms = st->request_timeout_ms,
    };
    bool timed_out;
    char why[256];
    enum err e = httppull_start(&o, out, &timed_out, why, sizeof why);
    if (e) {
        log_warn(NULL, "s3 %s %s: %s", method, c->url, why);
    }
    return e;
}

/* Reads and logs an error answer. */
static enum err s3_status_error(struct httppull *p, const char *method, const char *url)
{
    struct buf body;
    buf_init(&body, S3_ERROR_BODY_MAX);
    if (httppull_read_all(p, &body)) {
        buf_reset(&body); /* the log gets no body: nothing lost but a detail */
    }
    log_warn(NULL, "s3 %s %s: HTTP %ld %.*s", method, url, httppull_status(p), (int)body.len,
             body.ptr ? (const char *)body.ptr : "");
    buf_clear(&body);
    return httppull_status(p) == 404 ? ERR_NOT_FOUND : ERR_UPSTREAM;
}

/* A bodiless answer: ERR_OK for 2xx, ERR_NOT_FOUND for 404, else ERR_UPSTREAM. */
static enum err s3_simple(const struct s3_store *st, const char *method, const char *did,
                          const struct cid *cid, int body_fd, uint64_t body_len,
                          const char *payload_hash, long timeout_ms)
{
    struct s3_call c;
    struct httppull *p = NULL;
    enum err e = s3_prepare(st, method, did, cid, payload_hash, NULL, &c);
    if (!e) {
        e = s3_send(st, method, &c, body_fd, body_len, timeout_ms, &p);
    }
    if (!e) {
        long status = httppull_status(p);
        if (status >= 200 && status < 300) {
            struct buf drain;
            buf_init(&drain, S3_ERROR_BODY_MAX);
            if (httppull_read_all(p, &drain) == ERR_UPSTREAM) {
                e = ERR_UPSTREAM;
            }
            buf_clear(&drain);
        } else if (status == 404 && strcmp(method, "HEAD") == 0) {
            e = ERR_NOT_FOUND;
        } else {
            e = s3_status_error(p, method, c.url);
        }
    }
    httppull_free(p);
    return e;
}

static struct s3_store *store_of(struct blobstore *s)
{
    return s->impl;
}

static enum err s3_put(struct blobstore *s, const char *did, const struct cid *cid,
                       const char *tmp_path, uint64_t size)
{
    int fd = open(tmp_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return ERR_INTERNAL;
    }
    /* a blob's CID is the SHA-256 of its bytes: the payload hash is already known */
    char hash[SIGV4_HEX_BYTES + 1];
    struct bytes digest = cid_digest(cid);
    if (digest.len != SHA256_BYTES) {
        close(fd);
        return ERR_INVALID;
    }
    sigv4_hex(digest.ptr, digest.len, hash);
    enum err e =
        s3_simple(store_of(s), "PUT", did, cid, fd, size, hash, store_of(s)->upload_timeout_ms);
    close(fd);
    return e;
}

static enum err s3_del(struct blobstore *s, const char *did, const struct cid *cid)
{
    enum err e = s3_simple(store_of(s), "DELETE", did, cid, -1, 0, SIGV4_EMPTY_SHA256,
                           store_of(s)->request_timeout_ms);
    return e == ERR_NOT_FOUND ? ERR_OK : e;
}

static enum err s3_exists(struct blobstore *s, const char *did, const struct cid *cid, bool *out)
{
    enum err e = s3_simple(store_of(s), "HEAD", did, cid, -1, 0, SIGV4_EMPTY_SHA256,
                           store_of(s)->request_timeout_ms);
    *out = e == ERR_OK;
    return e == ERR_NOT_FOUND ? ERR_OK : e;
}

static const struct blobstore_ops s3_ops;

static enum err s3_open(struct blobstore *s, const char *did, const struct cid *cid,
                        uint64_t offset, uint64_t len, struct blobstore_reader **out)
{
    struct s3_store *st = store_of(s);
    char range[64];
    snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)offset,
             (unsigned long long)(offset + len - 1));
    struct s3_call c;
    struct httppull *p = NULL;
    /* an empty range cannot be asked for with Range: fetch nothing, but check existence */
    enum err e =
        s3_prepare(st, len ? "GET" : "HEAD", did, cid, SIGV4_EMPTY_SHA256, len ? range : NULL, &c);
    if (!e) {
        e = s3_send(st, len ? "GET" : "HEAD", &c, -1, 0, st->request_timeout_ms, &p);
    }
    if (!e) {
        long status = httppull_status(p);
        if (status != 200 && status != 206) {
            e = s3_status_error(p, "GET", c.url);
        } else if (status == 200 && offset > 0) {
            e = ERR_UPSTREAM; /* the range was ignored: refuse rather than serve wrong bytes */
        }
    }
    if (e) {
        httppull_free(p);
        return e;
    }
    struct s3_reader *r = xcalloc(1, sizeof *r);
    r->ops = &s3_ops;
    r->pull = p;
    r->left = len;
    *out = (struct blobstore_reader *)r;
    return ERR_OK;
}

static ssize_t s3_read(struct blobstore_reader *rd, uint8_t *out, size_t max)
{
    struct s3_reader *r = (struct s3_reader *)rd;
    if (r->left == 0) {
        return 0;
    }
    size_t want = r->left < max ? (size_t)r->left : max;
    ssize_t n = httppull_read(r->pull, out, want);
    if (n <= 0) {
        return -1; /* ended early or failed */
    }
    r->left -= (uint64_t)n;
    return n;
}

static void s3_reader_free(struct blobstore_reader *rd)
{
    struct s3_reader *r = (struct s3_reader *)rd;
    httppull_free(r->pull);
    free(r);
}

static void s3_free(struct blobstore *s)
{
    struct s3_store *st = s->impl;
    if (!st) {
        return;
    }
    free(st->scheme);
    free(st->authority);
    free(st->base_path);
    free(st->region);
    free(st->access_key_id);
    if (st->secret_access_key) {
        explicit_bzero(st->secret_access_key, strlen(st->secret_access_key));
    }
    free(st->secret_access_key);
    free(st->session_token);
    free(st);
}

static const struct blobstore_ops s3_ops = {
    .kind = "s3",
    .put = s3_put,
    .del = s3_del,
    .exists = s3_exists,
    .open = s3_open,
    .read = s3_read,
    .reader_free = s3_reader_free,
    .free = s3_free,
};

/* Splits endpoint "scheme://authority[/path]" into the store's URL parts. */
static bool parse_endpoint(struct s3_store *st, const char *endpoint, const char *bucket,
                           bool path_style)
{
    const char *sep = strstr(endpoint, "://");
    if (!sep) {
        return false;
    }
    st->scheme = xstrndup(endpoint, (size_t)(sep - endpoint));
    if (strcmp(st->scheme, "http") != 0 && strcmp(st->scheme, "https") != 0) {
        return false;
    }
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/");
    if (alen == 0) {
        return false;
    }
    const char *path = auth + alen;
    size_t plen = strlen(path);
    while (plen && path[plen - 1] == '/') {
        plen--;
    }
    char buf[BLOBSTORE_PATH_MAX];
    if (path_style) {
        st->authority = xstrndup(auth, alen);
        snprintf(buf, sizeof buf, "%.*s/%s", (int)plen, path, bucket);
    } else {
        snprintf(buf, sizeof buf, "%s.%.*s", bucket, (int)alen, auth);
        st->authority = sdup(buf);
        snprintf(buf, sizeof buf, "%.*s", (int)plen, path);
    }
    st->base_path = sdup(buf);
    return true;
}

enum err blobstore_s3_init(struct blobstore *s, const struct blobstore_config *cfg, char *why,
                           size_t why_len)
{
    struct s3_store *st = xcalloc(1, sizeof *st);
    s->impl = st;
    s->ops = &s3_ops;
    st->region = sdup(cfg->s3_region && *cfg->s3_region ? cfg->s3_region : S3_DEFAULT_REGION);
    const char *key = cfg->s3_access_key_id ? cfg->s3_access_key_id : getenv("AWS_ACCESS_KEY_ID");
    const char *secret =
        cfg->s3_secret_access_key ? cfg->s3_secret_access_key : getenv("AWS_SECRET_ACCESS_KEY");
    st->access_key_id = sdup(key);
    st->secret_access_key = sdup(secret);
    if (!cfg->s3_access_key_id) {
        st->session_token = sdup(getenv("AWS_SESSION_TOKEN"));
    }
    st->upload_timeout_ms = cfg->s3_upload_timeout_ms;
    st->request_timeout_ms = cfg->s3_request_timeout_ms;
    if (!key || !*key || !secret || !*secret) {
        snprintf(why, why_len,
                 "S3 blob store: no credentials (PDS_BLOBSTORE_S3_ACCESS_KEY_ID and "
                 "PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY, or AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY)");
        return ERR_INVALID;
    }
    char endpoint[BLOBSTORE_PATH_MAX];
    if (cfg->s3_endpoint && *cfg->s3_endpoint) {
        snprintf(endpoint, sizeof endpoint, "%s", cfg->s3_endpoint);
    } else {
        snprintf(endpoint, sizeof endpoint, "https://s3.%s.amazonaws.com", st->region);
    }
    if (strchr(cfg->s3_bucket, '/') ||
        !parse_endpoint(st, endpoint, cfg->s3_bucket, cfg->s3_force_path_style)) {
        snprintf(why, why_len, "S3 blob store: bad endpoint \"%s\" or bucket \"%s\"", endpoint,
                 cfg->s3_bucket);
        return ERR_INVALID;
    }
    return ERR_OK;
}
