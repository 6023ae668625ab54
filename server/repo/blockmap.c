/* blockmap.c - open-addressing hash map of blocks, insertion ordered. */
#include "repo/blockmap.h"

#include <stdlib.h>

static size_t cid_hash(const struct cid *c)
{
    /* the tail of a CID is a cryptographic digest: its bytes are already uniform */
    uint64_t h = 0;
    size_t n = c->len < 8 ? c->len : 8;
    memcpy(&h, c->bytes + c->len - n, n);
    return (size_t)(h ^ (h >> 29));
}

void blockmap_init(struct blockmap *m)
{
    memset(m, 0, sizeof(*m));
}

void blockmap_clear(struct blockmap *m)
{
    for (size_t i = 0; i < m->len; i++) {
        free(m->entries[i].data);
    }
    free(m->entries);
    free(m->_slots);
    memset(m, 0, sizeof(*m));
}

static size_t *find_slot(const struct blockmap *m, const struct cid *cid)
{
    size_t mask = m->_nslots - 1;
    for (size_t i = cid_hash(cid) & mask;; i = (i + 1) & mask) {
        size_t *s = &m->_slots[i];
        if (*s == 0 || cid_equal(&m->entries[*s - 1].cid, cid)) {
            return s;
        }
    }
}

static void grow(struct blockmap *m)
{
    size_t n = m->_nslots ? m->_nslots * 2 : 64;
    free(m->_slots);
    m->_slots = xcalloc(n, sizeof(size_t));
    m->_nslots = n;
    for (size_t i = 0; i < m->len; i++) {
        *find_slot(m, &m->entries[i].cid) = i + 1;
    }
}

const struct blockmap_entry *blockmap_get(const struct blockmap *m, const struct cid *cid)
{
    if (!m->_nslots) {
        return NULL;
    }
    size_t s = *find_slot(m, cid);
    return s ? &m->entries[s - 1] : NULL;
}

bool blockmap_has(const struct blockmap *m, const struct cid *cid)
{
    return blockmap_get(m, cid) != NULL;
}

void blockmap_put(struct blockmap *m, const struct cid *cid, struct bytes data)
{
    if ((m->len + 1) * 2 > m->_nslots) {
        grow(m);
    }
    size_t *s = find_slot(m, cid);
    if (*s) {
        return;
    }
    if (m->len == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->entries = xrealloc(m->entries, m->cap * sizeof(*m->entries));
    }
    struct blockmap_entry *e = &m->entries[m->len++];
    e->cid = *cid;
    e->data = xmemdup(data.ptr, data.len);
    e->len = data.len;
    m->bytes += data.len;
    *s = m->len;
}

void blockmap_put_cbor(struct blockmap *m, struct bytes data, struct cid *out)
{
    struct cid c;
    cid_compute(CID_CODEC_DAGCBOR, data, &c);
    blockmap_put(m, &c, data);
    if (out) {
        *out = c;
    }
}

void blockmap_add_all(struct blockmap *m, const struct blockmap *src)
{
    for (size_t i = 0; i < src->len; i++) {
        const struct blockmap_entry *e = &src->entries[i];
        blockmap_put(m, &e->cid, bytes_of(e->data, e->len));
    }
}

static enum err source_get(void *ctx, const struct cid *cid, struct arena *a, struct bytes *out)
{
    const struct blockmap_entry *e = blockmap_get(ctx, cid);
    if (!e) {
        return ERR_NOT_FOUND;
    }
    *out = bytes_of(e->data, e->len); /* lives as long as the map */
    return ERR_OK;
}

struct blocksource blockmap_source(const struct blockmap *m)
{
    return (struct blocksource){source_get, (void *)m};
}
