/* data_model.c - interop suite for data-model/: atproto JSON <-> DAG-CBOR bytes and CIDs
 * (fixtures), and the strict JSON parser's accept (valid) and refuse (invalid) lists. */
#include "interop.h"

#include <stdlib.h>

#include "core/base.h"
#include "core/cid.h"
#include "core/dagcbor.h"
#include "core/ipldjson.h"

#define DM_FIXTURES "data-model/data-model-fixtures.json"
#define DM_VALID    "data-model/data-model-valid.json"
#define DM_INVALID  "data-model/data-model-invalid.json"

/* The JSON text of j as the wire would carry it, parsed by the strict text entry point
 * (which also checks that the top level is an object). */
static enum err parse_as_text(const json_t *j, struct arena *a, struct dm_value **out)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text) {
        return ERR_INTERNAL;
    }
    enum err e = ipldjson_parse(bytes_str(text), a, out);
    free(text);
    return e;
}

static void fixture(struct interop *t, size_t idx, const json_t *entry)
{
    const json_t *json = json_object_get(entry, "json");
    const char *cbor_b64 = json_string_value(json_object_get(entry, "cbor_base64"));
    const char *cid_str = json_string_value(json_object_get(entry, "cid"));
    if (!json || !cbor_b64 || !cid_str) {
        interop_case(t, false, DM_FIXTURES, "entry %zu: missing fields", idx);
        return;
    }
    struct arena a;
    arena_init(&a);
    struct buf want, got;
    buf_init(&want, BUF_MAX_DEFAULT);
    buf_init(&got, BUF_MAX_DEFAULT);

    /* 1-2: JSON -> data model -> DAG-CBOR equals the stored bytes */
    struct dm_value *v = NULL, *vt = NULL, *back = NULL;
    enum err e = ipldjson_from_json(json, &a, &v);
    interop_case(t, e == ERR_OK, DM_FIXTURES, "entry %zu: JSON refused: %s", idx, err_str(e));
    enum err et = parse_as_text(json, &a, &vt);
    interop_case(t, et == ERR_OK && v && dm_equal(v, vt), DM_FIXTURES,
                 "entry %zu: JSON text parse differs: %s", idx, err_str(et));
    if (base64_decode(bytes_str(cbor_b64), &want)) {
        interop_case(t, false, DM_FIXTURES, "entry %zu: bad cbor_base64", idx);
        goto out;
    }
    if (e) {
        goto out;
    }
    e = dagcbor_encode(v, &got);
    interop_case(t, e == ERR_OK && bytes_eq(buf_bytes(&got), buf_bytes(&want)), DM_FIXTURES,
                 "entry %zu: CBOR bytes differ (%zu vs %zu bytes)", idx, got.len, want.len);

    /* 3: CIDv1 dag-cbor sha2-256 of the stored bytes */
    struct cid c;
    char cs[CID_STR_MAX];
    cid_compute(CID_CODEC_DAGCBOR, buf_bytes(&want), &c);
    cid_format(&c, cs);
    interop_case(t, strcmp(cs, cid_str) == 0, DM_FIXTURES, "entry %zu: CID %s, expected %s", idx,
                 cs, cid_str);

    /* 4: CBOR -> data model equals the JSON's value, and back to the same JSON */
    e = dagcbor_decode(buf_bytes(&want), &a, &back);
    interop_case(t, e == ERR_OK && dm_equal(back, v), DM_FIXTURES,
                 "entry %zu: decoded CBOR differs from JSON value: %s", idx, err_str(e));
    if (e) {
        goto out;
    }
    json_t *round = ipldjson_to_json(back);
    interop_case(t, round && json_equal(round, json), DM_FIXTURES,
                 "entry %zu: CBOR -> JSON differs from the fixture's json", idx);
    json_decref(round);
out:
    buf_clear(&want);
    buf_clear(&got);
    arena_clear(&a);
}

static void verdicts(struct interop *t, const char *rel, bool valid)
{
    json_t *arr = interop_json(t, rel);
    if (!arr) {
        return;
    }
    size_t i;
    json_t *entry;
    json_array_foreach(arr, i, entry)
    {
        const char *note = json_string_value(json_object_get(entry, "note"));
        const json_t *json = json_object_get(entry, "json");
        struct arena a;
        arena_init(&a);
        struct dm_value *v;
        enum err e = json ? parse_as_text(json, &a, &v) : ERR_INTERNAL;
        bool ok = valid ? e == ERR_OK : (e == ERR_INVALID || e == ERR_TOO_LARGE);
        interop_case(t, ok, rel, "%s: \"%s\" got %s", valid ? "must parse" : "must be refused",
                     note ? note : "?", err_str(e));
        if (valid && e == ERR_OK) {
            /* what parses must encode */
            struct buf cbor;
            buf_init(&cbor, BUF_MAX_DEFAULT);
            e = dagcbor_encode(v, &cbor);
            interop_case(t, e == ERR_OK, rel, "\"%s\": does not encode: %s", note ? note : "?",
                         err_str(e));
            buf_clear(&cbor);
        }
        arena_clear(&a);
    }
    json_decref(arr);
}

void interop_data_model(struct interop *t)
{
    json_t *fixtures = interop_json(t, DM_FIXTURES);
    if (fixtures) {
        size_t i;
        json_t *entry;
        interop_case(t, json_array_size(fixtures) > 0, DM_FIXTURES, "no fixtures");
        json_array_foreach(fixtures, i, entry)
        {
            fixture(t, i, entry);
        }
        json_decref(fixtures);
    }
    verdicts(t, DM_VALID, true);
    verdicts(t, DM_INVALID, false);
}
