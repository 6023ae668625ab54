-- 0003_sequencer.sql - numbering the outbox after commit (server/db/sequencer.c has the proof
-- that readers never skip an event), waking the sequencer, pruning, and the high-water mark.

-- One row: the highest seq ever assigned (so a seq is never reused, even after the rows that
-- held it were pruned or deleted with their account) and the highest seq pruning removed
-- (a cursor below it may have missed events: OutdatedCursor).
CREATE TABLE repo_seq_state (
    id             boolean PRIMARY KEY DEFAULT true CHECK (id),
    head           bigint NOT NULL,
    pruned_through bigint NOT NULL DEFAULT 0
);

-- Writers do not NOTIFY: in PostgreSQL 15 a transaction that sends a notification takes a
-- global lock at commit, which serialised every write's commit and fsync and halved the write
-- rate under load (656 against 1,391 writes/s, measured). Instead the writing process wakes
-- its own sequencer right after it commits (db_commit and the one-statement repository write
-- call sequencer_wake), and each sequencer also polls once a second, so an event written by
-- any process is numbered promptly by the process that wrote it. The sequencer's own
-- NOTIFY on 'pds_seq' (one per numbered batch) still fans the stream out to every process.

-- Numbers up to p_limit committed, unnumbered rows in id order, above every seq assigned
-- before, and announces the new head on 'pds_seq'. Returns how many rows it numbered and the
-- new head (0 and NULL when there was nothing to number). Call it as its own statement
-- outside an explicit transaction: the advisory lock (key "pdsseq") is held until that
-- statement's transaction commits, so sequencers in any number of processes run one after
-- another. Each query below runs with a
-- fresh snapshot (a VOLATILE function in READ COMMITTED), taken after the lock was granted,
-- so it sees everything the previous sequencer committed.
CREATE FUNCTION pds_sequence_outbox(p_limit integer, OUT o_numbered bigint, OUT o_head bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_base bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(123576735982961); -- 0x706473736571, "pdsseq"
    -- Numbers become visible only once durable, whatever the server's default: a seq seen
    -- by a reader is never taken back by a crash. Flushing this commit also flushes the
    -- earlier commits of the rows it numbers (the WAL is one sequence).
    PERFORM set_config('synchronous_commit', 'on', true);
    -- GREATEST ignores NULLs: NULL only for a database that never numbered a row
    SELECT GREATEST((SELECT max(head) FROM repo_seq_state), (SELECT max(seq) FROM repo_seq))
      INTO v_base;
    IF v_base IS NULL THEN
        -- a new install starts above any cursor a relay holds from an earlier one: Unix
        -- microseconds (about 1.8e15, below 2^53 until the year 2255)
        v_base := floor(extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
    END IF;
    WITH todo AS (
        SELECT id, row_number() OVER (ORDER BY id) AS n
          FROM repo_seq
         WHERE seq IS NULL
         ORDER BY id
         LIMIT p_limit
    ), done AS (
        UPDATE repo_seq r SET seq = v_base + todo.n
          FROM todo
         WHERE r.id = todo.id
        RETURNING r.seq
    )
    SELECT count(*), max(seq) INTO o_numbered, o_head FROM done;
    IF o_numbered = 0 THEN
        RETURN;
    END IF;
    INSERT INTO repo_seq_state (id, head) VALUES (true, o_head)
    ON CONFLICT (id) DO UPDATE SET head = EXCLUDED.head;
    PERFORM pg_notify('pds_seq', o_head::text);
END
$$;

-- Deletes numbered rows created before p_before, oldest seq first, at most p_limit of them,
-- and raises pruned_through. Returns the number deleted.
CREATE FUNCTION pds_prune_outbox(p_before timestamptz, p_limit integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_max bigint;
    v_count bigint;
BEGIN
    WITH oldest AS (
        SELECT id FROM repo_seq WHERE seq IS NOT NULL ORDER BY seq LIMIT p_limit
    ), gone AS (
        DELETE FROM repo_seq r
         USING oldest o
         WHERE r.id = o.id AND r.created_at < p_before
        RETURNING r.seq
    )
    SELECT max(seq), count(*) INTO v_max, v_count FROM gone;
    IF v_count > 0 THEN
        UPDATE repo_seq_state SET pruned_through = GREATEST(pruned_through, v_max);
    END IF;
    RETURN v_count;
END
$$;
