/* input.c - typed reads of JSON procedure bodies. */
#include "api/common/input.h"

int input_require_object(struct xrpc_req *rq)
{
    if (!rq->json || !json_is_object(rq->json)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Request body must be a JSON object");
    }
    return 0;
}

static int get(struct xrpc_req *rq, const char *key, bool required, json_t **out)
{
    int st = input_require_object(rq);
    if (st) {
        return st;
    }
    *out = json_object_get(rq->json, key);
    if (*out && json_is_null(*out)) {
        *out = NULL; /* null reads as absent, as the lexicon validator of the reference does */
    }
    if (!*out && required) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input must have the property \"%s\"", key);
    }
    return 0;
}

int input_str(struct xrpc_req *rq, const char *key, bool required, const char **out)
{
    json_t *v;
    int st = get(rq, key, required, &v);
    *out = NULL;
    if (st || !v) {
        return st;
    }
    if (!json_is_string(v)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/%s must be a string", key);
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/%s must not contain NUL", key);
    }
    *out = json_string_value(v);
    return 0;
}

int input_bool(struct xrpc_req *rq, const char *key, bool dflt, bool *out)
{
    json_t *v;
    int st = get(rq, key, false, &v);
    *out = dflt;
    if (st || !v) {
        return st;
    }
    if (!json_is_boolean(v)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/%s must be a boolean", key);
    }
    *out = json_is_true(v);
    return 0;
}

int input_int(struct xrpc_req *rq, const char *key, bool required, int64_t min, int64_t max,
              int64_t dflt, int64_t *out)
{
    json_t *v;
    int st = get(rq, key, required, &v);
    *out = dflt;
    if (st || !v) {
        return st;
    }
    if (!json_is_integer(v)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/%s must be an integer", key);
    }
    json_int_t n = json_integer_value(v);
    if (n < min || n > max) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/%s must be between %lld and %lld", key,
                         (long long)min, (long long)max);
    }
    *out = n;
    return 0;
}

int input_object(struct xrpc_req *rq, const char *key, bool required, json_t **out)
{
    int st = get(rq, key, required, out);
    if (st || !*out) {
        return st;
    }
    if (!json_is_object(*out)) {
        *out = NULL;
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/%s must be an object", key);
    }
    return 0;
}
