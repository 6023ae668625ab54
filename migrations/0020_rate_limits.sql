-- 0020_rate_limits.sql - the shared state of the rate limits (server/http/ratelimit.c,
-- hostbudget.c): counters every process leases points from, the host's event budget
-- windows, each process's demand, the accounts being slowed, and refusal counts.
--
-- Processes never ask PostgreSQL per request: they lease points in chunks (an eighth of
-- what is left) and spend them locally, so the sum of what all processes admit stays
-- within each limit while a round trip is needed only once per chunk. Points leased and
-- not spent are lost with their window (or a restart): never more than the limit is
-- admitted, sometimes a little less.

-- One row per (limit, key): a fixed window that starts at its first use, as the
-- reference's rate-limiter-flexible keys do.
CREATE TABLE rate_limit_counter (
    name         text NOT NULL,       -- the limit ("global-ip", "repo-write-hour", ...)
    key          text NOT NULL,       -- an IP, a DID, "<identifier>-<ip>" (long keys hashed)
    window_start timestamptz NOT NULL,
    window_ms    bigint NOT NULL,
    granted      bigint NOT NULL,     -- points leased to processes in this window
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (name, key)
);
CREATE INDEX rate_limit_counter_expires_idx ON rate_limit_counter (expires_at);

-- Leases points for several (limit, key) pairs in one round trip. For pair i: starts a new
-- window when the old one has ended (or its length changed), then grants
-- min(want, points - granted) if that is at least need, else nothing. Returns per pair what
-- was granted, the window's total granted after this call and the window's start (Unix ms),
-- one row per pair in their order. Callers pass pairs in (name, key) order, so two leases
-- never wait on each other's rows.
CREATE FUNCTION pds_rate_lease(p_names text[], p_keys text[], p_points bigint[],
                               p_window_ms bigint[], p_want bigint[], p_need bigint[])
RETURNS TABLE (o_granted bigint, o_total bigint, o_start_ms bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_now timestamptz := clock_timestamp();
    v_start timestamptz;
    v_window bigint;
    v_granted bigint;
    v_grant bigint;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    FOR i IN 1 .. coalesce(array_length(p_names, 1), 0) LOOP
        INSERT INTO rate_limit_counter (name, key, window_start, window_ms, granted, expires_at)
        VALUES (p_names[i], p_keys[i], v_now, p_window_ms[i], 0,
                v_now + p_window_ms[i] * interval '1 millisecond')
        ON CONFLICT (name, key) DO NOTHING;
        SELECT window_start, window_ms, granted INTO v_start, v_window, v_granted
          FROM rate_limit_counter
         WHERE name = p_names[i] AND key = p_keys[i]
           FOR UPDATE;
        IF v_window <> p_window_ms[i]
           OR v_start + v_window * interval '1 millisecond' <= v_now THEN
            v_start := v_now;
            v_window := p_window_ms[i];
            v_granted := 0;
        END IF;
        v_grant := LEAST(p_want[i], p_points[i] - v_granted);
        IF v_grant < p_need[i] OR v_grant < 0 THEN
            v_grant := 0;
        END IF;
        UPDATE rate_limit_counter
           SET window_start = v_start, window_ms = v_window, granted = v_granted + v_grant,
               expires_at = v_start + v_window * interval '1 millisecond'
         WHERE name = p_names[i] AND key = p_keys[i];
        o_granted := v_grant;
        o_total := v_granted + v_grant;
        o_start_ms := floor(extract(epoch FROM v_start) * 1000)::bigint;
        RETURN NEXT;
    END LOOP;
END
$$;

-- The host's events, for the relays' sliding windows (a second, an hour, a day): the
-- current fixed window (aligned to its length, as the relay's) and the previous one.
CREATE TABLE host_event_window (
    span       text PRIMARY KEY,    -- 'second', 'hour', 'day'
    window_ms  bigint NOT NULL,
    cur_start  bigint NOT NULL,     -- Unix ms, a multiple of window_ms
    cur_count  bigint NOT NULL,
    prev_count bigint NOT NULL
);
INSERT INTO host_event_window (span, window_ms, cur_start, cur_count, prev_count) VALUES
    ('second', 1000, 0, 0, 0), ('hour', 3600000, 0, 0, 0), ('day', 86400000, 0, 0, 0);

-- Takes up to p_take events under the limits (second, hour, day: the sliding count after
-- the grant stays at or under each), or exactly p_take when p_force (events that happen
-- anyway, counted so the others know), after giving back p_return events leased at
-- p_return_at_ms and not used. Returns what was granted and each window's sliding count
-- after it (p_limits and the counts in the order second, hour, day).
CREATE FUNCTION pds_host_events(p_take bigint, p_return bigint, p_return_at_ms bigint,
                                p_limits bigint[], p_force boolean,
                                OUT o_granted bigint, OUT o_used_second double precision,
                                OUT o_used_hour double precision, OUT o_used_day double precision,
                                OUT o_now_ms bigint)
LANGUAGE plpgsql AS $$
DECLARE
    w record;
    v_room double precision := 'Infinity';
    v_est double precision;
    v_used double precision[] := '{}';
    i int := 0;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    o_now_ms := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    -- roll every window forward and give back the unused lease where it was counted
    FOR w IN SELECT * FROM host_event_window ORDER BY window_ms FOR UPDATE LOOP
        IF o_now_ms >= w.cur_start + w.window_ms THEN
            w.prev_count := CASE WHEN o_now_ms < w.cur_start + 2 * w.window_ms
                                 THEN w.cur_count ELSE 0 END;
            w.cur_count := 0;
            w.cur_start := o_now_ms - o_now_ms % w.window_ms;
        END IF;
        IF p_return > 0 THEN
            IF p_return_at_ms >= w.cur_start THEN
                w.cur_count := GREATEST(w.cur_count - p_return, 0);
            ELSIF p_return_at_ms >= w.cur_start - w.window_ms THEN
                w.prev_count := GREATEST(w.prev_count - p_return, 0);
            END IF;
        END IF;
        UPDATE host_event_window
           SET cur_start = w.cur_start, cur_count = w.cur_count, prev_count = w.prev_count
         WHERE span = w.span;
        i := i + 1;
        v_est := w.prev_count * (1 - (o_now_ms - w.cur_start)::double precision / w.window_ms)
                 + w.cur_count;
        v_room := LEAST(v_room, p_limits[i] - v_est);
    END LOOP;
    o_granted := CASE WHEN p_force THEN p_take
                      ELSE GREATEST(LEAST(p_take, floor(v_room)::bigint), 0) END;
    FOR w IN SELECT * FROM host_event_window ORDER BY window_ms LOOP
        IF o_granted > 0 THEN
            UPDATE host_event_window SET cur_count = cur_count + o_granted WHERE span = w.span;
            w.cur_count := w.cur_count + o_granted;
        END IF;
        v_used := v_used || (w.prev_count * (1 - (o_now_ms - w.cur_start)::double precision
                                                 / w.window_ms) + w.cur_count);
    END LOOP;
    o_used_second := v_used[1];
    o_used_hour := v_used[2];
    o_used_day := v_used[3];
END
$$;

-- Each process's demand for events (events/s it was asked for, refused or not), so every
-- process takes its share of the host's rate. Rows not refreshed for 10 s are gone.
CREATE TABLE host_budget_process (
    process text PRIMARY KEY,
    demand  double precision NOT NULL,
    seen_at timestamptz NOT NULL
);

-- Accounts held to their fair share, per process, for pdsadmin status and the admin API.
CREATE TABLE host_budget_slowed (
    did     text NOT NULL,
    process text NOT NULL,
    demand  double precision NOT NULL, -- events/s asked for
    share   double precision NOT NULL, -- events/s granted
    refused bigint NOT NULL,           -- requests refused in the last minute
    seen_at timestamptz NOT NULL,
    PRIMARY KEY (did, process)
);

-- Admitted and refused requests per limit since the database was created.
CREATE TABLE rate_limit_stats (
    name            text PRIMARY KEY,
    admitted        bigint NOT NULL DEFAULT 0,
    refused         bigint NOT NULL DEFAULT 0,
    last_refused_at timestamptz
);

-- Adds one process's counts since its last flush.
CREATE FUNCTION pds_rate_stats_add(p_names text[], p_admitted bigint[], p_refused bigint[])
RETURNS void
LANGUAGE sql AS $$
    SELECT set_config('synchronous_commit', 'off', true);
    INSERT INTO rate_limit_stats AS s (name, admitted, refused, last_refused_at)
    SELECT n, a, r, CASE WHEN r > 0 THEN now() END
      FROM unnest(p_names, p_admitted, p_refused) AS t (n, a, r)
    ON CONFLICT (name) DO UPDATE
       SET admitted = s.admitted + EXCLUDED.admitted,
           refused = s.refused + EXCLUDED.refused,
           last_refused_at = COALESCE(EXCLUDED.last_refused_at, s.last_refused_at);
$$;
