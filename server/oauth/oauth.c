/* oauth.c - the authorization server's keys, identifiers, digests and the expiry sweep. */
#include "oauth/oauth.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "config/config.h"
#include "core/sha256.h"
#include "crypto/ready.h"
#include "db/db.h"
#include "db/log.h"

#define SWEEP_INTERVAL_S 60

static uint8_t access_key[OAUTH_KEY_BYTES];
static uint8_t nonce_key[OAUTH_KEY_BYTES];
static _Atomic int64_t last_sweep;

static void derive(const uint8_t *secret, size_t len, const char *label, uint8_t out[32])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, secret, len);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)label, strlen(label));
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

enum err oauth_init(const struct config *cfg)
{
    if (!cfg->jwt_secret || !*cfg->jwt_secret) {
        return ERR_INVALID;
    }
    ready_sodium();
    const uint8_t *js = (const uint8_t *)cfg->jwt_secret;
    size_t jlen = strlen(cfg->jwt_secret);
    derive(js, jlen, "pds/oauth/access-token/v1", access_key);
    if (cfg->dpop_secret && *cfg->dpop_secret) {
        uint8_t raw[OAUTH_KEY_BYTES];
        size_t n = 0;
        if (strlen(cfg->dpop_secret) != 2 * OAUTH_KEY_BYTES ||
            sodium_hex2bin(raw, sizeof raw, cfg->dpop_secret, 2 * OAUTH_KEY_BYTES, NULL, &n,
                           NULL) != 0 ||
            n != OAUTH_KEY_BYTES) {
            return ERR_INVALID;
        }
        derive(raw, sizeof raw, "pds/oauth/dpop-nonce/v1", nonce_key);
        sodium_memzero(raw, sizeof raw);
    } else {
        derive(js, jlen, "pds/oauth/dpop-nonce/v1", nonce_key);
    }
    return ERR_OK;
}

void oauth_clear(void)
{
    sodium_memzero(access_key, sizeof access_key);
    sodium_memzero(nonce_key, sizeof nonce_key);
}

const uint8_t *oauth_access_key(void)
{
    return access_key;
}

const uint8_t *oauth_nonce_key(void)
{
    return nonce_key;
}

int64_t oauth_now(void)
{
    return (int64_t)time(NULL);
}

void oauth_random_id(const char *prefix, size_t bytes, char *out)
{
    ready_sodium();
    uint8_t r[64];
    if (bytes > sizeof r) {
        bytes = sizeof r;
    }
    randombytes_buf(r, bytes);
    size_t p = strlen(prefix);
    memcpy(out, prefix, p);
    sodium_bin2hex(out + p, 2 * bytes + 1, r, bytes);
    sodium_memzero(r, sizeof r);
}

void oauth_hash_hex(const char *s, char out[65])
{
    uint8_t d[SHA256_BYTES];
    sha256(s, strlen(s), d);
    sodium_bin2hex(out, 65, d, sizeof d);
}

void oauth_maybe_sweep(struct db *db)
{
    int64_t now = oauth_now(), last = atomic_load(&last_sweep);
    if (now - last < SWEEP_INTERVAL_S || !atomic_compare_exchange_strong(&last_sweep, &last, now)) {
        return;
    }
    PGresult *r;
    if (db_query(db, "SELECT oauth_sweep()", NULL, &r) == ERR_OK) {
        int64_t n = db_col_i64(r, 0, 0);
        if (n > 0) {
            log_debug(NULL, "oauth: swept %lld expired rows", (long long)n);
        }
        PQclear(r);
    }
}
