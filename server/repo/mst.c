/* mst.c - MST structure: node loading and encoding, lookup, insert, delete, root hashing.
 * Operations keep the tree canonical (its shape depends only on its keys): a key lives in
 * the node of its own layer; inserting splits the subtree in its gap around it, deleting
 * merges the two subtrees beside it, and the root is trimmed when it holds no entries. */
#include "repo/mst_node.h"

#include <stdlib.h>

#include "core/dagcbor.h"
#include "core/sha256.h"

int mst_key_height(struct bytes key)
{
    uint8_t h[SHA256_BYTES];
    sha256(key.ptr, key.len, h);
    int zeros = 0;
    /* spec(repository): depth = leading zero bits of sha256(key) / 2 (fanout 4) */
    for (size_t i = 0; i < SHA256_BYTES; i++) {
        if (h[i] == 0) {
            zeros += 8;
            continue;
        }
        zeros += __builtin_clz(h[i]) - 24;
        break;
    }
    return zeros / 2;
}

size_t mst_common_prefix(struct bytes a, struct bytes b)
{
    size_t n = a.len < b.len ? a.len : b.len, i = 0;
    while (i < n && a.ptr[i] == b.ptr[i]) {
        i++;
    }
    return i;
}

static bool key_char_ok(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '~' || c == '-' || c == ':' || c == '.';
}

/* spec(repository): "<collection>/<rkey>", both non-empty, reference charset, <= 1024 */
bool mst_key_valid(struct bytes key)
{
    if (key.len == 0 || key.len > MST_KEY_MAX_BYTES) {
        return false;
    }
    size_t slash = key.len;
    for (size_t i = 0; i < key.len; i++) {
        if (key.ptr[i] == '/') {
            if (slash != key.len) {
                return false;
            }
            slash = i;
        } else if (!key_char_ok(key.ptr[i])) {
            return false;
        }
    }
    return slash != key.len && slash > 0 && slash + 1 < key.len;
}

size_t mst_node_lower_bound(const struct mst_node *node, struct bytes key)
{
    size_t lo = 0, hi = node->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (bytes_cmp(mst_entry_key(&node->entries[mid]), key) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static struct mst_node *node_new_loaded(void)
{
    struct mst_node *n = xcalloc(1, sizeof(*n));
    n->loaded = true;
    n->dirty = true;
    return n;
}

static struct mst_node *node_new_ref(const struct cid *cid)
{
    struct mst_node *n = xcalloc(1, sizeof(*n));
    n->cid = *cid;
    return n;
}

/* Marks a node changed; the first change of a stored node records its block as garbage. */
static void touch(struct mst *t, struct mst_node *n)
{
    if (n->stored) {
        if (t->_ngone == t->_gone_cap) {
            t->_gone_cap = t->_gone_cap ? t->_gone_cap * 2 : 16;
            t->_gone = xrealloc(t->_gone, t->_gone_cap * sizeof(*t->_gone));
        }
        t->_gone[t->_ngone++] = n->cid;
        n->stored = false;
    }
    n->dirty = true;
}

size_t mst_replaced(const struct mst *t, const struct cid **out)
{
    *out = t->_gone;
    return t->_ngone;
}

static void node_free(struct mst_node *n)
{
    if (!n) {
        return;
    }
    node_free(n->left);
    for (size_t i = 0; i < n->n; i++) {
        free(n->entries[i].key);
        node_free(n->entries[i].right);
    }
    free(n->entries);
    free(n);
}

static bool node_is_empty(const struct mst_node *n)
{
    return n->loaded && n->n == 0 && n->left == NULL;
}

static void node_reserve(struct mst_node *n, size_t extra)
{
    if (n->n + extra <= n->cap) {
        return;
    }
    size_t cap = n->cap ? n->cap : 4;
    while (cap < n->n + extra) {
        cap *= 2;
    }
    n->entries = xrealloc(n->entries, cap * sizeof(*n->entries));
    n->cap = cap;
}

/* ---- decoding and encoding nodes ---- */

static enum err child_from(const struct dm_value *v, struct mst_node **out)
{
    if (v->kind == DM_NULL) {
        *out = NULL;
        return ERR_OK;
    }
    if (v->kind != DM_LINK || !cid_is_blessed(&v->u.link) ||
        cid_codec(&v->u.link) != CID_CODEC_DAGCBOR) {
        return ERR_INVALID; /* spec(repository): MST links are blessed dag-cbor CIDs */
    }
    *out = node_new_ref(&v->u.link);
    return ERR_OK;
}

static enum err decode_entries(struct mst *t, struct mst_node *node, const struct dm_value *e,
                               int level)
{
    size_t n = e->u.array.len;
    if (n > MST_NODE_MAX_ENTRIES) {
        return ERR_TOO_LARGE;
    }
    node_reserve(node, n);
    for (size_t i = 0; i < n; i++) {
        const struct dm_value *ent = e->u.array.items[i];
        const struct dm_value *k = dm_map_get(ent, "k"), *p = dm_map_get(ent, "p");
        const struct dm_value *tv = dm_map_get(ent, "t"), *v = dm_map_get(ent, "v");
        if (ent->kind != DM_MAP || ent->u.map.len != 4 || !k || !p || !tv || !v ||
            k->kind != DM_BYTES || p->kind != DM_INT || v->kind != DM_LINK) {
            return ERR_INVALID;
        }
        size_t prev_len = i ? node->entries[i - 1].key_len : 0;
        if (p->u.integer < 0 || (uint64_t)p->u.integer > prev_len ||
            (i == 0 && p->u.integer != 0)) {
            return ERR_INVALID;
        }
        size_t plen = (size_t)p->u.integer, klen = plen + k->u.str.len;
        if (klen > MST_KEY_MAX_BYTES) {
            return ERR_INVALID;
        }
        struct mst_entry *en = &node->entries[i];
        en->key = xmalloc(klen ? klen : 1);
        if (plen) {
            memcpy(en->key, node->entries[i - 1].key, plen);
        }
        if (k->u.str.len) {
            memcpy(en->key + plen, k->u.str.ptr, k->u.str.len);
        }
        en->key_len = klen;
        en->value = v->u.link;
        en->right = NULL;
        node->n = i + 1;
        enum err err = child_from(tv, &en->right);
        if (err) {
            return err;
        }
        if (en->right && level == 0) {
            return ERR_INVALID; /* nothing lies below layer 0 */
        }
        if (t->verify) {
            /* untrusted blocks: keys valid, sorted, on this layer, prefix compression maximal
             * (so re-encoding a node we read gives back the same bytes and CID) */
            struct bytes key = mst_entry_key(en);
            if (!mst_key_valid(key) ||
                (level != MST_LEVEL_UNKNOWN && mst_key_height(key) != level) ||
                (i > 0 && bytes_cmp(mst_entry_key(&node->entries[i - 1]), key) >= 0) ||
                (i > 0 && plen != mst_common_prefix(mst_entry_key(&node->entries[i - 1]), key))) {
                return ERR_INVALID;
            }
        }
    }
    return ERR_OK;
}

enum err mst_node_decode(struct mst *t, struct mst_node *node, struct bytes block, int level)
{
    if (level < 0) {
        return ERR_INVALID; /* a link below layer 0 */
    }
    struct dm_value *v = NULL;
    enum err e = dagcbor_decode(block, &t->_tmp, &v);
    if (!e) {
        const struct dm_value *ents = dm_map_get(v, "e"), *l = dm_map_get(v, "l");
        if (v->kind != DM_MAP || v->u.map.len != 2 || !ents || !l || ents->kind != DM_ARRAY) {
            e = ERR_INVALID;
        } else if (!(e = child_from(l, &node->left))) {
            if (node->left && level == 0) {
                e = ERR_INVALID;
            } else {
                e = decode_entries(t, node, ents, level);
            }
        }
    }
    arena_reset(&t->_tmp);
    if (e) {
        /* leave the node as an unloaded reference; free whatever was half built */
        node_free(node->left);
        node->left = NULL;
        for (size_t i = 0; i < node->n; i++) {
            free(node->entries[i].key);
            node_free(node->entries[i].right);
        }
        node->n = 0;
        return e == ERR_TRUNCATED ? ERR_INVALID : e;
    }
    node->loaded = true;
    return ERR_OK;
}

enum err mst_node_load(struct mst *t, struct mst_node *node, int level)
{
    if (node->loaded) {
        return ERR_OK;
    }
    struct bytes block;
    enum err e = t->src.get(t->src.ctx, &node->cid, &t->_tmp, &block);
    if (e) {
        arena_reset(&t->_tmp);
        /* a missing node is not a missing key: callers tell the two apart */
        return e == ERR_NOT_FOUND ? ERR_MISSING : e;
    }
    e = mst_node_decode(t, node, block, level);
    node->stored = e == ERR_OK;
    return e;
}

void mst_node_free(struct mst_node *n)
{
    node_free(n);
}

static enum err put_child(struct buf *out, const struct mst_node *c)
{
    return c ? dagcbor_put_link(out, &c->cid) : dagcbor_put_null(out);
}

enum err mst_node_encode(const struct mst_node *node, struct buf *out)
{
    enum err e;
    /* spec(repository): node {e, l}; entry {k, p, t, v} in DAG-CBOR key order */
    if ((e = dagcbor_put_map(out, 2)) || (e = dagcbor_put_cstr(out, "e")) ||
        (e = dagcbor_put_array(out, node->n))) {
        return e;
    }
    for (size_t i = 0; i < node->n; i++) {
        const struct mst_entry *en = &node->entries[i];
        size_t p =
            i ? mst_common_prefix(mst_entry_key(&node->entries[i - 1]), mst_entry_key(en)) : 0;
        if ((e = dagcbor_put_map(out, 4)) || (e = dagcbor_put_cstr(out, "k")) ||
            (e = dagcbor_put_bytes(out, bytes_of(en->key + p, en->key_len - p))) ||
            (e = dagcbor_put_cstr(out, "p")) || (e = dagcbor_put_uint(out, p)) ||
            (e = dagcbor_put_cstr(out, "t")) || (e = put_child(out, en->right)) ||
            (e = dagcbor_put_cstr(out, "v")) || (e = dagcbor_put_link(out, &en->value))) {
            return e;
        }
    }
    if ((e = dagcbor_put_cstr(out, "l"))) {
        return e;
    }
    return put_child(out, node->left);
}

/* ---- the tree ---- */

struct mst *mst_new(struct blocksource src)
{
    struct mst *t = xcalloc(1, sizeof(*t));
    t->src = src;
    t->_root = node_new_loaded();
    t->_level = 0;
    arena_init(&t->_tmp);
    return t;
}

struct mst *mst_load(struct blocksource src, const struct cid *root)
{
    struct mst *t = xcalloc(1, sizeof(*t));
    t->src = src;
    t->_root = node_new_ref(root);
    t->_level = -1; /* known once the root is loaded */
    arena_init(&t->_tmp);
    return t;
}

void mst_free(struct mst *t)
{
    if (!t) {
        return;
    }
    node_free(t->_root);
    arena_clear(&t->_tmp);
    free(t->_gone);
    free(t);
}

/* Loads the root and learns its layer: from its first key, or one above its left child. */
enum err mst_root_ready(struct mst *t)
{
    if (t->_level >= 0) {
        return ERR_OK;
    }
    /* the root's layer is unknown until read; decode with a layer that allows children */
    enum err e = mst_node_load(t, t->_root, MST_LEVEL_UNKNOWN);
    if (e) {
        return e;
    }
    int depth = 0;
    struct mst_node *n = t->_root;
    while (n->n == 0 && n->left) {
        n = n->left;
        depth++;
        if (depth > MST_MAX_LEVEL || (e = mst_node_load(t, n, MST_LEVEL_UNKNOWN))) {
            return e ? e : ERR_INVALID;
        }
    }
    if (n->n == 0) {
        if (depth > 0) {
            return ERR_INVALID; /* a chain of empty nodes: not canonical */
        }
        t->_level = 0;
        return ERR_OK;
    }
    int level = mst_key_height(mst_entry_key(&n->entries[0])) + depth;
    if (level > MST_MAX_LEVEL) {
        return ERR_INVALID;
    }
    t->_level = level;
    if (t->verify) {
        /* nodes loaded above were decoded without knowing their layer: check them now */
        n = t->_root;
        for (int l = level; n; l--, n = n->left) {
            for (size_t i = 0; i < n->n; i++) {
                if (mst_key_height(mst_entry_key(&n->entries[i])) != l ||
                    (l == 0 && n->entries[i].right)) {
                    return ERR_INVALID;
                }
            }
            if (n->n) {
                break;
            }
        }
    }
    return ERR_OK;
}

enum err mst_get(struct mst *t, struct bytes key, struct cid *out)
{
    enum err e = mst_root_ready(t);
    if (e) {
        return e;
    }
    struct mst_node *n = t->_root;
    for (int level = t->_level; n; level--) {
        if ((e = mst_node_load(t, n, level))) {
            return e;
        }
        size_t i = mst_node_lower_bound(n, key);
        if (i < n->n && bytes_eq(mst_entry_key(&n->entries[i]), key)) {
            *out = n->entries[i].value;
            return ERR_OK;
        }
        n = *mst_gap(n, i);
    }
    return ERR_NOT_FOUND;
}

/* Splits the subtree *node (layer level) around key, which it must not hold. */
static enum err split(struct mst *t, struct mst_node *node, int level, struct bytes key,
                      struct mst_node **lo, struct mst_node **hi)
{
    *lo = *hi = NULL;
    if (!node) {
        return ERR_OK;
    }
    enum err e = mst_node_load(t, node, level);
    if (e) {
        return e;
    }
    size_t i = mst_node_lower_bound(node, key);
    struct mst_node *glo, *ghi;
    if ((e = split(t, *mst_gap(node, i), level - 1, key, &glo, &ghi))) {
        return e;
    }
    struct mst_node *right = node_new_loaded();
    right->left = ghi;
    if (node->n > i) { /* memcpy from a NULL array is undefined even for 0 bytes */
        node_reserve(right, node->n - i);
        memcpy(right->entries, node->entries + i, (node->n - i) * sizeof(*node->entries));
    }
    right->n = node->n - i;
    node->n = i;
    *mst_gap(node, i) = glo;
    touch(t, node);
    if (node_is_empty(node)) {
        node_free(node);
        node = NULL;
    }
    if (node_is_empty(right)) {
        node_free(right);
        right = NULL;
    }
    *lo = node;
    *hi = right;
    return ERR_OK;
}

/* Joins two adjacent subtrees of one layer (every key of a below every key of b). */
static enum err merge(struct mst *t, struct mst_node *a, struct mst_node *b, int level,
                      struct mst_node **out)
{
    if (!a || !b) {
        *out = a ? a : b;
        return ERR_OK;
    }
    enum err e;
    if ((e = mst_node_load(t, a, level)) || (e = mst_node_load(t, b, level))) {
        return e;
    }
    struct mst_node **last = mst_gap(a, a->n), *m;
    if ((e = merge(t, *last, b->left, level - 1, &m))) {
        return e;
    }
    *last = m;
    node_reserve(a, b->n);
    if (b->n) {
        memcpy(a->entries + a->n, b->entries, b->n * sizeof(*b->entries));
    }
    a->n += b->n;
    touch(t, b); /* b's block is garbage now: its entries live on in a */
    free(b->entries);
    free(b);
    touch(t, a);
    *out = a;
    return ERR_OK;
}

enum put_mode { PUT_ANY, PUT_ADD_ONLY };

static enum err put_at(struct mst *t, struct mst_node **slot, int level, struct bytes key,
                       int height, const struct cid *value, enum put_mode mode)
{
    if (!*slot) {
        *slot = node_new_loaded(); /* an intermediate node: no layer may be skipped */
    }
    struct mst_node *node = *slot;
    enum err e = mst_node_load(t, node, level);
    if (e) {
        return e;
    }
    size_t i = mst_node_lower_bound(node, key);
    if (i < node->n && bytes_eq(mst_entry_key(&node->entries[i]), key)) {
        if (mode == PUT_ADD_ONLY) {
            return ERR_CONFLICT;
        }
        node->entries[i].value = *value;
        touch(t, node);
        return ERR_OK;
    }
    if (height < level) {
        e = put_at(t, mst_gap(node, i), level - 1, key, height, value, mode);
        if (!e) {
            touch(t, node);
        }
        return e;
    }
    struct mst_node *lo, *hi;
    if ((e = split(t, *mst_gap(node, i), level - 1, key, &lo, &hi))) {
        return e;
    }
    *mst_gap(node, i) = lo;
    node_reserve(node, 1);
    memmove(node->entries + i + 1, node->entries + i, (node->n - i) * sizeof(*node->entries));
    node->entries[i] = (struct mst_entry){xmemdup(key.ptr, key.len), key.len, *value, hi};
    node->n++;
    touch(t, node);
    return ERR_OK;
}

static enum err put(struct mst *t, struct bytes key, const struct cid *value, enum put_mode mode)
{
    if (!mst_key_valid(key)) {
        return ERR_INVALID;
    }
    enum err e = mst_root_ready(t);
    if (e) {
        return e;
    }
    int height = mst_key_height(key);
    if (node_is_empty(t->_root)) {
        t->_level = height;
    }
    while (t->_level < height) {
        /* the key belongs above the root: grow the tree upward */
        struct mst_node *up = node_new_loaded();
        up->left = node_is_empty(t->_root) ? NULL : t->_root;
        if (!up->left) {
            touch(t, t->_root); /* a stored empty root is replaced */
            node_free(t->_root);
        }
        t->_root = up;
        t->_level++;
    }
    return put_at(t, &t->_root, t->_level, key, height, value, mode);
}

enum err mst_put(struct mst *t, struct bytes key, const struct cid *value)
{
    return put(t, key, value, PUT_ANY);
}

enum err mst_add(struct mst *t, struct bytes key, const struct cid *value)
{
    return put(t, key, value, PUT_ADD_ONLY);
}

static enum err delete_at(struct mst *t, struct mst_node **slot, int level, struct bytes key,
                          int height)
{
    struct mst_node *node = *slot;
    if (!node || level < height) {
        return ERR_NOT_FOUND;
    }
    enum err e = mst_node_load(t, node, level);
    if (e) {
        return e;
    }
    size_t i = mst_node_lower_bound(node, key);
    if (height < level) {
        struct mst_node **gap = mst_gap(node, i);
        if ((e = delete_at(t, gap, level - 1, key, height))) {
            return e;
        }
        if (*gap && node_is_empty(*gap)) {
            touch(t, *gap);
            node_free(*gap);
            *gap = NULL;
        }
        touch(t, node);
        return ERR_OK;
    }
    if (i >= node->n || !bytes_eq(mst_entry_key(&node->entries[i]), key)) {
        return ERR_NOT_FOUND;
    }
    struct mst_node *m;
    if ((e = merge(t, *mst_gap(node, i), node->entries[i].right, level - 1, &m))) {
        return e;
    }
    free(node->entries[i].key);
    memmove(node->entries + i, node->entries + i + 1, (node->n - i - 1) * sizeof(*node->entries));
    node->n--;
    *mst_gap(node, i) = m;
    touch(t, node);
    return ERR_OK;
}

enum err mst_delete(struct mst *t, struct bytes key)
{
    enum err e = mst_root_ready(t);
    if (e) {
        return e;
    }
    if ((e = delete_at(t, &t->_root, t->_level, key, mst_key_height(key)))) {
        return e;
    }
    /* spec(repository): strip empty nodes off the top; the root is never just an `l` */
    while (t->_root->n == 0 && t->_root->left) {
        struct mst_node *child = t->_root->left;
        t->_root->left = NULL;
        touch(t, t->_root);
        node_free(t->_root);
        t->_root = child;
        t->_level--;
        if ((e = mst_node_load(t, child, t->_level))) {
            return e;
        }
    }
    if (node_is_empty(t->_root)) {
        t->_level = 0;
        touch(t, t->_root);
    }
    return ERR_OK;
}

static enum err hash_node(struct mst_node *node, struct blockmap *newblocks, struct buf *scratch)
{
    if (!node || !node->dirty) {
        return ERR_OK;
    }
    enum err e = hash_node(node->left, newblocks, scratch);
    for (size_t i = 0; i < node->n && !e; i++) {
        e = hash_node(node->entries[i].right, newblocks, scratch);
    }
    if (e) {
        return e;
    }
    buf_reset(scratch);
    if ((e = mst_node_encode(node, scratch))) {
        return e;
    }
    cid_compute(CID_CODEC_DAGCBOR, buf_bytes(scratch), &node->cid);
    if (newblocks) {
        blockmap_put(newblocks, &node->cid, buf_bytes(scratch));
    }
    node->dirty = false;
    return ERR_OK;
}

enum err mst_root(struct mst *t, struct blockmap *newblocks, struct cid *out)
{
    struct buf scratch;
    buf_init(&scratch, BUF_MAX_DEFAULT);
    enum err e = hash_node(t->_root, newblocks, &scratch);
    buf_clear(&scratch);
    if (!e) {
        *out = t->_root->cid;
    }
    return e;
}
