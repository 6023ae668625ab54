/* mst_node.h - the in-memory node of the MST, shared by mst.c, mst_walk.c and
 * mst_proof.c only. Not part of the repo module's interface. */
#ifndef PDS_REPO_MST_NODE_H
#define PDS_REPO_MST_NODE_H

#include "repo/mst.h"

struct mst_entry {
    uint8_t *key; /* full key, owned */
    size_t key_len;
    struct cid value;
    struct mst_node *right; /* subtree after this entry, one level down; NULL if none */
};

/* A node is either loaded (entries known) or only a pointer (cid known). A loaded node is
 * dirty when it changed since its cid was computed. Invariant: !loaded implies !dirty. */
struct mst_node {
    bool loaded;
    bool dirty;
    bool stored; /* cid names a block of the source: changing or dropping it makes garbage */
    struct cid cid;
    struct mst_node *left; /* subtree before the first entry */
    struct mst_entry *entries;
    size_t n, cap;
};

#define MST_LEVEL_UNKNOWN (MST_MAX_LEVEL + 1) /* decoding a root whose layer is not known yet */

/* Loads an unloaded node (no-op if loaded). ERR_INVALID for a malformed block. */
enum err mst_node_load(struct mst *t, struct mst_node *node, int level) MUST_CHECK;
/* Decodes block into an unloaded node struct; on failure the node stays unloaded. */
enum err mst_node_decode(struct mst *t, struct mst_node *node, struct bytes block,
                         int level) MUST_CHECK;
/* Loads the root and learns its layer (from its first key, or one above its left child). */
enum err mst_root_ready(struct mst *t) MUST_CHECK;
/* Frees a node and everything below it. */
void mst_node_free(struct mst_node *n);
/* Encodes a loaded node whose children all have up-to-date cids. */
enum err mst_node_encode(const struct mst_node *node, struct buf *out) MUST_CHECK;

static inline struct bytes mst_entry_key(const struct mst_entry *e)
{
    return (struct bytes){e->key, e->key_len};
}

/* The subtree in gap i: gap 0 is left of entry 0, gap i is right of entry i-1. */
static inline struct mst_node **mst_gap(struct mst_node *node, size_t i)
{
    return i == 0 ? &node->left : &node->entries[i - 1].right;
}

/* Index of the first entry whose key is >= key. */
size_t mst_node_lower_bound(const struct mst_node *node, struct bytes key);

#endif
