-- 0021_relay_standing.sql - what each relay of PDS_CRAWLERS says about this host and its
-- accounts (server/api/sync/relay_standing.c): its getHostStatus answer, and per account its
-- getRepoStatus answer with when we last repaired the account there (a #sync event and a
-- crawl request, so the relay and its consumers fetch the repository again).

CREATE TABLE relay_host_status (
    relay         text PRIMARY KEY,   -- base URL as configured
    status        text,               -- active, idle, offline, throttled, banned; NULL: unknown
    account_count bigint,             -- as the relay reports it, if it does
    account_limit bigint,             -- not in the lexicon: read when a relay serves it
    seq           bigint,             -- the last of our events the relay has
    checked_at    timestamptz NOT NULL,
    error         text                -- why the last check failed, NULL when it did not
);

CREATE TABLE relay_repo_status (
    relay       text NOT NULL,
    did         text NOT NULL REFERENCES account (did) ON DELETE CASCADE,
    found       boolean NOT NULL,     -- false: the relay answered RepoNotFound
    active      boolean NOT NULL,
    status      text,                 -- the relay's reason when not active (host-throttled...)
    rev         text,                 -- the relay's rev of the repository
    our_rev     text,                 -- ours when it answered
    behind      boolean NOT NULL,     -- the relay's rev is older than ours (or absent)
    checked_at  timestamptz NOT NULL,
    repaired_at timestamptz,          -- last #sync sent for it because of this relay
    repairs     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (relay, did)
);
-- the checker takes the accounts checked longest ago first
CREATE INDEX relay_repo_status_checked_idx ON relay_repo_status (relay, checked_at);
