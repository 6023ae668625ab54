/* head.c - request-head checks made before routing (see head.h). */
#include "http/head.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

bool head_request_line_has_nul(const struct head_facts *f)
{
    if (!f->method || !f->target || !f->version) {
        return false;
    }
    uintptr_t m = (uintptr_t)f->method, t = (uintptr_t)f->target, v = (uintptr_t)f->version;
    size_t method_len = strlen(f->method);
    if (!(m < t && t < v && v - m <= f->line_buffer_max && m + method_len < t)) {
        return false;
    }
    for (const char *p = f->method + method_len + 1; p < f->target; p++) {
        if (*p != ' ') {
            return true; /* the method went on past a NUL */
        }
    }
    return v - t != f->target_len + 1;
}

int head_refusal(const struct head_facts *f, const char **why)
{
    *why = NULL;
    if (head_request_line_has_nul(f)) {
        *why = "the request line contains a NUL byte";
        return 400;
    }
    /* the reference (Node) answers 431 past the same size; 414 names the cause better */
    if (f->target_len > HTTP_HEAD_MAX_BYTES) {
        *why = "request target longer than 16384 bytes";
        return 414;
    }
    if (f->head_bytes > HTTP_HEAD_MAX_BYTES) {
        *why = "request head larger than 16384 bytes";
        return 431;
    }
    /* spec(RFC 9112 6.1): libmicrohttpd decodes only a Transfer-Encoding of exactly
     * "chunked"; any other it reads as a body lasting until the client closes, so an unknown
     * coding ("gzip", "gzip, chunked") or a repeated header is refused at once with the 501
     * the RFC asks for, rather than waited on */
    if (f->transfer_encoding &&
        (f->n_transfer_encodings != 1 || strcasecmp(f->transfer_encoding, "chunked") != 0)) {
        *why = "unsupported Transfer-Encoding";
        return 501;
    }
    return 0;
}
