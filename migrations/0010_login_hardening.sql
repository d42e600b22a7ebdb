-- Login hardening (issue 13, items 2, 3, 9 and 11).
--
-- 1. The runtime role no longer reads password, TOTP or PIN hashes by SELECT: one login's
--    credentials come only through `login_user(login)`, a SECURITY DEFINER function, so a
--    bug that lets a query through cannot dump every hash. Whether a credential is set is
--    a generated column the role may read.
-- 2. Failed logins are recorded and counted through functions that refuse names that
--    cannot be a login and prune rows older than the lockout window (bounded table).
-- 3. Kiosk failure counters (wrong PINs, wrong pickup codes) and per-user pickup-code
--    guesses live in their own tenant table, keyed by device or user id, out of reach of
--    the SSH login name.

------------------------------------------------------------------------------------------
-- 1. credentials only through a function
------------------------------------------------------------------------------------------
ALTER TABLE users
    ADD COLUMN has_password boolean GENERATED ALWAYS AS (password_hash IS NOT NULL) STORED,
    ADD COLUMN has_totp boolean GENERATED ALWAYS AS (totp_secret IS NOT NULL) STORED,
    ADD COLUMN has_pin boolean GENERATED ALWAYS AS (pin_hash IS NOT NULL) STORED;

REVOKE SELECT ON users FROM packtrack_app;
GRANT SELECT (id, login, display_name, totp_last_step, disabled_at, created_at,
              has_password, has_totp, has_pin) ON users TO packtrack_app;

-- The login path's view of one user, hashes included. Only ever one row, by exact login.
CREATE FUNCTION login_user(p_login text)
    RETURNS TABLE (id bigint, login text, display_name text, password_hash text,
                   totp_secret bytea, totp_last_step bigint, pin_hash text, disabled boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT u.id, u.login, u.display_name, u.password_hash, u.totp_secret,
               u.totp_last_step, u.pin_hash, u.disabled_at IS NOT NULL
        FROM users u WHERE u.login = p_login
    $$;
REVOKE ALL ON FUNCTION login_user(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION login_user(text) TO packtrack_app;

------------------------------------------------------------------------------------------
-- 2. failed logins: counted and recorded through functions, pruned
------------------------------------------------------------------------------------------
-- Kiosk rows no longer live here (see 3); they were keyed by pseudo login names.
DELETE FROM login_failures WHERE login !~ '^[a-z0-9][a-z0-9._-]{0,62}$';
CREATE INDEX login_failures_at ON login_failures (at);

-- Recent failures for a login and for a peer address within the window.
CREATE FUNCTION login_failure_counts(p_login text, p_peer text, p_window_secs double precision)
    RETURNS TABLE (by_login bigint, by_peer bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT (SELECT count(*) FROM login_failures
                 WHERE login = p_login AND at > now() - make_interval(secs => p_window_secs)),
               (SELECT count(*) FROM login_failures
                 WHERE peer = p_peer AND at > now() - make_interval(secs => p_window_secs))
    $$;

-- Records one failure. A name that cannot be a login is not counted (it could only be
-- used to reach some other counter, or to fill the table). Rows older than the window are
-- removed, except a day's worth for logins that exist (the Security tab shows failed logins
-- of the last 24 hours; the lockout keeps those to 5 per window per login): the table
-- holds at most one window of failures for names nobody has.
CREATE FUNCTION record_login_failure(p_login text, p_peer text, p_reason text,
                                     p_window_secs double precision)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    BEGIN
        DELETE FROM login_failures f
         WHERE f.at < now() - make_interval(secs => p_window_secs)
           AND (f.at < now() - interval '24 hours'
                OR NOT EXISTS (SELECT 1 FROM users u WHERE u.login = f.login));
        IF p_login !~ '^[a-z0-9][a-z0-9._-]{0,62}$' OR length(p_peer) > 64 THEN
            RETURN false;
        END IF;
        INSERT INTO login_failures (login, peer, reason) VALUES (p_login, p_peer, left(p_reason, 80));
        RETURN true;
    END
    $$;
REVOKE ALL ON FUNCTION login_failure_counts(text, text, double precision) FROM PUBLIC;
REVOKE ALL ON FUNCTION record_login_failure(text, text, text, double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION login_failure_counts(text, text, double precision) TO packtrack_app;
GRANT EXECUTE ON FUNCTION record_login_failure(text, text, text, double precision) TO packtrack_app;
REVOKE INSERT ON login_failures FROM packtrack_app;

------------------------------------------------------------------------------------------
-- 3. guesses at kiosk PINs and pickup codes, per device or per user
------------------------------------------------------------------------------------------
CREATE TABLE guess_failures (
    facility_id     bigint NOT NULL REFERENCES facilities (id),
    id              bigint GENERATED ALWAYS AS IDENTITY,
    -- 'kiosk_pin': a wrong PIN at a kiosk (device_id, user_id when the login exists);
    -- 'kiosk_code': a wrong pickup code at a self-service kiosk (device_id);
    -- 'user_code': a wrong pickup code typed by a logged-in user (user_id).
    kind            text NOT NULL CHECK (kind IN ('kiosk_pin', 'kiosk_code', 'user_code')),
    device_id       bigint,
    user_id         bigint REFERENCES users (id),
    at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (facility_id, id),
    FOREIGN KEY (facility_id, device_id) REFERENCES devices (facility_id, id) ON DELETE CASCADE,
    CHECK (kind = 'user_code' OR device_id IS NOT NULL),
    CHECK (kind <> 'user_code' OR user_id IS NOT NULL)
);
CREATE INDEX guess_failures_device ON guess_failures (facility_id, device_id, kind, at);
CREATE INDEX guess_failures_user ON guess_failures (facility_id, user_id, kind, at);

ALTER TABLE guess_failures ENABLE ROW LEVEL SECURITY;
ALTER TABLE guess_failures FORCE ROW LEVEL SECURITY;
CREATE POLICY facility_isolation ON guess_failures
    USING (facility_id = current_facility()) WITH CHECK (facility_id = current_facility());
GRANT SELECT, INSERT, DELETE ON guess_failures TO packtrack_app;
