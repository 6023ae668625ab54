/* resolver.h - DID resolution (did:plc via the directory, did:web via /.well-known/did.json)
 * and handle resolution (DNS TXT _atproto.<handle>, then HTTPS /.well-known/atproto-did),
 * with a process-wide TTL cache. Thread-safe: internal lock around the caches, never held
 * across network I/O. Calls block for at most about two timeouts. */
#ifndef PDS_IDENTITY_RESOLVER_H
#define PDS_IDENTITY_RESOLVER_H

#include <jansson.h>

#include "core/err.h"
#include "core/syntax.h"
#include "identity/did_doc.h"

#define RESOLVER_TIMEOUT_MS_DEFAULT       3000                 /* PDS_ID_RESOLVER_TIMEOUT */
#define RESOLVER_DID_STALE_TTL_MS_DEFAULT (60LL * 60 * 1000)   /* PDS_DID_CACHE_STALE_TTL: 1 h */
#define RESOLVER_DID_MAX_TTL_MS_DEFAULT   (24LL * 3600 * 1000) /* PDS_DID_CACHE_MAX_TTL: 1 day */
/* Handles are re-checked often (auth flows want < ~10 min); failures are never cached. */
#define RESOLVER_HANDLE_TTL_MS_DEFAULT (5LL * 60 * 1000)
#define RESOLVER_CACHE_MAX_ENTRIES     50000       /* per cache; beyond it stale entries go */
#define RESOLVER_DID_DOC_MAX_BYTES     (64u << 10) /* a did.json or PLC document */
#define RESOLVER_HANDLE_BODY_MAX_BYTES 4096        /* /.well-known/atproto-did */
#define RESOLVER_HANDLE_MAX_REDIRECTS  3
#define RESOLVER_DID_MAX               (SYNTAX_DID_MAX_LEN + 1)

struct resolver_config {
    const char *plc_url;      /* directory, no trailing '/'; copied */
    long timeout_ms;          /* per request; <= 0: default */
    int64_t did_stale_ttl_ms; /* <= 0: default; after it a lookup re-resolves, and falls
                                 back to the cached document if that fails */
    int64_t did_max_ttl_ms;   /* <= 0: default; after it the entry is never served */
    int64_t handle_ttl_ms;    /* <= 0: default */
    size_t max_entries;       /* 0: default */
    /* Dev mode only (tests, local stacks): did:web:localhost / 127.0.0.1 with a %3A port
     * over http, and handles under .localhost over http on dev_http_port (curl maps
     * *.localhost to loopback). Never set in production. */
    bool dev_mode;
    int dev_http_port;
    /* DNS server "a.b.c.d:port" (IPv4) replacing the system's, for tests; NULL: system. */
    const char *dns_server;
    /* Milliseconds clock for cache ages; NULL: CLOCK_MONOTONIC. Tests step it. */
    int64_t (*now_ms)(void);
};

struct resolver;

/* A resolver; caller frees with resolver_free. NULL only for a bad dns_server. */
struct resolver *resolver_new(const struct resolver_config *cfg);
void resolver_free(struct resolver *r); /* NULL is a no-op */

/* The DID document of did (did:plc or did:web), checked to be an object whose id is did.
 * From cache when younger than the stale TTL and !force_refresh (re-resolve once after a
 * bad signature). A failed refresh serves an entry younger than the max TTL, except when the
 * DID is gone (ERR_NOT_FOUND, which also drops the entry).
 * Errors: ERR_INVALID (not a DID we resolve), ERR_NOT_FOUND, ERR_UPSTREAM.
 * *doc is a new reference (a private copy): caller decrefs. */
enum err resolver_resolve_did(struct resolver *r, const char *did, bool force_refresh,
                              json_t **doc) MUST_CHECK;
/* resolver_resolve_did then did_doc_parse. Caller clears *out. */
enum err resolver_resolve_atproto(struct resolver *r, const char *did, bool force_refresh,
                                  struct did_doc *out) MUST_CHECK;
/* Drops a DID from the cache (an #identity event, an update we made). */
void resolver_forget_did(struct resolver *r, const char *did);

/* The DID a handle claims: DNS TXT first (DNS wins when both answer), then HTTPS. Cached
 * for the handle TTL unless force_refresh. ERR_INVALID for a bad handle; ERR_NOT_FOUND when
 * neither method gives a DID; ERR_CONFLICT when DNS lists two different DIDs. */
enum err resolver_resolve_handle(struct resolver *r, const char *handle, bool force_refresh,
                                 char did[RESOLVER_DID_MAX]) MUST_CHECK;
/* The two methods alone (uncached), for tests and diagnostics. */
enum err resolver_handle_dns(struct resolver *r, const char *handle,
                             char did[RESOLVER_DID_MAX]) MUST_CHECK;
enum err resolver_handle_http(struct resolver *r, const char *handle,
                              char did[RESOLVER_DID_MAX]) MUST_CHECK;
void resolver_forget_handle(struct resolver *r, const char *handle);

/* The DID that the TXT records of DNS name publish as "did=<did>" (uncached): the handle
 * method's lookup for any name, such as a Lexicon authority's "_lexicon.<domain>". Other
 * TXT values are ignored; ERR_NOT_FOUND when none names a DID, ERR_CONFLICT for two
 * different DIDs, ERR_UPSTREAM when DNS fails. */
enum err resolver_txt_did(struct resolver *r, const char *name,
                          char did[RESOLVER_DID_MAX]) MUST_CHECK;

#endif
