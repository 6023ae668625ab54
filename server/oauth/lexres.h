/* lexres.h - Lexicon resolution from the network (atproto "Lexicon publication and
 * resolution"): the NSID's authority DID from DNS TXT `_lexicon.<authority>` = "did=<did>"
 * (or one DID for every NSID, PDS_LEXICON_AUTHORITY_DID, for development), then the record
 * at://<did>/com.atproto.lexicon.schema/<nsid> fetched as a sync.getRecord proof from the
 * DID's PDS and checked: every block's CID, the commit's DID and signature (by the DID
 * document's #atproto key), the MST path to the record, and the record a valid Lexicon
 * document whose id is the NSID. No caching here (lexcache.h caches in PostgreSQL).
 * Thread-safe; blocks for at most a few timeouts; call outside transactions. */
#ifndef PDS_OAUTH_LEXRES_H
#define PDS_OAUTH_LEXRES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/cid.h"
#include "core/err.h"
#include "core/syntax.h"

struct resolver;

#define LEXRES_SCHEMA_COLLECTION "com.atproto.lexicon.schema"
#define LEXRES_DNS_PREFIX        "_lexicon."
#define LEXRES_PROOF_MAX_BYTES   ((size_t)(1024 + 10) << 10) /* reference: a record + proof */
#define LEXRES_TIMEOUT_MS        5000
#define LEXRES_URI_MAX           (SYNTAX_DID_MAX_LEN + SYNTAX_NSID_MAX_LEN + 64)

struct lexres_config {
    struct resolver *resolver; /* DID documents and DNS (its dns_server applies) */
    const char *authority_did; /* PDS_LEXICON_AUTHORITY_DID, or NULL: DNS */
    bool ssrf_protect;         /* https only, no private addresses (off in dev mode) */
    int64_t cache_fresh_ms;    /* lexcache.h: how long an entry is fresh; 0: the default */
};

struct lexres_result {
    char uri[LEXRES_URI_MAX];
    char cid[CID_STR_MAX];
    json_t *doc; /* the Lexicon document (the record as JSON); caller decrefs */
};

/* The DNS name holding nsid's authority: "_lexicon." + the NSID's domain segments reversed
 * without its name ("app.example.authFull" -> "_lexicon.example.app"). ERR_INVALID for a bad
 * NSID. */
enum err lexres_dns_name(const char *nsid, char *out, size_t out_len) MUST_CHECK;

/* Resolves nsid. ERR_NOT_FOUND: no authority DID, no such record, or a record that is not a
 * Lexicon document for nsid; ERR_INVALID: a proof that does not verify; ERR_UPSTREAM: the
 * network failed. why (may be NULL) gets a reason for logs and the error message. */
enum err lexres_resolve(const struct lexres_config *c, const char *nsid, struct lexres_result *out,
                        char *why, size_t why_len) MUST_CHECK;

#endif
