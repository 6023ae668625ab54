-- 0050_commit_cpu.sql - the same pds_apply_commit with less executor work per write:
-- statements whose inputs are empty are skipped instead of run over empty arrays. A record
-- without blobs no longer updates its account row a second time (blob_bytes += 0), which
-- also halves the dead row versions that every later read of the account row walks; the
-- record DELETE runs only when a write is a delete. Results are the same in every case.
CREATE OR REPLACE FUNCTION pds_apply_commit(
    p_did text,
    p_old_commit bytea,          -- NULL: the repository's first commit
    p_commit bytea, p_data bytea, p_rev text,
    p_block_cids bytea[], p_block_data bytea[],
    p_coll text[], p_rkey text[], p_cid bytea[],  -- record index: cid NULL deletes
    p_removed bytea[],           -- MST nodes and the old commit, now unreachable
    p_removed_records bytea[],   -- old record values, garbage unless still referenced
    p_event_type text, p_event bytea,
    p_blob_cids bytea[], p_blob_uris text[])  -- blob references of the records written
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_added bigint;
    v_removed bigint;
    v_old_blobs bytea[];
BEGIN
    IF p_old_commit IS NULL THEN
        INSERT INTO repo_root (did, commit_cid, data_cid, rev)
        VALUES (p_did, p_commit, p_data, p_rev)
        ON CONFLICT (did) DO NOTHING;
    ELSE
        UPDATE repo_root
           SET commit_cid = p_commit, data_cid = p_data, rev = p_rev, updated_at = now()
         WHERE did = p_did AND commit_cid = p_old_commit;
    END IF;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    WITH ins AS (
        INSERT INTO repo_block (did, cid, rev, data)
        SELECT p_did, b.cid, p_rev, b.data
          FROM unnest(p_block_cids, p_block_data) AS b (cid, data)
        ON CONFLICT (did, cid) DO NOTHING
        RETURNING length(data) AS n)
    SELECT coalesce(sum(n), 0) INTO v_added FROM ins;

    INSERT INTO record (did, collection, rkey, cid, rev)
    SELECT p_did, w.coll, w.rkey, w.cid, p_rev
      FROM unnest(p_coll, p_rkey, p_cid) AS w (coll, rkey, cid)
     WHERE w.cid IS NOT NULL
    ON CONFLICT (did, collection, rkey)
    DO UPDATE SET cid = EXCLUDED.cid, rev = EXCLUDED.rev, indexed_at = now();

    IF array_position(p_cid, NULL) IS NOT NULL THEN  -- some write is a delete
        DELETE FROM record r
         USING unnest(p_coll, p_rkey, p_cid) AS w (coll, rkey, cid)
         WHERE w.cid IS NULL AND r.did = p_did AND r.collection = w.coll AND r.rkey = w.rkey;
    END IF;

    WITH del AS (
        DELETE FROM repo_block b
         WHERE b.did = p_did
           AND (b.cid = ANY (p_removed)
                OR (b.cid = ANY (p_removed_records)
                    AND NOT EXISTS (SELECT 1 FROM record r WHERE r.did = p_did AND r.cid = b.cid)))
        RETURNING length(data) AS n)
    SELECT coalesce(sum(n), 0) INTO v_removed FROM del;
    UPDATE account SET repo_bytes = repo_bytes + v_added - v_removed WHERE did = p_did;

    -- Blob references: the written records' old references are replaced by their new ones;
    -- a referenced upload becomes permanent; a blob nothing references any more is queued
    -- for the sweeper, which deletes its bytes after this commits.
    WITH gone AS (
        DELETE FROM record_blob rb
         USING unnest(p_coll, p_rkey) AS w (coll, rkey)
         WHERE rb.did = p_did AND rb.record_uri = 'at://' || p_did || '/' || w.coll || '/' || w.rkey
        RETURNING rb.blob_cid)
    SELECT array_agg(blob_cid) INTO v_old_blobs FROM gone;
    IF cardinality(p_blob_cids) > 0 THEN  -- most records reference no blob
        INSERT INTO record_blob (did, blob_cid, record_uri)
        SELECT p_did, b.cid, b.uri FROM unnest(p_blob_cids, p_blob_uris) AS b (cid, uri)
        ON CONFLICT DO NOTHING;
        WITH made AS (
            UPDATE blob SET temp_key = NULL
             WHERE did = p_did AND cid = ANY (p_blob_cids) AND temp_key IS NOT NULL
            RETURNING size)
        UPDATE account SET blob_bytes = blob_bytes + (SELECT coalesce(sum(size), 0) FROM made)
         WHERE did = p_did;
    END IF;
    IF v_old_blobs IS NOT NULL THEN
        WITH dead AS (
            DELETE FROM blob b
             WHERE b.did = p_did AND b.cid = ANY (v_old_blobs) AND b.temp_key IS NULL
               AND NOT EXISTS (SELECT 1 FROM record_blob rb
                                WHERE rb.did = p_did AND rb.blob_cid = b.cid)
            RETURNING b.cid, b.size),
        queued AS (
            INSERT INTO blob_gc (did, cid) SELECT p_did, cid FROM dead RETURNING 1)
        UPDATE account SET blob_bytes = blob_bytes - (SELECT coalesce(sum(size), 0) FROM dead)
         WHERE did = p_did;
    END IF;

    IF p_event IS NOT NULL THEN
        INSERT INTO repo_seq (did, event_type, event) VALUES (p_did, p_event_type, p_event);
    END IF;
    RETURN true;
END
$$;
