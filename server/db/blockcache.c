/* blockcache.c - sharded LRU of blocks. */
#include "db/blockcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "db/metrics.h"

#define BLOCKCACHE_SHARDS 16 /* enough to keep worker threads from queueing on one lock */

struct entry {
    struct entry *hnext;       /* hash chain */
    struct entry *prev, *next; /* LRU list: head is most recent */
    struct cid cid;
    size_t len;
    uint8_t data[];
};

struct shard {
    pthread_mutex_t lock; /* guards every field below */
    struct entry **table;
    size_t nbuckets, count, bytes, max_bytes;
    struct entry *head, *tail;
};

struct blockcache {
    struct shard shards[BLOCKCACHE_SHARDS];
};

static size_t hash_of(const struct cid *c)
{
    /* a CID ends in a digest: its last bytes are already uniform */
    uint64_t h = 0;
    size_t n = c->len < 8 ? c->len : 8;
    memcpy(&h, c->bytes + c->len - n, n);
    return (size_t)h;
}

struct blockcache *blockcache_new(size_t max_bytes)
{
    struct blockcache *c = xcalloc(1, sizeof(*c));
    for (int i = 0; i < BLOCKCACHE_SHARDS; i++) {
        struct shard *s = &c->shards[i];
        pthread_mutex_init(&s->lock, NULL);
        s->nbuckets = 1024;
        s->table = xcalloc(s->nbuckets, sizeof(*s->table));
        s->max_bytes = max_bytes / BLOCKCACHE_SHARDS;
    }
    return c;
}

void blockcache_free(struct blockcache *c)
{
    if (!c) {
        return;
    }
    for (int i = 0; i < BLOCKCACHE_SHARDS; i++) {
        struct shard *s = &c->shards[i];
        for (struct entry *e = s->head; e;) {
            struct entry *next = e->next;
            free(e);
            e = next;
        }
        free(s->table);
        pthread_mutex_destroy(&s->lock);
    }
    free(c);
}

static struct shard *shard_of(struct blockcache *c, size_t h)
{
    return &c->shards[(h >> 56) % BLOCKCACHE_SHARDS];
}

static struct entry **slot_of(struct shard *s, const struct cid *cid, size_t h)
{
    struct entry **p = &s->table[h % s->nbuckets];
    while (*p && !cid_equal(&(*p)->cid, cid)) {
        p = &(*p)->hnext;
    }
    return p;
}

static void lru_unlink(struct shard *s, struct entry *e)
{
    if (e->prev) {
        e->prev->next = e->next;
    } else {
        s->head = e->next;
    }
    if (e->next) {
        e->next->prev = e->prev;
    } else {
        s->tail = e->prev;
    }
}

static void lru_push(struct shard *s, struct entry *e)
{
    e->prev = NULL;
    e->next = s->head;
    if (s->head) {
        s->head->prev = e;
    }
    s->head = e;
    if (!s->tail) {
        s->tail = e;
    }
}

/* Takes the entry at *slot (non-empty) out of the table, the LRU list and the shard's
 * totals; the caller frees it. Caller holds the shard's lock. */
static struct entry *shard_remove(struct shard *s, struct entry **slot)
{
    struct entry *e = *slot;
    *slot = e->hnext;
    lru_unlink(s, e);
    s->count--;
    s->bytes -= e->len + sizeof(*e);
    return e;
}

static void grow(struct shard *s)
{
    size_t n = s->nbuckets * 2;
    struct entry **t = xcalloc(n, sizeof(*t));
    for (size_t i = 0; i < s->nbuckets; i++) {
        for (struct entry *e = s->table[i]; e;) {
            struct entry *next = e->hnext;
            size_t b = hash_of(&e->cid) % n;
            e->hnext = t[b];
            t[b] = e;
            e = next;
        }
    }
    free(s->table);
    s->table = t;
    s->nbuckets = n;
}

bool blockcache_get(struct blockcache *c, const struct cid *cid, struct arena *a, struct bytes *out)
{
    size_t h = hash_of(cid);
    struct shard *s = shard_of(c, h);
    pthread_mutex_lock(&s->lock);
    struct entry *e = *slot_of(s, cid, h);
    if (e) {
        lru_unlink(s, e);
        lru_push(s, e);
        *out = bytes_of(arena_memdup(a, e->data, e->len), e->len);
    }
    pthread_mutex_unlock(&s->lock);
    static struct metrics_series *hits, *misses;
    static _Atomic int ready; /* set after both: racing first calls find the same series */
    if (!ready) {
        hits = metrics_counter("pds_block_cache_hits_total",
                               "Repository block reads the cache served");
        misses = metrics_counter("pds_block_cache_misses_total",
                                 "Repository block reads the cache did not have");
        ready = 1;
    }
    metrics_inc(e ? hits : misses);
    return e != NULL;
}

void blockcache_put(struct blockcache *c, const struct cid *cid, struct bytes data)
{
    size_t h = hash_of(cid);
    struct shard *s = shard_of(c, h);
    if (data.len > s->max_bytes / 8) {
        return; /* a huge record would flush a shard for one read */
    }
    struct entry *e = xmalloc(sizeof(*e) + data.len);
    e->cid = *cid;
    e->len = data.len;
    memcpy(e->data, data.ptr, data.len);
    pthread_mutex_lock(&s->lock);
    struct entry **slot = slot_of(s, cid, h);
    if (*slot) {
        pthread_mutex_unlock(&s->lock);
        free(e);
        return;
    }
    e->hnext = NULL;
    *slot = e;
    lru_push(s, e);
    s->count++;
    s->bytes += data.len + sizeof(*e);
    while (s->bytes > s->max_bytes && s->tail && s->tail != e) {
        free(shard_remove(s, slot_of(s, &s->tail->cid, hash_of(&s->tail->cid))));
    }
    if (s->count > s->nbuckets) {
        grow(s);
    }
    pthread_mutex_unlock(&s->lock);
}

void blockcache_drop(struct blockcache *c, const struct cid *cid)
{
    size_t h = hash_of(cid);
    struct shard *s = shard_of(c, h);
    pthread_mutex_lock(&s->lock);
    struct entry **slot = slot_of(s, cid, h);
    struct entry *e = *slot ? shard_remove(s, slot) : NULL;
    pthread_mutex_unlock(&s->lock);
    free(e);
}
