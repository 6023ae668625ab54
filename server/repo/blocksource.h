/* blocksource.h - where the MST and other repo readers get blocks by CID: an in-memory map
 * in tests and proofs, PostgreSQL (behind a cache) in the server. Implementations say
 * their thread rules; readers never assume a whole repository is in memory. */
#ifndef PDS_REPO_BLOCKSOURCE_H
#define PDS_REPO_BLOCKSOURCE_H

#include "core/arena.h"
#include "core/cid.h"

struct blocksource {
    /* Finds the block for cid. On ERR_OK *out views bytes that stay valid until arena a is
     * reset (the source may copy into a, or point at memory that lives longer).
     * ERR_NOT_FOUND when absent; other errors for failures of the store. */
    enum err (*get)(void *ctx, const struct cid *cid, struct arena *a, struct bytes *out);
    void *ctx;
};

#endif
