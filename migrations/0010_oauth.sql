-- 0010_oauth.sql - the OAuth authorization server's state (server/oauth/), the browser
-- sign-in sessions of the pages (server/web/session.c) and TOTP two-factor sign-in
-- (server/api/account/totp.c). Every row has an expiry that a sweep removes
-- (oauth_sweep()), and every row that belongs to an account goes with it (ON DELETE CASCADE).
-- Secrets are never stored as they are: codes, refresh tokens and device ids are kept as
-- SHA-256 hex digests, so a copy of the database signs nobody in.

-- Accounts signed in on a browser (its pds-device cookie): the account chooser of the
-- authorize page and "devices" on /account. authenticated_at is the last password (and
-- second factor) sign-in; a session older than the sign-in lifetime needs a new one.
CREATE TABLE web_device_account (
    device_hash      text NOT NULL,
    did              text NOT NULL REFERENCES account (did) ON DELETE CASCADE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    authenticated_at timestamptz NOT NULL DEFAULT now(),
    last_used_at     timestamptz NOT NULL DEFAULT now(),
    user_agent       text,
    ip_address       text,
    PRIMARY KEY (device_hash, did)
);
CREATE INDEX web_device_account_did_idx ON web_device_account (did);

-- Pushed authorization requests (RFC 9126) until their code is exchanged. device_hash is
-- bound when a browser first opens the request; did and code_hash once the user approved.
CREATE TABLE oauth_request (
    id          text PRIMARY KEY,
    client_id   text NOT NULL,
    client_auth jsonb NOT NULL,   -- {"method":"none"} or {"method":"private_key_jwt",kid,alg,jkt}
    parameters  jsonb NOT NULL,   -- the validated request (redirect_uri, scope, state, ...)
    device_hash text,
    did         text REFERENCES account (did) ON DELETE CASCADE,
    code_hash   text UNIQUE,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth_request_expires_idx ON oauth_request (expires_at);

-- One row per grant: a session between an account and a client, from the code exchange
-- until it is revoked or expires. token_id is the jti of the current access token and
-- refresh_hash the current refresh token; both rotate on every refresh, so a superseded
-- access token stops working at once.
CREATE TABLE oauth_session (
    id           bigserial PRIMARY KEY,
    did          text NOT NULL REFERENCES account (did) ON DELETE CASCADE,
    client_id    text NOT NULL,
    client_auth  jsonb NOT NULL,
    device_hash  text,
    parameters   jsonb NOT NULL,
    scope        text NOT NULL,   -- what the token grants (include: scopes expanded)
    dpop_jkt     text NOT NULL,
    code_hash    text UNIQUE,
    token_id     text NOT NULL UNIQUE,
    refresh_hash text UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),  -- last code exchange or refresh
    expires_at   timestamptz NOT NULL,                -- of the current access token
    session_expires_at timestamptz NOT NULL           -- the whole session's lifetime
);
CREATE INDEX oauth_session_did_idx ON oauth_session (did);

-- Refresh tokens already rotated away: presenting one again revokes its session.
CREATE TABLE oauth_used_refresh (
    refresh_hash text PRIMARY KEY,
    session_id   bigint NOT NULL REFERENCES oauth_session (id) ON DELETE CASCADE
);
CREATE INDEX oauth_used_refresh_session_idx ON oauth_used_refresh (session_id);

-- What each account let each client do (the consent page asks again for anything else).
CREATE TABLE oauth_authorized_client (
    did        text NOT NULL REFERENCES account (did) ON DELETE CASCADE,
    client_id  text NOT NULL,
    scope      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (did, client_id)
);

-- Single-use values (DPoP proof jti, client assertion jti, PKCE code challenges) within the
-- window in which they would be accepted; shared by every process of the host.
CREATE TABLE oauth_replay (
    namespace  text NOT NULL,
    value      text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (namespace, value)
);
CREATE INDEX oauth_replay_expires_idx ON oauth_replay (expires_at);

-- Records a single-use value; false when it was already used (and has not expired). The
-- row is written without waiting for the WAL flush: every DPoP-authenticated call makes one,
-- and a crash that lost the last few would only let those proofs be replayed for the minutes
-- they stay valid (the reference keeps this set in memory, where a restart loses all of it).
CREATE FUNCTION oauth_replay_use(p_namespace text, p_value text, p_ttl_s bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    INSERT INTO oauth_replay (namespace, value, expires_at)
    VALUES (p_namespace, p_value, now() + make_interval(secs => p_ttl_s))
    ON CONFLICT (namespace, value) DO UPDATE SET expires_at = EXCLUDED.expires_at
    WHERE oauth_replay.expires_at < now();
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n = 1;
END
$$;

-- Client metadata documents and JWKS fetched from client_id URLs, kept as the HTTP cache
-- headers allow (bounded both ways, see oauth/client_fetch.c).
CREATE TABLE oauth_client_cache (
    url        text PRIMARY KEY,
    body       text NOT NULL,
    fetched_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

-- TOTP (RFC 6238) second factor. secret is sealed (crypto/seal.h); enabled_at is NULL while
-- an enrolment waits for its first code. last_step refuses a code used twice.
CREATE TABLE account_totp (
    did        text PRIMARY KEY REFERENCES account (did) ON DELETE CASCADE,
    secret     bytea NOT NULL,
    enabled_at timestamptz,
    last_step  bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE account_totp_recovery (
    did       text NOT NULL REFERENCES account (did) ON DELETE CASCADE,
    code_hash text NOT NULL,
    PRIMARY KEY (did, code_hash)
);

-- Removes expired rows; returns how many went. Any process may run it at any time.
CREATE FUNCTION oauth_sweep() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint := 0;
    k bigint;
BEGIN
    DELETE FROM oauth_request WHERE expires_at < now();
    GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM oauth_session WHERE session_expires_at < now();
    GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM oauth_replay WHERE expires_at < now();
    GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM oauth_client_cache WHERE expires_at < now();
    GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM web_device_account WHERE last_used_at < now() - interval '90 days';
    GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM account_totp WHERE enabled_at IS NULL AND created_at < now() - interval '1 hour';
    GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    RETURN n;
END
$$;
