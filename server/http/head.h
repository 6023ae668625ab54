/* head.h - checks of a request head as a whole, made before routing: NUL bytes hidden in the
 * request line, the size limits, transfer codings libmicrohttpd would misread. Pure;
 * thread-safe. server.c gathers the facts from the library and sends the refusal. */
#ifndef PDS_HTTP_HEAD_H
#define PDS_HTTP_HEAD_H

#include <stdbool.h>
#include <stddef.h>

/* Largest request head (request line and headers): Node's default maxHeaderSize, past which
 * the reference answers 431. A longer target gets 414, a larger head 431. */
#define HTTP_HEAD_MAX_BYTES (16 << 10)

/* What the library told us about one request head. */
struct head_facts {
    const char *method;  /* the method, as passed to the access handler */
    const char *target;  /* the target, as passed to the URI callback (the library's buffer) */
    size_t target_len;   /* strlen(target) when it was passed */
    const char *version; /* the version, as passed to the access handler */
    size_t head_bytes;   /* request line and headers; 0 when unknown */
    const char *transfer_encoding; /* the first Transfer-Encoding value, or NULL */
    unsigned n_transfer_encodings; /* how many Transfer-Encoding headers were sent */
    size_t line_buffer_max;        /* the library's per-connection buffer: no line is longer */
};

/* Whether the request line held a NUL byte. libmicrohttpd 0.9.75 splits the line in place
 * (parse_initial_message_line) into "<method>\0<spaces><target>\0<version>", the three
 * pointers aiming into it; a NUL inside the line ends the method or target early, which the
 * distances between the parts then betray. Pointers not laid out so (another library
 * version) cannot be judged: false. */
bool head_request_line_has_nul(const struct head_facts *f);

/* The status refusing this head (400, 414, 431 or 501) with its message in *why, or 0. */
int head_refusal(const struct head_facts *f, const char **why);

#endif
