/* mst.h - the Merkle Search Tree of a repository: keys "<collection>/<rkey>" mapped to
 * record CIDs. Nodes load lazily from a block source, so a write touches only the nodes
 * on its paths; changed nodes are re-hashed when the root is asked for.
 * One owner thread per struct mst; caller frees with mst_free. */
#ifndef PDS_REPO_MST_H
#define PDS_REPO_MST_H

#include "repo/blockmap.h"
#include "repo/blocksource.h"

#define MST_KEY_MAX_BYTES    1024 /* reference: mst/util.ts isValidMstKey */
#define MST_NODE_MAX_ENTRIES 4096 /* refuse key-mined nodes far beyond any real fan-out */
#define MST_MAX_LEVEL        128  /* 256 bits of hash / 2 bits per level */

struct mst_node;

struct mst {
    struct blocksource src;
    struct mst_node *_root;
    int _level;        /* level of the root node */
    bool verify;       /* check depths and key order of loaded nodes (untrusted blocks) */
    struct arena _tmp; /* scratch for decoding blocks */
    struct cid *_gone; /* stored nodes changed or dropped since they were loaded */
    size_t _ngone, _gone_cap;
};

/* A valid MST key: "<collection>/<rkey>", reference charset, <= MST_KEY_MAX_BYTES. */
bool mst_key_valid(struct bytes key);
/* The layer of a key: leading zero bits of SHA-256(key), divided by 2, rounded down. */
int mst_key_height(struct bytes key);
/* Bytes shared at the front of a and b. */
size_t mst_common_prefix(struct bytes a, struct bytes b);

/* An empty tree. */
struct mst *mst_new(struct blocksource src);
/* A tree whose root node is the block root (loaded on first use). */
struct mst *mst_load(struct blocksource src, const struct cid *root);
void mst_free(struct mst *t);

/* Looks key up: ERR_OK and *out, ERR_NOT_FOUND (no such key), or a load error: every
 * operation answers ERR_MISSING when a node it needs is not in the block source. */
enum err mst_get(struct mst *t, struct bytes key, struct cid *out) MUST_CHECK;
/* Inserts or replaces key. ERR_INVALID for a key that is not a valid MST key. */
enum err mst_put(struct mst *t, struct bytes key, const struct cid *value) MUST_CHECK;
/* Inserts key; ERR_CONFLICT if it exists. */
enum err mst_add(struct mst *t, struct bytes key, const struct cid *value) MUST_CHECK;
/* Removes key; ERR_NOT_FOUND if absent. */
enum err mst_delete(struct mst *t, struct bytes key) MUST_CHECK;

/* Root CID, hashing changed nodes. If newblocks is non-NULL every node block written since
 * the last call is added to it (the commit's new MST blocks). */
enum err mst_root(struct mst *t, struct blockmap *newblocks, struct cid *out) MUST_CHECK;

/* The CIDs of nodes read from the block source that this tree has since changed or
 * dropped: the node garbage of a commit. A node rebuilt with identical content is listed
 * too, so filter out the CIDs of the new blocks. The array lives until mst_free. */
size_t mst_replaced(const struct mst *t, const struct cid **out);

/* Ordered listing: calls fn for each key > after (all keys when after.len == 0), in key
 * order, until fn returns false or limit keys were given (limit 0 = no limit). */
typedef bool (*mst_list_fn)(void *ctx, struct bytes key, const struct cid *value);
enum err mst_list(struct mst *t, struct bytes after, size_t limit, mst_list_fn fn,
                  void *ctx) MUST_CHECK;

/* Every node block reachable from the root, each given once, parents before children;
 * records are not included. For exports (CAR) and checks. */
typedef enum err (*mst_block_fn)(void *ctx, const struct cid *cid, struct bytes block);
enum err mst_walk_nodes(struct mst *t, mst_block_fn fn, void *ctx) MUST_CHECK;

/* Sync 1.1: adds to out the node blocks a consumer needs to prove key's presence or
 * absence and its neighbours in this (post-commit) tree, so the operation can be
 * inverted. Call mst_root first. */
enum err mst_covering_proof(struct mst *t, struct bytes key, struct blockmap *out) MUST_CHECK;
/* Adds the nodes on the path to key (inclusion/exclusion proof for sync.getRecord). */
enum err mst_path_proof(struct mst *t, struct bytes key, struct blockmap *out) MUST_CHECK;

/* The difference between two trees (either may be NULL for the empty tree). For each
 * key that differs, op is called with old and new values (NULL when absent), in key
 * order; new_node (if non-NULL) for each node CID of b that is not in a, and old_node (if
 * non-NULL) for each node CID of a that is not in b (what a commit makes garbage). */
struct mst_diff_fns {
    enum err (*op)(void *ctx, struct bytes key, const struct cid *old, const struct cid *new_);
    enum err (*new_node)(void *ctx, const struct cid *cid);
    enum err (*old_node)(void *ctx, const struct cid *cid); /* nodes of a not in b */
    void *ctx;
};
enum err mst_diff(struct mst *a, struct mst *b, const struct mst_diff_fns *fns) MUST_CHECK;

#endif
