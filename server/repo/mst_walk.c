/* mst_walk.c - ordered reads of the MST: listing from a cursor, walking every node for
 * exports, and the difference between two trees. */
#include "repo/mst_node.h"

#include <stdlib.h>

/* ---- listing ---- */

struct lister {
    struct mst *t;
    struct bytes after;
    size_t limit, given;
    mst_list_fn fn;
    void *ctx;
    bool stop;
};

/* bounded: only keys above `after` are given while `bounded` */
static enum err list_node(struct lister *l, struct mst_node *node, int level, bool bounded)
{
    if (!node || l->stop) {
        return ERR_OK;
    }
    enum err e = mst_node_load(l->t, node, level);
    if (e) {
        return e;
    }
    size_t i = bounded ? mst_node_lower_bound(node, l->after) : 0;
    /* the gap before entry i may hold keys between entry i-1 and entry i, some above after */
    if ((e = list_node(l, *mst_gap(node, i), level - 1, bounded))) {
        return e;
    }
    for (; i < node->n && !l->stop; i++) {
        struct mst_entry *en = &node->entries[i];
        if (!bounded || bytes_cmp(mst_entry_key(en), l->after) > 0) {
            if (!l->fn(l->ctx, mst_entry_key(en), &en->value) ||
                (l->limit && ++l->given >= l->limit)) {
                l->stop = true;
                break;
            }
        }
        if ((e = list_node(l, en->right, level - 1, false))) {
            return e;
        }
    }
    return ERR_OK;
}

enum err mst_list(struct mst *t, struct bytes after, size_t limit, mst_list_fn fn, void *ctx)
{
    enum err e = mst_root_ready(t);
    if (e) {
        return e;
    }
    struct lister l = {t, after, limit, 0, fn, ctx, false};
    return list_node(&l, t->_root, t->_level, after.len > 0);
}

/* ---- every node, for exports ---- */

struct node_walker {
    struct mst *t;
    mst_block_fn fn;
    void *ctx;
    struct buf scratch;
};

static enum err walk_cid(struct node_walker *w, const struct cid *cid, int level);

static enum err walk_children(struct node_walker *w, struct mst_node *node, int level)
{
    enum err e = ERR_OK;
    for (size_t i = 0; i <= node->n && !e; i++) {
        struct mst_node *c = *mst_gap(node, i);
        if (!c) {
            continue;
        }
        if (c->loaded) {
            if (c->dirty) {
                return ERR_INTERNAL; /* mst_root must run before a walk */
            }
            buf_reset(&w->scratch);
            if ((e = mst_node_encode(c, &w->scratch)) ||
                (e = w->fn(w->ctx, &c->cid, buf_bytes(&w->scratch)))) {
                return e;
            }
            e = walk_children(w, c, level - 1);
        } else {
            e = walk_cid(w, &c->cid, level - 1);
        }
    }
    return e;
}

/* A node not held in memory: stream it from the source without keeping it. */
static enum err walk_cid(struct node_walker *w, const struct cid *cid, int level)
{
    struct arena a;
    arena_init(&a);
    struct bytes block;
    enum err e = w->t->src.get(w->t->src.ctx, cid, &a, &block);
    if (e == ERR_NOT_FOUND) {
        e = ERR_MISSING;
    }
    if (!e) {
        e = w->fn(w->ctx, cid, block);
    }
    struct mst_node tmp = {0};
    tmp.cid = *cid;
    if (!e) {
        e = mst_node_decode(w->t, &tmp, block, level);
    }
    arena_clear(&a);
    if (!e) {
        e = walk_children(w, &tmp, level);
    }
    /* free what tmp owns, not tmp itself (it is on the stack) */
    mst_node_free(tmp.left);
    for (size_t i = 0; i < tmp.n; i++) {
        free(tmp.entries[i].key);
        mst_node_free(tmp.entries[i].right);
    }
    free(tmp.entries);
    return e;
}

enum err mst_walk_nodes(struct mst *t, mst_block_fn fn, void *ctx)
{
    struct cid root;
    enum err e = mst_root(t, NULL, &root);
    if (e || (e = mst_root_ready(t))) {
        return e;
    }
    struct node_walker w = {t, fn, ctx, {0}};
    buf_init(&w.scratch, BUF_MAX_DEFAULT);
    if (!(e = mst_node_encode(t->_root, &w.scratch)) &&
        !(e = fn(ctx, &t->_root->cid, buf_bytes(&w.scratch)))) {
        e = walk_children(&w, t->_root, t->_level);
    }
    buf_clear(&w.scratch);
    return e;
}

/* ---- diff ---- */

/* A cursor over a tree's items in key order: subtrees (not yet entered) and entries.
 * Frame position p: even p is gap p/2, odd p is entry (p-1)/2. */
struct frame {
    struct mst_node *node;
    int level;
    size_t pos;
};

struct walker {
    struct mst *t;
    struct frame stack[MST_MAX_LEVEL + 2];
    int depth; /* 0: the current item is the root itself, as a subtree */
    bool done;
};

enum item_kind { ITEM_TREE, ITEM_LEAF };

struct item {
    enum item_kind kind;
    struct mst_node *node; /* ITEM_TREE */
    int level;             /* ITEM_TREE: the subtree's layer */
    struct mst_entry *entry;
};

static void walker_settle(struct walker *w)
{
    while (w->depth > 0) {
        struct frame *f = &w->stack[w->depth - 1];
        if (f->pos > 2 * f->node->n) {
            w->depth--;
            if (w->depth == 0) {
                w->done = true;
                return;
            }
            w->stack[w->depth - 1].pos++;
            continue;
        }
        if (f->pos % 2 == 0 && *mst_gap(f->node, f->pos / 2) == NULL) {
            f->pos++;
            continue;
        }
        return;
    }
}

static struct item walker_item(struct walker *w)
{
    if (w->depth == 0) {
        return (struct item){ITEM_TREE, w->t->_root, w->t->_level, NULL};
    }
    struct frame *f = &w->stack[w->depth - 1];
    if (f->pos % 2 == 0) {
        return (struct item){ITEM_TREE, *mst_gap(f->node, f->pos / 2), f->level - 1, NULL};
    }
    return (struct item){ITEM_LEAF, NULL, 0, &f->node->entries[(f->pos - 1) / 2]};
}

static void walker_skip(struct walker *w)
{
    if (w->depth == 0) {
        w->done = true;
        return;
    }
    w->stack[w->depth - 1].pos++;
    walker_settle(w);
}

static enum err walker_descend(struct walker *w)
{
    struct item it = walker_item(w);
    enum err e = mst_node_load(w->t, it.node, it.level);
    if (e) {
        return e;
    }
    if (w->depth >= (int)ARRAY_LEN(w->stack)) {
        return ERR_INVALID;
    }
    w->stack[w->depth++] = (struct frame){it.node, it.level, 0};
    walker_settle(w);
    return ERR_OK;
}

/* The smallest key under a subtree; ERR_NOT_FOUND for an empty tree. */
static enum err subtree_min(struct mst *t, struct mst_node *node, int level, struct bytes *out)
{
    for (;; level--) {
        enum err e = mst_node_load(t, node, level);
        if (e) {
            return e;
        }
        if (!node->left) {
            if (node->n == 0) {
                return ERR_NOT_FOUND;
            }
            *out = mst_entry_key(&node->entries[0]);
            return ERR_OK;
        }
        node = node->left;
    }
}

/* Where an item starts in key order: a leaf's key, a subtree's smallest key. */
static enum err item_start(struct walker *w, const struct item *it, struct bytes *out)
{
    if (it->kind == ITEM_LEAF) {
        *out = mst_entry_key(it->entry);
        return ERR_OK;
    }
    return subtree_min(w->t, it->node, it->level, out);
}

static enum err diff_old_tree(const struct mst_diff_fns *fns, struct walker *a)
{
    struct item it = walker_item(a);
    if (fns->old_node) {
        enum err e = fns->old_node(fns->ctx, &it.node->cid);
        if (e) {
            return e;
        }
    }
    return walker_descend(a);
}

static enum err diff_new_tree(const struct mst_diff_fns *fns, struct walker *b)
{
    struct item it = walker_item(b);
    if (fns->new_node) {
        enum err e = fns->new_node(fns->ctx, &it.node->cid);
        if (e) {
            return e;
        }
    }
    return walker_descend(b);
}

/* Both walkers advance as a merge by start key: the item that starts first is taken
 * alone (a leaf is an operation, a subtree is entered). Items that start together are
 * skipped together when they are the same subtree, so an unchanged subtree is never
 * entered and every node of b entered is one a lacks. */
enum err mst_diff(struct mst *a, struct mst *b, const struct mst_diff_fns *fns)
{
    struct cid ra, rb;
    enum err e;
    if ((a && ((e = mst_root(a, NULL, &ra)) || (e = mst_root_ready(a)))) ||
        (b && ((e = mst_root(b, NULL, &rb)) || (e = mst_root_ready(b))))) {
        return e;
    }
    struct walker wa = {.t = a, .done = !a}, wb = {.t = b, .done = !b};
    /* an empty root holds nothing: report it (for b) and finish that side */
    struct bytes sa, sb;
    if (!wa.done && subtree_min(a, a->_root, a->_level, &sa) == ERR_NOT_FOUND) {
        if (fns->old_node && (!b || !cid_equal(&ra, &rb)) && (e = fns->old_node(fns->ctx, &ra))) {
            return e;
        }
        wa.done = true;
    }
    if (!wb.done && subtree_min(b, b->_root, b->_level, &sb) == ERR_NOT_FOUND) {
        if (fns->new_node && (!a || !cid_equal(&ra, &rb)) && (e = fns->new_node(fns->ctx, &rb))) {
            return e;
        }
        wb.done = true;
    }
    while (!wa.done && !wb.done) {
        struct item ia = walker_item(&wa), ib = walker_item(&wb);
        if (ia.kind == ITEM_TREE && ib.kind == ITEM_TREE &&
            cid_equal(&ia.node->cid, &ib.node->cid)) {
            walker_skip(&wa);
            walker_skip(&wb);
            continue;
        }
        if ((e = item_start(&wa, &ia, &sa)) || (e = item_start(&wb, &ib, &sb))) {
            return e;
        }
        int c = bytes_cmp(sa, sb);
        if (c < 0) {
            if (ia.kind == ITEM_TREE) {
                e = diff_old_tree(fns, &wa);
            } else {
                e = fns->op(fns->ctx, sa, &ia.entry->value, NULL);
                walker_skip(&wa);
            }
        } else if (c > 0) {
            if (ib.kind == ITEM_TREE) {
                e = diff_new_tree(fns, &wb);
            } else {
                e = fns->op(fns->ctx, sb, NULL, &ib.entry->value);
                walker_skip(&wb);
            }
        } else if (ia.kind == ITEM_LEAF && ib.kind == ITEM_LEAF) {
            if (!cid_equal(&ia.entry->value, &ib.entry->value)) {
                e = fns->op(fns->ctx, sa, &ia.entry->value, &ib.entry->value);
            }
            walker_skip(&wa);
            walker_skip(&wb);
        } else {
            /* same start: enter the wider subtree (a leaf is the narrowest), or both */
            int la = ia.kind == ITEM_TREE ? ia.level : -1,
                lb = ib.kind == ITEM_TREE ? ib.level : -1;
            if (la >= lb) {
                e = diff_old_tree(fns, &wa);
            }
            if (!e && lb >= la) {
                e = diff_new_tree(fns, &wb);
            }
        }
        if (e) {
            return e;
        }
    }
    while (!wa.done) {
        struct item ia = walker_item(&wa);
        if (ia.kind == ITEM_TREE) {
            e = diff_old_tree(fns, &wa);
        } else {
            e = fns->op(fns->ctx, mst_entry_key(ia.entry), &ia.entry->value, NULL);
            walker_skip(&wa);
        }
        if (e) {
            return e;
        }
    }
    while (!wb.done) {
        struct item ib = walker_item(&wb);
        if (ib.kind == ITEM_TREE) {
            e = diff_new_tree(fns, &wb);
        } else {
            e = fns->op(fns->ctx, mst_entry_key(ib.entry), NULL, &ib.entry->value);
            walker_skip(&wb);
        }
        if (e) {
            return e;
        }
    }
    return ERR_OK;
}
