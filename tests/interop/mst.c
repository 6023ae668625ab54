/* mst.c - interop suite for mst/: key heights, common prefixes, and the mined example
 * keys (whose second character is their expected height). */
#include "interop.h"

#include "repo/mst.h"

static void example_key(struct interop *t, struct bytes line, void *ctx)
{
    const char *file = ctx;
    /* "<Letter><height>/<digits>": the digit after the letter is the expected layer */
    bool shaped = line.len > 2 && line.ptr[1] >= '0' && line.ptr[1] <= '9';
    int want = shaped ? line.ptr[1] - '0' : -1;
    int got = mst_key_height(line);
    interop_case(t, shaped && got == want && mst_key_valid(line), file, "%.*s: height %d, want %d",
                 (int)line.len, (const char *)line.ptr, got, want);
}

void interop_mst(struct interop *t)
{
    const char *f = "mst/key_heights.json";
    json_t *j = interop_json(t, f);
    size_t i;
    json_t *v;
    json_array_foreach(j, i, v)
    {
        json_t *key = json_object_get(v, "key");
        int want = (int)json_integer_value(json_object_get(v, "height"));
        int got = mst_key_height(bytes_of(json_string_value(key), json_string_length(key)));
        interop_case(t, got == want, f, "key \"%s\": height %d, want %d", json_string_value(key),
                     got, want);
    }
    json_decref(j);

    f = "mst/common_prefix.json";
    j = interop_json(t, f);
    json_array_foreach(j, i, v)
    {
        /* keys may hold NUL: always carry lengths */
        json_t *l = json_object_get(v, "left"), *r = json_object_get(v, "right");
        size_t want = (size_t)json_integer_value(json_object_get(v, "len"));
        size_t got = mst_common_prefix(bytes_of(json_string_value(l), json_string_length(l)),
                                       bytes_of(json_string_value(r), json_string_length(r)));
        interop_case(t, got == want, f, "case %zu: prefix %zu, want %zu", i, got, want);
    }
    json_decref(j);

    interop_lines(t, "mst/example_keys.txt", example_key, "mst/example_keys.txt");
}
