/* response.c - setting a request's response: JSON, bytes, owned buffers, streams, headers.
 * server.c turns the result into a libmicrohttpd response once the handler returns. */
#include "http/xrpc.h"

#include <stdlib.h>
#include <string.h>

#define JSON_CONTENT_TYPE "application/json; charset=utf-8"
#define HEADERS_INITIAL   8

/* A second reply replaces the first (a handler that fails after starting a reply). */
static void reset_body(struct xrpc_req *rq)
{
    struct xrpc_resp *r = &rq->resp;
    if (r->body_malloced) {
        free((void *)r->body);
    }
    if (r->stream_free) {
        r->stream_free(r->stream_ctx);
    }
    r->body = NULL;
    r->body_len = 0;
    r->body_malloced = false;
    r->stream = NULL;
    r->stream_ctx = NULL;
    r->stream_free = NULL;
    r->stream_size = -1;
    r->upgrade = NULL;
    r->upgrade_ctx = NULL;
    r->content_type = NULL;
}

int xrpc_reply_json(struct xrpc_req *rq, int status, json_t *root)
{
    reset_body(rq);
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (!text) {
        log_error(&rq->log, "could not serialise a JSON response");
        status = 500;
        text = strdup("{\"error\":\"InternalServerError\",\"message\":\"Internal Server Error\"}");
        if (!text) {
            abort();
        }
    }
    rq->resp.status = status;
    rq->resp.content_type = JSON_CONTENT_TYPE;
    rq->resp.body = (const uint8_t *)text;
    rq->resp.body_len = strlen(text);
    rq->resp.body_malloced = true;
    return status;
}

int xrpc_reply_bytes(struct xrpc_req *rq, int status, const char *content_type, const void *data,
                     size_t len)
{
    reset_body(rq);
    rq->resp.status = status;
    rq->resp.content_type = arena_strndup(rq->arena, content_type, strlen(content_type));
    rq->resp.body = len ? arena_memdup(rq->arena, data, len) : NULL;
    rq->resp.body_len = len;
    return status;
}

int xrpc_reply_buf(struct xrpc_req *rq, int status, const char *content_type, struct buf *b)
{
    reset_body(rq);
    size_t len;
    uint8_t *p = buf_take(b, &len);
    rq->resp.status = status;
    rq->resp.content_type = arena_strndup(rq->arena, content_type, strlen(content_type));
    rq->resp.body = p;
    rq->resp.body_len = p ? len : 0;
    rq->resp.body_malloced = p != NULL;
    return status;
}

int xrpc_reply_static(struct xrpc_req *rq, int status, const char *content_type, const char *text)
{
    reset_body(rq);
    rq->resp.status = status;
    rq->resp.content_type = content_type;
    rq->resp.body = (const uint8_t *)text;
    rq->resp.body_len = strlen(text);
    return status;
}

int xrpc_reply_const(struct xrpc_req *rq, int status, const char *content_type, const void *data,
                     size_t len)
{
    reset_body(rq);
    rq->resp.status = status;
    rq->resp.content_type = content_type;
    rq->resp.body = data;
    rq->resp.body_len = len;
    return status;
}

int xrpc_reply_empty(struct xrpc_req *rq, int status)
{
    reset_body(rq);
    rq->resp.status = status;
    return status;
}

int xrpc_reply_stream(struct xrpc_req *rq, int status, const char *content_type, int64_t size,
                      xrpc_stream_fn *fn, void *ctx, void (*free_ctx)(void *ctx))
{
    reset_body(rq);
    rq->resp.status = status;
    rq->resp.content_type = arena_strndup(rq->arena, content_type, strlen(content_type));
    rq->resp.stream = fn;
    rq->resp.stream_ctx = ctx;
    rq->resp.stream_free = free_ctx;
    rq->resp.stream_size = size;
    return status;
}

int xrpc_reply_upgrade(struct xrpc_req *rq, xrpc_upgrade_fn *fn, void *ctx)
{
    reset_body(rq);
    rq->resp.status = 101;
    rq->resp.upgrade = fn;
    rq->resp.upgrade_ctx = ctx;
    return 101;
}

void xrpc_set_header(struct xrpc_req *rq, const char *name, const char *value)
{
    struct xrpc_resp *r = &rq->resp;
    if (r->n_headers == r->cap_headers) {
        size_t cap = r->cap_headers ? r->cap_headers * 2 : HEADERS_INITIAL;
        struct xrpc_header *h = arena_alloc(rq->arena, cap * sizeof *h);
        if (r->n_headers) {
            memcpy(h, r->headers, r->n_headers * sizeof *h);
        }
        r->headers = h;
        r->cap_headers = cap;
    }
    r->headers[r->n_headers].name = arena_strndup(rq->arena, name, strlen(name));
    r->headers[r->n_headers].value = arena_strndup(rq->arena, value, strlen(value));
    r->n_headers++;
}
