/* httppull.h - one outgoing HTTP request whose response body is pulled by the caller, a
 * chunk at a time (libcurl's multi interface, paused while our small buffer is full), so a
 * large upstream answer streams through without being held whole. Used for S3 reads and
 * writes and for XRPC proxying. The request body comes from memory or a file descriptor.
 *
 * A struct httppull belongs to one thread at a time (it may move between calls). Calls
 * block for at most the timeouts given. SSRF protection (refusing private, loopback and
 * link-local addresses at connect time, and plain http) is per request. */
#ifndef PDS_BLOB_HTTPPULL_H
#define PDS_BLOB_HTTPPULL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/bytes.h"
#include "core/err.h"

#define HTTPPULL_BUFFER_BYTES ((size_t)256 << 10) /* response bytes buffered ahead of reads */
#define HTTPPULL_HEADERS_MAX  64                  /* response headers kept; more are dropped */
#define HTTPPULL_HEADER_BYTES ((size_t)16 << 10)  /* total size of the kept headers */
#define HTTPPULL_TIMEOUT_MS   30000               /* a timeout given as 0 */

struct httppull_opts {
    const char *method; /* GET, HEAD, POST, PUT, DELETE */
    const char *url;
    const char *const *headers; /* "Name: value" lines, sent as given */
    size_t n_headers;
    /* Request body: body_fd >= 0 reads body_len bytes from that descriptor (from offset 0,
     * with pread), else body (may be empty). Ignored for GET, HEAD and DELETE. */
    struct bytes body;
    int body_fd;
    uint64_t body_len;
    long headers_timeout_ms; /* connect + send + response headers; 0: default */
    long body_timeout_ms;    /* longest wait for the next body bytes; 0: default */
    uint64_t max_body_bytes; /* response cap; 0: none. Past it reads fail */
    bool ssrf_protect;       /* https only, and no private/loopback addresses */
    const char *ca_file;     /* a PEM bundle trusted besides the system's CA directory, or
                                NULL (PDS_OAUTH_CLIENT_CA_FILE for OAuth client fetches) */
};

struct httppull;

/* Sends the request and waits for the response headers. On ERR_OK *out is the transfer
 * (caller frees with httppull_free), whatever the HTTP status. ERR_UPSTREAM when the
 * server could not be reached or failed before its headers (refused by SSRF protection
 * too), ERR_RATE_LIMITED is never returned; a timeout gives ERR_UPSTREAM with
 * *timed_out set. why (may be NULL) gets a reason for the log. */
enum err httppull_start(const struct httppull_opts *o, struct httppull **out, bool *timed_out,
                        char *why, size_t why_len) MUST_CHECK;

long httppull_status(const struct httppull *p);
/* The last value of a response header (case-insensitive name), or NULL. */
const char *httppull_header(const struct httppull *p, const char *name);
/* Content-Length of the response, or -1 when not given. */
int64_t httppull_content_length(const struct httppull *p);

/* Copies up to max response body bytes to out. Returns the count (> 0), 0 at the end of
 * the body, or -1 on failure (network, timeout, over max_body_bytes): see
 * httppull_timed_out. */
ssize_t httppull_read(struct httppull *p, uint8_t *out, size_t max);
/* Reads the rest of the body into out (its max, and max_body_bytes, give ERR_TOO_LARGE). */
enum err httppull_read_all(struct httppull *p, struct buf *out) MUST_CHECK;
bool httppull_timed_out(const struct httppull *p);

void httppull_free(struct httppull *p); /* NULL is a no-op; aborts an unfinished transfer */

/* True for addresses SSRF protection refuses (IPv4 or IPv6 text or binary sockaddr):
 * unspecified, loopback, private (RFC 1918, ULA), shared (100.64/10), link-local,
 * multicast and reserved. */
struct sockaddr;
bool httppull_addr_is_private(const struct sockaddr *sa);

#endif
