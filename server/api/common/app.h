/* app.h - the process-wide state the endpoints share: configuration, the block cache, the
 * TID generator, the server's keys. Built once by `pds serve` before the HTTP server starts
 * and read-only afterwards (each member says how it may be used from worker threads). */
#ifndef PDS_API_COMMON_APP_H
#define PDS_API_COMMON_APP_H

#include "core/tid.h"
#include "crypto/seal.h"
#include "crypto/sigkey.h"
#include "db/blockcache.h"

struct config;
struct lexicon_catalog;
struct resolver;

struct app {
    const struct config *cfg;
    struct blockcache *blocks;        /* thread-safe */
    struct tid_gen tids;              /* thread-safe (lock-free) */
    struct sigkey rotation_key;       /* the PLC rotation key (k256); read-only */
    uint8_t seal_key[SEAL_KEY_BYTES]; /* encrypts account signing keys at rest; read-only */
    struct lexicon_catalog *lexicons; /* schemas (api/common/lexicons.h); read-only */
    struct resolver *resolver;        /* DID and handle resolution with caches; thread-safe */
};

/* The process's app; NULL before app_init. */
struct app *app_get(void);
/* Builds the app from cfg (keys derived from its secrets; the shipped lexicons and those in
 * PDS_LEXICON_DIR). ERR_INVALID with a reason in why for a bad rotation key or an unreadable
 * lexicon. */
enum err app_init(const struct config *cfg, char *why, size_t why_len) MUST_CHECK;
void app_clear(void);

/* An account's repository signing key: reads and unseals account.signing_key. */
enum err app_unseal_signing_key(struct bytes sealed, struct sigkey *out) MUST_CHECK;
/* Seals a new signing key for storage; *out is malloc'd, caller frees. */
enum err app_seal_signing_key(const struct sigkey *key, uint8_t **out, size_t *out_len) MUST_CHECK;

#endif
