/* sigv4.c - AWS Signature Version 4: the canonical request, the string to sign and the
 * HMAC-SHA256 key chain, as the S3 documentation describes them. */
#include "blob/sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/sha256.h"

#define SIGV4_KEY_PREFIX "AWS4"
#define SIGV4_TERMINATOR "aws4_request"
#define SIGV4_DATE_LEN   8 /* YYYYMMDD, the date part of amz_date */
#define SIGV4_LINE_MAX   ((size_t)64 << 10)

void sigv4_hex(const uint8_t *p, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * len] = '\0';
}

static void hmac(const uint8_t *key, size_t key_len, const char *msg, size_t msg_len,
                 uint8_t out[SHA256_BYTES])
{
    unsigned int n = SHA256_BYTES;
    HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, msg_len, out, &n);
}

enum err sigv4_uri_encode(const char *s, bool keep_slash, struct buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        enum err e;
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
            (keep_slash && *p == '/')) {
            e = buf_append_byte(out, *p);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            e = buf_append(out, esc, sizeof esc);
        }
        if (e) {
            return e;
        }
    }
    return ERR_OK;
}

void sigv4_amz_date(int64_t unix_s, char out[SIGV4_AMZ_DATE_LEN + 1])
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, SIGV4_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

/* A header value as canonicalised: trimmed, and runs of spaces folded to one. */
static enum err append_trimmed(struct buf *b, const char *v)
{
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) {
        n--;
    }
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        bool is_space = v[i] == ' ' || v[i] == '\t';
        if (is_space && space) {
            continue;
        }
        space = is_space;
        if (buf_append_byte(b, is_space ? ' ' : (uint8_t)v[i])) {
            return ERR_TOO_LARGE;
        }
    }
    return ERR_OK;
}

static enum err append_lower(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (buf_append_byte(b, (uint8_t)tolower((unsigned char)*s))) {
            return ERR_TOO_LARGE;
        }
    }
    return ERR_OK;
}

/* Headers sorted by lower-cased name (insertion sort: a request signs a handful). */
static void sort_headers(const struct sigv4_header **h, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        const struct sigv4_header *x = h[i];
        size_t j = i;
        while (j > 0 && strcasecmp(h[j - 1]->name, x->name) > 0) {
            h[j] = h[j - 1];
            j--;
        }
        h[j] = x;
    }
}

static enum err canonical_request(const struct sigv4_request *rq, struct buf *signed_names,
                                  struct buf *out)
{
    const struct sigv4_header *sorted[SIGV4_HEADERS_MAX];
    for (size_t i = 0; i < rq->n_headers; i++) {
        sorted[i] = &rq->headers[i];
    }
    sort_headers(sorted, rq->n_headers);
    enum err e = buf_appendf(out, "%s\n%s\n%s\n", rq->method, rq->path, rq->query ? rq->query : "");
    for (size_t i = 0; i < rq->n_headers && !e; i++) {
        if ((e = append_lower(out, sorted[i]->name)) || (e = buf_append_byte(out, ':')) ||
            (e = append_trimmed(out, sorted[i]->value)) || (e = buf_append_byte(out, '\n'))) {
            break;
        }
        if (i > 0) {
            e = buf_append_byte(signed_names, ';');
        }
        if (!e) {
            e = append_lower(signed_names, sorted[i]->name);
        }
    }
    if (!e) {
        e = buf_appendf(out, "\n%s\n%s", signed_names->ptr ? (const char *)signed_names->ptr : "",
                        rq->payload_hash);
    }
    return e;
}

static bool amz_date_valid(const char *d)
{
    if (!d || strlen(d) != SIGV4_AMZ_DATE_LEN || d[8] != 'T' || d[15] != 'Z') {
        return false;
    }
    for (int i = 0; i < 15; i++) {
        if (i != 8 && !isdigit((unsigned char)d[i])) {
            return false;
        }
    }
    return true;
}

enum err sigv4_sign(const struct sigv4_request *rq, struct sigv4_result *out)
{
    memset(out, 0, sizeof *out);
    buf_init(&out->canonical_request, SIGV4_LINE_MAX);
    buf_init(&out->string_to_sign, SIGV4_LINE_MAX);
    buf_init(&out->authorization, SIGV4_LINE_MAX);
    if (!rq->method || !rq->path || !rq->payload_hash || !amz_date_valid(rq->amz_date) ||
        !rq->region || !rq->service || !rq->access_key_id || !rq->secret_access_key ||
        rq->n_headers == 0 || rq->n_headers > SIGV4_HEADERS_MAX) {
        return ERR_INVALID;
    }
    struct buf names;
    buf_init(&names, SIGV4_LINE_MAX);
    enum err e = canonical_request(rq, &names, &out->canonical_request);
    char date[SIGV4_DATE_LEN + 1];
    memcpy(date, rq->amz_date, SIGV4_DATE_LEN);
    date[SIGV4_DATE_LEN] = '\0';
    uint8_t digest[SHA256_BYTES];
    char digest_hex[SIGV4_HEX_BYTES + 1];
    sha256(out->canonical_request.ptr, out->canonical_request.len, digest);
    sigv4_hex(digest, sizeof digest, digest_hex);
    if (!e) {
        e = buf_appendf(&out->string_to_sign,
                        SIGV4_ALGORITHM "\n%s\n%s/%s/%s/" SIGV4_TERMINATOR "\n%s", rq->amz_date,
                        date, rq->region, rq->service, digest_hex);
    }
    if (e) {
        buf_clear(&names);
        return e;
    }
    /* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
    struct buf k0;
    buf_init(&k0, SIGV4_LINE_MAX);
    e = buf_appendf(&k0, SIGV4_KEY_PREFIX "%s", rq->secret_access_key);
    uint8_t k[SHA256_BYTES], sig[SHA256_BYTES];
    if (!e) {
        hmac(k0.ptr, k0.len, date, strlen(date), k);
        hmac(k, sizeof k, rq->region, strlen(rq->region), k);
        hmac(k, sizeof k, rq->service, strlen(rq->service), k);
        hmac(k, sizeof k, SIGV4_TERMINATOR, strlen(SIGV4_TERMINATOR), k);
        hmac(k, sizeof k, (const char *)out->string_to_sign.ptr, out->string_to_sign.len, sig);
        sigv4_hex(sig, sizeof sig, out->signature);
        e = buf_appendf(&out->authorization,
                        SIGV4_ALGORITHM " Credential=%s/%s/%s/%s/" SIGV4_TERMINATOR
                                        ",SignedHeaders=%s,Signature=%s",
                        rq->access_key_id, date, rq->region, rq->service, (const char *)names.ptr,
                        out->signature);
    }
    OPENSSL_cleanse(k0.ptr, k0.cap);
    OPENSSL_cleanse(k, sizeof k);
    buf_clear(&k0);
    buf_clear(&names);
    return e;
}

void sigv4_result_clear(struct sigv4_result *r)
{
    buf_clear(&r->canonical_request);
    buf_clear(&r->string_to_sign);
    buf_clear(&r->authorization);
}
