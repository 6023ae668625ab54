/* test_seal.c - sealing secrets at rest: key derivation, round trip, tamper and wrong key. */
#include "crypto/seal.h"

#include "unit/test.h"

static void test_seal_derive_key_is_deterministic_and_separated(void)
{
    uint8_t a[SEAL_KEY_BYTES], b[SEAL_KEY_BYTES], c[SEAL_KEY_BYTES];
    CHECK_EQ(seal_derive_key(BYTES_LIT("server secret"), a), ERR_OK);
    CHECK_EQ(seal_derive_key(BYTES_LIT("server secret"), b), ERR_OK);
    CHECK_EQ(seal_derive_key(BYTES_LIT("server secreT"), c), ERR_OK);
    CHECK(memcmp(a, b, SEAL_KEY_BYTES) == 0);
    CHECK(memcmp(a, c, SEAL_KEY_BYTES) != 0);
    /* the derived key is not the secret itself, even for a 32-byte secret */
    static const char secret32[] = "0123456789abcdef0123456789abcdef";
    CHECK_EQ(seal_derive_key(BYTES_LIT(secret32), a), ERR_OK);
    CHECK(memcmp(a, secret32, SEAL_KEY_BYTES) != 0);
    CHECK_EQ(seal_derive_key((struct bytes){NULL, 0}, a), ERR_INVALID);
}

static void test_seal_round_trip(void)
{
    uint8_t key[SEAL_KEY_BYTES];
    CHECK_EQ(seal_derive_key(BYTES_LIT("jwt secret"), key), ERR_OK);
    uint8_t secret[32];
    for (int i = 0; i < 32; i++) {
        secret[i] = (uint8_t)(i * 7 + 1);
    }
    struct buf sealed;
    buf_init(&sealed, 1024);
    CHECK_EQ(seal_box(key, bytes_of(secret, 32), &sealed), ERR_OK);
    CHECK_EQ(sealed.len, 32 + SEAL_OVERHEAD_BYTES);
    CHECK(memmem(sealed.ptr, sealed.len, secret, 32) == NULL); /* not in the clear */
    uint8_t out[64];
    size_t n = 0;
    CHECK_EQ(seal_open(key, buf_bytes(&sealed), out, sizeof(out), &n), ERR_OK);
    CHECK_EQ(n, 32);
    CHECK(memcmp(out, secret, 32) == 0);
    /* exact capacity is enough; one less is not */
    CHECK_EQ(seal_open(key, buf_bytes(&sealed), out, 32, &n), ERR_OK);
    CHECK_EQ(seal_open(key, buf_bytes(&sealed), out, 31, &n), ERR_TOO_LARGE);

    /* fresh nonce each time: the same secret seals differently */
    struct buf again;
    buf_init(&again, 1024);
    CHECK_EQ(seal_box(key, bytes_of(secret, 32), &again), ERR_OK);
    CHECK(!bytes_eq(buf_bytes(&sealed), buf_bytes(&again)));
    buf_clear(&again);

    /* empty plaintext works too */
    buf_reset(&sealed);
    CHECK_EQ(seal_box(key, (struct bytes){NULL, 0}, &sealed), ERR_OK);
    CHECK_EQ(sealed.len, SEAL_OVERHEAD_BYTES);
    CHECK_EQ(seal_open(key, buf_bytes(&sealed), out, sizeof(out), &n), ERR_OK);
    CHECK_EQ(n, 0);
    buf_clear(&sealed);
}

static void test_seal_open_rejects_tampering_and_wrong_key(void)
{
    uint8_t key[SEAL_KEY_BYTES], other[SEAL_KEY_BYTES];
    CHECK_EQ(seal_derive_key(BYTES_LIT("one"), key), ERR_OK);
    CHECK_EQ(seal_derive_key(BYTES_LIT("two"), other), ERR_OK);
    struct buf sealed;
    buf_init(&sealed, 1024);
    CHECK_EQ(seal_box(key, BYTES_LIT("private key bytes"), &sealed), ERR_OK);
    uint8_t out[64];
    size_t n = 99;
    CHECK_EQ(seal_open(other, buf_bytes(&sealed), out, sizeof(out), &n), ERR_AUTH);
    CHECK_EQ(n, 0);
    /* flip one bit anywhere: nonce, MAC or ciphertext */
    for (size_t i = 0; i < sealed.len; i++) {
        sealed.ptr[i] ^= 0x01;
        CHECK_EQ(seal_open(key, buf_bytes(&sealed), out, sizeof(out), &n), ERR_AUTH);
        sealed.ptr[i] ^= 0x01;
    }
    CHECK_EQ(seal_open(key, buf_bytes(&sealed), out, sizeof(out), &n), ERR_OK);
    /* truncated */
    CHECK_EQ(seal_open(key, (struct bytes){sealed.ptr, sealed.len - 1}, out, sizeof(out), &n),
             ERR_AUTH);
    CHECK_EQ(
        seal_open(key, (struct bytes){sealed.ptr, SEAL_OVERHEAD_BYTES - 1}, out, sizeof(out), &n),
        ERR_INVALID);
    CHECK_EQ(seal_open(key, (struct bytes){NULL, 0}, out, sizeof(out), &n), ERR_INVALID);
    buf_clear(&sealed);
}

static void test_seal_limits(void)
{
    uint8_t key[SEAL_KEY_BYTES];
    CHECK_EQ(seal_derive_key(BYTES_LIT("k"), key), ERR_OK);
    static uint8_t big[SEAL_PLAIN_MAX + 1];
    struct buf sealed;
    buf_init(&sealed, 1 << 20);
    CHECK_EQ(seal_box(key, bytes_of(big, sizeof(big)), &sealed), ERR_TOO_LARGE);
    CHECK_EQ(sealed.len, 0);
    CHECK_EQ(seal_box(key, bytes_of(big, SEAL_PLAIN_MAX), &sealed), ERR_OK);
    buf_clear(&sealed);
    /* the output buffer's own max is honoured */
    buf_init(&sealed, SEAL_OVERHEAD_BYTES + 3);
    CHECK_EQ(seal_box(key, BYTES_LIT("abcd"), &sealed), ERR_TOO_LARGE);
    CHECK_EQ(seal_box(key, BYTES_LIT("abc"), &sealed), ERR_OK);
    buf_clear(&sealed);
}

int main(void)
{
    RUN(test_seal_derive_key_is_deterministic_and_separated);
    RUN(test_seal_round_trip);
    RUN(test_seal_open_rejects_tampering_and_wrong_key);
    RUN(test_seal_limits);
    return test_report();
}
