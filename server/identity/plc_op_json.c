/* plc_op_json.c - did:plc operations to and from the directory's JSON form (plc_op.h).
 * Strict: unknown keys and wrong types are refused. Pure; thread-safe. */
#include "identity/plc_op.h"

#include "core/cid.h"

#define PLC_STR_MAX_BYTES PLC_OP_MAX_BYTES

static json_t *strv_json(char *const *v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, json_string(v[i]));
    }
    return arr;
}

json_t *plc_op_to_json(const struct plc_op *op)
{
    static const char *const types[] = {"plc_operation", "plc_tombstone", "create"};
    json_t *j = json_object();
    json_object_set_new(j, "type", json_string(types[op->type]));
    if (op->type == PLC_OP_OPERATION) {
        json_object_set_new(j, "rotationKeys", strv_json(op->rotation_keys, op->n_rotation_keys));
        json_t *vms = json_object();
        for (size_t i = 0; i < op->n_verification_methods; i++) {
            json_object_set_new(vms, op->verification_methods[i].name,
                                json_string(op->verification_methods[i].did_key));
        }
        json_object_set_new(j, "verificationMethods", vms);
        json_object_set_new(j, "alsoKnownAs", strv_json(op->also_known_as, op->n_also_known_as));
        json_t *svcs = json_object();
        for (size_t i = 0; i < op->n_services; i++) {
            json_object_set_new(svcs, op->services[i].name,
                                json_pack("{s:s, s:s}", "type", op->services[i].type, "endpoint",
                                          op->services[i].endpoint));
        }
        json_object_set_new(j, "services", svcs);
    } else if (op->type == PLC_OP_CREATE_V1) {
        json_object_set_new(j, "signingKey", json_string(op->signing_key));
        json_object_set_new(j, "recoveryKey", json_string(op->recovery_key));
        json_object_set_new(j, "handle", json_string(op->handle));
        json_object_set_new(j, "service", json_string(op->service));
    }
    json_object_set_new(j, "prev", op->prev ? json_string(op->prev) : json_null());
    if (op->sig) {
        json_object_set_new(j, "sig", json_string(op->sig));
    }
    return j;
}

/* A JSON string we can hold as a C string: no NUL inside, bounded. */
static enum err get_str(const json_t *v, char **out)
{
    if (!json_is_string(v)) {
        return ERR_INVALID;
    }
    size_t len = json_string_length(v);
    const char *s = json_string_value(v);
    if (len > PLC_STR_MAX_BYTES) {
        return ERR_TOO_LARGE;
    }
    if (memchr(s, '\0', len)) {
        return ERR_INVALID;
    }
    *out = xstrndup(s, len);
    return ERR_OK;
}

static enum err get_strv(const json_t *v, char ***out, size_t *n)
{
    if (!json_is_array(v)) {
        return ERR_INVALID;
    }
    size_t count = json_array_size(v);
    if (count > PLC_OP_MAX_BYTES) {
        return ERR_TOO_LARGE;
    }
    *out = xcalloc(count + 1, sizeof(char *));
    for (size_t i = 0; i < count; i++) {
        enum err e = get_str(json_array_get(v, i), &(*out)[i]);
        if (e != ERR_OK) {
            return e;
        }
        (*n)++;
    }
    return ERR_OK;
}

static enum err get_vms(const json_t *v, struct plc_op *op)
{
    if (!json_is_object(v)) {
        return ERR_INVALID;
    }
    if (json_object_size(v) > PLC_OP_MAX_BYTES) {
        return ERR_TOO_LARGE;
    }
    op->verification_methods =
        xcalloc(json_object_size(v) + 1, sizeof(op->verification_methods[0]));
    const char *name;
    json_t *val;
    json_object_foreach((json_t *)v, name, val)
    {
        struct plc_verification_method *m = &op->verification_methods[op->n_verification_methods];
        enum err e = get_str(val, &m->did_key);
        if (e != ERR_OK) {
            return e;
        }
        m->name = xstrndup(name, strlen(name));
        op->n_verification_methods++;
    }
    return ERR_OK;
}

static enum err get_service(const json_t *v, struct plc_service *s)
{
    if (!json_is_object(v) || json_object_size(v) != 2) {
        return ERR_INVALID; /* exactly {type, endpoint} */
    }
    enum err e = get_str(json_object_get(v, "type"), &s->type);
    if (e == ERR_OK) {
        e = get_str(json_object_get(v, "endpoint"), &s->endpoint);
    }
    return e;
}

static enum err get_services(const json_t *v, struct plc_op *op)
{
    if (!json_is_object(v)) {
        return ERR_INVALID;
    }
    if (json_object_size(v) > PLC_OP_MAX_BYTES) {
        return ERR_TOO_LARGE;
    }
    op->services = xcalloc(json_object_size(v) + 1, sizeof(op->services[0]));
    const char *name;
    json_t *val;
    json_object_foreach((json_t *)v, name, val)
    {
        struct plc_service *s = &op->services[op->n_services];
        s->name = xstrndup(name, strlen(name));
        op->n_services++; /* counted first so plc_op_clear frees a half-filled entry */
        enum err e = get_service(val, s);
        if (e != ERR_OK) {
            return e;
        }
    }
    return ERR_OK;
}

/* prev: a CID string, or JSON null where allowed. */
static enum err get_prev(const json_t *v, bool nullable, char **out)
{
    if (json_is_null(v) && nullable) {
        *out = NULL;
        return ERR_OK;
    }
    enum err e = get_str(v, out);
    if (e != ERR_OK) {
        return e;
    }
    struct cid c;
    return cid_parse_str(*out, &c) == ERR_OK ? ERR_OK : ERR_INVALID;
}

static bool keys_allowed(const json_t *j, const char *const *allowed, size_t n)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)j, key, val)
    {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++) {
            found = strcmp(key, allowed[i]) == 0;
        }
        if (!found) {
            return false;
        }
    }
    return true;
}

static enum err parse_operation(const json_t *j, struct plc_op *op)
{
    static const char *const allowed[] = {
        "type", "rotationKeys", "verificationMethods", "alsoKnownAs", "services", "prev", "sig"};
    if (!keys_allowed(j, allowed, ARRAY_LEN(allowed))) {
        return ERR_INVALID;
    }
    enum err e =
        get_strv(json_object_get(j, "rotationKeys"), &op->rotation_keys, &op->n_rotation_keys);
    if (e == ERR_OK) {
        e = get_vms(json_object_get(j, "verificationMethods"), op);
    }
    if (e == ERR_OK) {
        e = get_strv(json_object_get(j, "alsoKnownAs"), &op->also_known_as, &op->n_also_known_as);
    }
    if (e == ERR_OK) {
        e = get_services(json_object_get(j, "services"), op);
    }
    if (e == ERR_OK) {
        e = get_prev(json_object_get(j, "prev"), true, &op->prev);
    }
    return e;
}

static enum err parse_tombstone(const json_t *j, struct plc_op *op)
{
    static const char *const allowed[] = {"type", "prev", "sig"};
    if (!keys_allowed(j, allowed, ARRAY_LEN(allowed))) {
        return ERR_INVALID;
    }
    return get_prev(json_object_get(j, "prev"), false, &op->prev);
}

static enum err parse_create_v1(const json_t *j, struct plc_op *op)
{
    static const char *const allowed[] = {"type",    "signingKey", "recoveryKey", "handle",
                                          "service", "prev",       "sig"};
    if (!keys_allowed(j, allowed, ARRAY_LEN(allowed)) ||
        !json_is_null(json_object_get(j, "prev"))) {
        return ERR_INVALID;
    }
    enum err e = get_str(json_object_get(j, "signingKey"), &op->signing_key);
    if (e == ERR_OK) {
        e = get_str(json_object_get(j, "recoveryKey"), &op->recovery_key);
    }
    if (e == ERR_OK) {
        e = get_str(json_object_get(j, "handle"), &op->handle);
    }
    if (e == ERR_OK) {
        e = get_str(json_object_get(j, "service"), &op->service);
    }
    return e;
}

enum err plc_op_from_json(const json_t *j, struct plc_op *out)
{
    plc_op_init(out, PLC_OP_OPERATION);
    if (!json_is_object(j)) {
        return ERR_INVALID;
    }
    const char *type = json_string_value(json_object_get(j, "type"));
    const json_t *sig = json_object_get(j, "sig");
    enum err e = ERR_INVALID;
    if (!type || !json_object_get(j, "prev") || (sig && !json_is_string(sig))) {
        return ERR_INVALID; /* spec(did-plc): the prev key is always present */
    }
    if (strcmp(type, "plc_operation") == 0) {
        e = parse_operation(j, out);
    } else if (strcmp(type, "plc_tombstone") == 0) {
        out->type = PLC_OP_TOMBSTONE;
        e = parse_tombstone(j, out);
    } else if (strcmp(type, "create") == 0) {
        out->type = PLC_OP_CREATE_V1;
        e = parse_create_v1(j, out);
    }
    if (e == ERR_OK && sig) {
        e = get_str(sig, &out->sig);
    }
    if (e == ERR_OK) {
        struct buf b;
        buf_init(&b, PLC_OP_MAX_BYTES);
        e = plc_op_encode(out, out->sig != NULL, &b);
        buf_clear(&b);
    }
    if (e != ERR_OK) {
        plc_op_clear(out);
    }
    return e;
}

enum err plc_op_from_data_json(const json_t *j, const char *did, struct plc_op *out)
{
    plc_op_init(out, PLC_OP_OPERATION);
    if (!json_is_object(j)) {
        return ERR_INVALID;
    }
    const char *got = json_string_value(json_object_get(j, "did"));
    if (did && (!got || strcmp(got, did) != 0)) {
        return ERR_INVALID;
    }
    /* the state object has "did" instead of type/prev/sig; unknown keys are ignored here
     * because nothing signs or hashes this form */
    enum err e =
        get_strv(json_object_get(j, "rotationKeys"), &out->rotation_keys, &out->n_rotation_keys);
    if (e == ERR_OK) {
        e = get_vms(json_object_get(j, "verificationMethods"), out);
    }
    if (e == ERR_OK) {
        e = get_strv(json_object_get(j, "alsoKnownAs"), &out->also_known_as, &out->n_also_known_as);
    }
    if (e == ERR_OK) {
        e = get_services(json_object_get(j, "services"), out);
    }
    if (e != ERR_OK) {
        plc_op_clear(out);
    }
    return e;
}
