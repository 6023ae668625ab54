/* writes.h - applying record writes to a repository: the pure half of the write path.
 * Given the current root and a batch of writes, it updates the MST (loading only the nodes
 * it touches from the block source), signs the new commit, and returns every new block,
 * the covering-proof blocks, the per-operation previous values, and the #commit event
 * body that the firehose will carry. No I/O except through the block source.
 * One thread per call; the tid_gen may be shared. */
#ifndef PDS_REPO_WRITES_H
#define PDS_REPO_WRITES_H

#include "core/tid.h"
#include "crypto/sigkey.h"
#include "repo/blockmap.h"

#define REPO_WRITES_MAX        200     /* applyWrites limit (reference, lexicon) */
#define REPO_RECORD_MAX_BYTES  1000000 /* spec(sync): a record block is at most 1 MB */
#define REPO_COMMIT_BLOCKS_MAX 2000000 /* spec(sync): #commit blocks CAR at most 2 MB */

enum repo_action {
    REPO_CREATE,
    REPO_UPDATE, /* put: creates when absent unless must_exist */
    REPO_DELETE,
};

struct repo_write {
    enum repo_action action;
    struct bytes collection, rkey; /* validated by the caller */
    struct bytes record;           /* DAG-CBOR of the record (create, update) */
    bool must_exist;               /* update, delete: the record must exist (applyWrites) */
    bool has_swap;                 /* swapRecord given: the current value must be swap */
    bool swap_absent;              /* ...and swapRecord was null: the record must not exist */
    struct cid swap;
    const struct cid *blobs; /* blob CIDs the record references (create, update) */
    size_t nblobs;
    /* results */
    struct cid cid;  /* the record's CID (create, update) */
    bool had_prev;   /* a value existed before */
    struct cid prev; /* that value */
    bool noop;       /* dropped: an update to the same value or a delete of nothing */
};

/* The repository as it stands (the row the write path locked or read). */
struct repo_head {
    struct bytes did;
    bool exists;       /* false: the first commit of a new repository */
    struct cid commit; /* current commit */
    struct cid data;   /* its MST root */
    char rev[TID_STR_LEN + 1];
};

struct repo_commit {
    struct blockmap blocks; /* new blocks to store: records, MST nodes, the commit */
    struct cid commit, data;
    char rev[TID_STR_LEN + 1];
    bool empty; /* every write was a no-op: nothing to commit */
    /* blocks this commit makes garbage: MST nodes of the old tree that the new one lacks,
     * and the old commit; and the previous values of updated or deleted records (garbage
     * unless another path of the repository still holds the same CID) */
    struct cid *removed;
    size_t nremoved, _removed_cap;
    struct cid *removed_records;
    size_t nremoved_records;
    struct buf event; /* DAG-CBOR #commit body without `seq` (see repo_commit_event) */
};

void repo_commit_init(struct repo_commit *c);
void repo_commit_clear(struct repo_commit *c);

/* Applies writes in order. Errors: ERR_CONFLICT for a failed swapRecord or a create of an
 * existing record (the write's index in *failed), ERR_NOT_FOUND for an update or delete
 * that must_exist, ERR_INVALID for two writes to one path, ERR_TOO_LARGE past the record or
 * event limits, store errors as they come. now_ms stamps the event's `time`. */
enum err repo_apply_writes(struct blocksource src, const struct repo_head *head,
                           struct repo_write *writes, size_t n, const struct sigkey *key,
                           struct tid_gen *tids, int64_t now_ms, struct repo_commit *out,
                           size_t *failed) MUST_CHECK;

/* A commit with no record changes (account creation, key rotation, re-activation): new rev,
 * same data (the empty tree when the repository is new). */
enum err repo_apply_empty(struct blocksource src, const struct repo_head *head,
                          const struct sigkey *key, struct tid_gen *tids, int64_t now_ms,
                          struct repo_commit *out) MUST_CHECK;

/* Formats Unix milliseconds as an atproto datetime: 2026-11-24T09:30:00.000Z. */
void repo_format_time(int64_t unix_ms, char out[32]);

#endif
