/* inventory.h - what a repository CAR holds, checked from its bytes alone: the signed commit
 * (for the expected DID, with a signature that verifies against the given key), every MST
 * node and record block present, the record count, and every blob the records reference
 * with its stated size. An account migration counts these on the old host's export so that
 * the new host's copy can be compared with them before anything irreversible happens.
 * Pure: no I/O; one thread per inventory. */
#ifndef PDS_REPO_INVENTORY_H
#define PDS_REPO_INVENTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bytes.h"
#include "core/cid.h"
#include "crypto/sigkey.h"

#define INVENTORY_WHY_MAX 160 /* a reason in words, for the log and the user */

/* One referenced blob. size is what the record's blob ref says (0 for a legacy ref that
 * states none). */
struct inventory_blob {
    struct cid cid;
    int64_t size;
};

struct inventory {
    struct cid commit; /* the root: the commit block's CID */
    char rev[16];      /* the commit's rev (a TID), NUL-terminated */
    bool sig_valid;    /* the commit's signature verified against the key given */
    uint64_t records;  /* record entries in the MST */
    uint64_t blocks;   /* blocks in the CAR */
    uint64_t car_bytes;
    struct inventory_blob *blobs; /* distinct CIDs, in first-seen order; owned */
    size_t nblobs, _cap;
    int64_t blob_bytes;          /* sum of the blobs' sizes */
    int64_t largest_blob;        /* the largest size */
    char why[INVENTORY_WHY_MAX]; /* set on failure */
};

void inventory_init(struct inventory *inv);
void inventory_clear(struct inventory *inv);

/* Reads car (a whole repository export) into inv. Checks, in order: every block's CID
 * (CAR_VERIFY), one root, the root is a v3 commit whose did equals did, its signature
 * against key (key NULL: not checked, sig_valid false), every MST node and record block
 * present and decodable (a record must be DAG-CBOR). Errors: ERR_INVALID (bad framing, a
 * block that does not match its CID, another DID, a bad signature, a missing block: the
 * reason in inv->why), ERR_TRUNCATED, ERR_TOO_LARGE (a block past CAR_BLOCK_MAX_BYTES or
 * more blob references than INVENTORY_BLOBS_MAX). */
#define INVENTORY_BLOBS_MAX 1000000
enum err inventory_read(struct inventory *inv, struct bytes car, const char *did,
                        const struct sigkey *key) MUST_CHECK;

#endif
