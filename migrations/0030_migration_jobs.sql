-- 0030_migration_jobs.sql - account migration jobs (server/api/migrate): one row per move of
-- an account into or out of this host, the steps it has completed, and the blobs it moves.
-- Workers in any process claim a job with FOR UPDATE SKIP LOCKED and hold it by a lease
-- (lease_until) that they renew while they work; a process that dies lets its lease run out
-- and another (or the restarted one) takes the job over where its steps stopped.

CREATE TABLE migration_job (
    id            bigserial PRIMARY KEY,
    direction     text NOT NULL CHECK (direction IN ('in', 'out')),
    did           text NOT NULL,
    -- preflight: checks before anything changes; confirm: waiting for the user's go-ahead;
    -- running: a worker may take it; awaiting_token: the copy is verified, waiting for the
    -- emailed PLC code; failed: stopped on an error (retry resumes); done; cancelled
    state         text NOT NULL CHECK (state IN ('preflight', 'confirm', 'running',
                                                 'awaiting_token', 'failed', 'done',
                                                 'cancelled')),
    step          text,                  -- the step running or failed, NULL when none
    created_by    text NOT NULL,         -- 'user' (the pages) or 'operator' (admin API)
    old_url       text NOT NULL,         -- the host the account leaves
    new_url       text NOT NULL,         -- the host it moves to
    old_handle    text,
    new_handle    text,                  -- chosen at confirm
    email         text,
    invite_code   text,
    rotation_key  text,                  -- a did:key the user holds, put first in rotationKeys
    plan          jsonb,                 -- what preflight found (sizes, counts, checks)
    progress      jsonb NOT NULL DEFAULT '{}',
    error         text,                  -- what went wrong, in words for the user
    error_code    text,                  -- a machine name for it (WrongPassword, ...)
    secrets       bytea,                 -- sealed credentials for the two hosts; NULL once erased
    access_hash   bytea,                 -- sha256 of the page's job token
    attempts      integer NOT NULL DEFAULT 0, -- failed tries of the current step
    next_run_at   timestamptz NOT NULL DEFAULT now(),
    lease_owner   text,
    lease_until   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
-- One open migration per DID (a failed one stays open until retried to its end or
-- cancelled: it may hold a half-made account): a second one is refused.
CREATE UNIQUE INDEX migration_job_open_did_idx ON migration_job (did)
    WHERE state NOT IN ('done', 'cancelled');
CREATE INDEX migration_job_runnable_idx ON migration_job (next_run_at)
    WHERE state IN ('preflight', 'running');

-- Steps completed, with what each found (the resumption record).
CREATE TABLE migration_step (
    job_id  bigint NOT NULL REFERENCES migration_job (id) ON DELETE CASCADE,
    name    text NOT NULL,
    done_at timestamptz NOT NULL DEFAULT now(),
    detail  jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (job_id, name)
);

-- Every blob the repository references, as the verified CAR lists them; done once the
-- new host holds bytes that hash to the CID.
CREATE TABLE migration_blob (
    job_id   bigint NOT NULL REFERENCES migration_job (id) ON DELETE CASCADE,
    cid      text NOT NULL,
    size     bigint NOT NULL DEFAULT 0,  -- as the record's blob ref states it
    done     boolean NOT NULL DEFAULT false,
    attempts integer NOT NULL DEFAULT 0,
    error    text,
    PRIMARY KEY (job_id, cid)
);
