/* plc_op.h - did:plc operations: build, sign, hash (op CID, genesis DID), JSON form, and
 * strict parse + signature verification. Pure: no I/O, no globals; thread-safe. */
#ifndef PDS_IDENTITY_PLC_OP_H
#define PDS_IDENTITY_PLC_OP_H

#include <jansson.h>

#include "core/bytes.h"
#include "core/cid.h"
#include "core/err.h"
#include "crypto/sigkey.h"

/* spec(did-plc): limits of the method and of the directory */
#define PLC_OP_MAX_BYTES             7500 /* DAG-CBOR of the signed op */
#define PLC_ROTATION_KEYS_MAX        5    /* 1..5 unique k256/p256 did:keys */
#define PLC_VERIFICATION_METHODS_MAX 10   /* v0.2 */
#define PLC_SIG_B64_LEN              86   /* base64url, unpadded, of 64 bytes */
#define PLC_DID_LEN                  32   /* "did:plc:" + 24 base32 chars */
#define PLC_DID_MAX                  33   /* PLC_DID_LEN + NUL */
#define PLC_DID_HASH_CHARS           24

enum plc_op_type {
    PLC_OP_OPERATION, /* "plc_operation": create or update */
    PLC_OP_TOMBSTONE, /* "plc_tombstone": {type, prev, sig} */
    PLC_OP_CREATE_V1, /* legacy "create" genesis op: read and verify only */
};

struct plc_verification_method {
    char *name;    /* without '#', e.g. "atproto" */
    char *did_key; /* "did:key:z..." */
};

struct plc_service {
    char *name; /* without '#', e.g. "atproto_pds" */
    char *type; /* e.g. "AtprotoPersonalDataServer" */
    char *endpoint;
};

/* An operation. Every string is heap-owned by the op; free with plc_op_clear. Map-like
 * fields (verification methods, services) keep insertion order and unique names; the
 * encoder sorts keys as DAG-CBOR requires. sig is NULL until signed or parsed. */
struct plc_op {
    enum plc_op_type type;
    char **rotation_keys;
    size_t n_rotation_keys;
    struct plc_verification_method *verification_methods;
    size_t n_verification_methods;
    char **also_known_as;
    size_t n_also_known_as;
    struct plc_service *services;
    size_t n_services;
    char *prev; /* CID string of the previous op, or NULL (JSON null) for a genesis op */
    char *sig;  /* base64url, unpadded */
    /* PLC_OP_CREATE_V1 only */
    char *signing_key, *recovery_key, *handle, *service;
};

/* A zeroed op of the given type, with nothing in it. */
void plc_op_init(struct plc_op *op, enum plc_op_type type);
/* Frees everything the op owns and zeroes it; safe on a zeroed or cleared op. */
void plc_op_clear(struct plc_op *op);

/* Builders (PLC_OP_OPERATION). Each copies its strings and drops any signature.
 * ERR_INVALID for a bad or duplicate entry, ERR_TOO_LARGE past the counts above.
 * set_* replace the entry of that name if present (keeping its position). */
enum err plc_op_add_rotation_key(struct plc_op *op, const char *did_key) MUST_CHECK;
enum err plc_op_set_verification_method(struct plc_op *op, const char *name,
                                        const char *did_key) MUST_CHECK;
enum err plc_op_add_also_known_as(struct plc_op *op, const char *uri) MUST_CHECK;
enum err plc_op_set_service(struct plc_op *op, const char *name, const char *type,
                            const char *endpoint) MUST_CHECK;
/* prev: a CID string, or NULL for a genesis op (ERR_INVALID if not a CID). */
enum err plc_op_set_prev(struct plc_op *op, const char *prev) MUST_CHECK;
/* Empties alsoKnownAs (to rebuild it, e.g. when a handle changes). */
void plc_op_clear_also_known_as(struct plc_op *op);
/* Deep copy of src into dst (dst is overwritten, not cleared first). */
void plc_op_copy(struct plc_op *dst, const struct plc_op *src);

/* Checks the rules the directory enforces on content: for an operation, 1..5 unique
 * rotation keys that parse as k256/p256 did:keys, at most 10 verification methods whose
 * values are syntactically did:key, service entries with all fields; prev a CID string (or
 * null); tombstones need prev. ERR_INVALID with no detail; ERR_TOO_LARGE past the counts. */
enum err plc_op_check(const struct plc_op *op) MUST_CHECK;

/* DAG-CBOR of the op, appended to out; with_sig=false leaves out the `sig` key entirely (the
 * bytes that are signed). ERR_INVALID if with_sig and the op is unsigned; ERR_TOO_LARGE if
 * the bytes pass PLC_OP_MAX_BYTES. */
enum err plc_op_encode(const struct plc_op *op, bool with_sig, struct buf *out) MUST_CHECK;

/* Checks the op (plc_op_check), then signs its unsigned encoding with key (SHA-256, ECDSA,
 * low-S) and stores sig. Legacy create ops cannot be signed here (ERR_UNSUPPORTED). */
enum err plc_op_sign(struct plc_op *op, const struct sigkey *key) MUST_CHECK;

/* The CID (dag-cbor, sha2-256) of the signed op: the next op's prev. ERR_INVALID if unsigned. */
enum err plc_op_cid(const struct plc_op *op, struct cid *out) MUST_CHECK;
enum err plc_op_cid_str(const struct plc_op *op, char out[CID_STR_MAX]) MUST_CHECK;

/* spec(did-plc): "did:plc:" + first 24 chars of base32(sha256(DAG-CBOR of the signed genesis
 * op)). ERR_INVALID unless a signed genesis op (operation with prev null, or legacy create). */
enum err plc_op_did(const struct plc_op *op, char out[PLC_DID_MAX]) MUST_CHECK;

/* Verifies sig over the unsigned encoding against each did:key in keys (in order).
 * Strict: exactly 86 canonical base64url chars (no padding, zero pad bits), 64 bytes, low-S.
 * On success *signer (if not NULL) is the index of the key that verified.
 * ERR_INVALID for a missing or malformed sig or a key that does not parse; ERR_AUTH when
 * no key verifies. */
enum err plc_op_verify(const struct plc_op *op, const char *const *keys, size_t n_keys,
                       size_t *signer) MUST_CHECK;
/* Verifies a genesis op: did equals its derivation, and the signature is by one of its own
 * rotation keys (legacy create: recoveryKey or signingKey). ERR_INVALID / ERR_AUTH as above. */
enum err plc_op_verify_genesis(const struct plc_op *op, const char *did) MUST_CHECK;

/* The op as the directory takes and gives it: {"type", ...fields, "prev": string|null,
 * "sig"} (sig only when signed). Returns a new reference; never NULL. */
json_t *plc_op_to_json(const struct plc_op *op);
/* Strict parse of an op (any of the three types). Refuses unknown keys (the signature and
 * CID cover exactly the known fields, so extra keys would make the op ambiguous), wrong JSON
 * types, a missing prev key, prev not a CID, a sig that is not a string, and ops whose
 * encoding passes PLC_OP_MAX_BYTES. Does not verify the signature. On error *out is cleared. */
enum err plc_op_from_json(const json_t *j, struct plc_op *out) MUST_CHECK;
/* Parses the directory's GET /{did}/data state into an unsigned PLC_OP_OPERATION with prev
 * NULL (set prev before signing an update). `did`, if given, must match the "did" field. */
enum err plc_op_from_data_json(const json_t *j, const char *did, struct plc_op *out) MUST_CHECK;

/* First alsoKnownAs entry starting with "at://" (its index), or -1 when none. */
long plc_op_find_handle(const struct plc_op *op);
/* Makes "at://<handle>" the first at:// entry: replaces the first at:// entry, or prepends
 * one when none exists (reference updateHandle behaviour). */
enum err plc_op_set_handle(struct plc_op *op, const char *handle) MUST_CHECK;

#endif
