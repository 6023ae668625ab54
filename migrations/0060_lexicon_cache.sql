-- Lexicons resolved from the network (permission sets for OAuth include: scopes, and
-- com.atproto.lexicon.resolveLexicon), shared by every process. doc is NULL while a
-- Lexicon has never resolved (a negative entry, so a failing one is not fetched again
-- before it is stale); a failed refresh keeps the last good document.
CREATE TABLE lexicon_cache (
    nsid              text PRIMARY KEY,
    uri               text,
    cid               text,
    doc               jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    last_succeeded_at timestamptz
);
