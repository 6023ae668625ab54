/* lexicon.h - Lexicon schema documents (parse from JSON, check), a catalog of them, and
 * record validation against a catalog. Wraps jansson on input (parsing schema JSON is this
 * module's job). A catalog is built by one thread, then read-only: concurrent lookups and
 * validations on an unchanging catalog are thread-safe. */
#ifndef PDS_CORE_LEXICON_H
#define PDS_CORE_LEXICON_H

#include <jansson.h>

#include "core/bytes.h"
#include "core/dm.h"
#include "core/err.h"

#define LEXICON_MSG_MAX            256 /* error messages: "record/text must be a string" */
#define LEXICON_SCHEMA_MAX_DEPTH   32  /* nesting of schema objects inside one def */
#define LEXICON_VALIDATE_MAX_DEPTH 128 /* data nesting followed during validation */

enum lexicon_type {
    LEXICON_NULL,
    LEXICON_BOOLEAN,
    LEXICON_INTEGER,
    LEXICON_STRING,
    LEXICON_BYTES,
    LEXICON_CID_LINK,
    LEXICON_BLOB,
    LEXICON_UNKNOWN,
    LEXICON_ARRAY,
    LEXICON_OBJECT,
    LEXICON_PARAMS,
    LEXICON_REF,
    LEXICON_UNION,
    LEXICON_TOKEN,
    LEXICON_RECORD,
    LEXICON_QUERY,
    LEXICON_PROCEDURE,
    LEXICON_SUBSCRIPTION,
    LEXICON_PERMISSION_SET,
};

/* The `format` of a string field. */
enum lexicon_format {
    LEXICON_FORMAT_NONE,
    LEXICON_FORMAT_DID,
    LEXICON_FORMAT_HANDLE,
    LEXICON_FORMAT_AT_IDENTIFIER,
    LEXICON_FORMAT_NSID,
    LEXICON_FORMAT_AT_URI,
    LEXICON_FORMAT_CID,
    LEXICON_FORMAT_DATETIME,
    LEXICON_FORMAT_LANGUAGE,
    LEXICON_FORMAT_URI,
    LEXICON_FORMAT_TID,
    LEXICON_FORMAT_RECORD_KEY,
};

/* A list of strings; each view is also NUL-terminated. */
struct lexicon_strs {
    struct bytes *items;
    size_t len;
};

/* An optional integer bound or value. */
struct lexicon_opt_int {
    bool set;
    int64_t v;
};

struct lexicon_schema;

/* One property of an object or params. */
struct lexicon_prop {
    struct bytes name;
    const struct lexicon_schema *schema;
    bool required, nullable;
};

/* An XRPC input, output or subscription message. */
struct lexicon_body {
    bool present;
    struct bytes encoding;               /* empty for a subscription message */
    const struct lexicon_schema *schema; /* NULL when absent */
};

/* One `permission` of a permission set. Unknown resources are kept with their name only. */
struct lexicon_permission {
    struct bytes resource;          /* "repo", "rpc", ... */
    struct lexicon_strs collection; /* repo */
    struct lexicon_strs action;     /* repo; empty means all */
    struct lexicon_strs lxm;        /* rpc; may hold "*" */
    struct bytes aud;               /* rpc; empty when absent */
    bool inherit_aud;               /* rpc */
};

/* A "title:lang" or "detail:lang" entry. */
struct lexicon_lang_text {
    struct bytes lang, text;
};

/* A parsed, checked schema node. Which member of u is meaningful follows type.
 * Refs are stored fully qualified: "#x" becomes "<doc id>#x", "nsid#main" becomes "nsid". */
struct lexicon_schema {
    enum lexicon_type type;
    union {
        struct {
            bool has_const;
            bool const_value;
        } boolean;
        struct {
            struct lexicon_opt_int const_value, minimum, maximum;
            int64_t *enum_values; /* NULL when no enum */
            size_t enum_len;
        } integer;
        struct {
            enum lexicon_format format;
            bool has_const, has_enum;
            struct bytes const_value;
            struct lexicon_strs enum_values, known_values;
            struct lexicon_opt_int min_length, max_length; /* UTF-8 bytes */
            struct lexicon_opt_int min_graphemes, max_graphemes;
        } string;
        struct {
            struct lexicon_opt_int min_length, max_length;
        } bytes;
        struct {
            struct lexicon_opt_int max_size;
            bool has_accept;
            struct lexicon_strs accept; /* "type/sub", a whole-type wildcard, or any type */
        } blob;
        struct {
            const struct lexicon_schema *items;
            struct lexicon_opt_int min_length, max_length;
        } array;
        struct { /* LEXICON_OBJECT and LEXICON_PARAMS */
            struct lexicon_prop *props;
            size_t len;
        } object;
        struct {
            struct bytes ref;
        } ref;
        struct {
            struct lexicon_strs refs;
            bool closed;
        } union_;
        struct {
            struct bytes key;                    /* "tid", "nsid", "any" or "literal:<rkey>" */
            const struct lexicon_schema *record; /* an object */
        } record;
        struct {                                     /* query, procedure, subscription */
            const struct lexicon_schema *parameters; /* params, or NULL */
            struct lexicon_body input, output, message;
            struct lexicon_strs errors; /* error names */
        } xrpc;
        struct {
            struct bytes title, detail; /* empty when absent */
            struct lexicon_lang_text *title_lang, *detail_lang;
            size_t title_lang_len, detail_lang_len;
            struct lexicon_permission *permissions;
            size_t permissions_len;
        } permission_set;
    } u;
};

struct lexicon_doc;

/* A named definition inside a document. */
struct lexicon_def {
    struct bytes name; /* "main", "replyRef", ... */
    const struct lexicon_schema *schema;
    const struct lexicon_doc *doc;
};

/* A checked schema document. */
struct lexicon_doc {
    struct bytes id; /* the NSID */
    struct bytes description;
    struct lexicon_opt_int revision;
    struct lexicon_def *defs;
    size_t defs_len;
};

struct lexicon_catalog;

/* An empty catalog; caller frees with lexicon_catalog_free. */
struct lexicon_catalog *lexicon_catalog_new(void);
void lexicon_catalog_free(struct lexicon_catalog *c); /* NULL is a no-op */

/* Parses and checks one schema document and adds it. The catalog copies what it keeps.
 * Refs need not resolve. ERR_INVALID (msg says why) for a document that breaks the Lexicon
 * rules; ERR_CONFLICT when a document with the same id is already in the catalog.
 * On failure the catalog is unchanged. msg may be NULL. */
enum err lexicon_catalog_add(struct lexicon_catalog *c, const json_t *doc,
                             char msg[LEXICON_MSG_MAX]) MUST_CHECK;
/* The same for JSON text. */
enum err lexicon_catalog_add_text(struct lexicon_catalog *c, struct bytes json_text,
                                  char msg[LEXICON_MSG_MAX]) MUST_CHECK;
/* Checks a schema document without keeping it: ERR_OK or ERR_INVALID with msg. */
enum err lexicon_check(const json_t *doc, char msg[LEXICON_MSG_MAX]) MUST_CHECK;

/* The document with this NSID, or NULL. */
const struct lexicon_doc *lexicon_catalog_doc(const struct lexicon_catalog *c, struct bytes nsid);
/* Resolves "nsid" (its main def) or "nsid#name"; NULL when the document or def is absent. */
const struct lexicon_def *lexicon_catalog_lookup(const struct lexicon_catalog *c, struct bytes ref);
size_t lexicon_catalog_len(const struct lexicon_catalog *c); /* number of documents */

/* Validates a record (a map with "$type" equal to nsid) against the main record def of
 * nsid. Objects are open (undeclared fields are ignored); defaults are not applied.
 * ERR_OK when valid. ERR_INVALID when not, msg naming the path ("record/text must be a
 * string"). ERR_NOT_FOUND when nsid has no main def in the catalog, or when a ref needed
 * during validation does not resolve (msg names it): callers doing optimistic validation
 * treat that as "unknown". msg may be NULL. */
enum err lexicon_validate_record(const struct lexicon_catalog *c, struct bytes nsid,
                                 const struct dm_value *record,
                                 char msg[LEXICON_MSG_MAX]) MUST_CHECK;

/* Validates a value against the def named by ref ("nsid" or "nsid#name"); objects,
 * records (their record object) and params (as objects) and field types are accepted. path
 * names the root in messages ("input"). Errors as for lexicon_validate_record. */
enum err lexicon_validate_value(const struct lexicon_catalog *c, struct bytes ref,
                                const struct dm_value *value, const char *path,
                                char msg[LEXICON_MSG_MAX]) MUST_CHECK;

/* Validates a value against one schema node, e.g. a procedure's input.schema (its refs are
 * fully qualified, so no document context is needed). Errors as for
 * lexicon_validate_record. */
enum err lexicon_validate_schema(const struct lexicon_catalog *c,
                                 const struct lexicon_schema *schema, const struct dm_value *value,
                                 const char *path, char msg[LEXICON_MSG_MAX]) MUST_CHECK;

/* Whether rkey suits a record def's key type: "tid" (a TID), "nsid" (an NSID),
 * "literal:<k>" (exactly k) or "any" (any valid record key). */
bool lexicon_record_key_allows(struct bytes key_type, struct bytes rkey);

/* Number of extended grapheme clusters (Unicode UAX #29) in UTF-8 text, counting stops
 * once it passes limit (so the result is at most limit + 1). Invalid UTF-8 sequences
 * count as U+FFFD. */
size_t lexicon_grapheme_count(struct bytes text, size_t limit);

/* Whether a MIME type matches a blob `accept` pattern: an exact type ("image/png"), a
 * whole-type wildcard ("image/" then a star) or any type (star, slash, star). Compares ASCII
 * case-insensitively. */
bool lexicon_mime_accepts(struct bytes pattern, struct bytes mime);

#endif
