/* plc_client.h - the did:plc directory's HTTP API (submit an op, read a DID document, the
 * current state, the last op). Thread-safe: no shared state; each call makes its own request
 * and holds no lock. Blocking, bounded by timeout_ms. */
#ifndef PDS_IDENTITY_PLC_CLIENT_H
#define PDS_IDENTITY_PLC_CLIENT_H

#include <jansson.h>

#include "core/cid.h"
#include "core/err.h"
#include "identity/plc_op.h"

#define PLC_TIMEOUT_MS_DEFAULT 3000         /* PDS_ID_RESOLVER_TIMEOUT's default */
#define PLC_RESPONSE_MAX_BYTES (256u << 10) /* a DID doc, state or one op */
#define PLC_ERROR_MESSAGE_MAX  512          /* directory message kept for the client */

/* Where and how long: url has no trailing '/', e.g. "https://plc.directory". */
struct plc_client {
    const char *url;
    long timeout_ms; /* <= 0: PLC_TIMEOUT_MS_DEFAULT */
};

/* POST /{did} with the op's JSON. ERR_OK on 200; ERR_INVALID on 400 with the directory's
 * message copied into msg (if msg is not NULL; "" when it gave none); ERR_UPSTREAM for any
 * other answer or a network failure. */
enum err plc_submit(const struct plc_client *pc, const char *did, const json_t *op,
                    char msg[PLC_ERROR_MESSAGE_MAX]) MUST_CHECK;

/* GET /{did}: the DID document. ERR_NOT_FOUND on 404 (unknown) or 410 (tombstoned);
 * ERR_UPSTREAM otherwise unless 200 with a JSON object. Caller decrefs *doc. */
enum err plc_get_document(const struct plc_client *pc, const char *did, json_t **doc) MUST_CHECK;

/* GET /{did}/data: the current state as an unsigned op (prev NULL), ready to be edited,
 * given a prev and signed. Errors as plc_get_document; ERR_UPSTREAM if it does not parse.
 * Caller clears *out. */
enum err plc_get_data(const struct plc_client *pc, const char *did, struct plc_op *out) MUST_CHECK;

/* GET /{did}/log/last: the newest valid op, parsed strictly, and its CID computed here from
 * its DAG-CBOR (with sig) - the value an update's prev must hold. We hash rather than take
 * /log/audit's `cid`: the op is self-certifying this way (a wrong or re-encoded answer gives
 * a prev the directory refuses, never a silent mismatch), the answer is one op rather than
 * the whole history, and /log/audit would also need its nullified entries skipped.
 * Errors as plc_get_data. Caller clears *out. */
enum err plc_get_last_op(const struct plc_client *pc, const char *did, struct plc_op *out,
                         struct cid *cid) MUST_CHECK;

#endif
