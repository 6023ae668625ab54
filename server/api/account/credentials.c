/* credentials.c - password hashing under a concurrency bound, app-password digests, token
 * ids and the clock, shared by sign-in, sign-up, password changes and the admin API. */
#include "api/account/credentials.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define APP_DIGEST_PREFIX "b2:"

/* Guards hashes_running: argon2id runs at most ACCOUNT_HASHES_MAX at a time. */
static pthread_mutex_t hash_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hash_free = PTHREAD_COND_INITIALIZER;
static int hashes_running;

static void hash_slot_take(void)
{
    pthread_mutex_lock(&hash_lock);
    while (hashes_running >= ACCOUNT_HASHES_MAX) {
        pthread_cond_wait(&hash_free, &hash_lock);
    }
    hashes_running++;
    pthread_mutex_unlock(&hash_lock);
}

static void hash_slot_give(void)
{
    pthread_mutex_lock(&hash_lock);
    hashes_running--;
    pthread_cond_signal(&hash_free);
    pthread_mutex_unlock(&hash_lock);
}

size_t account_password_chars(const char *pw)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)pw; *p; p++) {
        n += (*p & 0xC0) != 0x80; /* count lead bytes, not continuation bytes */
    }
    return n;
}

enum err account_password_hash(const char *pw, char out[PASSWORD_HASH_MAX])
{
    hash_slot_take();
    enum err e = password_hash(bytes_str(pw), out);
    hash_slot_give();
    return e;
}

bool account_password_verify(const char *hash, const char *pw)
{
    hash_slot_take();
    bool ok = password_verify(hash, bytes_str(pw));
    hash_slot_give();
    return ok;
}

/* A hash of a random password, made once, that unknown identifiers are checked against. */
static pthread_once_t burn_once = PTHREAD_ONCE_INIT;
static char burn_hash[PASSWORD_HASH_MAX];

static void burn_init(void)
{
    char pw[33];
    password_token_hex(pw, 32);
    if (password_hash(bytes_str(pw), burn_hash)) {
        burn_hash[0] = '\0';
    }
}

void account_password_burn(const char *pw)
{
    pthread_once(&burn_once, burn_init);
    if (burn_hash[0]) {
        (void)!account_password_verify(burn_hash, pw);
    }
}

void account_app_password_digest(const char *did, const char *pw, char out[ACCOUNT_APP_DIGEST_MAX])
{
    uint8_t h[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, (const uint8_t *)did, strlen(did) + 1); /* with its NUL */
    crypto_generichash_update(&st, (const uint8_t *)pw, strlen(pw));
    crypto_generichash_final(&st, h, sizeof(h));
    memcpy(out, APP_DIGEST_PREFIX, sizeof(APP_DIGEST_PREFIX) - 1);
    sodium_bin2hex(out + sizeof(APP_DIGEST_PREFIX) - 1,
                   ACCOUNT_APP_DIGEST_MAX - (sizeof(APP_DIGEST_PREFIX) - 1), h, sizeof(h));
    sodium_memzero(&st, sizeof(st));
}

void account_token_id(char out[ACCOUNT_TOKEN_ID_CHARS + 1])
{
    password_token_hex(out, ACCOUNT_TOKEN_ID_CHARS);
}

int64_t account_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
