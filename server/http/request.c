/* request.c - request accessors for handlers: headers, query parameters and their typed
 * getters with the reference's error messages. */
#include "http/xrpc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

const char *xrpc_header(const struct xrpc_req *rq, const char *name)
{
    if (!rq->_conn) {
        return NULL;
    }
    return MHD_lookup_connection_value(rq->_conn, MHD_HEADER_KIND, name);
}

const char *xrpc_param(const struct xrpc_req *rq, const char *name)
{
    for (size_t i = 0; i < rq->n_params; i++) {
        if (strcmp(rq->params[i].name, name) == 0 && rq->params[i].value[0]) {
            return rq->params[i].value;
        }
    }
    return NULL;
}

void xrpc_param_all(struct xrpc_req *rq, const char *name, const char ***out, size_t *n)
{
    size_t count = 0;
    for (size_t i = 0; i < rq->n_params; i++) {
        count += strcmp(rq->params[i].name, name) == 0 && rq->params[i].value[0];
    }
    const char **vals = arena_alloc(rq->arena, (count ? count : 1) * sizeof *vals);
    size_t k = 0;
    for (size_t i = 0; i < rq->n_params; i++) {
        if (strcmp(rq->params[i].name, name) == 0 && rq->params[i].value[0]) {
            vals[k++] = rq->params[i].value;
        }
    }
    *out = vals;
    *n = count;
}

/* Messages follow the reference's lexicon validator ("Params/<name> ..."), which clients
 * and tests see verbatim. */
static int missing(struct xrpc_req *rq, const char *name)
{
    return xrpc_fail(rq, 400, "InvalidRequest", "Params must have the property \"%s\"", name);
}

int xrpc_param_str(struct xrpc_req *rq, const char *name, bool required, const char **out)
{
    *out = xrpc_param(rq, name);
    if (!*out && required) {
        return missing(rq, name);
    }
    return 0;
}

int xrpc_param_int(struct xrpc_req *rq, const char *name, int64_t min, int64_t max, int64_t dflt,
                   int64_t *out)
{
    *out = dflt;
    const char *v = xrpc_param(rq, name);
    if (!v) {
        return 0;
    }
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end != '\0') {
        return xrpc_fail(rq, 400, "InvalidRequest", "Params/%s must be an integer", name);
    }
    if (n < min) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Params/%s can not be less than %lld", name,
                         (long long)min);
    }
    if (n > max) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Params/%s can not be greater than %lld", name,
                         (long long)max);
    }
    *out = n;
    return 0;
}

int xrpc_param_bool(struct xrpc_req *rq, const char *name, bool dflt, bool *out)
{
    *out = dflt;
    const char *v = xrpc_param(rq, name);
    if (!v) {
        return 0;
    }
    if (strcmp(v, "true") == 0) {
        *out = true;
    } else if (strcmp(v, "false") == 0) {
        *out = false;
    } else {
        return xrpc_fail(rq, 400, "InvalidRequest", "Params/%s must be a boolean", name);
    }
    return 0;
}
