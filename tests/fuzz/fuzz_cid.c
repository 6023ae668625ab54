/* fuzz_cid.c - CID string and binary parsers: whatever they accept must format and parse
 * back to the same CID; base32 strings are canonical, so they format back unchanged. */
#include <stdlib.h>

#include "core/cid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct cid *c)
{
    char s[CID_STR_MAX];
    size_t n = cid_format(c, s);
    struct cid d, e;
    if (n >= CID_STR_MAX || cid_parse(bytes_of(s, n), &d) != ERR_OK || !cid_equal(c, &d)) {
        abort();
    }
    if (cid_from_bytes(cid_bytes(c), &e) != ERR_OK || !cid_equal(c, &e)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bytes in = bytes_of(data, size);
    struct cid c;
    if (cid_parse(in, &c) == ERR_OK) {
        check_round_trip(&c);
        char s[CID_STR_MAX];
        size_t n = cid_format(&c, s);
        if (size > 0 && data[0] == 'b' && !bytes_eq(bytes_of(s, n), in)) {
            abort(); /* two base32 spellings of one CID */
        }
    }
    if (cid_from_bytes(in, &c) == ERR_OK) {
        if (!bytes_eq(cid_bytes(&c), in)) {
            abort(); /* the binary form is kept exactly as found */
        }
        check_round_trip(&c);
    }
    struct bytes cur = in;
    if (cid_read(&cur, &c) == ERR_OK) {
        if ((size_t)(cur.ptr - in.ptr) != c.len || cur.len != in.len - c.len ||
            !bytes_eq(cid_bytes(&c), bytes_of(data, c.len))) {
            abort();
        }
        check_round_trip(&c);
    } else if (cur.ptr != in.ptr || cur.len != in.len) {
        abort(); /* failure leaves the cursor alone */
    }
    return 0;
}
