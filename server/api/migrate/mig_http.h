/* mig_http.h - the migration's one HTTP call (libcurl easy interface): a bounded request to
 * another PDS (or to this server over loopback), whose response body goes to memory or to a
 * file, hashed with SHA-256 on the way when asked, and whose XRPC error {error, message} is
 * read out. No retries here: mig_peer.c decides what may be tried again.
 * Thread-safe: one easy handle per call; curl_global_init runs once per process. */
#ifndef PDS_API_MIGRATE_MIG_HTTP_H
#define PDS_API_MIGRATE_MIG_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bytes.h"
#include "core/err.h"
#include "core/sha256.h"

#define MIG_HTTP_JSON_MAX_BYTES  ((uint64_t)4 << 20) /* a JSON answer (DID docs, prefs) */
#define MIG_HTTP_CONNECT_MS      10000
#define MIG_HTTP_LOW_SPEED_BYTES 64 /* below this many bytes/s ... */
#define MIG_HTTP_LOW_SPEED_S     30 /* ... for this long, a transfer is stalled */
#define MIG_HTTP_ERROR_MAX       64
#define MIG_HTTP_MESSAGE_MAX     300

struct mig_http_req {
    const char *method; /* "GET" or "POST" */
    const char *url;    /* full URL, query included (values escaped by the caller) */
    const char *bearer; /* Authorization: Bearer <bearer>, or NULL */
    const char *content_type;
    struct bytes body; /* POST body from memory, or ... */
    int body_fd;       /* ... >= 0: body_len bytes from this file (from offset 0) */
    uint64_t body_len;
    long timeout_ms;    /* whole transfer; 0: none beyond the stall rule */
    uint64_t max_bytes; /* response cap; 0: MIG_HTTP_JSON_MAX_BYTES */
    int out_fd;         /* >= 0: the body is written here instead of to memory */
    bool hash;          /* compute the body's SHA-256 into the response */
    bool ssrf_protect;  /* https only, and never a private, loopback or link-local address */
    bool to_self;       /* a call to this host: carries its internal rate-limit bypass key */
    /* called as bytes arrive (may be NULL): total received so far */
    void (*on_bytes)(void *ctx, uint64_t received);
    void *ctx;
};

struct mig_http_resp {
    long status;     /* HTTP status; 0 when none came */
    struct buf body; /* the body (out_fd < 0); NUL-terminated */
    uint64_t bytes;  /* body bytes received */
    uint8_t sha256[SHA256_BYTES];
    char error[MIG_HTTP_ERROR_MAX];     /* XRPC error name of a non-2xx answer, or "" */
    char message[MIG_HTTP_MESSAGE_MAX]; /* its message, or "" */
    char content_type[128];             /* the answer's Content-Type, or "" */
    bool timed_out;
    bool too_large;
    char why[160]; /* transport failure, for the log */
};

/* Initialises a request with no body, no bearer, no file. */
void mig_http_req_init(struct mig_http_req *rq, const char *method, const char *url);
void mig_http_resp_init(struct mig_http_resp *r);
void mig_http_resp_clear(struct mig_http_resp *r);

/* Performs the request. ERR_OK when an answer came (any status: see r->status, r->error);
 * ERR_UPSTREAM when none did (refused, reset, timed out: r->timed_out, r->why);
 * ERR_TOO_LARGE when the body passed the cap. */
enum err mig_http_do(const struct mig_http_req *rq, struct mig_http_resp *r) MUST_CHECK;

/* value percent-encoded for a URL query; malloc'd. */
char *mig_http_escape(const char *value);

#endif
