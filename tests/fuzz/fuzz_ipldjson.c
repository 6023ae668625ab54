/* fuzz_ipldjson.c - the strict atproto JSON parser: whatever it accepts must encode to
 * DAG-CBOR, decode back to an equal value, and write JSON that re-parses equal. */
#include <stdlib.h>

#include "core/dagcbor.h"
#include "core/ipldjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v, *back, *again;
    if (ipldjson_parse(bytes_of(data, size), &a, &v) == ERR_OK) {
        struct buf cbor, json;
        buf_init(&cbor, BUF_MAX_DEFAULT);
        buf_init(&json, BUF_MAX_DEFAULT);
        if (dagcbor_encode(v, &cbor) != ERR_OK) {
            abort(); /* parsed but not encodable */
        }
        if (dagcbor_decode(buf_bytes(&cbor), &a, &back) != ERR_OK || !dm_equal(v, back)) {
            abort(); /* our own canonical output refused or changed */
        }
        if (ipldjson_write(back, &json) != ERR_OK) {
            abort();
        }
        if (ipldjson_parse(buf_bytes(&json), &a, &again) != ERR_OK || !dm_equal(v, again)) {
            abort(); /* written JSON does not read back the same */
        }
        buf_clear(&cbor);
        buf_clear(&json);
    }
    arena_clear(&a);
    return 0;
}
