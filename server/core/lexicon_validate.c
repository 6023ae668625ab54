/* lexicon_validate.c - validates data-model values (records, XRPC bodies) against the
 * schemas of a lexicon catalog, naming the failing path ("record/text must be a string"). */
#include "core/lexicon.h"

#include <stdarg.h>
#include <stdio.h>
#include <unictype.h>
#include <unigbrk.h>
#include <unistr.h>

#include "core/syntax.h"

#define VALIDATE_PATH_MAX 192 /* path kept for messages; deeper paths are cut */
#define LIST_TEXT_MAX     96  /* "one of (...)" lists in messages are cut past this */

struct walker {
    const struct lexicon_catalog *cat;
    char *msg;
    char path[VALIDATE_PATH_MAX];
    size_t path_len;
    int depth;
};

/* ---- messages and paths ---- */

static enum err report(struct walker *w, enum err e, const char *fmt, ...) PRINTF_LIKE(3, 4);
static enum err report(struct walker *w, enum err e, const char *fmt, ...)
{
    char text[LEXICON_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    snprintf(w->msg, LEXICON_MSG_MAX, "%s %s", w->path, text);
    return e;
}

static size_t path_push(struct walker *w, struct bytes seg)
{
    size_t old = w->path_len;
    int n = snprintf(w->path + old, sizeof(w->path) - old, "/%.*s", (int)seg.len,
                     (const char *)seg.ptr);
    if (n > 0) {
        w->path_len = old + (size_t)n < sizeof(w->path) ? old + (size_t)n : sizeof(w->path) - 1;
    }
    return old;
}

static void path_pop(struct walker *w, size_t old)
{
    w->path_len = old;
    w->path[old] = '\0';
}

/* "a|b|c" for messages, cut with "..." past LIST_TEXT_MAX. */
static void list_text(char out[LIST_TEXT_MAX], const struct lexicon_strs *strs, const int64_t *ints,
                      size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len < LIST_TEXT_MAX; i++) {
        int k = strs ? snprintf(out + len, LIST_TEXT_MAX - len, "%s%.*s", i ? "|" : "",
                                (int)strs->items[i].len, (const char *)strs->items[i].ptr)
                     : snprintf(out + len, LIST_TEXT_MAX - len, "%s%lld", i ? "|" : "",
                                (long long)ints[i]);
        len += k > 0 ? (size_t)k : 0;
    }
    if (len >= LIST_TEXT_MAX) {
        memcpy(out + LIST_TEXT_MAX - 4, "...", 4);
    }
}

/* ---- graphemes and MIME types ---- */

/* Grapheme_Cluster_Break, folding the pre-Unicode-11 emoji classes libunistring may still
 * report: a modifier extends, the other three are plain (Extended_Pictographic covers
 * them). */
static int gcb_of(ucs4_t c)
{
    int p = uc_graphemeclusterbreak_property(c);
    switch (p) {
    case GBP_EM:
        return GBP_EXTEND;
    case GBP_EB:
    case GBP_GAZ:
    case GBP_EBG:
        return GBP_OTHER;
    default:
        return p;
    }
}

/* spec(UAX #29): the extended grapheme cluster rules GB3-GB13 (GB9c, Indic conjuncts, is
 * not applied: libunistring 1.0 lacks its property). libunistring 1.0's own
 * u8_grapheme_next misses GB11 (emoji ZWJ sequences) and GB12/13 (flag pairs), so only its
 * property tables are used. ri_run counts the regional indicators just before cur;
 * zwj_after_pict says prev is a ZWJ after Extended_Pictographic Extend*. */
static bool grapheme_break(int prev, int cur, bool cur_pict, size_t ri_run, bool zwj_after_pict)
{
    if (prev == GBP_CR && cur == GBP_LF) {
        return false; /* GB3 */
    }
    if (prev == GBP_CONTROL || prev == GBP_CR || prev == GBP_LF || cur == GBP_CONTROL ||
        cur == GBP_CR || cur == GBP_LF) {
        return true; /* GB4, GB5 */
    }
    if (prev == GBP_L && (cur == GBP_L || cur == GBP_V || cur == GBP_LV || cur == GBP_LVT)) {
        return false; /* GB6 */
    }
    if ((prev == GBP_LV || prev == GBP_V) && (cur == GBP_V || cur == GBP_T)) {
        return false; /* GB7 */
    }
    if ((prev == GBP_LVT || prev == GBP_T) && cur == GBP_T) {
        return false; /* GB8 */
    }
    if (cur == GBP_EXTEND || cur == GBP_ZWJ || cur == GBP_SPACINGMARK || prev == GBP_PREPEND) {
        return false; /* GB9, GB9a, GB9b */
    }
    if (zwj_after_pict && cur_pict) {
        return false; /* GB11 */
    }
    if (prev == GBP_RI && cur == GBP_RI && ri_run % 2 == 1) {
        return false; /* GB12, GB13 */
    }
    return true; /* GB999 */
}

size_t lexicon_grapheme_count(struct bytes text, size_t limit)
{
    const uint8_t *p = text.ptr, *end = text.ptr + text.len;
    size_t count = 0, ri_run = 0;
    int prev = -1;
    int pict = 0; /* 1: in Extended_Pictographic Extend*, 2: and then a ZWJ */
    while (p < end) {
        ucs4_t c;
        p += u8_mbtouc(&c, p, (size_t)(end - p)); /* invalid bytes read as U+FFFD */
        int cur = gcb_of(c);
        bool cur_pict = uc_is_property_extended_pictographic(c);
        if (prev < 0 || grapheme_break(prev, cur, cur_pict, ri_run, pict == 2)) {
            if (++count > limit) {
                return count;
            }
        }
        ri_run = cur == GBP_RI ? ri_run + 1 : 0;
        if (cur_pict) {
            pict = 1;
        } else if (pict == 1 && cur == GBP_EXTEND) {
            pict = 1;
        } else if (pict == 1 && cur == GBP_ZWJ) {
            pict = 2;
        } else {
            pict = 0;
        }
        prev = cur;
    }
    return count;
}

static bool ascii_case_eq(struct bytes a, struct bytes b)
{
    if (a.len != b.len) {
        return false;
    }
    for (size_t i = 0; i < a.len; i++) {
        uint8_t x = a.ptr[i], y = b.ptr[i];
        x = (x >= 'A' && x <= 'Z') ? (uint8_t)(x + 32) : x;
        y = (y >= 'A' && y <= 'Z') ? (uint8_t)(y + 32) : y;
        if (x != y) {
            return false;
        }
    }
    return true;
}

bool lexicon_mime_accepts(struct bytes pattern, struct bytes mime)
{
    if (bytes_eq(pattern, BYTES_LIT("*/*"))) {
        return true;
    }
    /* "type/" then a star: the mime must be "type/<something>" */
    if (pattern.len >= 2 && pattern.ptr[pattern.len - 1] == '*' &&
        pattern.ptr[pattern.len - 2] == '/') {
        size_t n = pattern.len - 1;
        return mime.len > n && ascii_case_eq(bytes_of(pattern.ptr, n), bytes_of(mime.ptr, n));
    }
    return ascii_case_eq(pattern, mime);
}

/* ---- field types ---- */

static enum err validate(struct walker *w, const struct lexicon_schema *s,
                         const struct dm_value *v);

static bool format_valid(enum lexicon_format f, struct bytes s)
{
    switch (f) {
    case LEXICON_FORMAT_NONE:
        return true;
    case LEXICON_FORMAT_DID:
        return syntax_did_valid(s);
    case LEXICON_FORMAT_HANDLE:
        return syntax_handle_valid(s);
    case LEXICON_FORMAT_AT_IDENTIFIER:
        return syntax_atidentifier_valid(s);
    case LEXICON_FORMAT_NSID:
        return syntax_nsid_valid(s);
    case LEXICON_FORMAT_AT_URI:
        return syntax_aturi_valid(s);
    case LEXICON_FORMAT_CID:
        return syntax_cid_valid(s);
    case LEXICON_FORMAT_DATETIME:
        return syntax_datetime_valid(s);
    /* spec(lexicon): a language must be a "well-formed" BCP 47 tag */
    case LEXICON_FORMAT_LANGUAGE:
        return syntax_language_wellformed(s);
    case LEXICON_FORMAT_URI:
        return syntax_uri_valid(s);
    case LEXICON_FORMAT_TID:
        return syntax_tid_valid(s);
    case LEXICON_FORMAT_RECORD_KEY:
        return syntax_rkey_valid(s);
    }
    return false;
}

static const char *format_name(enum lexicon_format f)
{
    static const char *const names[] = {
        [LEXICON_FORMAT_NONE] = "string",       [LEXICON_FORMAT_DID] = "did",
        [LEXICON_FORMAT_HANDLE] = "handle",     [LEXICON_FORMAT_AT_IDENTIFIER] = "at-identifier",
        [LEXICON_FORMAT_NSID] = "nsid",         [LEXICON_FORMAT_AT_URI] = "at-uri",
        [LEXICON_FORMAT_CID] = "cid",           [LEXICON_FORMAT_DATETIME] = "datetime",
        [LEXICON_FORMAT_LANGUAGE] = "language", [LEXICON_FORMAT_URI] = "uri",
        [LEXICON_FORMAT_TID] = "tid",           [LEXICON_FORMAT_RECORD_KEY] = "record-key",
    };
    return names[f];
}

static enum err check_count(struct walker *w, size_t n, struct lexicon_opt_int min,
                            struct lexicon_opt_int max, const char *unit)
{
    if (min.set && (int64_t)n < min.v) {
        return report(w, ERR_INVALID, "must not be shorter than %lld %s", (long long)min.v, unit);
    }
    if (max.set && n > (uint64_t)max.v) {
        return report(w, ERR_INVALID, "must not be longer than %lld %s", (long long)max.v, unit);
    }
    return ERR_OK;
}

static enum err validate_integer(struct walker *w, const struct lexicon_schema *s,
                                 const struct dm_value *v)
{
    if (v->kind != DM_INT) {
        return report(w, ERR_INVALID, "must be an integer");
    }
    int64_t x = v->u.integer;
    const typeof(s->u.integer) *in = &s->u.integer;
    if (in->const_value.set && x != in->const_value.v) {
        return report(w, ERR_INVALID, "must be %lld", (long long)in->const_value.v);
    }
    if (in->enum_values) {
        bool found = false;
        for (size_t i = 0; i < in->enum_len && !found; i++) {
            found = in->enum_values[i] == x;
        }
        if (!found) {
            char list[LIST_TEXT_MAX];
            list_text(list, NULL, in->enum_values, in->enum_len);
            return report(w, ERR_INVALID, "must be one of (%s)", list);
        }
    }
    if (in->minimum.set && x < in->minimum.v) {
        return report(w, ERR_INVALID, "can not be less than %lld", (long long)in->minimum.v);
    }
    if (in->maximum.set && x > in->maximum.v) {
        return report(w, ERR_INVALID, "can not be greater than %lld", (long long)in->maximum.v);
    }
    return ERR_OK;
}

static enum err validate_string(struct walker *w, const struct lexicon_schema *s,
                                const struct dm_value *v)
{
    if (v->kind != DM_STRING) {
        return report(w, ERR_INVALID, "must be a string");
    }
    struct bytes x = v->u.str;
    const typeof(s->u.string) *st = &s->u.string;
    if (st->has_const && !bytes_eq(x, st->const_value)) {
        return report(w, ERR_INVALID, "must be \"%s\"", (const char *)st->const_value.ptr);
    }
    if (st->has_enum) {
        bool found = false;
        for (size_t i = 0; i < st->enum_values.len && !found; i++) {
            found = bytes_eq(st->enum_values.items[i], x);
        }
        if (!found) {
            char list[LIST_TEXT_MAX];
            list_text(list, &st->enum_values, NULL, st->enum_values.len);
            return report(w, ERR_INVALID, "must be one of (%s)", list);
        }
    }
    enum err e = check_count(w, x.len, st->min_length, st->max_length, "bytes");
    if (e) {
        return e;
    }
    /* each grapheme is at least one byte: count only when the byte length leaves doubt */
    bool need_min =
        st->min_graphemes.set && x.len >= (uint64_t)st->min_graphemes.v && st->min_graphemes.v > 0;
    bool short_min = st->min_graphemes.set && x.len < (uint64_t)st->min_graphemes.v;
    bool need_max = st->max_graphemes.set && x.len > (uint64_t)st->max_graphemes.v;
    if (short_min) {
        return report(w, ERR_INVALID, "must not be shorter than %lld graphemes",
                      (long long)st->min_graphemes.v);
    }
    if (need_min || need_max) {
        size_t limit = need_max ? (size_t)st->max_graphemes.v : (size_t)st->min_graphemes.v;
        size_t n = lexicon_grapheme_count(x, limit);
        e = check_count(w, n, st->min_graphemes, st->max_graphemes, "graphemes");
        if (e) {
            return e;
        }
    }
    if (!format_valid(st->format, x)) {
        return report(w, ERR_INVALID, "must be a valid %s", format_name(st->format));
    }
    return ERR_OK;
}

static bool is_blob(const struct dm_value *v)
{
    return v->kind == DM_MAP && bytes_eq(dm_map_str(v, "$type"), BYTES_LIT("blob"));
}

static enum err validate_blob(struct walker *w, const struct lexicon_schema *s,
                              const struct dm_value *v)
{
    const struct dm_value *ref = dm_map_get(v, "ref"), *mime = dm_map_get(v, "mimeType"),
                          *size = dm_map_get(v, "size");
    /* the blob ref may be any CID codec: upstream vectors use dag-cbor refs */
    if (!is_blob(v) || !ref || ref->kind != DM_LINK || !mime || mime->kind != DM_STRING || !size ||
        size->kind != DM_INT || size->u.integer < 0) {
        return report(w, ERR_INVALID, "must be a blob");
    }
    if (s->u.blob.max_size.set && size->u.integer > s->u.blob.max_size.v) {
        return report(w, ERR_INVALID, "must not be larger than %lld bytes",
                      (long long)s->u.blob.max_size.v);
    }
    if (s->u.blob.has_accept) {
        for (size_t i = 0; i < s->u.blob.accept.len; i++) {
            if (lexicon_mime_accepts(s->u.blob.accept.items[i], mime->u.str)) {
                return ERR_OK;
            }
        }
        char list[LIST_TEXT_MAX];
        list_text(list, &s->u.blob.accept, NULL, s->u.blob.accept.len);
        return report(w, ERR_INVALID, "mimeType must be one of (%s)", list);
    }
    return ERR_OK;
}

static enum err validate_array(struct walker *w, const struct lexicon_schema *s,
                               const struct dm_value *v)
{
    if (v->kind != DM_ARRAY) {
        return report(w, ERR_INVALID, "must be an array");
    }
    enum err e =
        check_count(w, v->u.array.len, s->u.array.min_length, s->u.array.max_length, "elements");
    for (size_t i = 0; !e && i < v->u.array.len; i++) {
        char idx[24];
        int n = snprintf(idx, sizeof(idx), "%zu", i);
        size_t old = path_push(w, bytes_of(idx, (size_t)n));
        e = validate(w, s->u.array.items, v->u.array.items[i]);
        path_pop(w, old);
    }
    return e;
}

/* Objects are open: undeclared fields are ignored. Defaults are not applied. */
static enum err validate_object(struct walker *w, const struct lexicon_schema *s,
                                const struct dm_value *v)
{
    if (v->kind != DM_MAP) {
        return report(w, ERR_INVALID, "must be an object");
    }
    for (size_t i = 0; i < s->u.object.len; i++) {
        const struct lexicon_prop *pr = &s->u.object.props[i];
        const struct dm_value *x = dm_map_getb(v, pr->name);
        if (!x) {
            if (pr->required) {
                return report(w, ERR_INVALID, "must have the property \"%s\"",
                              (const char *)pr->name.ptr);
            }
            continue;
        }
        if (x->kind == DM_NULL && pr->nullable) {
            continue;
        }
        size_t old = path_push(w, pr->name);
        enum err e = validate(w, pr->schema, x);
        path_pop(w, old);
        if (e) {
            return e;
        }
    }
    return ERR_OK;
}

/* Validates v against a named def, found by a fully-qualified ref. */
static enum err validate_ref(struct walker *w, struct bytes ref, const struct dm_value *v)
{
    const struct lexicon_def *def = lexicon_catalog_lookup(w->cat, ref);
    if (!def) {
        return report(w, ERR_NOT_FOUND, "needs the unknown schema \"%.*s\"", (int)ref.len,
                      (const char *)ref.ptr);
    }
    return validate(w, def->schema, v);
}

/* spec(lexicon): union variants carry "$type"; a closed union must match a listed ref, an
 * open one accepts types it does not list (without checking them). */
static enum err validate_union(struct walker *w, const struct lexicon_schema *s,
                               const struct dm_value *v)
{
    struct bytes type = dm_map_str(v, "$type");
    if (v->kind != DM_MAP || !type.ptr || type.len == 0) {
        return report(w, ERR_INVALID, "must be an object which includes the \"$type\" property");
    }
    for (size_t i = 0; i < s->u.union_.refs.len; i++) {
        /* refs are stored without "#main", so "x#main" never matches (spec: invalid) */
        if (bytes_eq(s->u.union_.refs.items[i], type)) {
            return validate_ref(w, type, v);
        }
    }
    if (s->u.union_.closed) {
        char list[LIST_TEXT_MAX];
        list_text(list, &s->u.union_.refs, NULL, s->u.union_.refs.len);
        return report(w, ERR_INVALID, "$type must be one of (%s)", list);
    }
    return ERR_OK;
}

static const char *const kind_names[] = {
    [LEXICON_TOKEN] = "token",
    [LEXICON_QUERY] = "query",
    [LEXICON_PROCEDURE] = "procedure",
    [LEXICON_SUBSCRIPTION] = "subscription",
    [LEXICON_PERMISSION_SET] = "permission-set",
};

static enum err validate(struct walker *w, const struct lexicon_schema *s, const struct dm_value *v)
{
    if (w->depth >= LEXICON_VALIDATE_MAX_DEPTH) {
        return report(w, ERR_INVALID, "is nested too deeply");
    }
    w->depth++;
    enum err e = ERR_OK;
    switch (s->type) {
    case LEXICON_NULL:
        e = v->kind == DM_NULL ? ERR_OK : report(w, ERR_INVALID, "must be null");
        break;
    case LEXICON_BOOLEAN:
        if (v->kind != DM_BOOL) {
            e = report(w, ERR_INVALID, "must be a boolean");
        } else if (s->u.boolean.has_const && v->u.boolean != s->u.boolean.const_value) {
            e = report(w, ERR_INVALID, "must be %s", s->u.boolean.const_value ? "true" : "false");
        }
        break;
    case LEXICON_INTEGER:
        e = validate_integer(w, s, v);
        break;
    case LEXICON_STRING:
        e = validate_string(w, s, v);
        break;
    case LEXICON_BYTES:
        e = v->kind != DM_BYTES ? report(w, ERR_INVALID, "must be a byte array")
                                : check_count(w, v->u.str.len, s->u.bytes.min_length,
                                              s->u.bytes.max_length, "bytes");
        break;
    case LEXICON_CID_LINK:
        e = v->kind == DM_LINK ? ERR_OK : report(w, ERR_INVALID, "must be a CID link");
        break;
    case LEXICON_BLOB:
        e = validate_blob(w, s, v);
        break;
    case LEXICON_UNKNOWN:
        /* spec(lexicon): unknown data is an object, and not a blob; links and bytes are
         * not maps in the data model */
        if (v->kind != DM_MAP || is_blob(v)) {
            e = report(w, ERR_INVALID, "must be an object");
        }
        break;
    case LEXICON_ARRAY:
        e = validate_array(w, s, v);
        break;
    case LEXICON_OBJECT:
    case LEXICON_PARAMS:
        e = validate_object(w, s, v);
        break;
    case LEXICON_REF:
        e = validate_ref(w, s->u.ref.ref, v);
        break;
    case LEXICON_UNION:
        e = validate_union(w, s, v);
        break;
    case LEXICON_RECORD:
        e = validate_object(w, s->u.record.record, v);
        break;
    case LEXICON_TOKEN:
    case LEXICON_QUERY:
    case LEXICON_PROCEDURE:
    case LEXICON_SUBSCRIPTION:
    case LEXICON_PERMISSION_SET:
        /* spec(lexicon): a ref can not point to a token; the rest are not data */
        e = report(w, ERR_INVALID, "refers to a %s, which holds no data", kind_names[s->type]);
        break;
    }
    w->depth--;
    return e;
}

static void walker_init(struct walker *w, const struct lexicon_catalog *c, const char *root,
                        char *msg)
{
    *w = (struct walker){.cat = c, .msg = msg};
    int n = snprintf(w->path, sizeof(w->path), "%s", root);
    w->path_len = n > 0 && (size_t)n < sizeof(w->path) ? (size_t)n : sizeof(w->path) - 1;
}

enum err lexicon_validate_record(const struct lexicon_catalog *c, struct bytes nsid,
                                 const struct dm_value *record, char msg[LEXICON_MSG_MAX])
{
    char local[LEXICON_MSG_MAX];
    struct walker w;
    walker_init(&w, c, "record", msg ? msg : local);
    const struct lexicon_def *def =
        (nsid.len == 0 || memchr(nsid.ptr, '#', nsid.len)) ? NULL : lexicon_catalog_lookup(c, nsid);
    if (!def) {
        snprintf(w.msg, LEXICON_MSG_MAX, "lexicon \"%.*s\" is not known", (int)nsid.len,
                 (const char *)nsid.ptr);
        return ERR_NOT_FOUND;
    }
    if (def->schema->type != LEXICON_RECORD) {
        snprintf(w.msg, LEXICON_MSG_MAX, "lexicon \"%.*s\" is not a record type", (int)nsid.len,
                 (const char *)nsid.ptr);
        return ERR_INVALID;
    }
    if (record->kind != DM_MAP) {
        return report(&w, ERR_INVALID, "must be an object");
    }
    /* spec(lexicon): records always carry their $type */
    if (!bytes_eq(dm_map_str(record, "$type"), nsid)) {
        return report(&w, ERR_INVALID, "must have the property \"$type\" set to \"%.*s\"",
                      (int)nsid.len, (const char *)nsid.ptr);
    }
    return validate(&w, def->schema, record);
}

enum err lexicon_validate_value(const struct lexicon_catalog *c, struct bytes ref,
                                const struct dm_value *value, const char *path,
                                char msg[LEXICON_MSG_MAX])
{
    char local[LEXICON_MSG_MAX];
    struct walker w;
    walker_init(&w, c, path ? path : "value", msg ? msg : local);
    return validate_ref(&w, ref, value);
}

enum err lexicon_validate_schema(const struct lexicon_catalog *c,
                                 const struct lexicon_schema *schema, const struct dm_value *value,
                                 const char *path, char msg[LEXICON_MSG_MAX])
{
    char local[LEXICON_MSG_MAX];
    struct walker w;
    walker_init(&w, c, path ? path : "value", msg ? msg : local);
    return validate(&w, schema, value);
}
