/* scope.h - atproto OAuth scopes: the generic resource[:positional][?k=v&...] grammar, the
 * granular permissions built on it, and the checks the PDS makes. Pure; thread-safe;
 * results live in the caller's arena and borrow nothing from the input. */
#ifndef PDS_OAUTH_SCOPE_H
#define PDS_OAUTH_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/bytes.h"
#include "core/err.h"

#define SCOPE_ENTRY_MAX_BYTES  8192  /* one scope value; longer ones are ERR_TOO_LARGE */
#define SCOPE_STRING_MAX_BYTES 65536 /* a whole space-separated scope string */
#define SCOPE_MAX_PARAMS       128   /* k=v pairs in one scope value */
#define SCOPE_MAX_ENTRIES      512   /* scope values in one scope string */

/* ---- generic grammar ---- */

/* One query key with its values in order of appearance (a repeated key makes a list). */
struct scope_param {
    struct bytes key;     /* percent-decoded; NUL-terminated in the arena */
    struct bytes *values; /* nvalues >= 1, each percent-decoded and NUL-terminated */
    size_t nvalues;
};

struct scope_generic {
    struct bytes resource;   /* the text before the first ':' or '?' */
    bool has_positional;     /* a ':' came before any '?' (even "res:" with nothing after) */
    struct bytes positional; /* percent-decoded; empty when !has_positional */
    struct scope_param *params;
    size_t nparams; /* keys in order of first appearance */
};

/* Parses one scope value: printable ASCII only (no space), a non-empty resource, valid
 * %XX escapes that decode to no control character; in the query '+' is a space (URL form
 * encoding) and a key without '=' has the value "". ERR_INVALID or ERR_TOO_LARGE. */
enum err scope_generic_parse(struct arena *a, struct bytes text,
                             struct scope_generic *out) MUST_CHECK;
/* The param named key, or NULL. */
const struct scope_param *scope_generic_param(const struct scope_generic *g, struct bytes key);

/* ---- granular permissions ---- */

enum scope_kind {
    SCOPE_ATPROTO = 1,          /* "atproto": required in every session; identity only */
    SCOPE_TRANSITION_GENERIC,   /* app-password equivalent, minus chat.bsky.* */
    SCOPE_TRANSITION_CHAT_BSKY, /* rpc to chat.bsky.* */
    SCOPE_TRANSITION_EMAIL,     /* read account:email */
    SCOPE_ACCOUNT,
    SCOPE_BLOB,
    SCOPE_IDENTITY,
    SCOPE_REPO,
    SCOPE_RPC,
    SCOPE_INCLUDE, /* a permission set, expanded by the authorisation server */
};

enum scope_account_attr { SCOPE_ACCOUNT_EMAIL, SCOPE_ACCOUNT_REPO };
enum scope_account_action { SCOPE_ACCOUNT_READ, SCOPE_ACCOUNT_MANAGE }; /* manage ⊇ read */
enum scope_identity_attr { SCOPE_IDENTITY_HANDLE, SCOPE_IDENTITY_ALL }; /* "handle", "*" */

/* Repo write actions, as bits so a request can need several (putRecord: create|update). */
enum scope_repo_action {
    SCOPE_REPO_CREATE = 1,
    SCOPE_REPO_UPDATE = 2,
    SCOPE_REPO_DELETE = 4,
    SCOPE_REPO_ALL = 7,
};

/* A list of values; "*" stays an item and any_wildcard says whether one is present. */
struct scope_list {
    struct bytes *items;
    size_t n;
    bool any_wildcard;
};

struct scope_account_perm {
    enum scope_account_attr attr;
    enum scope_account_action action; /* default read */
};

struct scope_blob_perm {
    struct scope_list accept; /* any (STAR/STAR), a whole type (image/STAR) or type/subtype */
};

struct scope_identity_perm {
    enum scope_identity_attr attr;
};

struct scope_repo_perm {
    struct scope_list collection; /* NSIDs or "*" */
    unsigned actions;             /* enum scope_repo_action bits; default SCOPE_REPO_ALL */
};

struct scope_rpc_perm {
    struct scope_list lxm; /* NSIDs or "*" */
    struct bytes aud;      /* "*" or "<atproto did>#<service id>" (never both wildcards) */
};

struct scope_include_perm {
    struct bytes nsid; /* the permission set */
    struct bytes aud;  /* "<did>#<service id>", or empty when absent */
};

/* One parsed scope value; only the member named by kind is meaningful. */
struct scope_perm {
    enum scope_kind kind;
    struct scope_account_perm account;
    struct scope_blob_perm blob;
    struct scope_identity_perm identity;
    struct scope_repo_perm repo;
    struct scope_rpc_perm rpc;
    struct scope_include_perm include;
};

/* Parses one scope value (case-sensitive). Unknown resources or params, bad values, a
 * param given both positionally and as k=v, or a missing required part: ERR_INVALID.
 * Per spec such a scope is ignored, not fatal: see scope_set_parse. */
enum err scope_perm_parse(struct arena *a, struct bytes text, struct scope_perm *out) MUST_CHECK;

/* A granted scope string. */
struct scope_set {
    struct scope_perm *perms; /* the granular ones (account, blob, identity, repo, rpc,
                                 include), in order */
    size_t nperms;
    size_t nignored; /* values that did not parse, skipped */
    bool atproto, transition_generic, transition_chat_bsky, transition_email;
};

/* Splits on spaces and parses each value, skipping (and counting) invalid ones.
 * ERR_TOO_LARGE past SCOPE_STRING_MAX_BYTES or SCOPE_MAX_ENTRIES; never ERR_INVALID. */
enum err scope_set_parse(struct arena *a, struct bytes text, struct scope_set *out) MUST_CHECK;

/* The checks (reference ScopePermissionsTransition). include: entries grant nothing here:
 * the authorisation server expands them into repo:/rpc: scopes when it issues a token. */

/* Writing records of collection: every action bit in actions must be granted
 * (putRecord passes SCOPE_REPO_CREATE | SCOPE_REPO_UPDATE). transition:generic grants all. */
bool scope_allows_repo_write(const struct scope_set *s, struct bytes collection, unsigned actions);
/* Proxying or service auth to aud ("<did>#<service id>") for method lxm. transition:generic
 * grants everything except chat.bsky.*, which transition:chat.bsky grants. */
bool scope_allows_rpc(const struct scope_set *s, struct bytes aud, struct bytes lxm);
/* Uploading a blob of this Content-Type ("type/subtype", parameters after ';' ignored,
 * compared case-insensitively). transition:generic grants all. */
bool scope_allows_blob(const struct scope_set *s, struct bytes mime);
/* account:<attr>; transition:email grants reading the email. */
bool scope_allows_account(const struct scope_set *s, enum scope_account_attr attr,
                          enum scope_account_action action);
/* identity:<attr>; "*" grants handle too. transition scopes grant nothing here. */
bool scope_allows_identity(const struct scope_set *s, enum scope_identity_attr attr);

#endif
