/* totp.c - RFC 6238 one-time passwords. */
#include "crypto/totp.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

uint64_t totp_step(int64_t now)
{
    return now < 0 ? 0 : (uint64_t)now / TOTP_STEP_S;
}

void totp_code(struct bytes secret, uint64_t counter, char out[TOTP_DIGITS + 1])
{
    uint8_t msg[8];
    for (int i = 7; i >= 0; i--) { /* spec(RFC 4226 §5.2): the counter big-endian */
        msg[i] = (uint8_t)(counter & 0xff);
        counter >>= 8;
    }
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (!HMAC(EVP_sha1(), secret.ptr, (int)secret.len, msg, sizeof msg, mac, &mac_len) ||
        mac_len < 20) {
        memset(out, '0', TOTP_DIGITS); /* cannot happen; never matches a real check below */
        out[TOTP_DIGITS] = '\0';
        return;
    }
    /* spec(RFC 4226 §5.3): dynamic truncation */
    unsigned off = mac[mac_len - 1] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
    uint32_t mod = 1;
    for (int i = 0; i < TOTP_DIGITS; i++) {
        mod *= 10;
    }
    uint32_t v = bin % mod;
    for (int i = TOTP_DIGITS - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
    out[TOTP_DIGITS] = '\0';
    sodium_memzero(mac, sizeof mac);
}

bool totp_check(struct bytes secret, const char *code, int64_t now, uint64_t after, uint64_t *step)
{
    char digits[TOTP_DIGITS + 1];
    size_t n = 0;
    for (const char *p = code; p && *p; p++) {
        if (*p == ' ') {
            continue;
        }
        if (*p < '0' || *p > '9' || n == TOTP_DIGITS) {
            return false;
        }
        digits[n++] = *p;
    }
    if (n != TOTP_DIGITS) {
        return false;
    }
    digits[n] = '\0';
    uint64_t s = totp_step(now);
    bool found = false;
    /* every candidate is computed and compared, so the time taken says nothing */
    for (int64_t d = -TOTP_WINDOW_STEPS; d <= TOTP_WINDOW_STEPS; d++) {
        if ((d < 0 && s < (uint64_t)-d)) {
            continue;
        }
        uint64_t c = s + (uint64_t)d;
        char want[TOTP_DIGITS + 1];
        totp_code(secret, c, want);
        bool same = sodium_memcmp(want, digits, TOTP_DIGITS) == 0;
        if (same && c > after && !found) {
            found = true;
            *step = c;
        }
    }
    return found;
}

void totp_base32(struct bytes secret, char *out)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < secret.len; i++) {
        acc = (acc << 8) | secret.ptr[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = alphabet[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) {
        out[o++] = alphabet[(acc << (5 - bits)) & 31];
    }
    out[o] = '\0';
}
