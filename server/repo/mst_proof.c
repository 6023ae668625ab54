/* mst_proof.c - proof blocks: the covering proof a #commit carries so a consumer can
 * invert its operations (Sync 1.1), and the path proof of sync.getRecord.
 * The covering proof follows the reference's getCoveringProof: for each key, the nodes
 * on the search path to it, down the subtree just left of it, and down to its right
 * neighbour, in the post-commit tree. */
#include "repo/mst_node.h"

#include <stdlib.h>

/* A node's items in order: [left?] then each entry followed by its right subtree. */
struct flat_item {
    bool tree;
    struct mst_node *node;   /* tree */
    struct mst_entry *entry; /* leaf */
};

struct flat {
    struct flat_item *items;
    size_t len;
};

static void flatten(struct mst_node *n, struct flat *f)
{
    f->items = xmalloc((2 * n->n + 1) * sizeof(*f->items));
    f->len = 0;
    if (n->left) {
        f->items[f->len++] = (struct flat_item){true, n->left, NULL};
    }
    for (size_t i = 0; i < n->n; i++) {
        f->items[f->len++] = (struct flat_item){false, NULL, &n->entries[i]};
        if (n->entries[i].right) {
            f->items[f->len++] = (struct flat_item){true, n->entries[i].right, NULL};
        }
    }
}

/* Index of the first leaf whose key is >= key, or len. */
static size_t gte_index(const struct flat *f, struct bytes key)
{
    for (size_t i = 0; i < f->len; i++) {
        if (!f->items[i].tree && bytes_cmp(mst_entry_key(f->items[i].entry), key) >= 0) {
            return i;
        }
    }
    return f->len;
}

static const struct flat_item *flat_at(const struct flat *f, size_t i)
{
    return i < f->len ? &f->items[i] : NULL;
}

static enum err add_node(struct blockmap *out, const struct mst_node *n)
{
    if (blockmap_has(out, &n->cid)) {
        return ERR_OK;
    }
    struct buf b;
    buf_init(&b, BUF_MAX_DEFAULT);
    enum err e = mst_node_encode(n, &b);
    if (!e) {
        blockmap_put(out, &n->cid, buf_bytes(&b));
    }
    buf_clear(&b);
    return e;
}

enum proof_kind { PROOF_KEY, PROOF_LEFT, PROOF_RIGHT, PROOF_PATH };

static enum err prove(struct mst *t, struct mst_node *n, int level, struct bytes key,
                      enum proof_kind kind, struct blockmap *out)
{
    enum err e = mst_node_load(t, n, level);
    if (e) {
        return e;
    }
    struct flat f;
    flatten(n, &f);
    size_t i = gte_index(&f, key);
    const struct flat_item *found = flat_at(&f, i);
    const struct flat_item *prev = i > 0 ? flat_at(&f, i - 1) : NULL;
    const struct flat_item *next = NULL;
    bool include = true;
    bool hit = found && !found->tree && bytes_eq(mst_entry_key(found->entry), key);
    switch (kind) {
    case PROOF_KEY:
    case PROOF_PATH:
        if (!hit) {
            if (prev && prev->tree) {
                next = prev;
            } else if (kind == PROOF_KEY) {
                include = false; /* the reference adds nothing where the search ends */
            }
        }
        break;
    case PROOF_LEFT:
        next = prev && prev->tree ? prev : NULL;
        break;
    case PROOF_RIGHT: {
        const struct flat_item *at = found ? found : prev;
        if (at && at->tree) {
            next = at;
        } else if (at) {
            const struct flat_item *cand = hit ? flat_at(&f, i + 1) : prev;
            next = cand && cand->tree ? cand : NULL;
        }
        break;
    }
    }
    struct mst_node *child = next ? next->node : NULL;
    free(f.items);
    if (child && (e = prove(t, child, level - 1, key, kind, out))) {
        return e;
    }
    return include ? add_node(out, n) : ERR_OK;
}

static enum err prove_root(struct mst *t, struct bytes key, enum proof_kind kind,
                           struct blockmap *out)
{
    struct cid root;
    enum err e = mst_root(t, NULL, &root);
    if (e || (e = mst_root_ready(t))) {
        return e;
    }
    return prove(t, t->_root, t->_level, key, kind, out);
}

enum err mst_covering_proof(struct mst *t, struct bytes key, struct blockmap *out)
{
    enum err e;
    if ((e = prove_root(t, key, PROOF_KEY, out)) || (e = prove_root(t, key, PROOF_LEFT, out))) {
        return e;
    }
    return prove_root(t, key, PROOF_RIGHT, out);
}

enum err mst_path_proof(struct mst *t, struct bytes key, struct blockmap *out)
{
    return prove_root(t, key, PROOF_PATH, out);
}
