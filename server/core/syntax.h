/* syntax.h - validators for atproto identifiers and the lexicon string formats (DID, handle,
 * NSID, record key, TID, AT-URI, datetime, language, cid, uri, MST key). Pure; thread-safe. */
#ifndef PDS_CORE_SYNTAX_H
#define PDS_CORE_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "core/err.h"

/* Limits from the specs (atproto.com/specs): every validator rejects longer input. */
#define SYNTAX_DID_MAX_LEN      2048 /* spec(did): 2 KB; we never create DIDs over 64 */
#define SYNTAX_HANDLE_MAX_LEN   253  /* spec(handle): DNS name limit */
#define SYNTAX_NSID_MAX_LEN     317  /* spec(nsid): 253 authority + 1 + 63 name */
#define SYNTAX_NSID_SEGMENT_MAX 63   /* spec(nsid): a DNS label */
#define SYNTAX_RKEY_MAX_LEN     512  /* spec(record-key) */
#define SYNTAX_TID_LEN          13   /* spec(tid): 13 base32-sortable characters */
#define SYNTAX_ATURI_MAX_LEN    8192 /* spec(lexicon): AT-URI at most 8 KB */
#define SYNTAX_URI_MAX_LEN      8192 /* spec(lexicon): uri at most 8 KB */
#define SYNTAX_DATETIME_MAX_LEN 64   /* reference validators refuse longer datetimes */
#define SYNTAX_CID_MIN_LEN      8    /* lexicon cid format: lightweight length check */
#define SYNTAX_CID_MAX_LEN      256
#define SYNTAX_MST_KEY_MAX_LEN  1024                        /* reference repo/src/mst/util.ts */
#define SYNTAX_HANDLE_BUF       (SYNTAX_HANDLE_MAX_LEN + 1) /* a normalised handle + NUL */

/* spec(did): ^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$, at most SYNTAX_DID_MAX_LEN.
 * Any method; use syntax_did_is_atproto for the plc/web subset. */
bool syntax_did_valid(struct bytes s);
/* did:plc:<24 base32 lower> or did:web:<hostname> (a %3A port only on localhost). */
bool syntax_did_is_atproto(struct bytes s);
/* spec(handle): >= 2 DNS labels, TLD not starting with a digit, <= 253; any case. */
bool syntax_handle_valid(struct bytes s);
/* True when the handle's TLD must not be registered or resolved (.alt .arpa .example
 * .internal .invalid .local .localhost .onion, and .test unless allow_test). Case-blind. */
bool syntax_handle_is_disallowed_tld(struct bytes handle, bool allow_test);
/* Writes the lower-cased handle and a NUL into out (SYNTAX_HANDLE_BUF bytes fit any
 * handle). ERR_INVALID unless syntax_handle_valid, ERR_TOO_LARGE if out_cap is too small. */
enum err syntax_handle_normalize(struct bytes handle, char *out, size_t out_cap) MUST_CHECK;
/* spec(nsid): >= 3 segments, authority labels then a letters-and-digits name. */
bool syntax_nsid_valid(struct bytes s);
/* spec(record-key): 1-512 of [A-Za-z0-9._:~-], never "." or "..". */
bool syntax_rkey_valid(struct bytes s);
/* spec(tid): 13 chars, first in [2-7a-j], rest base32-sortable; case-sensitive. */
bool syntax_tid_valid(struct bytes s);
/* Strict (lexicon) AT-URI: at://<handle|did>[/<nsid>[/<rkey>]], no query or fragment. */
bool syntax_aturi_valid(struct bytes s);
/* A handle or a DID. */
bool syntax_atidentifier_valid(struct bytes s);
/* spec(lexicon datetime): RFC 3339 ∩ ISO 8601: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM),
 * a real calendar date, no -00:00, and within years 0000-9999 once moved to UTC. */
bool syntax_datetime_valid(struct bytes s);
/* As syntax_datetime_valid, and gives milliseconds since the Unix epoch (UTC, fraction
 * truncated; negative before 1970). ERR_INVALID when not valid. */
enum err syntax_datetime_parse(struct bytes s, int64_t *unix_ms) MUST_CHECK;
/* BCP 47 (RFC 5646 §2.1) well-formedness: the ABNF only, case-insensitive. */
bool syntax_language_wellformed(struct bytes s);
/* Well-formed and also: the primary language subtag is 2-3 lower-case letters (unless the
 * tag is grandfathered or private use), and no variant or extension singleton repeats
 * (RFC 5646 §2.2.9). */
bool syntax_language_valid(struct bytes s);
/* Lexicon cid format, lightweight: 8-256 of [A-Za-z0-9+=], not CIDv0 ("Qmb" prefix).
 * Not a decode: use cid_parse for that. */
bool syntax_cid_valid(struct bytes s);
/* Lexicon uri format, loose: ^[a-z][a-z.-]{0,80}:[!-~]+$, at most 8 KB. */
bool syntax_uri_valid(struct bytes s);
/* Repo path: exactly "<collection>/<rkey>", each non-empty [a-zA-Z0-9_~:.-]*, <= 1024. */
bool syntax_mst_key_valid(struct bytes s);

#endif
