-- 0001_init.sql - the PDS schema: accounts, repositories, blobs, tokens and the event outbox.
-- Applied once, inside a transaction, by server/db/migrate.c. CIDs are stored as binary CIDv1
-- (bytea); DIDs, handles, NSIDs, record keys and TIDs as text.

-- Accounts. handle is stored lower-case (the CHECK keeps callers honest), so the unique index
-- on handle serves case-insensitive lookups; email is compared lower-cased.
CREATE TABLE account (
    did                text PRIMARY KEY,
    handle             text UNIQUE CHECK (handle = lower(handle)),  -- NULL after deletion
    email              text,
    email_confirmed_at timestamptz,
    password_hash      text,
    signing_key        bytea,           -- sealed k256 private key of the repo
    created_at         timestamptz NOT NULL DEFAULT now(),
    deactivated_at     timestamptz,
    delete_after       timestamptz,
    takedown_ref       text,
    invites_disabled   boolean NOT NULL DEFAULT false,
    email_auth_factor  boolean NOT NULL DEFAULT false,
    repo_bytes         bigint NOT NULL DEFAULT 0, -- sum of repo_block sizes (write path keeps it)
    blob_bytes         bigint NOT NULL DEFAULT 0  -- sum of permanent blob sizes
);
CREATE UNIQUE INDEX account_email_lower_idx ON account (lower(email));

-- The current commit of each repository: writers lock this row (SELECT ... FOR UPDATE).
CREATE TABLE repo_root (
    did        text PRIMARY KEY REFERENCES account (did) ON DELETE CASCADE,
    commit_cid bytea NOT NULL,
    data_cid   bytea NOT NULL,          -- MST root of the commit
    rev        text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Blocks of every repository: MST nodes, commits and records, content-addressed.
-- No foreign key: the write path inserts many rows per commit and deleteAccount removes
-- them explicitly in its transaction.
CREATE TABLE repo_block (
    did  text NOT NULL,
    cid  bytea NOT NULL,
    rev  text NOT NULL,                 -- rev of the commit that first wrote the block
    data bytea NOT NULL,
    PRIMARY KEY (did, cid)
);
CREATE INDEX repo_block_rev_idx ON repo_block (did, rev);  -- getRepo?since=<rev>

-- Record index: the primary key orders listRecords (by rkey within a collection).
CREATE TABLE record (
    did          text NOT NULL,
    collection   text NOT NULL,
    rkey         text NOT NULL,
    cid          bytea NOT NULL,
    rev          text NOT NULL,
    takedown_ref text,
    indexed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (did, collection, rkey)
);

CREATE TABLE app_password (
    did           text NOT NULL REFERENCES account (did) ON DELETE CASCADE,
    name          text NOT NULL,
    password_hash text NOT NULL,
    privileged    boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (did, name)
);

-- Refresh tokens by their jti; next_id links a rotated token to its successor (grace period).
CREATE TABLE refresh_token (
    id                text PRIMARY KEY,
    did               text NOT NULL REFERENCES account (did) ON DELETE CASCADE,
    app_password_name text,
    expires_at        timestamptz NOT NULL,
    next_id           text
);
CREATE INDEX refresh_token_did_idx ON refresh_token (did);

CREATE TABLE invite_code (
    code           text PRIMARY KEY,
    available_uses integer NOT NULL,
    disabled       boolean NOT NULL DEFAULT false,
    for_account    text NOT NULL,       -- a DID, or "admin"
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invite_code_for_account_idx ON invite_code (for_account);

CREATE TABLE invite_code_use (
    code    text NOT NULL REFERENCES invite_code (code) ON DELETE CASCADE,
    used_by text NOT NULL,
    used_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (code, used_by)
);
CREATE INDEX invite_code_use_used_by_idx ON invite_code_use (used_by);

-- app.bsky preferences, one row per item; name is its $type.
CREATE TABLE preference (
    id         bigserial PRIMARY KEY,
    did        text NOT NULL REFERENCES account (did) ON DELETE CASCADE,
    name       text NOT NULL,
    value_json jsonb NOT NULL
);
CREATE INDEX preference_did_idx ON preference (did);

-- Blob metadata (the bytes are in the blob store). temp_key is set while the upload is not
-- yet referenced by a record.
CREATE TABLE blob (
    did          text NOT NULL,
    cid          bytea NOT NULL,
    mime_type    text NOT NULL,
    size         bigint NOT NULL,
    temp_key     text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    takedown_ref text,
    PRIMARY KEY (did, cid)
);
CREATE INDEX blob_temp_idx ON blob (created_at) WHERE temp_key IS NOT NULL;

CREATE TABLE record_blob (
    did        text NOT NULL,
    blob_cid   bytea NOT NULL,
    record_uri text NOT NULL,
    PRIMARY KEY (did, blob_cid, record_uri)
);
CREATE INDEX record_blob_uri_idx ON record_blob (did, record_uri);

-- One outstanding emailed code per purpose and account.
CREATE TABLE email_token (
    purpose      text NOT NULL,
    did          text NOT NULL REFERENCES account (did) ON DELETE CASCADE,
    token        text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (purpose, did)
);
CREATE INDEX email_token_token_idx ON email_token (purpose, token);

-- The event outbox. Rows are inserted in the transaction that made the change, with seq NULL;
-- the sequencer numbers committed rows afterwards in one ordered step (see DESIGN.md), so a
-- reader never skips an event that commits late. No foreign key: #account events outlive
-- their accounts.
CREATE TABLE repo_seq (
    id          bigserial PRIMARY KEY,
    seq         bigint UNIQUE,
    did         text NOT NULL,
    event_type  text NOT NULL,          -- commit, sync, identity, account
    event       bytea NOT NULL,         -- DAG-CBOR payload
    invalidated boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX repo_seq_did_idx ON repo_seq (did);
CREATE INDEX repo_seq_unsequenced_idx ON repo_seq (id) WHERE seq IS NULL;
