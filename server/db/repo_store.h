/* repo_store.h - repositories in PostgreSQL: blocks as a block source (behind the
 * process-wide block cache), the head of a repository, and applying a computed commit in
 * one round trip. One struct db per thread (the caller's). */
#ifndef PDS_DB_REPO_STORE_H
#define PDS_DB_REPO_STORE_H

#include "db/blockcache.h"
#include "db/db.h"
#include "repo/writes.h"

/* Reads blocks of one repository: cache first, then repo_block. */
struct repo_source {
    struct db *db;
    const char *did;
    struct blockcache *cache; /* may be NULL */
};
struct blocksource repo_source(struct repo_source *s);

/* The head of did's repository: ERR_NOT_FOUND when the repository does not exist. */
enum err repo_store_head(struct db *db, const char *did, struct repo_head *out) MUST_CHECK;

/* Writes a commit computed against `head` (head->exists false: the first commit): the root
 * swaps only if it is still head->commit. *raced is set (and nothing written) when another
 * writer got there first: reload the head and compute again. The writes' results give the
 * record index changes. Runs inside the caller's transaction if one is open. */
enum err repo_store_apply(struct db *db, const struct repo_head *head, const struct repo_commit *c,
                          const struct repo_write *writes, size_t n, struct blockcache *cache,
                          bool *raced) MUST_CHECK;

/* Appends a one-dimensional PostgreSQL array in binary form (for a binary parameter such
 * as $1::bytea[]): elements with ptr == NULL are SQL NULLs. elem_oid: 17 bytea, 25 text. */
enum err db_array_binary(struct buf *out, uint32_t elem_oid, const struct bytes *items,
                         size_t n) MUST_CHECK;

#define DB_OID_BYTEA 17
#define DB_OID_TEXT  25

#endif
