/* lexicon.c - interop suite for lexicon/: the five catalog schemas load, valid and invalid
 * schema documents are told apart, and record data validates (or not) against
 * example.lexicon.record. */
#include "interop.h"

#include <stdio.h>

#include "core/arena.h"
#include "core/ipldjson.h"
#include "core/lexicon.h"

static const char *const catalog_files[] = {
    "lexicon/catalog/record.json",         "lexicon/catalog/query.json",
    "lexicon/catalog/procedure.json",      "lexicon/catalog/subscription.json",
    "lexicon/catalog/permission-set.json",
};

static void load_catalog(struct interop *t, struct lexicon_catalog *cat)
{
    for (size_t i = 0; i < ARRAY_LEN(catalog_files); i++) {
        json_t *j = interop_json(t, catalog_files[i]);
        if (!j) {
            continue;
        }
        char msg[LEXICON_MSG_MAX] = "";
        enum err e = lexicon_catalog_add(cat, j, msg);
        interop_case(t, e == ERR_OK, catalog_files[i], "does not load: %s (%s)", msg, err_str(e));
        json_decref(j);
    }
}

static void schema_docs(struct interop *t, const char *rel, bool want_valid)
{
    json_t *cases = interop_json(t, rel);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        char msg[LEXICON_MSG_MAX] = "";
        enum err e = lexicon_check(json_object_get(c, "lexicon"), msg);
        interop_case(t, (e == ERR_OK) == want_valid, rel, "%s: %s (%s)", name ? name : "?",
                     want_valid ? "rejected" : "accepted", msg);
    }
    json_decref(cases);
}

static void record_data(struct interop *t, const struct lexicon_catalog *cat, const char *rel,
                        bool want_valid)
{
    json_t *cases = interop_json(t, rel);
    size_t i;
    json_t *c;
    struct arena a;
    arena_init(&a);
    json_array_foreach(cases, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        struct dm_value *v = NULL;
        char msg[LEXICON_MSG_MAX] = "";
        enum err e = ipldjson_from_json(json_object_get(c, "data"), &a, &v);
        if (e) {
            /* The strict JSON converter refuses some invalid data before validation; that
             * counts as rejected. No case in record-data-invalid.json needs this today:
             * its malformed $bytes/$link/blob shapes are all well-formed data model
             * ({"bytes": {}} is an empty map, a map with "type":"blob" is a plain map). */
            snprintf(msg, sizeof(msg), "JSON to data model: %s", err_str(e));
        } else {
            e = lexicon_validate_record(cat, BYTES_LIT("example.lexicon.record"), v, msg);
        }
        interop_case(t, (e == ERR_OK) == want_valid, rel, "%s: %s (%s)", name ? name : "?",
                     want_valid ? "rejected" : "accepted", msg);
        arena_reset(&a);
    }
    arena_clear(&a);
    json_decref(cases);
}

void interop_lexicon(struct interop *t)
{
    struct lexicon_catalog *cat = lexicon_catalog_new();
    load_catalog(t, cat);
    schema_docs(t, "lexicon/lexicon-valid.json", true);
    schema_docs(t, "lexicon/lexicon-invalid.json", false);
    record_data(t, cat, "lexicon/record-data-valid.json", true);
    record_data(t, cat, "lexicon/record-data-invalid.json", false);
    lexicon_catalog_free(cat);
}
