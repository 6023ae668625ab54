/* writes.c - apply writes, sign the commit, and build the #commit event body. */
#include "repo/writes.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/dagcbor.h"
#include "repo/car.h"
#include "repo/commit.h"
#include "repo/mst.h"

#define REPO_KEY_MAX (MST_KEY_MAX_BYTES + 1)

void repo_commit_init(struct repo_commit *c)
{
    memset(c, 0, sizeof(*c));
    blockmap_init(&c->blocks);
    buf_init(&c->event, REPO_COMMIT_BLOCKS_MAX + 65536);
}

void repo_commit_clear(struct repo_commit *c)
{
    blockmap_clear(&c->blocks);
    buf_clear(&c->event);
    free(c->removed);
    free(c->removed_records);
    c->removed = c->removed_records = NULL;
    c->nremoved = c->nremoved_records = c->_removed_cap = 0;
}

static void add_removed(struct repo_commit *c, const struct cid *cid)
{
    if (c->nremoved == c->_removed_cap) {
        c->_removed_cap = c->_removed_cap ? c->_removed_cap * 2 : 16;
        c->removed = xrealloc(c->removed, c->_removed_cap * sizeof(*c->removed));
    }
    c->removed[c->nremoved++] = *cid;
}

/* The garbage of this commit: stored nodes the tree replaced (less any rebuilt with the
 * same content), the old commit, and the old values of written records. */
static enum err collect_removed(const struct repo_head *head, struct mst *m,
                                const struct repo_write *writes, size_t n, struct repo_commit *out)
{
    if (!head->exists) {
        return ERR_OK;
    }
    const struct cid *gone;
    size_t ngone = mst_replaced(m, &gone);
    for (size_t i = 0; i < ngone; i++) {
        if (!blockmap_has(&out->blocks, &gone[i])) {
            add_removed(out, &gone[i]);
        }
    }
    add_removed(out, &head->commit);
    out->removed_records = xmalloc((n ? n : 1) * sizeof(struct cid));
    for (size_t i = 0; i < n; i++) {
        if (writes[i].had_prev && !writes[i].noop) {
            out->removed_records[out->nremoved_records++] = writes[i].prev;
        }
    }
    return ERR_OK;
}

void repo_format_time(int64_t unix_ms, char out[32])
{
    time_t secs = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(unix_ms % 1000));
}

static size_t path_of(const struct repo_write *w, char out[REPO_KEY_MAX])
{
    int n = snprintf(out, REPO_KEY_MAX, "%.*s/%.*s", (int)w->collection.len,
                     (const char *)w->collection.ptr, (int)w->rkey.len, (const char *)w->rkey.ptr);
    return n < 0 ? 0 : (size_t)n;
}

static enum err apply_one(struct mst *m, struct repo_write *w, struct repo_commit *out)
{
    char path[REPO_KEY_MAX];
    size_t plen = path_of(w, path);
    if (plen == 0 || plen >= REPO_KEY_MAX) {
        return ERR_INVALID;
    }
    struct bytes key = bytes_of(path, plen);
    struct cid cur;
    enum err e = mst_get(m, key, &cur);
    if (e && e != ERR_NOT_FOUND) {
        return e;
    }
    w->had_prev = e == ERR_OK;
    if (w->had_prev) {
        w->prev = cur;
    }
    if (w->has_swap &&
        (w->swap_absent ? w->had_prev : !w->had_prev || !cid_equal(&cur, &w->swap))) {
        return ERR_CONFLICT;
    }
    if (w->action == REPO_DELETE) {
        if (!w->had_prev) {
            if (w->must_exist) {
                return ERR_NOT_FOUND;
            }
            w->noop = true;
            return ERR_OK;
        }
        return mst_delete(m, key);
    }
    if (w->record.len > REPO_RECORD_MAX_BYTES) {
        return ERR_TOO_LARGE;
    }
    if (w->action == REPO_CREATE && w->had_prev) {
        return ERR_CONFLICT;
    }
    if (w->action == REPO_UPDATE && w->must_exist && !w->had_prev) {
        return ERR_NOT_FOUND;
    }
    blockmap_put_cbor(&out->blocks, w->record, &w->cid);
    if (w->had_prev && cid_equal(&cur, &w->cid)) {
        w->noop = true; /* indigo refuses an update whose cid equals its prev */
        return ERR_OK;
    }
    return mst_put(m, key, &w->cid);
}

static enum err put_op(struct buf *b, const struct repo_write *w)
{
    char path[REPO_KEY_MAX];
    size_t plen = path_of(w, path);
    const char *action = w->action == REPO_DELETE ? "delete" : w->had_prev ? "update" : "create";
    enum err e;
    /* spec(sync): repoOp {action, path, cid (null for delete), prev (absent for create)} */
    if ((e = dagcbor_put_map(b, w->had_prev ? 4 : 3)) || (e = dagcbor_put_cstr(b, "cid")) ||
        (e = w->action == REPO_DELETE ? dagcbor_put_null(b) : dagcbor_put_link(b, &w->cid))) {
        return e;
    }
    /* key order: cid, path, prev ("path" < "prev" bytewise), action */
    if ((e = dagcbor_put_cstr(b, "path")) || (e = dagcbor_put_text(b, bytes_of(path, plen)))) {
        return e;
    }
    if (w->had_prev && ((e = dagcbor_put_cstr(b, "prev")) || (e = dagcbor_put_link(b, &w->prev)))) {
        return e;
    }
    if ((e = dagcbor_put_cstr(b, "action"))) {
        return e;
    }
    return dagcbor_put_cstr(b, action);
}

static enum err car_to_buf(const struct repo_commit *c, const struct blockmap *proof,
                           struct buf *car)
{
    struct car_writer w;
    enum err e = car_writer_begin(&w, car_sink_buf, car, &c->commit, 1);
    for (size_t i = 0; i < c->blocks.len && !e; i++) {
        const struct blockmap_entry *b = &c->blocks.entries[i];
        e = car_writer_block(&w, &b->cid, bytes_of(b->data, b->len));
    }
    for (size_t i = 0; i < proof->len && !e; i++) {
        const struct blockmap_entry *b = &proof->entries[i];
        if (!blockmap_has(&c->blocks, &b->cid)) {
            e = car_writer_block(&w, &b->cid, bytes_of(b->data, b->len));
        }
    }
    return e;
}

/* The #commit body (without seq, which the sequencer adds): keys in DAG-CBOR order. */
static enum err build_event(const struct repo_head *head, const struct repo_commit *c,
                            const struct repo_write *writes, size_t n, const struct buf *car,
                            int64_t now_ms, struct buf *ev)
{
    size_t nops = 0;
    for (size_t i = 0; i < n; i++) {
        nops += !writes[i].noop;
    }
    char when[32];
    repo_format_time(now_ms, when);
    enum err e;
    /* ops, rev, repo, time, blobs, since, blocks, commit, rebase, tooBig, prevData */
    if ((e = dagcbor_put_map(ev, head->exists ? 11 : 10)) || (e = dagcbor_put_cstr(ev, "ops")) ||
        (e = dagcbor_put_array(ev, nops))) {
        return e;
    }
    for (size_t i = 0; i < n && !e; i++) {
        if (!writes[i].noop) {
            e = put_op(ev, &writes[i]);
        }
    }
    if (e || (e = dagcbor_put_cstr(ev, "rev")) || (e = dagcbor_put_cstr(ev, c->rev)) ||
        (e = dagcbor_put_cstr(ev, "repo")) || (e = dagcbor_put_text(ev, head->did)) ||
        (e = dagcbor_put_cstr(ev, "time")) || (e = dagcbor_put_cstr(ev, when)) ||
        (e = dagcbor_put_cstr(ev, "blobs")) || (e = dagcbor_put_array(ev, 0)) ||
        (e = dagcbor_put_cstr(ev, "since")) ||
        (e = head->exists ? dagcbor_put_cstr(ev, head->rev) : dagcbor_put_null(ev)) ||
        (e = dagcbor_put_cstr(ev, "blocks")) || (e = dagcbor_put_bytes(ev, buf_bytes(car))) ||
        (e = dagcbor_put_cstr(ev, "commit")) || (e = dagcbor_put_link(ev, &c->commit)) ||
        (e = dagcbor_put_cstr(ev, "rebase")) || (e = dagcbor_put_bool(ev, false)) ||
        (e = dagcbor_put_cstr(ev, "tooBig")) || (e = dagcbor_put_bool(ev, false))) {
        return e;
    }
    if (head->exists &&
        ((e = dagcbor_put_cstr(ev, "prevData")) || (e = dagcbor_put_link(ev, &head->data)))) {
        return e;
    }
    return ERR_OK;
}

static enum err finish(struct blocksource src, struct mst *m, const struct repo_head *head,
                       struct repo_write *writes, size_t n, const struct sigkey *key,
                       struct tid_gen *tids, int64_t now_ms, struct repo_commit *out)
{
    enum err e = mst_root(m, &out->blocks, &out->data);
    if (e || (e = collect_removed(head, m, writes, n, out))) {
        return e;
    }
    /* spec(repository): rev increases, also past a rev imported from another host */
    uint64_t prev = 0;
    if (head->exists && tid_parse(bytes_str(head->rev), &prev)) {
        prev = 0;
    }
    tid_format(tid_gen_next_after(tids, (uint64_t)now_ms * 1000, prev), out->rev);
    struct buf block;
    buf_init(&block, BUF_MAX_DEFAULT);
    e = commit_create(head->did, &out->data, bytes_str(out->rev), key, &block, &out->commit);
    if (!e) {
        blockmap_put(&out->blocks, &out->commit, buf_bytes(&block));
    }
    buf_clear(&block);
    if (e) {
        return e;
    }
    /* Sync 1.1: the covering proof of every touched key in the new tree */
    struct blockmap proof;
    blockmap_init(&proof);
    for (size_t i = 0; i < n && !e; i++) {
        if (!writes[i].noop) {
            char path[REPO_KEY_MAX];
            size_t plen = path_of(&writes[i], path);
            e = mst_covering_proof(m, bytes_of(path, plen), &proof);
        }
    }
    struct buf car;
    buf_init(&car, REPO_COMMIT_BLOCKS_MAX);
    if (!e) {
        e = car_to_buf(out, &proof, &car);
    }
    if (!e) {
        e = build_event(head, out, writes, n, &car, now_ms, &out->event);
    }
    buf_clear(&car);
    blockmap_clear(&proof);
    return e;
}

enum err repo_apply_writes(struct blocksource src, const struct repo_head *head,
                           struct repo_write *writes, size_t n, const struct sigkey *key,
                           struct tid_gen *tids, int64_t now_ms, struct repo_commit *out,
                           size_t *failed)
{
    if (n > REPO_WRITES_MAX) {
        return ERR_TOO_LARGE;
    }
    /* two writes to one path cannot be told apart in the event (indigo refuses them) */
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (bytes_eq(writes[i].collection, writes[j].collection) &&
                bytes_eq(writes[i].rkey, writes[j].rkey)) {
                *failed = i;
                return ERR_INVALID;
            }
        }
    }
    struct mst *m = head->exists ? mst_load(src, &head->data) : mst_new(src);
    enum err e = ERR_OK;
    size_t live = 0;
    for (size_t i = 0; i < n && !e; i++) {
        e = apply_one(m, &writes[i], out);
        if (e) {
            *failed = i;
        }
        live += !writes[i].noop;
    }
    if (!e && live == 0 && head->exists) {
        out->empty = true;
        out->commit = head->commit;
        out->data = head->data;
        memcpy(out->rev, head->rev, sizeof(out->rev));
    } else if (!e) {
        e = finish(src, m, head, writes, n, key, tids, now_ms, out);
    }
    mst_free(m);
    return e;
}

enum err repo_apply_empty(struct blocksource src, const struct repo_head *head,
                          const struct sigkey *key, struct tid_gen *tids, int64_t now_ms,
                          struct repo_commit *out)
{
    struct mst *m = head->exists ? mst_load(src, &head->data) : mst_new(src);
    enum err e = finish(src, m, head, NULL, 0, key, tids, now_ms, out);
    mst_free(m);
    return e;
}
