/* did_doc.c - reading DID documents the way the PDS needs them, and rendering ours in the
 * PLC directory's shape. Pure; thread-safe. */
#include "identity/did_doc.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/syntax.h"

void did_doc_clear(struct did_doc *d)
{
    free(d->did);
    free(d->handle);
    free(d->pds_endpoint);
    sigkey_clear(&d->signing_key);
    memset(d, 0, sizeof(*d));
}

/* id is "#frag" (relative) or "<did>#frag" (absolute). */
static bool id_matches(const char *id, const char *did, const char *frag)
{
    if (!id) {
        return false;
    }
    size_t dlen = strlen(did);
    if (strncmp(id, did, dlen) == 0) {
        id += dlen;
    }
    return id[0] == '#' && strcmp(id + 1, frag) == 0;
}

/* Optional arrays: absent is fine, anything but an array is not. */
static enum err opt_array(const json_t *doc, const char *key, const json_t **out)
{
    const json_t *v = json_object_get(doc, key);
    if (v && !json_is_array(v)) {
        return ERR_INVALID;
    }
    *out = v;
    return ERR_OK;
}

/* spec(did): the handle is the first at:// alias; it still needs verifying both ways */
static char *find_handle(const json_t *aka)
{
    size_t i;
    const json_t *v;
    json_array_foreach(aka, i, v)
    {
        const char *s = json_string_value(v);
        if (!s || strncmp(s, "at://", 5) != 0) {
            continue;
        }
        char norm[SYNTAX_HANDLE_BUF];
        if (syntax_handle_normalize(bytes_str(s + 5), norm, sizeof(norm)) == ERR_OK) {
            return xstrndup(norm, strlen(norm));
        }
    }
    return NULL;
}

static bool find_key(const json_t *vms, const char *did, struct sigkey *out)
{
    size_t i;
    const json_t *v;
    json_array_foreach(vms, i, v)
    {
        if (!id_matches(json_string_value(json_object_get(v, "id")), did, DID_DOC_KEY_ID)) {
            continue;
        }
        /* only the first #atproto entry counts, as in the reference */
        const char *type = json_string_value(json_object_get(v, "type"));
        const char *mb = json_string_value(json_object_get(v, "publicKeyMultibase"));
        if (!type || !mb) {
            return false;
        }
        enum err e = ERR_UNSUPPORTED;
        if (strcmp(type, "Multikey") == 0) {
            e = sigkey_from_multikey(bytes_str(mb), out);
        } else if (strcmp(type, "EcdsaSecp256k1VerificationKey2019") == 0) {
            e = sigkey_from_legacy_multibase(SIGKEY_K256, bytes_str(mb), out);
        } else if (strcmp(type, "EcdsaSecp256r1VerificationKey2019") == 0) {
            e = sigkey_from_legacy_multibase(SIGKEY_P256, bytes_str(mb), out);
        }
        return e == ERR_OK;
    }
    return false;
}

/* An http(s) URL with a host, no whitespace or control characters. */
static bool endpoint_valid(const char *url)
{
    const char *host;
    if (strncmp(url, "https://", 8) == 0) {
        host = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        host = url + 7;
    } else {
        return false;
    }
    if (strlen(url) >= DID_DOC_URL_MAX || host[0] == '\0' || host[0] == '/' || host[0] == ':') {
        return false;
    }
    for (const char *p = url; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            return false;
        }
    }
    return true;
}

const char *did_doc_service_endpoint(const json_t *doc, const char *did, const char *fragment,
                                     const char *type)
{
    const json_t *svcs = json_object_get(doc, "service");
    size_t i;
    const json_t *v;
    json_array_foreach(svcs, i, v)
    {
        if (!id_matches(json_string_value(json_object_get(v, "id")), did, fragment)) {
            continue;
        }
        const char *t = json_string_value(json_object_get(v, "type"));
        if (type && (!t || strcmp(t, type) != 0)) {
            return NULL;
        }
        return json_string_value(json_object_get(v, "serviceEndpoint"));
    }
    return NULL;
}

enum err did_doc_parse(const json_t *doc, const char *did, struct did_doc *out)
{
    memset(out, 0, sizeof(*out));
    const char *id = json_string_value(json_object_get(doc, "id"));
    if (!json_is_object(doc) || !id || strcmp(id, did) != 0) {
        return ERR_INVALID; /* spec(did): the id must be the DID that was resolved */
    }
    const json_t *aka, *vms, *svcs;
    if (opt_array(doc, "alsoKnownAs", &aka) != ERR_OK ||
        opt_array(doc, "verificationMethod", &vms) != ERR_OK ||
        opt_array(doc, "service", &svcs) != ERR_OK) {
        return ERR_INVALID;
    }
    out->did = xstrndup(did, strlen(did));
    out->handle = find_handle(aka);
    out->has_signing_key = find_key(vms, did, &out->signing_key);
    if (!out->has_signing_key) {
        sigkey_clear(&out->signing_key);
    }
    const char *pds = did_doc_service_endpoint(doc, did, DID_DOC_PDS_SERVICE_ID, DID_DOC_PDS_TYPE);
    if (pds && endpoint_valid(pds)) {
        out->pds_endpoint = xstrndup(pds, strlen(pds));
    }
    return ERR_OK;
}

enum err did_doc_require_atproto(const struct did_doc *d, bool need_handle)
{
    if (!d->has_signing_key || !d->pds_endpoint || (need_handle && !d->handle)) {
        return ERR_INVALID;
    }
    return ERR_OK;
}

json_t *did_doc_build(const char *did, const char *handle, const struct sigkey *signing_key,
                      const char *pds_url)
{
    /* the PLC directory adds the suite of each key's curve after the multikey context */
    const char *suite = signing_key->curve == SIGKEY_K256
                            ? "https://w3id.org/security/suites/secp256k1-2019/v1"
                            : "https://w3id.org/security/suites/ecdsa-2019/v1";
    char multikey[SIGKEY_MULTIKEY_MAX];
    sigkey_multikey(signing_key, multikey);
    json_t *aka = json_array();
    if (handle) {
        char *uri = NULL;
        if (asprintf(&uri, "at://%s", handle) < 0) {
            abort(); /* out of memory: xmalloc's rule */
        }
        json_array_append_new(aka, json_string(uri));
        free(uri);
    }
    char *key_id = NULL;
    if (asprintf(&key_id, "%s#%s", did, DID_DOC_KEY_ID) < 0) {
        abort();
    }
    json_t *doc = json_pack(
        "{s:[s,s,s], s:s, s:o, s:[{s:s, s:s, s:s, s:s}], s:[{s:s, s:s, s:s}]}", "@context",
        "https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1", suite, "id", did,
        "alsoKnownAs", aka, "verificationMethod", "id", key_id, "type", "Multikey", "controller",
        did, "publicKeyMultibase", multikey, "service", "id", "#" DID_DOC_PDS_SERVICE_ID, "type",
        DID_DOC_PDS_TYPE, "serviceEndpoint", pds_url);
    free(key_id);
    if (!doc) {
        abort(); /* only invalid UTF-8 or out of memory: our strings are ASCII */
    }
    return doc;
}
