/* plc_client.c - did:plc directory requests over idfetch (libcurl).
 * Thread-safe; no shared state. */
#include "identity/plc_client.h"

#include <stdio.h>
#include <time.h>

#include "core/syntax.h"
#include "db/metrics.h"
#include "identity/idfetch.h"

#define PLC_URL_MAX 4096

static enum err plc_url(const struct plc_client *pc, const char *did, const char *suffix,
                        char out[PLC_URL_MAX])
{
    /* a DID goes into the path: only the atproto forms, whose characters are URL-safe */
    if (!pc->url || !syntax_did_valid(bytes_str(did)) || strchr(did, '%')) {
        return ERR_INVALID;
    }
    int n = snprintf(out, PLC_URL_MAX, "%s/%s%s", pc->url, did, suffix);
    return n > 0 && n < PLC_URL_MAX ? ERR_OK : ERR_TOO_LARGE;
}

/* idfetch, counted as an outbound call to the PLC directory. */
static enum err plc_fetch(const struct idfetch_req *rq, long *status, struct buf *body)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum err e = idfetch(rq, status, body);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics_outbound("plc",
                     e                                 ? "error"
                     : *status >= 200 && *status < 300 ? "ok"
                                                       : "refused",
                     (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return e;
}

static enum err plc_get_json(const struct plc_client *pc, const char *did, const char *suffix,
                             json_t **out)
{
    *out = NULL;
    char url[PLC_URL_MAX];
    enum err e = plc_url(pc, did, suffix, url);
    if (e != ERR_OK) {
        return e;
    }
    struct idfetch_req rq = {
        .method = "GET",
        .url = url,
        .timeout_ms = pc->timeout_ms > 0 ? pc->timeout_ms : PLC_TIMEOUT_MS_DEFAULT,
        .max_bytes = PLC_RESPONSE_MAX_BYTES,
    };
    struct buf body;
    buf_init(&body, PLC_RESPONSE_MAX_BYTES);
    long status = 0;
    e = plc_fetch(&rq, &status, &body);
    if (e == ERR_TOO_LARGE) {
        e = ERR_UPSTREAM;
    }
    if (e == ERR_OK) {
        if (status == 404 || status == 410) {
            e = ERR_NOT_FOUND;
        } else if (status != 200) {
            e = ERR_UPSTREAM;
        } else {
            *out = json_loadb((const char *)body.ptr, body.len, JSON_REJECT_DUPLICATES, NULL);
            if (!json_is_object(*out)) {
                json_decref(*out);
                *out = NULL;
                e = ERR_UPSTREAM;
            }
        }
    }
    buf_clear(&body);
    return e;
}

enum err plc_submit(const struct plc_client *pc, const char *did, const json_t *op,
                    char msg[PLC_ERROR_MESSAGE_MAX])
{
    if (msg) {
        msg[0] = '\0';
    }
    char url[PLC_URL_MAX];
    enum err e = plc_url(pc, did, "", url);
    if (e != ERR_OK) {
        return e;
    }
    char *text = json_dumps(op, JSON_COMPACT);
    if (!text) {
        return ERR_INVALID;
    }
    struct idfetch_req rq = {
        .method = "POST",
        .url = url,
        .content_type = "application/json",
        .body = bytes_str(text),
        .timeout_ms = pc->timeout_ms > 0 ? pc->timeout_ms : PLC_TIMEOUT_MS_DEFAULT,
        .max_bytes = PLC_RESPONSE_MAX_BYTES,
    };
    struct buf body;
    buf_init(&body, PLC_RESPONSE_MAX_BYTES);
    long status = 0;
    e = plc_fetch(&rq, &status, &body);
    free(text);
    if (e == ERR_OK && status == 400) {
        /* the directory answers {"message": "..."}; keep it for the client */
        json_t *j = json_loadb((const char *)body.ptr, body.len, 0, NULL);
        const char *m = json_string_value(json_object_get(j, "message"));
        if (msg && m) {
            snprintf(msg, PLC_ERROR_MESSAGE_MAX, "%s", m);
        }
        json_decref(j);
        e = ERR_INVALID;
    } else if (e != ERR_OK || status != 200) {
        e = ERR_UPSTREAM;
    }
    buf_clear(&body);
    return e;
}

enum err plc_get_document(const struct plc_client *pc, const char *did, json_t **doc)
{
    return plc_get_json(pc, did, "", doc);
}

enum err plc_get_data(const struct plc_client *pc, const char *did, struct plc_op *out)
{
    plc_op_init(out, PLC_OP_OPERATION);
    json_t *j;
    enum err e = plc_get_json(pc, did, "/data", &j);
    if (e != ERR_OK) {
        return e;
    }
    e = plc_op_from_data_json(j, did, out) == ERR_OK ? ERR_OK : ERR_UPSTREAM;
    json_decref(j);
    return e;
}

enum err plc_get_last_op(const struct plc_client *pc, const char *did, struct plc_op *out,
                         struct cid *cid)
{
    plc_op_init(out, PLC_OP_OPERATION);
    json_t *j;
    enum err e = plc_get_json(pc, did, "/log/last", &j);
    if (e != ERR_OK) {
        return e;
    }
    e = plc_op_from_json(j, out);
    if (e == ERR_OK) {
        e = plc_op_cid(out, cid);
    }
    if (e != ERR_OK) {
        plc_op_clear(out);
        e = ERR_UPSTREAM;
    }
    json_decref(j);
    return e;
}
