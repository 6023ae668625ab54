/* dpop_nonce.c - time-slot nonces. */
#include "oauth/dpop_nonce.h"

#include <string.h>

#include <sodium.h>

#include "oauth/oauth.h"

static void compute(int64_t slot, char out[DPOP_NONCE_CHARS + 1])
{
    uint8_t msg[8], mac[crypto_auth_hmacsha256_BYTES];
    uint64_t v = (uint64_t)slot;
    for (int i = 7; i >= 0; i--) {
        msg[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, oauth_nonce_key(), OAUTH_KEY_BYTES);
    crypto_auth_hmacsha256_update(&st, msg, sizeof msg);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2base64(out, DPOP_NONCE_CHARS + 1, mac, sizeof mac,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void dpop_nonce_next(int64_t now, char out[DPOP_NONCE_CHARS + 1])
{
    compute(now / DPOP_NONCE_SLOT_S + 1, out);
}

bool dpop_nonce_valid(const char *nonce, int64_t now)
{
    if (!nonce || strlen(nonce) != DPOP_NONCE_CHARS) {
        return false;
    }
    int64_t slot = now / DPOP_NONCE_SLOT_S;
    bool ok = false;
    for (int64_t d = -1; d <= 1; d++) {
        char want[DPOP_NONCE_CHARS + 1];
        compute(slot + d, want);
        ok |= sodium_memcmp(want, nonce, DPOP_NONCE_CHARS) == 0;
    }
    return ok;
}
