/* input.h - typed reads of a JSON procedure body (rq->json), answering a malformed field
 * with 400 InvalidRequest in the reference's words ("Input must have the property \"repo\"",
 * "Input/repo must be a string"). Each returns 0 or the error status already set. */
#ifndef PDS_API_COMMON_INPUT_H
#define PDS_API_COMMON_INPUT_H

#include "http/xrpc.h"

/* *out is NULL when the property is absent and not required. */
int input_str(struct xrpc_req *rq, const char *key, bool required, const char **out);
int input_bool(struct xrpc_req *rq, const char *key, bool dflt, bool *out);
int input_int(struct xrpc_req *rq, const char *key, bool required, int64_t min, int64_t max,
              int64_t dflt, int64_t *out);
/* An object-valued property (borrowed from rq->json); NULL when absent and not required. */
int input_object(struct xrpc_req *rq, const char *key, bool required, json_t **out);
/* The body must be a JSON object: 400 InvalidRequest otherwise. */
int input_require_object(struct xrpc_req *rq);

#endif
