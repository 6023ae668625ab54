-- 0040_admin_console.sql - the admin console (issue 14): sign-in sessions, the audit log of
-- every console action, forwarded moderation reports, and the indexes its pages need.

-- A console session. The cookie holds a random token; only its SHA-256 is stored, so a
-- copy of the database does not let anyone in.
CREATE TABLE admin_session (
    token_hash   bytea PRIMARY KEY,
    actor        text NOT NULL,          -- the name given at sign-in ("admin" by default)
    client_ip    text,
    user_agent   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    ended_at     timestamptz             -- signed out or timed out
);

-- Who did what, when, from where: every console action and every sign-in attempt.
CREATE TABLE admin_audit (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,
    client_ip  text,
    action     text NOT NULL,            -- signin, signin_failed, takedown, delete, ...
    subject    text,                     -- a DID, an invite code, a relay URL
    outcome    text NOT NULL,            -- ok, or the error name
    detail     jsonb
);
CREATE INDEX admin_audit_at_idx ON admin_audit (at);
-- sign-in rate limit: failures per address in a recent window
CREATE INDEX admin_audit_failed_idx ON admin_audit (client_ip, at) WHERE action = 'signin_failed';

-- Reports this host forwarded to the moderation service (com.atproto.moderation.createReport).
CREATE TABLE moderation_report_forwarded (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    reporter    text NOT NULL,
    reason_type text,
    subject     text,
    reason      text,
    service_did text,
    status      integer NOT NULL         -- the moderation service's HTTP status
);
CREATE INDEX moderation_report_forwarded_at_idx ON moderation_report_forwarded (at);

-- Dashboard: sign-ups per day, writes per minute (BRIN: the event log is appended in time
-- order, so a few pages of summary cover it at almost no cost to the write path).
CREATE INDEX account_created_at_idx ON account (created_at);
CREATE INDEX repo_seq_created_at_brin ON repo_seq USING brin (created_at);

-- Accounts search by part of a handle, email or DID: trigram indexes keep it fast at
-- 100,000 accounts. pg_trgm ships with PostgreSQL (contrib) and is a trusted extension, but
-- an external server may lack it: then search still works, by scanning.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): account search will scan', SQLERRM;
END
$$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        EXECUTE 'CREATE INDEX account_handle_trgm_idx ON account USING gin (handle gin_trgm_ops)';
        EXECUTE 'CREATE INDEX account_email_trgm_idx ON account USING gin (lower(email) gin_trgm_ops)';
        EXECUTE 'CREATE INDEX account_did_trgm_idx ON account USING gin (did gin_trgm_ops)';
    END IF;
END
$$;
