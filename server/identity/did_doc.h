/* did_doc.h - DID documents as the PDS reads them (handle, atproto signing key, PDS
 * endpoint, services by id) and as it renders them for its own accounts.
 * Pure: no I/O, no globals; thread-safe. */
#ifndef PDS_IDENTITY_DID_DOC_H
#define PDS_IDENTITY_DID_DOC_H

#include <jansson.h>

#include "core/bytes.h"
#include "core/err.h"
#include "crypto/sigkey.h"

#define DID_DOC_KEY_ID         "atproto"     /* verificationMethod fragment */
#define DID_DOC_PDS_SERVICE_ID "atproto_pds" /* service fragment */
#define DID_DOC_PDS_TYPE       "AtprotoPersonalDataServer"
#define DID_DOC_URL_MAX        2048 /* longest serviceEndpoint we accept */

/* What the PDS takes from a document. Owns its strings; free with did_doc_clear. */
struct did_doc {
    char *did;                 /* the document's id (equal to the DID resolved) */
    char *handle;              /* lower-cased, from the first valid at:// alias; NULL if none */
    bool has_signing_key;      /* found a usable #atproto key */
    struct sigkey signing_key; /* public half only */
    char *pds_endpoint;        /* #atproto_pds serviceEndpoint; NULL if none or invalid */
};

/* Reads doc for did. ERR_INVALID if doc is not an object, its id is not a string equal to
 * did, or alsoKnownAs / verificationMethod / service are present but not arrays. Missing or
 * unusable pieces leave the fields NULL / false: use did_doc_require_atproto to insist.
 * - handle: first alsoKnownAs entry "at://<h>" where h is a valid handle (lower-cased);
 * - key: the first verificationMethod with id "#atproto" or "<did>#atproto"; its type must be
 *   Multikey (publicKeyMultibase a multikey) or EcdsaSecp256k1VerificationKey2019 /
 *   EcdsaSecp256r1VerificationKey2019 (legacy multibase point); anything else: no key;
 * - pds: the first service with id "#atproto_pds" or "<did>#atproto_pds", type
 *   AtprotoPersonalDataServer, and a string http(s) serviceEndpoint.
 * On error *out is cleared. */
enum err did_doc_parse(const json_t *doc, const char *did, struct did_doc *out) MUST_CHECK;
/* ERR_INVALID unless the document gave a signing key and a PDS endpoint (and a handle when
 * need_handle). */
enum err did_doc_require_atproto(const struct did_doc *d, bool need_handle) MUST_CHECK;
void did_doc_clear(struct did_doc *d);

/* The serviceEndpoint string of the first service whose id is "#<fragment>" or
 * "<did>#<fragment>" (for `atproto-proxy: did#fragment`). type, if not NULL, must match.
 * Returns a borrowed pointer into doc, or NULL when absent or not a string. */
const char *did_doc_service_endpoint(const json_t *doc, const char *did, const char *fragment,
                                     const char *type);

/* A document for one of our accounts in the PLC directory's current shape:
 * @context [did/v1, multikey/v1, the key's suite], id, alsoKnownAs ["at://handle"] (empty
 * when handle is NULL), verificationMethod [{id "<did>#atproto", type Multikey, controller,
 * publicKeyMultibase}], service [{id "#atproto_pds", type AtprotoPersonalDataServer,
 * serviceEndpoint}]. Returns a new reference; never NULL. */
json_t *did_doc_build(const char *did, const char *handle, const struct sigkey *signing_key,
                      const char *pds_url);

#endif
