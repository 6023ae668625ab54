/* blockcache.h - a process-wide cache of repository blocks by CID. Blocks are immutable
 * and content-addressed, so an entry is never stale and every thread may share it.
 * Thread-safe: sharded, each shard behind its own mutex. LRU within a shard. */
#ifndef PDS_DB_BLOCKCACHE_H
#define PDS_DB_BLOCKCACHE_H

#include "core/arena.h"
#include "core/cid.h"

#define BLOCKCACHE_DEFAULT_BYTES ((size_t)256 << 20) /* MST nodes of thousands of repos */

struct blockcache;

struct blockcache *blockcache_new(size_t max_bytes);
void blockcache_free(struct blockcache *c);
/* Copies the block into arena a; false when absent. */
bool blockcache_get(struct blockcache *c, const struct cid *cid, struct arena *a,
                    struct bytes *out);
void blockcache_put(struct blockcache *c, const struct cid *cid, struct bytes data);
/* Forgets the block, if cached: it is garbage, so keeping it only pushes out live ones. */
void blockcache_drop(struct blockcache *c, const struct cid *cid);

#endif
