/* app.c - the process-wide state of the endpoints. */
#include "api/common/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <pthread.h>
#include <sodium.h>

#include "core/sha256.h"

#include "api/common/lexicons.h"
#include "core/lexicon.h"
#include "db/log.h"
#include "db/spare.h"
#include "identity/resolver.h"
#include "config/config.h"

/* The seal key comes from the PLC rotation key, the one secret an operator can never
 * change without losing the host's identity: rotating PDS_JWT_SECRET (which only ends
 * sessions) must not make every repository signing key unreadable. */
#define APP_SEAL_CONTEXT "pds signing-key seal v1"

/* Unsealed signing keys, by the hash of their sealed bytes: deriving the public half costs
 * as much as a signature, and a write needs the key every time. A new sealed key (a key
 * change) hashes elsewhere, so entries never go stale. Direct-mapped; the mutex guards it. */
#define APP_KEY_CACHE_SLOTS 4096

struct key_slot {
    bool used;
    uint8_t tag[32]; /* sha256 of the sealed bytes */
    struct sigkey key;
};

static struct key_slot *key_cache;
static pthread_mutex_t key_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static struct app the_app;

static bool the_app_ready;

struct app *app_get(void)
{
    return the_app_ready ? &the_app : NULL;
}

enum err app_init(const struct config *cfg, char *why, size_t why_len)
{
    memset(&the_app, 0, sizeof(the_app));
    the_app.cfg = cfg;
    if (!cfg->plc_rotation_key_hex ||
        sigkey_from_private_hex(SIGKEY_K256, bytes_str(cfg->plc_rotation_key_hex),
                                &the_app.rotation_key)) {
        snprintf(why, why_len,
                 "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX is not a k256 private key in hex");
        return ERR_INVALID;
    }
    uint8_t material[SIGKEY_PRIVATE_BYTES + sizeof(APP_SEAL_CONTEXT)];
    memcpy(material, the_app.rotation_key.private_key, SIGKEY_PRIVATE_BYTES);
    memcpy(material + SIGKEY_PRIVATE_BYTES, APP_SEAL_CONTEXT, sizeof(APP_SEAL_CONTEXT));
    enum err e = seal_derive_key(bytes_of(material, sizeof(material)), the_app.seal_key);
    sodium_memzero(material, sizeof(material));
    if (e) {
        snprintf(why, why_len, "could not derive the key that seals signing keys");
        return e;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct lexicons_info li;
    if ((e = lexicons_load(cfg->lexicon_dir, &the_app.lexicons, &li, why, why_len))) {
        return e;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    log_info(NULL, "lexicons: %zu shipped (%s), %zu from PDS_LEXICON_DIR, loaded in %ld ms",
             li.shipped, li.source, li.extra, ms);
    struct resolver_config rc = {
        .plc_url = cfg->did_plc_url,
        .timeout_ms = (long)cfg->id_resolver_timeout_ms,
        .did_stale_ttl_ms = cfg->did_cache_stale_ttl_ms,
        .did_max_ttl_ms = cfg->did_cache_max_ttl_ms,
        .dev_mode = cfg->dev_mode,
        .dev_http_port = cfg->dev_handle_http_port > 0 ? cfg->dev_handle_http_port : cfg->port,
        .dns_server = cfg->handle_dns_server,
    };
    the_app.resolver = resolver_new(&rc);
    if (!the_app.resolver) {
        snprintf(why, why_len, "PDS_HANDLE_DNS_SERVER is not an IPv4 address:port");
        lexicon_catalog_free(the_app.lexicons);
        the_app.lexicons = NULL;
        return ERR_INVALID;
    }
    the_app.blocks = blockcache_new(BLOCKCACHE_DEFAULT_BYTES);
    /* a random clock id keeps two processes on one database from minting equal revs */
    tid_gen_init(&the_app.tids, randombytes_uniform(1024));
    the_app_ready = true;
    return ERR_OK;
}

void app_clear(void)
{
    if (!the_app_ready) {
        return;
    }
    blockcache_free(the_app.blocks);
    db_spare_close_all();
    lexicon_catalog_free(the_app.lexicons);
    sigkey_clear(&the_app.rotation_key);
    sodium_memzero(the_app.seal_key, sizeof(the_app.seal_key));
    pthread_mutex_lock(&key_cache_lock);
    if (key_cache) {
        sodium_memzero(key_cache, APP_KEY_CACHE_SLOTS * sizeof(*key_cache));
        free(key_cache);
        key_cache = NULL;
    }
    pthread_mutex_unlock(&key_cache_lock);
    the_app_ready = false;
}

static enum err unseal(struct bytes sealed, struct sigkey *out);

enum err app_unseal_signing_key(struct bytes sealed, struct sigkey *out)
{
    uint8_t tag[32];
    sha256(sealed.ptr, sealed.len, tag);
    size_t slot;
    memcpy(&slot, tag, sizeof(slot));
    slot %= APP_KEY_CACHE_SLOTS;
    pthread_mutex_lock(&key_cache_lock);
    if (!key_cache) {
        key_cache = xcalloc(APP_KEY_CACHE_SLOTS, sizeof(*key_cache));
    }
    bool hit = key_cache[slot].used && memcmp(key_cache[slot].tag, tag, sizeof(tag)) == 0;
    if (hit) {
        *out = key_cache[slot].key;
    }
    pthread_mutex_unlock(&key_cache_lock);
    if (hit) {
        return ERR_OK;
    }
    enum err e = unseal(sealed, out);
    if (!e) {
        pthread_mutex_lock(&key_cache_lock);
        key_cache[slot].used = true;
        memcpy(key_cache[slot].tag, tag, sizeof(tag));
        key_cache[slot].key = *out;
        pthread_mutex_unlock(&key_cache_lock);
    }
    return e;
}

static enum err unseal(struct bytes sealed, struct sigkey *out)
{
    uint8_t plain[SIGKEY_PRIVATE_BYTES + 1];
    size_t n = 0;
    enum err e = seal_open(the_app.seal_key, sealed, plain, sizeof(plain), &n);
    if (!e && n != SIGKEY_PRIVATE_BYTES) {
        e = ERR_INVALID;
    }
    if (!e) {
        e = sigkey_from_private(SIGKEY_K256, plain, out);
    }
    sodium_memzero(plain, sizeof(plain));
    return e;
}

enum err app_seal_signing_key(const struct sigkey *key, uint8_t **out, size_t *out_len)
{
    struct buf b;
    buf_init(&b, SEAL_PLAIN_MAX + SEAL_OVERHEAD_BYTES);
    enum err e = seal_box(the_app.seal_key, bytes_of(key->private_key, SIGKEY_PRIVATE_BYTES), &b);
    if (e) {
        buf_clear(&b);
        return e;
    }
    *out = buf_take(&b, out_len);
    return ERR_OK;
}
