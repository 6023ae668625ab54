/* fuzz_dagcbor.c - the strict DAG-CBOR decoder: whatever it accepts must be canonical, so
 * re-encoding gives the very same bytes; accepted values must also convert to JSON. */
#include <stdlib.h>

#include "core/dagcbor.h"
#include "core/ipldjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v;
    struct bytes in = bytes_of(data, size);
    enum err e = dagcbor_decode(in, &a, &v);
    if (e == ERR_OK) {
        struct buf out;
        buf_init(&out, BUF_MAX_DEFAULT);
        if (dagcbor_encode(v, &out) != ERR_OK || !bytes_eq(buf_bytes(&out), in)) {
            abort(); /* accepted input that is not canonical */
        }
        buf_clear(&out);
        json_t *j = ipldjson_to_json(v);
        if (!j) {
            abort(); /* every decoded value has a JSON form */
        }
        json_decref(j);
    }
    /* the prefix reader agrees: on success it consumes a whole value */
    struct bytes cur = in;
    struct dm_value *p;
    enum err pe = dagcbor_decode_prefix(&cur, &a, &p);
    if (e == ERR_OK && (pe != ERR_OK || cur.len != 0)) {
        abort();
    }
    if (pe == ERR_OK && cur.len == 0 && e != ERR_OK) {
        abort();
    }
    arena_clear(&a);
    return 0;
}
