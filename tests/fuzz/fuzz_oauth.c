/* fuzz_oauth.c - the OAuth parsers that read what strangers send: a client_id and its
 * metadata document (first line, then JSON), URLs, and DPoP proofs. Whatever validates must
 * be self-consistent: a valid client accepts its own first redirect URI and declared scope. */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "oauth/client.h"
#include "oauth/dpop.h"
#include "oauth/oauth.h"
#include "oauth/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        struct config cfg = {0};
        cfg.jwt_secret = "fuzz";
        if (oauth_init(&cfg)) {
            abort();
        }
        ready = true;
    }
    if (size > 65536) {
        return 0;
    }
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct arena a;
    arena_init(&a);
    struct url u;
    (void)!url_parse(&a, text, &u);
    struct dpop_proof proof;
    const char *why;
    (void)dpop_check(&a, text, "POST", "https://pds.example.com/oauth/par", NULL, 1700000000,
                     &proof, &why);
    char *nl = strchr(text, '\n');
    if (nl) {
        *nl = '\0';
        json_t *doc = json_loads(nl + 1, JSON_REJECT_DUPLICATES, NULL);
        struct oauth_client c;
        for (int dev = 0; dev < 2 && doc; dev++) {
            if (oauth_client_validate(&a, text, doc, dev, &c, &why) == ERR_OK) {
                const char *bad;
                if (c.n_redirect_uris == 0 ||
                    !oauth_client_redirect_ok(&a, &c, c.redirect_uris[0]) ||
                    !oauth_client_scope_ok(&a, &c, c.scope, &bad)) {
                    abort();
                }
            }
        }
        json_decref(doc);
    }
    arena_clear(&a);
    free(text);
    return 0;
}
