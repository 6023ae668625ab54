/* commit.h - signed repository commits (repo format version 3): build, sign, encode,
 * decode and verify. Pure; thread-safe. */
#ifndef PDS_REPO_COMMIT_H
#define PDS_REPO_COMMIT_H

#include "core/arena.h"
#include "core/cid.h"
#include "crypto/sigkey.h"

#define COMMIT_VERSION 3

struct commit {
    struct bytes did; /* borrowed */
    int64_t version;  /* COMMIT_VERSION */
    struct cid data;  /* MST root */
    struct bytes rev; /* a TID, borrowed */
    bool has_prev;    /* spec(repository): `prev` is present, almost always null */
    struct cid prev;
    bool has_sig;
    uint8_t sig[SIGKEY_SIG_BYTES];
};

/* The bytes that are signed: the commit without `sig`. */
enum err commit_encode_unsigned(const struct commit *c, struct buf *out) MUST_CHECK;
/* Signs the unsigned bytes with the account key and sets sig. */
enum err commit_sign(struct commit *c, const struct sigkey *key) MUST_CHECK;
/* The signed block (ERR_INVALID if not signed); its dag-cbor CID names the commit. */
enum err commit_encode(const struct commit *c, struct buf *out) MUST_CHECK;
/* Builds, signs and encodes a commit for did over data at rev; *cid is its CID. */
enum err commit_create(struct bytes did, const struct cid *data, struct bytes rev,
                       const struct sigkey *key, struct buf *block, struct cid *cid) MUST_CHECK;
/* Decodes a signed v3 commit block; views point into block and arena a. ERR_INVALID for
 * any other shape (missing fields, wrong types, version != 3, bad rev, sig != 64 bytes). */
enum err commit_decode(struct bytes block, struct arena *a, struct commit *out) MUST_CHECK;
/* True when sig verifies (low-S only) against key over the unsigned bytes. */
bool commit_verify(const struct commit *c, const struct sigkey *key) MUST_CHECK;

#endif
