/* fuzz_syntax.c - feeds one input to every syntax validator, the TID and datetime parsers
 * and the OAuth scope parsers; checks the relations between them that must always hold. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/syntax.h"
#include "core/tid.h"
#include "oauth/scope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly size bytes: any read past the end trips ASan */
    uint8_t *copy = malloc(size ? size : 1);
    if (size) {
        memcpy(copy, data, size);
    }
    struct bytes in = {copy, size};

    bool did = syntax_did_valid(in), handle = syntax_handle_valid(in);
    if (syntax_did_is_atproto(in) && !did) {
        abort();
    }
    if (syntax_atidentifier_valid(in) != (did || handle)) {
        abort();
    }
    if (handle) {
        char out[SYNTAX_HANDLE_BUF];
        if (syntax_handle_normalize(in, out, sizeof(out)) != ERR_OK ||
            !syntax_handle_valid(bytes_of(out, size))) {
            abort();
        }
        (void)syntax_handle_is_disallowed_tld(in, false);
    }
    (void)syntax_nsid_valid(in);
    (void)syntax_rkey_valid(in);
    (void)syntax_aturi_valid(in);
    (void)syntax_cid_valid(in);
    (void)syntax_uri_valid(in);
    (void)syntax_mst_key_valid(in);
    if (syntax_language_valid(in) && !syntax_language_wellformed(in)) {
        abort();
    }
    int64_t ms;
    if ((syntax_datetime_parse(in, &ms) == ERR_OK) != syntax_datetime_valid(in)) {
        abort();
    }

    uint64_t tid;
    bool tid_ok = tid_parse(in, &tid) == ERR_OK;
    if (tid_ok != syntax_tid_valid(in)) {
        abort();
    }
    if (tid_ok) {
        char back[TID_STR_LEN + 1];
        tid_format(tid, back);
        if (memcmp(back, copy, TID_STR_LEN) != 0) {
            abort();
        }
    }

    struct arena a;
    arena_init(&a);
    struct scope_generic g;
    struct scope_perm p;
    struct scope_set s;
    if (scope_generic_parse(&a, in, &g) == ERR_OK) {
        for (size_t i = 0; i < g.nparams; i++) {
            if (g.params[i].nvalues == 0) {
                abort();
            }
        }
    }
    if (scope_perm_parse(&a, in, &p) == ERR_OK && p.kind == SCOPE_RPC && p.rpc.lxm.n == 0) {
        abort();
    }
    if (scope_set_parse(&a, in, &s) == ERR_OK) {
        (void)scope_allows_repo_write(&s, BYTES_LIT("app.bsky.feed.post"), SCOPE_REPO_CREATE);
        (void)scope_allows_rpc(&s, BYTES_LIT("did:web:api.bsky.app#bsky_appview"),
                               BYTES_LIT("app.bsky.feed.getTimeline"));
        (void)scope_allows_blob(&s, in);
        (void)scope_allows_account(&s, SCOPE_ACCOUNT_EMAIL, SCOPE_ACCOUNT_READ);
        (void)scope_allows_identity(&s, SCOPE_IDENTITY_HANDLE);
    }
    arena_clear(&a);
    free(copy);
    return 0;
}
