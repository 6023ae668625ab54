/* sigv4.h - AWS Signature Version 4 for S3 requests (header-based, single-chunk payload):
 * canonical request, string to sign, signing key, Authorization header.
 * Pure (OpenSSL HMAC-SHA256); thread-safe. */
#ifndef PDS_BLOB_SIGV4_H
#define PDS_BLOB_SIGV4_H

#include "core/bytes.h"
#include "core/err.h"

#define SIGV4_ALGORITHM    "AWS4-HMAC-SHA256"
#define SIGV4_AMZ_DATE_LEN 16 /* "20130524T000000Z" */
#define SIGV4_HEX_BYTES    64 /* a SHA-256 in hex */
#define SIGV4_HEADERS_MAX  16 /* signed headers of one request */
#define SIGV4_UNSIGNED     "UNSIGNED-PAYLOAD"
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct sigv4_header {
    const char *name;  /* any case; lower-cased when signed */
    const char *value; /* leading/trailing spaces trimmed, inner runs folded, when signed */
};

/* One request to sign. Every string is borrowed. */
struct sigv4_request {
    const char *method; /* "GET", "PUT", ... */
    const char *path;   /* already URI-encoded (sigv4_uri_encode), starting with "/" */
    const char *query;  /* canonical query string (sorted, encoded), or "" / NULL */
    const struct sigv4_header *headers; /* must include host, x-amz-date and
                                           x-amz-content-sha256 (S3 requires it) */
    size_t n_headers;
    const char *payload_hash; /* hex SHA-256 of the body, or SIGV4_UNSIGNED */
    const char *amz_date;     /* the x-amz-date value: YYYYMMDDTHHMMSSZ */
    const char *region;       /* "us-east-1" */
    const char *service;      /* "s3" */
    const char *access_key_id;
    const char *secret_access_key;
};

/* What signing produced; each buffer is owned: clear with sigv4_result_clear. */
struct sigv4_result {
    struct buf canonical_request;
    struct buf string_to_sign;
    char signature[SIGV4_HEX_BYTES + 1];
    struct buf authorization; /* the Authorization header value */
};

/* Signs rq. ERR_INVALID for a missing field, a malformed amz_date or too many headers;
 * out is then safe to clear. */
enum err sigv4_sign(const struct sigv4_request *rq, struct sigv4_result *out) MUST_CHECK;
void sigv4_result_clear(struct sigv4_result *r);

/* URI-encodes s as S3 wants it in paths and query values: RFC 3986 unreserved characters
 * (A-Z a-z 0-9 - . _ ~) stay, everything else becomes %XX (upper-case hex); "/" stays when
 * keep_slash (object key paths). Appends to out. */
enum err sigv4_uri_encode(const char *s, bool keep_slash, struct buf *out) MUST_CHECK;

/* Formats Unix seconds as x-amz-date (YYYYMMDDTHHMMSSZ, UTC). */
void sigv4_amz_date(int64_t unix_s, char out[SIGV4_AMZ_DATE_LEN + 1]);

/* Lower-case hex of bytes, NUL-terminated: out holds 2 * len + 1. */
void sigv4_hex(const uint8_t *p, size_t len, char *out);

#endif
