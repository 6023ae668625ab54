-- 0004_record_rev.sql - the records an account wrote after a given repository revision, for
-- read-after-write through the AppView proxy (server/api/bsky/read_after_write.c): record.rev
-- already holds the rev of each record's latest write (the write path sets it on insert and
-- update), so only the lookup by rev needs an index. The reference orders and filters its
-- record table by repoRev the same way (actor-store/record/reader.ts getRecordsSinceRev).
CREATE INDEX record_rev_idx ON record (did, rev);
