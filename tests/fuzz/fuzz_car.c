/* fuzz_car.c - the CAR reader on hostile input: the input is fed in two chunks split at a
 * position taken from its first byte, with CID verification on; it must never crash, and
 * an accepted CAR must read the same when fed whole. */
#include <stdint.h>
#include <stdlib.h>

#include "repo/car.h"

/* A running digest of what the reader delivered, to compare the two feedings. */
struct tally {
    uint64_t roots, blocks, data_bytes, mix;
};

static void mix_in(struct tally *t, struct bytes b)
{
    for (size_t i = 0; i < b.len; i++) {
        t->mix = (t->mix ^ b.ptr[i]) * 0x100000001b3ull;
    }
}

static enum err on_header(void *ctx, const struct cid *roots, size_t n)
{
    struct tally *t = ctx;
    t->roots += n;
    for (size_t i = 0; i < n; i++) {
        mix_in(t, cid_bytes(&roots[i]));
    }
    return ERR_OK;
}

static enum err on_block(void *ctx, const struct cid *cid, struct bytes data)
{
    struct tally *t = ctx;
    t->blocks++;
    t->data_bytes += data.len;
    mix_in(t, cid_bytes(cid));
    mix_in(t, data);
    return ERR_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    size_t split = data[0];
    struct bytes in = {data + 1, size - 1};
    if (split > in.len) {
        split = in.len;
    }
    struct tally a = {0}, b = {0};
    struct car_reader r;
    car_reader_init(&r, CAR_VERIFY, on_header, on_block, &a);
    enum err e = car_reader_feed(&r, (struct bytes){in.ptr, split});
    if (!e) {
        e = car_reader_feed(&r, (struct bytes){in.ptr + split, in.len - split});
    }
    if (!e) {
        e = car_reader_finish(&r);
    }
    car_reader_clear(&r);
    enum err whole = car_read_all(in, CAR_VERIFY, on_header, on_block, &b);
    if (e != whole || (!e && memcmp(&a, &b, sizeof(a)) != 0)) {
        abort(); /* chunking must not change the outcome */
    }
    return 0;
}
