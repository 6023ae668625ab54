/* blockmap.h - an in-memory map from CID to block bytes, kept in insertion order:
 * collects the new blocks of a commit, holds proof blocks, and serves as a block source.
 * One owner thread; caller frees with blockmap_free. */
#ifndef PDS_REPO_BLOCKMAP_H
#define PDS_REPO_BLOCKMAP_H

#include "core/cid.h"
#include "repo/blocksource.h"

struct blockmap_entry {
    struct cid cid;
    uint8_t *data; /* owned */
    size_t len;
};

struct blockmap {
    struct blockmap_entry *entries; /* insertion order */
    size_t len, cap;
    size_t *_slots; /* open addressing over entries, index + 1; 0 = empty */
    size_t _nslots;
    size_t bytes; /* sum of block sizes */
};

void blockmap_init(struct blockmap *m);
void blockmap_clear(struct blockmap *m);
/* Copies data in; a CID already present is left as it is. */
void blockmap_put(struct blockmap *m, const struct cid *cid, struct bytes data);
/* Computes the dag-cbor CID of data, stores it, and writes the CID to *out if non-NULL. */
void blockmap_put_cbor(struct blockmap *m, struct bytes data, struct cid *out);
const struct blockmap_entry *blockmap_get(const struct blockmap *m, const struct cid *cid);
bool blockmap_has(const struct blockmap *m, const struct cid *cid);
/* Adds every block of src not already present. */
void blockmap_add_all(struct blockmap *m, const struct blockmap *src);
/* A block source reading from this map (the map must outlive the source's use). */
struct blocksource blockmap_source(const struct blockmap *m);

#endif
