-- 0002_write_path.sql - the repository write as one statement (one network round trip).
-- The caller computed the new commit against p_old_commit; the root row swaps only if it
-- still holds that commit (optimistic concurrency), otherwise nothing is written and the
-- caller reloads the root and recomputes. Blocks, the record index, garbage collection
-- and the outbox event go in the same transaction, so a crash leaves all or nothing.
CREATE FUNCTION pds_apply_commit(
    p_did text,
    p_old_commit bytea,          -- NULL: the repository's first commit
    p_commit bytea, p_data bytea, p_rev text,
    p_block_cids bytea[], p_block_data bytea[],
    p_coll text[], p_rkey text[], p_cid bytea[],  -- record index: cid NULL deletes
    p_removed bytea[],           -- MST nodes and the old commit, now unreachable
    p_removed_records bytea[],   -- old record values, garbage unless still referenced
    p_event_type text, p_event bytea)
RETURNS boolean
LANGUAGE plpgsql AS $$
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

    INSERT INTO repo_block (did, cid, rev, data)
    SELECT p_did, b.cid, p_rev, b.data
      FROM unnest(p_block_cids, p_block_data) AS b (cid, data)
    ON CONFLICT (did, cid) DO NOTHING;

    INSERT INTO record (did, collection, rkey, cid, rev)
    SELECT p_did, w.coll, w.rkey, w.cid, p_rev
      FROM unnest(p_coll, p_rkey, p_cid) AS w (coll, rkey, cid)
     WHERE w.cid IS NOT NULL
    ON CONFLICT (did, collection, rkey)
    DO UPDATE SET cid = EXCLUDED.cid, rev = EXCLUDED.rev, indexed_at = now();

    DELETE FROM record r
     USING unnest(p_coll, p_rkey, p_cid) AS w (coll, rkey, cid)
     WHERE w.cid IS NULL AND r.did = p_did AND r.collection = w.coll AND r.rkey = w.rkey;

    DELETE FROM repo_block
     WHERE did = p_did AND cid = ANY (p_removed);

    DELETE FROM repo_block b
     WHERE b.did = p_did AND b.cid = ANY (p_removed_records)
       AND NOT EXISTS (SELECT 1 FROM record r WHERE r.did = p_did AND r.cid = b.cid);

    IF p_event IS NOT NULL THEN
        INSERT INTO repo_seq (did, event_type, event) VALUES (p_did, p_event_type, p_event);
    END IF;
    RETURN true;
END
$$;

-- GC of record blocks looks records up by CID.
CREATE INDEX record_cid_idx ON record (did, cid);
