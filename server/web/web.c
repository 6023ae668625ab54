/* web.c - the web layer's keys. */
#include "web/web.h"

#include <string.h>

#include <sodium.h>

#include "config/config.h"
#include "crypto/ready.h"

static unsigned char csrf_key[WEB_KEY_BYTES];

enum err web_init(const struct config *cfg)
{
    if (!cfg->jwt_secret || !*cfg->jwt_secret) {
        return ERR_INVALID;
    }
    ready_sodium();
    /* HMAC(jwt_secret, label): one secret to configure, a separate key per use */
    static const char label[] = "pds/web/csrf/v1";
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)cfg->jwt_secret,
                                strlen(cfg->jwt_secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, sizeof label - 1);
    crypto_auth_hmacsha256_final(&st, csrf_key);
    sodium_memzero(&st, sizeof st);
    return ERR_OK;
}

void web_clear(void)
{
    sodium_memzero(csrf_key, sizeof csrf_key);
}

const unsigned char *web_csrf_key(void)
{
    return csrf_key;
}
