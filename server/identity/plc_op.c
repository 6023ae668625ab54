/* plc_op.c - did:plc operations: builders, DAG-CBOR encoding, signing, op CID and DID,
 * JSON form and strict parsing. Pure; thread-safe. */
#include "identity/plc_op.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/arena.h"
#include "core/base.h"
#include "core/dagcbor.h"
#include "core/dm.h"
#include "core/sha256.h"
#include "core/syntax.h"

/* A JSON string longer than a whole op cannot be part of a valid one. */
#define PLC_STR_MAX_BYTES PLC_OP_MAX_BYTES
/* Entry counts a parsed op may hold before its encoded size is even looked at. */
#define PLC_ALSO_KNOWN_AS_MAX 256
#define PLC_SERVICES_MAX      256

static const char *const plc_type_names[] = {
    [PLC_OP_OPERATION] = "plc_operation",
    [PLC_OP_TOMBSTONE] = "plc_tombstone",
    [PLC_OP_CREATE_V1] = "create",
};

void plc_op_init(struct plc_op *op, enum plc_op_type type)
{
    memset(op, 0, sizeof(*op));
    op->type = type;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i]);
    }
    free(v);
}

void plc_op_clear(struct plc_op *op)
{
    free_strv(op->rotation_keys, op->n_rotation_keys);
    for (size_t i = 0; i < op->n_verification_methods; i++) {
        free(op->verification_methods[i].name);
        free(op->verification_methods[i].did_key);
    }
    free(op->verification_methods);
    free_strv(op->also_known_as, op->n_also_known_as);
    for (size_t i = 0; i < op->n_services; i++) {
        free(op->services[i].name);
        free(op->services[i].type);
        free(op->services[i].endpoint);
    }
    free(op->services);
    free(op->prev);
    free(op->sig);
    free(op->signing_key);
    free(op->recovery_key);
    free(op->handle);
    free(op->service);
    memset(op, 0, sizeof(*op));
}

static char *dup_str(const char *s)
{
    return xstrndup(s, strlen(s));
}

static void drop_sig(struct plc_op *op)
{
    free(op->sig);
    op->sig = NULL;
}

/* spec(did-plc): verificationMethods values only need to be syntactically did:key:
 * "did:key:" + "z" + base58btc. */
static bool did_key_syntax_valid(const char *s)
{
    static const char prefix[] = "did:key:z";
    size_t len = strlen(s);
    if (len <= sizeof(prefix) - 1 || len > PLC_STR_MAX_BYTES ||
        strncmp(s, prefix, sizeof(prefix) - 1) != 0) {
        return false;
    }
    struct buf raw;
    buf_init(&raw, PLC_STR_MAX_BYTES);
    enum err e =
        base58btc_decode(bytes_of(s + sizeof(prefix) - 1, len - (sizeof(prefix) - 1)), &raw);
    bool ok = e == ERR_OK && raw.len > 0;
    buf_clear(&raw);
    return ok;
}

static bool rotation_key_valid(const char *s)
{
    struct sigkey k;
    bool ok = sigkey_from_did_key(bytes_str(s), &k) == ERR_OK;
    sigkey_clear(&k);
    return ok;
}

enum err plc_op_add_rotation_key(struct plc_op *op, const char *did_key)
{
    if (!rotation_key_valid(did_key)) {
        return ERR_INVALID;
    }
    for (size_t i = 0; i < op->n_rotation_keys; i++) {
        if (strcmp(op->rotation_keys[i], did_key) == 0) {
            return ERR_INVALID;
        }
    }
    if (op->n_rotation_keys >= PLC_ROTATION_KEYS_MAX) {
        return ERR_TOO_LARGE;
    }
    op->rotation_keys = xrealloc(op->rotation_keys, (op->n_rotation_keys + 1) * sizeof(char *));
    op->rotation_keys[op->n_rotation_keys++] = dup_str(did_key);
    drop_sig(op);
    return ERR_OK;
}

/* Names become "#name" fragments in the DID document: no '#', not empty. */
static bool entry_name_valid(const char *name)
{
    size_t len = strlen(name);
    return len > 0 && len <= PLC_STR_MAX_BYTES && !strchr(name, '#');
}

enum err plc_op_set_verification_method(struct plc_op *op, const char *name, const char *did_key)
{
    if (!entry_name_valid(name) || !did_key_syntax_valid(did_key)) {
        return ERR_INVALID;
    }
    for (size_t i = 0; i < op->n_verification_methods; i++) {
        if (strcmp(op->verification_methods[i].name, name) == 0) {
            free(op->verification_methods[i].did_key);
            op->verification_methods[i].did_key = dup_str(did_key);
            drop_sig(op);
            return ERR_OK;
        }
    }
    if (op->n_verification_methods >= PLC_VERIFICATION_METHODS_MAX) {
        return ERR_TOO_LARGE;
    }
    op->verification_methods =
        xrealloc(op->verification_methods,
                 (op->n_verification_methods + 1) * sizeof(op->verification_methods[0]));
    op->verification_methods[op->n_verification_methods++] =
        (struct plc_verification_method){dup_str(name), dup_str(did_key)};
    drop_sig(op);
    return ERR_OK;
}

enum err plc_op_add_also_known_as(struct plc_op *op, const char *uri)
{
    if (strlen(uri) > PLC_STR_MAX_BYTES) {
        return ERR_TOO_LARGE;
    }
    if (op->n_also_known_as >= PLC_ALSO_KNOWN_AS_MAX) {
        return ERR_TOO_LARGE;
    }
    op->also_known_as = xrealloc(op->also_known_as, (op->n_also_known_as + 1) * sizeof(char *));
    op->also_known_as[op->n_also_known_as++] = dup_str(uri);
    drop_sig(op);
    return ERR_OK;
}

void plc_op_clear_also_known_as(struct plc_op *op)
{
    free_strv(op->also_known_as, op->n_also_known_as);
    op->also_known_as = NULL;
    op->n_also_known_as = 0;
    drop_sig(op);
}

enum err plc_op_set_service(struct plc_op *op, const char *name, const char *type,
                            const char *endpoint)
{
    if (!entry_name_valid(name) || strlen(type) > PLC_STR_MAX_BYTES ||
        strlen(endpoint) > PLC_STR_MAX_BYTES) {
        return ERR_INVALID;
    }
    for (size_t i = 0; i < op->n_services; i++) {
        if (strcmp(op->services[i].name, name) == 0) {
            free(op->services[i].type);
            free(op->services[i].endpoint);
            op->services[i].type = dup_str(type);
            op->services[i].endpoint = dup_str(endpoint);
            drop_sig(op);
            return ERR_OK;
        }
    }
    if (op->n_services >= PLC_SERVICES_MAX) {
        return ERR_TOO_LARGE;
    }
    op->services = xrealloc(op->services, (op->n_services + 1) * sizeof(op->services[0]));
    op->services[op->n_services++] =
        (struct plc_service){dup_str(name), dup_str(type), dup_str(endpoint)};
    drop_sig(op);
    return ERR_OK;
}

static bool prev_valid(const char *prev)
{
    struct cid c;
    return cid_parse_str(prev, &c) == ERR_OK;
}

enum err plc_op_set_prev(struct plc_op *op, const char *prev)
{
    if (prev && !prev_valid(prev)) {
        return ERR_INVALID;
    }
    free(op->prev);
    op->prev = prev ? dup_str(prev) : NULL;
    drop_sig(op);
    return ERR_OK;
}

static char *dup_opt(const char *s)
{
    return s ? dup_str(s) : NULL;
}

void plc_op_copy(struct plc_op *dst, const struct plc_op *src)
{
    plc_op_init(dst, src->type);
    dst->n_rotation_keys = src->n_rotation_keys;
    dst->rotation_keys = xcalloc(src->n_rotation_keys + 1, sizeof(char *));
    for (size_t i = 0; i < src->n_rotation_keys; i++) {
        dst->rotation_keys[i] = dup_str(src->rotation_keys[i]);
    }
    dst->n_verification_methods = src->n_verification_methods;
    dst->verification_methods =
        xcalloc(src->n_verification_methods + 1, sizeof(dst->verification_methods[0]));
    for (size_t i = 0; i < src->n_verification_methods; i++) {
        dst->verification_methods[i].name = dup_str(src->verification_methods[i].name);
        dst->verification_methods[i].did_key = dup_str(src->verification_methods[i].did_key);
    }
    dst->n_also_known_as = src->n_also_known_as;
    dst->also_known_as = xcalloc(src->n_also_known_as + 1, sizeof(char *));
    for (size_t i = 0; i < src->n_also_known_as; i++) {
        dst->also_known_as[i] = dup_str(src->also_known_as[i]);
    }
    dst->n_services = src->n_services;
    dst->services = xcalloc(src->n_services + 1, sizeof(dst->services[0]));
    for (size_t i = 0; i < src->n_services; i++) {
        dst->services[i].name = dup_str(src->services[i].name);
        dst->services[i].type = dup_str(src->services[i].type);
        dst->services[i].endpoint = dup_str(src->services[i].endpoint);
    }
    dst->prev = dup_opt(src->prev);
    dst->sig = dup_opt(src->sig);
    dst->signing_key = dup_opt(src->signing_key);
    dst->recovery_key = dup_opt(src->recovery_key);
    dst->handle = dup_opt(src->handle);
    dst->service = dup_opt(src->service);
}

static enum err check_operation(const struct plc_op *op)
{
    if (op->n_rotation_keys == 0) {
        return ERR_INVALID;
    }
    if (op->n_rotation_keys > PLC_ROTATION_KEYS_MAX ||
        op->n_verification_methods > PLC_VERIFICATION_METHODS_MAX) {
        return ERR_TOO_LARGE;
    }
    for (size_t i = 0; i < op->n_rotation_keys; i++) {
        if (!rotation_key_valid(op->rotation_keys[i])) {
            return ERR_INVALID;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(op->rotation_keys[i], op->rotation_keys[j]) == 0) {
                return ERR_INVALID;
            }
        }
    }
    for (size_t i = 0; i < op->n_verification_methods; i++) {
        if (!entry_name_valid(op->verification_methods[i].name) ||
            !did_key_syntax_valid(op->verification_methods[i].did_key)) {
            return ERR_INVALID;
        }
    }
    for (size_t i = 0; i < op->n_services; i++) {
        const struct plc_service *s = &op->services[i];
        if (!s->name || !s->type || !s->endpoint || !entry_name_valid(s->name)) {
            return ERR_INVALID;
        }
    }
    return ERR_OK;
}

enum err plc_op_check(const struct plc_op *op)
{
    if (op->prev && !prev_valid(op->prev)) {
        return ERR_INVALID;
    }
    switch (op->type) {
    case PLC_OP_OPERATION:
        return check_operation(op);
    case PLC_OP_TOMBSTONE:
        return op->prev ? ERR_OK : ERR_INVALID;
    case PLC_OP_CREATE_V1:
        if (op->prev || !op->signing_key || !op->recovery_key || !op->handle || !op->service ||
            !rotation_key_valid(op->signing_key) || !rotation_key_valid(op->recovery_key)) {
            return ERR_INVALID;
        }
        return ERR_OK;
    }
    return ERR_INVALID;
}

static struct dm_value *dm_strv(struct arena *a, char *const *v, size_t n)
{
    struct dm_value *arr = dm_array(a);
    for (size_t i = 0; i < n; i++) {
        dm_array_push(a, arr, dm_string(a, bytes_str(v[i])));
    }
    return arr;
}

/* The op as a data-model map (strings borrowed from op). prev is a string, never a link:
 * spec(did-plc): "In DAG-CBOR encoding, the CID is string-encoded". */
static struct dm_value *op_to_dm(struct arena *a, const struct plc_op *op, bool with_sig)
{
    struct dm_value *m = dm_map(a);
    dm_map_put(a, m, "type", dm_string(a, bytes_str(plc_type_names[op->type])));
    if (op->type == PLC_OP_OPERATION) {
        dm_map_put(a, m, "rotationKeys", dm_strv(a, op->rotation_keys, op->n_rotation_keys));
        struct dm_value *vms = dm_map(a);
        for (size_t i = 0; i < op->n_verification_methods; i++) {
            dm_map_put(a, vms, op->verification_methods[i].name,
                       dm_string(a, bytes_str(op->verification_methods[i].did_key)));
        }
        dm_map_put(a, m, "verificationMethods", vms);
        dm_map_put(a, m, "alsoKnownAs", dm_strv(a, op->also_known_as, op->n_also_known_as));
        struct dm_value *svcs = dm_map(a);
        for (size_t i = 0; i < op->n_services; i++) {
            struct dm_value *s = dm_map(a);
            dm_map_put(a, s, "type", dm_string(a, bytes_str(op->services[i].type)));
            dm_map_put(a, s, "endpoint", dm_string(a, bytes_str(op->services[i].endpoint)));
            dm_map_put(a, svcs, op->services[i].name, s);
        }
        dm_map_put(a, m, "services", svcs);
    } else if (op->type == PLC_OP_CREATE_V1) {
        dm_map_put(a, m, "signingKey", dm_string(a, bytes_str(op->signing_key)));
        dm_map_put(a, m, "recoveryKey", dm_string(a, bytes_str(op->recovery_key)));
        dm_map_put(a, m, "handle", dm_string(a, bytes_str(op->handle)));
        dm_map_put(a, m, "service", dm_string(a, bytes_str(op->service)));
    }
    /* spec(did-plc): prev is always present; null (not absent) for a genesis op */
    dm_map_put(a, m, "prev", op->prev ? dm_string(a, bytes_str(op->prev)) : dm_null(a));
    if (with_sig) {
        dm_map_put(a, m, "sig", dm_string(a, bytes_str(op->sig)));
    }
    return m;
}

static bool op_fields_present(const struct plc_op *op)
{
    if (op->type == PLC_OP_CREATE_V1) {
        return op->signing_key && op->recovery_key && op->handle && op->service;
    }
    return true;
}

enum err plc_op_encode(const struct plc_op *op, bool with_sig, struct buf *out)
{
    if ((with_sig && !op->sig) || !op_fields_present(op)) {
        return ERR_INVALID;
    }
    struct arena a;
    arena_init(&a);
    struct buf tmp;
    buf_init(&tmp, PLC_OP_MAX_BYTES);
    enum err e = dagcbor_encode(op_to_dm(&a, op, with_sig), &tmp);
    if (e == ERR_OK) {
        e = buf_append(out, tmp.ptr, tmp.len);
    }
    buf_clear(&tmp);
    arena_clear(&a);
    return e;
}

enum err plc_op_sign(struct plc_op *op, const struct sigkey *key)
{
    if (op->type == PLC_OP_CREATE_V1) {
        return ERR_UNSUPPORTED; /* spec(did-plc): never create new DIDs in the legacy form */
    }
    enum err e = plc_op_check(op);
    if (e != ERR_OK) {
        return e;
    }
    drop_sig(op);
    struct buf unsigned_bytes, b64;
    buf_init(&unsigned_bytes, PLC_OP_MAX_BYTES);
    buf_init(&b64, PLC_SIG_B64_LEN + 4); /* the encoder reserves a padded quantum */
    uint8_t sig[SIGKEY_SIG_BYTES];
    e = plc_op_encode(op, false, &unsigned_bytes);
    if (e == ERR_OK) {
        e = sigkey_sign(key, buf_bytes(&unsigned_bytes), sig);
    }
    if (e == ERR_OK) {
        e = base64url_encode(bytes_of(sig, sizeof(sig)), &b64);
    }
    if (e == ERR_OK) {
        op->sig = (char *)buf_take(&b64, NULL);
        /* the signed op must fit too (its sig adds ~90 bytes) */
        struct buf signed_bytes;
        buf_init(&signed_bytes, PLC_OP_MAX_BYTES);
        e = plc_op_encode(op, true, &signed_bytes);
        buf_clear(&signed_bytes);
        if (e != ERR_OK) {
            drop_sig(op);
        }
    }
    buf_clear(&unsigned_bytes);
    buf_clear(&b64);
    return e;
}

enum err plc_op_cid(const struct plc_op *op, struct cid *out)
{
    struct buf b;
    buf_init(&b, PLC_OP_MAX_BYTES);
    enum err e = plc_op_encode(op, true, &b);
    if (e == ERR_OK) {
        cid_compute(CID_CODEC_DAGCBOR, buf_bytes(&b), out);
    }
    buf_clear(&b);
    return e;
}

enum err plc_op_cid_str(const struct plc_op *op, char out[CID_STR_MAX])
{
    struct cid c;
    enum err e = plc_op_cid(op, &c);
    if (e == ERR_OK) {
        cid_format(&c, out);
    }
    return e;
}

static bool is_genesis(const struct plc_op *op)
{
    return (op->type == PLC_OP_OPERATION || op->type == PLC_OP_CREATE_V1) && !op->prev;
}

enum err plc_op_did(const struct plc_op *op, char out[PLC_DID_MAX])
{
    if (!is_genesis(op)) {
        return ERR_INVALID;
    }
    struct buf b, b32;
    buf_init(&b, PLC_OP_MAX_BYTES);
    buf_init(&b32, BUF_MAX_DEFAULT);
    uint8_t digest[SHA256_BYTES];
    enum err e = plc_op_encode(op, true, &b);
    if (e == ERR_OK) {
        /* spec(did-plc): base32 of the raw digest (not hex), truncated to 24 chars */
        sha256(b.ptr, b.len, digest);
        e = base32_encode(bytes_of(digest, sizeof(digest)), &b32);
    }
    if (e == ERR_OK) {
        assert(b32.len >= PLC_DID_HASH_CHARS);
        snprintf(out, PLC_DID_MAX, "did:plc:%.*s", PLC_DID_HASH_CHARS, (const char *)b32.ptr);
    }
    buf_clear(&b);
    buf_clear(&b32);
    return e;
}

/* spec(did-plc): "Trailing padding bits MUST be set to zero"; no '=' padding; 64 bytes. */
static enum err decode_sig(const char *sig, uint8_t out[SIGKEY_SIG_BYTES])
{
    if (!sig || strlen(sig) != PLC_SIG_B64_LEN) {
        return ERR_INVALID;
    }
    struct buf raw;
    buf_init(&raw, SIGKEY_SIG_BYTES + 3); /* the decoder reserves a whole quantum */
    enum err e = base64url_decode_strict(bytes_of(sig, PLC_SIG_B64_LEN), &raw);
    if (e == ERR_OK && raw.len != SIGKEY_SIG_BYTES) {
        e = ERR_INVALID;
    }
    if (e == ERR_OK) {
        memcpy(out, raw.ptr, SIGKEY_SIG_BYTES);
    } else {
        e = ERR_INVALID;
    }
    buf_clear(&raw);
    return e;
}

enum err plc_op_verify(const struct plc_op *op, const char *const *keys, size_t n_keys,
                       size_t *signer)
{
    uint8_t sig[SIGKEY_SIG_BYTES];
    enum err e = decode_sig(op->sig, sig);
    if (e != ERR_OK) {
        return e;
    }
    struct buf msg;
    buf_init(&msg, PLC_OP_MAX_BYTES);
    e = plc_op_encode(op, false, &msg);
    if (e != ERR_OK) {
        buf_clear(&msg);
        return e;
    }
    e = ERR_AUTH;
    for (size_t i = 0; i < n_keys; i++) {
        struct sigkey k;
        if (sigkey_from_did_key(bytes_str(keys[i]), &k) != ERR_OK) {
            e = ERR_INVALID;
            break;
        }
        /* sigkey_verify refuses high-S: spec(did-plc) "High-S values rejected as invalid" */
        bool ok = sigkey_verify(&k, buf_bytes(&msg), bytes_of(sig, sizeof(sig)));
        sigkey_clear(&k);
        if (ok) {
            if (signer) {
                *signer = i;
            }
            e = ERR_OK;
            break;
        }
    }
    buf_clear(&msg);
    return e;
}

enum err plc_op_verify_genesis(const struct plc_op *op, const char *did)
{
    char expect[PLC_DID_MAX];
    enum err e = plc_op_check(op);
    if (e == ERR_OK) {
        e = plc_op_did(op, expect);
    }
    if (e != ERR_OK) {
        return e;
    }
    if (strcmp(expect, did) != 0) {
        return ERR_INVALID;
    }
    if (op->type == PLC_OP_CREATE_V1) {
        /* the reference accepts either key of a legacy create op */
        const char *keys[] = {op->recovery_key, op->signing_key};
        return plc_op_verify(op, keys, ARRAY_LEN(keys), NULL);
    }
    return plc_op_verify(op, (const char *const *)op->rotation_keys, op->n_rotation_keys, NULL);
}

long plc_op_find_handle(const struct plc_op *op)
{
    for (size_t i = 0; i < op->n_also_known_as; i++) {
        if (strncmp(op->also_known_as[i], "at://", 5) == 0) {
            return (long)i;
        }
    }
    return -1;
}

enum err plc_op_set_handle(struct plc_op *op, const char *handle)
{
    if (!syntax_handle_valid(bytes_str(handle))) {
        return ERR_INVALID;
    }
    char *uri = NULL;
    if (asprintf(&uri, "at://%s", handle) < 0) {
        abort(); /* out of memory: xmalloc's rule */
    }
    long at = plc_op_find_handle(op);
    if (at >= 0) {
        free(op->also_known_as[at]);
        op->also_known_as[at] = uri;
    } else {
        if (op->n_also_known_as >= PLC_ALSO_KNOWN_AS_MAX) {
            free(uri);
            return ERR_TOO_LARGE;
        }
        op->also_known_as = xrealloc(op->also_known_as, (op->n_also_known_as + 1) * sizeof(char *));
        memmove(op->also_known_as + 1, op->also_known_as, op->n_also_known_as * sizeof(char *));
        op->also_known_as[0] = uri;
        op->n_also_known_as++;
    }
    drop_sig(op);
    return ERR_OK;
}
