/* crypto.c - interop suite for crypto/: signature fixtures (both key forms, did:key
 * re-encoding, verdicts including high-S and DER) and the W3C did:key vectors. */
#include "interop.h"

#include <stdio.h>
#include <string.h>

#include "core/base.h"
#include "crypto/sigkey.h"

#define SIGFILE  "crypto/signature-fixtures.json"
#define K256FILE "crypto/w3c_didkey_K256.json"
#define P256FILE "crypto/w3c_didkey_P256.json"

static const char *str_field(json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));
    return s ? s : "";
}

static bool has_tag(json_t *o, const char *tag)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "tags"), i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), tag) == 0) {
            return true;
        }
    }
    return false;
}

static void signature_case(struct interop *t, size_t idx, json_t *f)
{
    const char *alg = str_field(f, "algorithm");
    const char *suite = str_field(f, "didDocSuite");
    const char *did = str_field(f, "publicKeyDid");
    bool want = json_is_true(json_object_get(f, "validSignature"));
    enum sigkey_curve curve;
    bool k256 = strcmp(alg, "ES256K") == 0;
    if (!k256 && strcmp(alg, "ES256") != 0) {
        interop_case(t, false, SIGFILE, "#%zu: unknown algorithm %s", idx, alg);
        return;
    }
    curve = k256 ? SIGKEY_K256 : SIGKEY_P256;
    const char *want_suite =
        k256 ? "EcdsaSecp256k1VerificationKey2019" : "EcdsaSecp256r1VerificationKey2019";
    interop_case(t, strcmp(suite, want_suite) == 0, SIGFILE, "#%zu: suite %s for %s", idx, suite,
                 alg);

    struct sigkey from_did, from_mb;
    bool did_ok = sigkey_from_did_key(bytes_str(did), &from_did) == ERR_OK;
    interop_case(t, did_ok && from_did.curve == curve, SIGFILE, "#%zu: did:key %s", idx, did);
    bool mb_ok = sigkey_from_legacy_multibase(curve, bytes_str(str_field(f, "publicKeyMultibase")),
                                              &from_mb) == ERR_OK;
    interop_case(t, mb_ok, SIGFILE, "#%zu: publicKeyMultibase does not decode", idx);
    if (!did_ok || !mb_ok) {
        return;
    }
    interop_case(t, sigkey_equal(&from_did, &from_mb), SIGFILE,
                 "#%zu: did:key and publicKeyMultibase differ", idx);
    char again[SIGKEY_DID_KEY_MAX];
    sigkey_did_key(&from_did, again);
    interop_case(t, strcmp(again, did) == 0, SIGFILE, "#%zu: did:key re-encodes as %s", idx, again);

    struct buf msg, sig;
    buf_init(&msg, 4096);
    buf_init(&sig, 4096);
    bool dec = base64_decode(bytes_str(str_field(f, "messageBase64")), &msg) == ERR_OK &&
               base64_decode(bytes_str(str_field(f, "signatureBase64")), &sig) == ERR_OK;
    interop_case(t, dec, SIGFILE, "#%zu: base64 does not decode", idx);
    if (dec) {
        bool got = sigkey_verify(&from_did, buf_bytes(&msg), buf_bytes(&sig));
        interop_case(t, got == want, SIGFILE, "#%zu (%s): verify gave %d, want %d", idx,
                     str_field(f, "comment"), got, want);
        if (has_tag(f, "der-encoded")) {
            /* DER is refused for its shape, leniency or not */
            interop_case(t, sig.len != SIGKEY_SIG_BYTES, SIGFILE, "#%zu: DER of 64 bytes", idx);
            interop_case(t, !sigkey_verify_lenient(&from_did, buf_bytes(&msg), buf_bytes(&sig)),
                         SIGFILE, "#%zu: lenient verify took DER", idx);
        }
        if (has_tag(f, "high-s")) {
            /* the maths is valid: only the low-S rule rejects it */
            interop_case(t, sigkey_verify_lenient(&from_did, buf_bytes(&msg), buf_bytes(&sig)),
                         SIGFILE, "#%zu: high-S twin fails even leniently", idx);
        }
        if (want) {
            /* the Go harness's extra checks: a junk signature and another message fail */
            interop_case(t, !sigkey_verify(&from_did, buf_bytes(&msg), BYTES_LIT("\x01\x02\x03")),
                         SIGFILE, "#%zu: 3-byte signature verified", idx);
            interop_case(t, !sigkey_verify(&from_did, BYTES_LIT("other message"), buf_bytes(&sig)),
                         SIGFILE, "#%zu: verified against another message", idx);
            interop_case(t, !sigkey_verify(&from_mb, BYTES_LIT(""), buf_bytes(&sig)), SIGFILE,
                         "#%zu: verified against the empty message", idx);
        }
    }
    buf_clear(&msg);
    buf_clear(&sig);
}

static void signature_fixtures(struct interop *t)
{
    json_t *arr = interop_json(t, SIGFILE);
    if (!arr) {
        return;
    }
    interop_case(t, json_is_array(arr) && json_array_size(arr) == 6, SIGFILE,
                 "expected an array of 6");
    size_t i;
    json_t *f;
    json_array_foreach(arr, i, f)
    {
        signature_case(t, i, f);
    }
    json_decref(arr);
}

static void didkey_file(struct interop *t, const char *file, enum sigkey_curve curve,
                        const char *priv_field, bool base58, size_t want_n)
{
    json_t *arr = interop_json(t, file);
    if (!arr) {
        return;
    }
    interop_case(t, json_array_size(arr) == want_n, file, "expected %zu vectors", want_n);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *priv = str_field(v, priv_field);
        const char *want = str_field(v, "publicDidKey");
        struct sigkey k;
        enum err e;
        if (base58) {
            /* bare base58btc, no multibase 'z' */
            struct buf raw;
            buf_init(&raw, 256);
            e = base58btc_decode(bytes_str(priv), &raw);
            if (!e && raw.len != SIGKEY_PRIVATE_BYTES) {
                e = ERR_INVALID;
            }
            if (!e) {
                e = sigkey_from_private(curve, raw.ptr, &k);
            }
            buf_clear(&raw);
        } else {
            e = sigkey_from_private_hex(curve, bytes_str(priv), &k);
        }
        interop_case(t, e == ERR_OK, file, "#%zu: private key refused (%s)", i, err_str(e));
        if (e) {
            continue;
        }
        char did[SIGKEY_DID_KEY_MAX];
        sigkey_did_key(&k, did);
        interop_case(t, strcmp(did, want) == 0, file, "#%zu: got %s, want %s", i, did, want);
        /* and the did:key decodes back to the same public key */
        struct sigkey back;
        interop_case(
            t, sigkey_from_did_key(bytes_str(want), &back) == ERR_OK && sigkey_equal(&back, &k),
            file, "#%zu: did:key does not decode to the key", i);
        /* a signature by the key verifies through the parsed did:key */
        uint8_t sig[SIGKEY_SIG_BYTES];
        interop_case(t,
                     sigkey_sign(&k, BYTES_LIT("interop"), sig) == ERR_OK &&
                         sigkey_verify(&back, BYTES_LIT("interop"), bytes_of(sig, sizeof(sig))),
                     file, "#%zu: sign/verify through did:key", i);
        sigkey_clear(&k);
    }
    json_decref(arr);
}

void interop_crypto(struct interop *t)
{
    signature_fixtures(t);
    didkey_file(t, K256FILE, SIGKEY_K256, "privateKeyBytesHex", false, 5);
    didkey_file(t, P256FILE, SIGKEY_P256, "privateKeyBytesBase58", true, 1);
}
