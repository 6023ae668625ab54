/* lexicon.c - Lexicon schema documents: parse from JSON into checked schema nodes, and a
 * catalog of documents sorted by NSID for ref lookup. Validation is in lexicon_validate.c. */
#include "core/lexicon.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/arena.h"
#include "core/syntax.h"

#define LEXICON_PATH_MAX     192 /* schema path kept for messages; longer paths are cut */
#define LEXICON_DEF_NAME_MAX 128

/* Type bits: which schema types a position accepts. */
#define T(x) (1u << (x))
#define FIELD_TYPES                                                                                \
    (T(LEXICON_NULL) | T(LEXICON_BOOLEAN) | T(LEXICON_INTEGER) | T(LEXICON_STRING) |               \
     T(LEXICON_BYTES) | T(LEXICON_CID_LINK) | T(LEXICON_BLOB) | T(LEXICON_UNKNOWN) |               \
     T(LEXICON_ARRAY) | T(LEXICON_OBJECT) | T(LEXICON_REF) | T(LEXICON_UNION))
/* spec(lexicon): unknown, ref, union, params and sub-types cannot be named defs */
#define DEF_TYPES                                                                                  \
    (T(LEXICON_BOOLEAN) | T(LEXICON_INTEGER) | T(LEXICON_STRING) | T(LEXICON_BYTES) |              \
     T(LEXICON_CID_LINK) | T(LEXICON_BLOB) | T(LEXICON_ARRAY) | T(LEXICON_OBJECT) |                \
     T(LEXICON_TOKEN) | PRIMARY_TYPES)
#define PRIMARY_TYPES                                                                              \
    (T(LEXICON_RECORD) | T(LEXICON_QUERY) | T(LEXICON_PROCEDURE) | T(LEXICON_SUBSCRIPTION) |       \
     T(LEXICON_PERMISSION_SET))
/* spec(lexicon): params hold boolean, integer, string (unknown too, as the reference
 * implementation allows), or arrays of those */
#define PARAM_SCALAR_TYPES                                                                         \
    (T(LEXICON_BOOLEAN) | T(LEXICON_INTEGER) | T(LEXICON_STRING) | T(LEXICON_UNKNOWN))
#define PARAM_TYPES       (PARAM_SCALAR_TYPES | T(LEXICON_ARRAY))
#define BODY_SCHEMA_TYPES (T(LEXICON_OBJECT) | T(LEXICON_REF) | T(LEXICON_UNION))

static const struct {
    const char *name;
    enum lexicon_type type;
} type_names[] = {
    {"null", LEXICON_NULL},
    {"boolean", LEXICON_BOOLEAN},
    {"integer", LEXICON_INTEGER},
    {"string", LEXICON_STRING},
    {"bytes", LEXICON_BYTES},
    {"cid-link", LEXICON_CID_LINK},
    {"blob", LEXICON_BLOB},
    {"unknown", LEXICON_UNKNOWN},
    {"array", LEXICON_ARRAY},
    {"object", LEXICON_OBJECT},
    {"params", LEXICON_PARAMS},
    {"ref", LEXICON_REF},
    {"union", LEXICON_UNION},
    {"token", LEXICON_TOKEN},
    {"record", LEXICON_RECORD},
    {"query", LEXICON_QUERY},
    {"procedure", LEXICON_PROCEDURE},
    {"subscription", LEXICON_SUBSCRIPTION},
    {"permission-set", LEXICON_PERMISSION_SET},
};

static const struct {
    const char *name;
    enum lexicon_format format;
} format_names[] = {
    {"did", LEXICON_FORMAT_DID},
    {"handle", LEXICON_FORMAT_HANDLE},
    {"at-identifier", LEXICON_FORMAT_AT_IDENTIFIER},
    {"nsid", LEXICON_FORMAT_NSID},
    {"at-uri", LEXICON_FORMAT_AT_URI},
    {"cid", LEXICON_FORMAT_CID},
    {"datetime", LEXICON_FORMAT_DATETIME},
    {"language", LEXICON_FORMAT_LANGUAGE},
    {"uri", LEXICON_FORMAT_URI},
    {"tid", LEXICON_FORMAT_TID},
    {"record-key", LEXICON_FORMAT_RECORD_KEY},
};

struct parser {
    struct arena *a;
    struct bytes doc_id;
    char *msg;
    char path[LEXICON_PATH_MAX];
    size_t path_len;
};

/* ---- messages and paths ---- */

static bool fail(struct parser *p, const char *fmt, ...) PRINTF_LIKE(2, 3);
static bool fail(struct parser *p, const char *fmt, ...)
{
    char text[LEXICON_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (p->path_len) {
        snprintf(p->msg, LEXICON_MSG_MAX, "%s: %s", p->path, text);
    } else {
        snprintf(p->msg, LEXICON_MSG_MAX, "%s", text);
    }
    return false;
}

/* Appends "/seg" (or "seg" at the root) and returns the old length for path_pop. */
static size_t path_push(struct parser *p, const char *seg)
{
    size_t old = p->path_len;
    int n = snprintf(p->path + old, sizeof(p->path) - old, "%s%s", old ? "/" : "", seg);
    if (n > 0) {
        p->path_len = old + (size_t)n < sizeof(p->path) ? old + (size_t)n : sizeof(p->path) - 1;
    }
    return old;
}

static void path_pop(struct parser *p, size_t old)
{
    p->path_len = old;
    p->path[old] = '\0';
}

/* ---- small JSON readers: each returns false (with a message) on a wrong type ---- */

static struct bytes copy_str(struct parser *p, const json_t *s)
{
    size_t n = json_string_length(s);
    return bytes_of(arena_strndup(p->a, json_string_value(s), n), n);
}

static bool get_str(struct parser *p, const json_t *obj, const char *key, bool required,
                    struct bytes *out)
{
    const json_t *v = json_object_get(obj, key);
    *out = (struct bytes){NULL, 0};
    if (!v) {
        return !required || fail(p, "missing \"%s\"", key);
    }
    if (!json_is_string(v)) {
        return fail(p, "\"%s\" must be a string", key);
    }
    *out = copy_str(p, v);
    return true;
}

static bool get_int(struct parser *p, const json_t *obj, const char *key,
                    struct lexicon_opt_int *out)
{
    const json_t *v = json_object_get(obj, key);
    *out = (struct lexicon_opt_int){false, 0};
    if (!v) {
        return true;
    }
    if (!json_is_integer(v)) {
        return fail(p, "\"%s\" must be an integer", key);
    }
    *out = (struct lexicon_opt_int){true, (int64_t)json_integer_value(v)};
    return true;
}

/* A length or size: a non-negative integer. */
static bool get_count(struct parser *p, const json_t *obj, const char *key,
                      struct lexicon_opt_int *out)
{
    if (!get_int(p, obj, key, out)) {
        return false;
    }
    return !out->set || out->v >= 0 || fail(p, "\"%s\" must not be negative", key);
}

static bool get_bool(struct parser *p, const json_t *obj, const char *key, bool *present, bool *out)
{
    const json_t *v = json_object_get(obj, key);
    *out = false;
    if (present) {
        *present = v != NULL;
    }
    if (!v) {
        return true;
    }
    if (!json_is_boolean(v)) {
        return fail(p, "\"%s\" must be a boolean", key);
    }
    *out = json_is_true(v);
    return true;
}

static bool get_strs(struct parser *p, const json_t *obj, const char *key, bool *present,
                     struct lexicon_strs *out)
{
    const json_t *v = json_object_get(obj, key);
    *out = (struct lexicon_strs){NULL, 0};
    if (present) {
        *present = v != NULL;
    }
    if (!v) {
        return true;
    }
    if (!json_is_array(v)) {
        return fail(p, "\"%s\" must be an array of strings", key);
    }
    size_t n = json_array_size(v);
    out->items = arena_alloc(p->a, (n ? n : 1) * sizeof(*out->items));
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(v, i);
        if (!json_is_string(s)) {
            return fail(p, "\"%s\" must be an array of strings", key);
        }
        out->items[out->len++] = copy_str(p, s);
    }
    return true;
}

static bool check_range(struct parser *p, struct lexicon_opt_int lo, struct lexicon_opt_int hi,
                        const char *lo_name, const char *hi_name)
{
    if (lo.set && hi.set && lo.v > hi.v) {
        return fail(p, "\"%s\" is greater than \"%s\"", lo_name, hi_name);
    }
    return true;
}

/* ---- names and refs ---- */

/* spec(lexicon): def-id = alpha *( alpha / number ); real schemas also use '_'. */
static bool def_name_valid(struct bytes s)
{
    if (s.len == 0 || s.len > LEXICON_DEF_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        bool other = (c >= '0' && c <= '9') || c == '_';
        if (!alpha && (i == 0 || !other)) {
            return false;
        }
    }
    return true;
}

/* Checks "#name", "nsid" or "nsid#name" and returns it fully qualified, without "#main". */
static bool parse_ref(struct parser *p, struct bytes ref, struct bytes *out)
{
    const uint8_t *hash = ref.len ? memchr(ref.ptr, '#', ref.len) : NULL;
    struct bytes nsid = ref, name = {NULL, 0};
    if (hash) {
        nsid = bytes_of(ref.ptr, (size_t)(hash - ref.ptr));
        name = bytes_of(hash + 1, ref.len - nsid.len - 1);
        if (!def_name_valid(name)) {
            return fail(p, "invalid ref \"%.*s\"", (int)ref.len, (const char *)ref.ptr);
        }
    }
    if (nsid.len == 0) {
        if (!hash) {
            return fail(p, "empty ref");
        }
        nsid = p->doc_id;
    } else if (!syntax_nsid_valid(nsid)) {
        return fail(p, "invalid ref \"%.*s\"", (int)ref.len, (const char *)ref.ptr);
    }
    if (bytes_eq(name, BYTES_LIT("main"))) {
        name.len = 0;
    }
    size_t n = nsid.len + (name.len ? name.len + 1 : 0);
    char *s = arena_alloc(p->a, n + 1);
    memcpy(s, nsid.ptr, nsid.len);
    if (name.len) {
        s[nsid.len] = '#';
        memcpy(s + nsid.len + 1, name.ptr, name.len);
    }
    s[n] = '\0';
    *out = bytes_of(s, n);
    return true;
}

/* spec(lexicon): blob accept entries are full MIME types or end in a whole-subtype glob
 * ("image/" then a star); a lone star and partial globs are not supported. */
static bool accept_pattern_valid(struct bytes s)
{
    const uint8_t *slash = s.len ? memchr(s.ptr, '/', s.len) : NULL;
    if (!slash || slash == s.ptr || slash == s.ptr + s.len - 1) {
        return false;
    }
    struct bytes type = bytes_of(s.ptr, (size_t)(slash - s.ptr));
    struct bytes sub = bytes_of(slash + 1, s.len - type.len - 1);
    if (memchr(sub.ptr, '/', sub.len)) {
        return false;
    }
    if (memchr(type.ptr, '*', type.len) && !bytes_eq(type, BYTES_LIT("*"))) {
        return false;
    }
    if (memchr(sub.ptr, '*', sub.len) && !bytes_eq(sub, BYTES_LIT("*"))) {
        return false;
    }
    return !bytes_eq(type, BYTES_LIT("*")) || bytes_eq(sub, BYTES_LIT("*"));
}

/* spec(record-key): record key types are tid, nsid, any and literal:<rkey>. */
static bool record_key_valid(struct bytes k)
{
    static const char literal[] = "literal:";
    if (bytes_eq(k, BYTES_LIT("tid")) || bytes_eq(k, BYTES_LIT("nsid")) ||
        bytes_eq(k, BYTES_LIT("any"))) {
        return true;
    }
    size_t n = sizeof(literal) - 1;
    return k.len > n && memcmp(k.ptr, literal, n) == 0 &&
           syntax_rkey_valid(bytes_of(k.ptr + n, k.len - n));
}

bool lexicon_record_key_allows(struct bytes key_type, struct bytes rkey)
{
    static const char literal[] = "literal:";
    size_t n = sizeof(literal) - 1;
    if (bytes_eq(key_type, BYTES_LIT("tid"))) {
        return syntax_tid_valid(rkey);
    }
    if (bytes_eq(key_type, BYTES_LIT("nsid"))) {
        return syntax_nsid_valid(rkey);
    }
    if (bytes_eq(key_type, BYTES_LIT("any"))) {
        return syntax_rkey_valid(rkey);
    }
    return key_type.len > n && memcmp(key_type.ptr, literal, n) == 0 &&
           bytes_eq(bytes_of(key_type.ptr + n, key_type.len - n), rkey);
}

/* ---- schema nodes ---- */

static const struct lexicon_schema *parse_schema(struct parser *p, const json_t *j,
                                                 unsigned allowed, int depth);

static bool parse_boolean(struct parser *p, const json_t *j, struct lexicon_schema *s)
{
    bool has_default, dflt;
    if (!get_bool(p, j, "const", &s->u.boolean.has_const, &s->u.boolean.const_value) ||
        !get_bool(p, j, "default", &has_default, &dflt)) {
        return false;
    }
    return !(s->u.boolean.has_const && has_default) ||
           fail(p, "\"const\" and \"default\" are exclusive");
}

static bool parse_integer(struct parser *p, const json_t *j, struct lexicon_schema *s)
{
    struct lexicon_opt_int dflt;
    if (!get_int(p, j, "const", &s->u.integer.const_value) || !get_int(p, j, "default", &dflt) ||
        !get_int(p, j, "minimum", &s->u.integer.minimum) ||
        !get_int(p, j, "maximum", &s->u.integer.maximum)) {
        return false;
    }
    if (s->u.integer.const_value.set && dflt.set) {
        return fail(p, "\"const\" and \"default\" are exclusive");
    }
    if (!check_range(p, s->u.integer.minimum, s->u.integer.maximum, "minimum", "maximum")) {
        return false;
    }
    const json_t *e = json_object_get(j, "enum");
    if (!e) {
        return true;
    }
    if (!json_is_array(e)) {
        return fail(p, "\"enum\" must be an array of integers");
    }
    size_t n = json_array_size(e);
    s->u.integer.enum_values = arena_alloc(p->a, (n ? n : 1) * sizeof(int64_t));
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(e, i);
        if (!json_is_integer(v)) {
            return fail(p, "\"enum\" must be an array of integers");
        }
        s->u.integer.enum_values[s->u.integer.enum_len++] = (int64_t)json_integer_value(v);
    }
    return true;
}

static bool parse_string(struct parser *p, const json_t *j, struct lexicon_schema *s)
{
    typeof(s->u.string) *st = &s->u.string;
    struct bytes format, dflt;
    if (!get_str(p, j, "format", false, &format) ||
        !get_str(p, j, "const", false, &st->const_value) ||
        !get_str(p, j, "default", false, &dflt) ||
        !get_strs(p, j, "enum", &st->has_enum, &st->enum_values) ||
        !get_strs(p, j, "knownValues", NULL, &st->known_values) ||
        !get_count(p, j, "minLength", &st->min_length) ||
        !get_count(p, j, "maxLength", &st->max_length) ||
        !get_count(p, j, "minGraphemes", &st->min_graphemes) ||
        !get_count(p, j, "maxGraphemes", &st->max_graphemes)) {
        return false;
    }
    st->has_const = st->const_value.ptr != NULL;
    if (st->has_const && dflt.ptr) {
        return fail(p, "\"const\" and \"default\" are exclusive");
    }
    if (!check_range(p, st->min_length, st->max_length, "minLength", "maxLength") ||
        !check_range(p, st->min_graphemes, st->max_graphemes, "minGraphemes", "maxGraphemes")) {
        return false;
    }
    if (!format.ptr) {
        return true;
    }
    for (size_t i = 0; i < ARRAY_LEN(format_names); i++) {
        if (bytes_eq(format, bytes_str(format_names[i].name))) {
            st->format = format_names[i].format;
            return true;
        }
    }
    return fail(p, "unknown string format \"%s\"", (const char *)format.ptr);
}

static bool parse_blob(struct parser *p, const json_t *j, struct lexicon_schema *s)
{
    if (!get_count(p, j, "maxSize", &s->u.blob.max_size) ||
        !get_strs(p, j, "accept", &s->u.blob.has_accept, &s->u.blob.accept)) {
        return false;
    }
    for (size_t i = 0; i < s->u.blob.accept.len; i++) {
        struct bytes a = s->u.blob.accept.items[i];
        if (!accept_pattern_valid(a)) {
            return fail(p, "invalid accept pattern \"%.*s\"", (int)a.len, (const char *)a.ptr);
        }
    }
    return true;
}

static bool parse_array(struct parser *p, const json_t *j, struct lexicon_schema *s,
                        unsigned item_types, int depth)
{
    const json_t *items = json_object_get(j, "items");
    if (!get_count(p, j, "minLength", &s->u.array.min_length) ||
        !get_count(p, j, "maxLength", &s->u.array.max_length) ||
        !check_range(p, s->u.array.min_length, s->u.array.max_length, "minLength", "maxLength")) {
        return false;
    }
    if (!items) {
        return fail(p, "missing \"items\"");
    }
    size_t old = path_push(p, "items");
    s->u.array.items = parse_schema(p, items, item_types, depth + 1);
    path_pop(p, old);
    return s->u.array.items != NULL;
}

static bool strs_has(const struct lexicon_strs *l, struct bytes s)
{
    for (size_t i = 0; i < l->len; i++) {
        if (bytes_eq(l->items[i], s)) {
            return true;
        }
    }
    return false;
}

/* object and params: properties, required (each must be declared), nullable (object only) */
static bool parse_object(struct parser *p, const json_t *j, struct lexicon_schema *s, int depth)
{
    bool params = s->type == LEXICON_PARAMS;
    struct lexicon_strs required, nullable = {NULL, 0};
    if (!get_strs(p, j, "required", NULL, &required) ||
        (!params && !get_strs(p, j, "nullable", NULL, &nullable))) {
        return false;
    }
    const json_t *props = json_object_get(j, "properties");
    if (props && !json_is_object(props)) {
        return fail(p, "\"properties\" must be an object");
    }
    size_t n = props ? json_object_size(props) : 0;
    s->u.object.props = arena_zalloc(p->a, (n ? n : 1) * sizeof(*s->u.object.props));
    const char *key;
    const json_t *v;
    size_t old = path_push(p, "properties");
    json_object_foreach((json_t *)props, key, v)
    {
        struct lexicon_prop *pr = &s->u.object.props[s->u.object.len++];
        size_t klen = strlen(key);
        pr->name = bytes_of(arena_strndup(p->a, key, klen), klen);
        pr->required = strs_has(&required, pr->name);
        pr->nullable = strs_has(&nullable, pr->name);
        size_t old2 = path_push(p, key);
        pr->schema = parse_schema(p, v, params ? PARAM_TYPES : FIELD_TYPES, depth + 1);
        path_pop(p, old2);
        if (!pr->schema) {
            return false;
        }
    }
    path_pop(p, old);
    for (size_t i = 0; i < required.len; i++) {
        bool found = false;
        for (size_t k = 0; k < s->u.object.len && !found; k++) {
            found = bytes_eq(s->u.object.props[k].name, required.items[i]);
        }
        if (!found) {
            return fail(p, "required property \"%s\" is not declared",
                        (const char *)required.items[i].ptr);
        }
    }
    return true;
}

static bool parse_union(struct parser *p, const json_t *j, struct lexicon_schema *s)
{
    bool present;
    if (!get_strs(p, j, "refs", &present, &s->u.union_.refs) ||
        !get_bool(p, j, "closed", NULL, &s->u.union_.closed)) {
        return false;
    }
    if (!present) {
        return fail(p, "missing \"refs\"");
    }
    for (size_t i = 0; i < s->u.union_.refs.len; i++) {
        if (!parse_ref(p, s->u.union_.refs.items[i], &s->u.union_.refs.items[i])) {
            return false;
        }
    }
    /* spec(lexicon): an empty closed union is an invalid schema */
    return !(s->u.union_.closed && s->u.union_.refs.len == 0) ||
           fail(p, "a closed union needs at least one ref");
}

static bool parse_record(struct parser *p, const json_t *j, struct lexicon_schema *s, int depth)
{
    if (!get_str(p, j, "key", true, &s->u.record.key)) {
        return false;
    }
    if (!record_key_valid(s->u.record.key)) {
        return fail(p, "invalid record key type \"%s\"", (const char *)s->u.record.key.ptr);
    }
    const json_t *r = json_object_get(j, "record");
    if (!r) {
        return fail(p, "missing \"record\"");
    }
    size_t old = path_push(p, "record");
    s->u.record.record = parse_schema(p, r, T(LEXICON_OBJECT), depth + 1);
    path_pop(p, old);
    return s->u.record.record != NULL;
}

/* input, output ({encoding, schema}) or a subscription message ({schema}) */
static bool parse_body(struct parser *p, const json_t *j, const char *key, bool message,
                       struct lexicon_body *out, int depth)
{
    const json_t *b = json_object_get(j, key);
    if (!b) {
        return true;
    }
    size_t old = path_push(p, key);
    bool ok = false;
    if (!json_is_object(b)) {
        fail(p, "must be an object");
        goto out;
    }
    out->present = true;
    if (!message && !get_str(p, b, "encoding", true, &out->encoding)) {
        goto out;
    }
    const json_t *schema = json_object_get(b, "schema");
    if (schema) {
        size_t old2 = path_push(p, "schema");
        out->schema = parse_schema(p, schema, BODY_SCHEMA_TYPES, depth + 1);
        path_pop(p, old2);
        if (!out->schema) {
            goto out;
        }
    } else if (message) {
        fail(p, "missing \"schema\"");
        goto out;
    }
    ok = true;
out:
    path_pop(p, old);
    return ok;
}

static bool parse_xrpc(struct parser *p, const json_t *j, struct lexicon_schema *s, int depth)
{
    const json_t *params = json_object_get(j, "parameters");
    if (params) {
        size_t old = path_push(p, "parameters");
        s->u.xrpc.parameters = parse_schema(p, params, T(LEXICON_PARAMS), depth + 1);
        path_pop(p, old);
        if (!s->u.xrpc.parameters) {
            return false;
        }
    }
    bool ok = s->type == LEXICON_SUBSCRIPTION
                  ? parse_body(p, j, "message", true, &s->u.xrpc.message, depth)
                  : parse_body(p, j, "output", false, &s->u.xrpc.output, depth);
    if (ok && s->type == LEXICON_PROCEDURE) {
        ok = parse_body(p, j, "input", false, &s->u.xrpc.input, depth);
    }
    if (!ok) {
        return false;
    }
    const json_t *errors = json_object_get(j, "errors");
    if (!errors) {
        return true;
    }
    if (!json_is_array(errors)) {
        return fail(p, "\"errors\" must be an array");
    }
    size_t n = json_array_size(errors);
    s->u.xrpc.errors.items = arena_alloc(p->a, (n ? n : 1) * sizeof(struct bytes));
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(errors, i);
        struct bytes name;
        if (!json_is_object(e)) {
            return fail(p, "\"errors\" entries must be objects");
        }
        if (!get_str(p, e, "name", true, &name)) {
            return false;
        }
        s->u.xrpc.errors.items[s->u.xrpc.errors.len++] = name;
    }
    return true;
}

static bool parse_lang_map(struct parser *p, const json_t *j, const char *key,
                           struct lexicon_lang_text **out, size_t *out_len)
{
    const json_t *m = json_object_get(j, key);
    *out = NULL;
    *out_len = 0;
    if (!m) {
        return true;
    }
    if (!json_is_object(m)) {
        return fail(p, "\"%s\" must be an object", key);
    }
    *out = arena_alloc(p->a, (json_object_size(m) ? json_object_size(m) : 1) * sizeof(**out));
    const char *lang;
    const json_t *text;
    json_object_foreach((json_t *)m, lang, text)
    {
        size_t n = strlen(lang);
        if (!syntax_language_wellformed(bytes_of(lang, n))) {
            return fail(p, "\"%s\" has an invalid language \"%s\"", key, lang);
        }
        if (!json_is_string(text)) {
            return fail(p, "\"%s\" values must be strings", key);
        }
        (*out)[(*out_len)++] = (struct lexicon_lang_text){bytes_of(arena_strndup(p->a, lang, n), n),
                                                          copy_str(p, text)};
    }
    return true;
}

static bool nsids_valid(struct parser *p, const struct lexicon_strs *l, const char *key,
                        bool allow_star)
{
    if (l->len == 0) {
        return fail(p, "\"%s\" must not be empty", key);
    }
    for (size_t i = 0; i < l->len; i++) {
        struct bytes s = l->items[i];
        if (!syntax_nsid_valid(s) && !(allow_star && bytes_eq(s, BYTES_LIT("*")))) {
            return fail(p, "\"%s\" has an invalid NSID \"%s\"", key, (const char *)s.ptr);
        }
    }
    return true;
}

/* spec(lexicon): a permission has a resource; repo needs collection (NSIDs) and may limit
 * action to create/update/delete; rpc needs lxm and aud or inheritAud. Other resources are
 * kept but not interpreted. */
static bool parse_permission(struct parser *p, const json_t *j, struct lexicon_permission *out)
{
    struct bytes type;
    if (!json_is_object(j)) {
        return fail(p, "must be an object");
    }
    if (!get_str(p, j, "type", true, &type) || !get_str(p, j, "resource", true, &out->resource)) {
        return false;
    }
    if (!bytes_eq(type, BYTES_LIT("permission"))) {
        return fail(p, "\"type\" must be \"permission\"");
    }
    if (bytes_eq(out->resource, BYTES_LIT("repo"))) {
        if (!get_strs(p, j, "collection", NULL, &out->collection) ||
            !get_strs(p, j, "action", NULL, &out->action) ||
            !nsids_valid(p, &out->collection, "collection", false)) {
            return false;
        }
        for (size_t i = 0; i < out->action.len; i++) {
            struct bytes a = out->action.items[i];
            if (!bytes_eq(a, BYTES_LIT("create")) && !bytes_eq(a, BYTES_LIT("update")) &&
                !bytes_eq(a, BYTES_LIT("delete"))) {
                return fail(p, "invalid action \"%s\"", (const char *)a.ptr);
            }
        }
    } else if (bytes_eq(out->resource, BYTES_LIT("rpc"))) {
        /* the lexicon spec rules out "*" in lxm, but the interop catalog (which must load)
         * uses it with inheritAud, so it is accepted here and left to the permission code */
        if (!get_strs(p, j, "lxm", NULL, &out->lxm) || !get_str(p, j, "aud", false, &out->aud) ||
            !get_bool(p, j, "inheritAud", NULL, &out->inherit_aud) ||
            !nsids_valid(p, &out->lxm, "lxm", true)) {
            return false;
        }
        if (!out->aud.ptr && !out->inherit_aud) {
            return fail(p, "needs \"aud\" or \"inheritAud\"");
        }
    }
    return true;
}

static bool parse_permission_set(struct parser *p, const json_t *j, struct lexicon_schema *s)
{
    typeof(s->u.permission_set) *ps = &s->u.permission_set;
    if (!get_str(p, j, "title", false, &ps->title) ||
        !get_str(p, j, "detail", false, &ps->detail) ||
        !parse_lang_map(p, j, "title:lang", &ps->title_lang, &ps->title_lang_len) ||
        !parse_lang_map(p, j, "detail:lang", &ps->detail_lang, &ps->detail_lang_len)) {
        return false;
    }
    const json_t *perms = json_object_get(j, "permissions");
    if (!json_is_array(perms)) {
        return fail(p, "\"permissions\" must be an array");
    }
    size_t n = json_array_size(perms);
    ps->permissions = arena_zalloc(p->a, (n ? n : 1) * sizeof(*ps->permissions));
    for (size_t i = 0; i < n; i++) {
        char idx[24];
        snprintf(idx, sizeof(idx), "permissions/%zu", i);
        size_t old = path_push(p, idx);
        bool ok = parse_permission(p, json_array_get(perms, i), &ps->permissions[i]);
        path_pop(p, old);
        if (!ok) {
            return false;
        }
        ps->permissions_len++;
    }
    return true;
}

static bool type_from_name(const char *name, enum lexicon_type *out)
{
    for (size_t i = 0; i < ARRAY_LEN(type_names); i++) {
        if (strcmp(name, type_names[i].name) == 0) {
            *out = type_names[i].type;
            return true;
        }
    }
    return false;
}

/* Parses one schema node whose type must be in allowed; NULL (and a message) on error. */
static const struct lexicon_schema *parse_schema(struct parser *p, const json_t *j,
                                                 unsigned allowed, int depth)
{
    if (depth > LEXICON_SCHEMA_MAX_DEPTH) {
        fail(p, "schema nested too deeply");
        return NULL;
    }
    if (!json_is_object(j)) {
        fail(p, "must be an object");
        return NULL;
    }
    const json_t *tj = json_object_get(j, "type");
    if (!json_is_string(tj)) {
        fail(p, "\"type\" must be a string");
        return NULL;
    }
    struct lexicon_schema *s = arena_zalloc(p->a, sizeof(*s));
    if (!type_from_name(json_string_value(tj), &s->type)) {
        fail(p, "unknown type \"%s\"", json_string_value(tj));
        return NULL;
    }
    if (!(allowed & T(s->type))) {
        fail(p, "type \"%s\" is not allowed here", json_string_value(tj));
        return NULL;
    }
    bool ok = true;
    switch (s->type) {
    case LEXICON_NULL:
    case LEXICON_CID_LINK:
    case LEXICON_UNKNOWN:
    case LEXICON_TOKEN:
        break;
    case LEXICON_BOOLEAN:
        ok = parse_boolean(p, j, s);
        break;
    case LEXICON_INTEGER:
        ok = parse_integer(p, j, s);
        break;
    case LEXICON_STRING:
        ok = parse_string(p, j, s);
        break;
    case LEXICON_BYTES:
        ok = get_count(p, j, "minLength", &s->u.bytes.min_length) &&
             get_count(p, j, "maxLength", &s->u.bytes.max_length) &&
             check_range(p, s->u.bytes.min_length, s->u.bytes.max_length, "minLength", "maxLength");
        break;
    case LEXICON_BLOB:
        ok = parse_blob(p, j, s);
        break;
    case LEXICON_ARRAY:
        /* params arrays hold scalars only */
        ok = parse_array(p, j, s, allowed == PARAM_TYPES ? PARAM_SCALAR_TYPES : FIELD_TYPES, depth);
        break;
    case LEXICON_OBJECT:
    case LEXICON_PARAMS:
        ok = parse_object(p, j, s, depth);
        break;
    case LEXICON_REF: {
        struct bytes ref;
        ok = get_str(p, j, "ref", true, &ref) && parse_ref(p, ref, &s->u.ref.ref);
        break;
    }
    case LEXICON_UNION:
        ok = parse_union(p, j, s);
        break;
    case LEXICON_RECORD:
        ok = parse_record(p, j, s, depth);
        break;
    case LEXICON_QUERY:
    case LEXICON_PROCEDURE:
    case LEXICON_SUBSCRIPTION:
        ok = parse_xrpc(p, j, s, depth);
        break;
    case LEXICON_PERMISSION_SET:
        ok = parse_permission_set(p, j, s);
        break;
    }
    return ok ? s : NULL;
}

/* ---- documents ---- */

static bool parse_doc(struct parser *p, const json_t *j, struct lexicon_doc *doc)
{
    if (!json_is_object(j)) {
        return fail(p, "a lexicon document must be a JSON object");
    }
    const json_t *version = json_object_get(j, "lexicon");
    if (!json_is_integer(version) || json_integer_value(version) != 1) {
        return fail(p, "\"lexicon\" must be the integer 1");
    }
    const json_t *id = json_object_get(j, "id");
    if (!json_is_string(id)) {
        return fail(p, "\"id\" must be a string");
    }
    doc->id = copy_str(p, id);
    if (!syntax_nsid_valid(doc->id)) {
        return fail(p, "\"id\" is not a valid NSID");
    }
    p->doc_id = doc->id;
    if (!get_str(p, j, "description", false, &doc->description) ||
        !get_int(p, j, "revision", &doc->revision)) {
        return false;
    }
    const json_t *defs = json_object_get(j, "defs");
    if (!json_is_object(defs) || json_object_size(defs) == 0) {
        return fail(p, "\"defs\" must be a non-empty object");
    }
    doc->defs = arena_zalloc(p->a, json_object_size(defs) * sizeof(*doc->defs));
    const char *name;
    const json_t *def;
    json_object_foreach((json_t *)defs, name, def)
    {
        size_t n = strlen(name);
        struct lexicon_def *d = &doc->defs[doc->defs_len];
        d->name = bytes_of(arena_strndup(p->a, name, n), n);
        d->doc = doc;
        if (!def_name_valid(d->name)) {
            return fail(p, "invalid def name \"%s\"", name);
        }
        /* spec(lexicon): primary types are only ever the main def */
        unsigned allowed = strcmp(name, "main") == 0 ? DEF_TYPES : DEF_TYPES & ~PRIMARY_TYPES;
        size_t old = path_push(p, "defs");
        path_push(p, name);
        d->schema = parse_schema(p, def, allowed, 0);
        path_pop(p, old);
        if (!d->schema) {
            return false;
        }
        doc->defs_len++;
    }
    return true;
}

/* ---- the catalog ---- */

struct doc_entry {
    struct arena arena; /* holds doc and everything it points to */
    struct lexicon_doc doc;
};

struct lexicon_catalog {
    struct doc_entry **docs; /* sorted by id, bytewise */
    size_t len, cap;
};

struct lexicon_catalog *lexicon_catalog_new(void)
{
    return xcalloc(1, sizeof(struct lexicon_catalog));
}

static void entry_free(struct doc_entry *e)
{
    arena_clear(&e->arena);
    free(e);
}

void lexicon_catalog_free(struct lexicon_catalog *c)
{
    if (!c) {
        return;
    }
    for (size_t i = 0; i < c->len; i++) {
        entry_free(c->docs[i]);
    }
    free(c->docs);
    free(c);
}

/* Index of the first doc whose id is >= nsid. */
static size_t find_pos(const struct lexicon_catalog *c, struct bytes nsid)
{
    size_t lo = 0, hi = c->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (bytes_cmp(c->docs[mid]->doc.id, nsid) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static struct doc_entry *parse_entry(const json_t *j, char *msg, enum err *e)
{
    struct doc_entry *entry = xcalloc(1, sizeof(*entry));
    arena_init(&entry->arena);
    struct parser p = {.a = &entry->arena, .msg = msg};
    if (!parse_doc(&p, j, &entry->doc)) {
        entry_free(entry);
        *e = ERR_INVALID;
        return NULL;
    }
    *e = ERR_OK;
    return entry;
}

enum err lexicon_check(const json_t *doc, char msg[LEXICON_MSG_MAX])
{
    char local[LEXICON_MSG_MAX];
    enum err e;
    struct doc_entry *entry = parse_entry(doc, msg ? msg : local, &e);
    if (entry) {
        entry_free(entry);
    }
    return e;
}

enum err lexicon_catalog_add(struct lexicon_catalog *c, const json_t *doc,
                             char msg[LEXICON_MSG_MAX])
{
    char local[LEXICON_MSG_MAX];
    msg = msg ? msg : local;
    enum err e;
    struct doc_entry *entry = parse_entry(doc, msg, &e);
    if (!entry) {
        return e;
    }
    size_t pos = find_pos(c, entry->doc.id);
    if (pos < c->len && bytes_eq(c->docs[pos]->doc.id, entry->doc.id)) {
        snprintf(msg, LEXICON_MSG_MAX, "lexicon \"%s\" is already loaded",
                 (const char *)entry->doc.id.ptr);
        entry_free(entry);
        return ERR_CONFLICT;
    }
    if (c->len == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->docs = xrealloc(c->docs, c->cap * sizeof(*c->docs));
    }
    memmove(c->docs + pos + 1, c->docs + pos, (c->len - pos) * sizeof(*c->docs));
    c->docs[pos] = entry;
    c->len++;
    return ERR_OK;
}

enum err lexicon_catalog_add_text(struct lexicon_catalog *c, struct bytes json_text,
                                  char msg[LEXICON_MSG_MAX])
{
    json_error_t jerr;
    json_t *j = json_loadb((const char *)json_text.ptr, json_text.len, 0, &jerr);
    if (!j) {
        if (msg) {
            snprintf(msg, LEXICON_MSG_MAX, "bad JSON: %s", jerr.text);
        }
        return ERR_INVALID;
    }
    enum err e = lexicon_catalog_add(c, j, msg);
    json_decref(j);
    return e;
}

const struct lexicon_doc *lexicon_catalog_doc(const struct lexicon_catalog *c, struct bytes nsid)
{
    size_t pos = find_pos(c, nsid);
    if (pos < c->len && bytes_eq(c->docs[pos]->doc.id, nsid)) {
        return &c->docs[pos]->doc;
    }
    return NULL;
}

const struct lexicon_def *lexicon_catalog_lookup(const struct lexicon_catalog *c, struct bytes ref)
{
    const uint8_t *hash = ref.len ? memchr(ref.ptr, '#', ref.len) : NULL;
    struct bytes nsid = ref, name = BYTES_LIT("main");
    if (hash) {
        nsid = bytes_of(ref.ptr, (size_t)(hash - ref.ptr));
        name = bytes_of(hash + 1, ref.len - nsid.len - 1);
    }
    const struct lexicon_doc *doc = lexicon_catalog_doc(c, nsid);
    for (size_t i = 0; doc && i < doc->defs_len; i++) {
        if (bytes_eq(doc->defs[i].name, name)) {
            return &doc->defs[i];
        }
    }
    return NULL;
}

size_t lexicon_catalog_len(const struct lexicon_catalog *c)
{
    return c->len;
}
