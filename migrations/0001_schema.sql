-- packtrack schema. Identity tables are global; every tenant table carries facility_id,
-- references other tenant rows by (facility_id, id), and is guarded by forced row level
-- security keyed on the transaction-local setting app.facility_id.

-- The runtime role. The embedded cluster creates it with a password before migrating;
-- against an external server the owner creates it here when it may (CREATEROLE).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'packtrack_app') THEN
        CREATE ROLE packtrack_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    -- External servers: the server process logs in as the owner and switches with
    -- SET ROLE packtrack_app, which needs membership. The embedded cluster logs in as
    -- packtrack_app directly, and its owner may not grant roles: that is fine.
    IF NOT pg_has_role(current_user, 'packtrack_app', 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT packtrack_app TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
            RAISE NOTICE 'packtrack_app not granted to %', current_user;
        END;
    END IF;
END
$$;

-- The facility of the current transaction, or NULL (which matches no row) when unset.
CREATE FUNCTION current_facility() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.facility_id', true), '')::bigint $$;

------------------------------------------------------------------------------------------
-- identity (global)
------------------------------------------------------------------------------------------
CREATE TABLE users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login           text NOT NULL UNIQUE CHECK (login ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    display_name    text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    password_hash   text,                 -- argon2id PHC string
    totp_secret     bytea,                -- sealed (AES-256-GCM, user id as associated data)
    totp_last_step  bigint,               -- last accepted time step: a code is never reused
    pin_hash        text,                 -- kiosk unlock PIN, argon2id
    disabled_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ssh_keys (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users (id),
    fingerprint     text NOT NULL,         -- SHA256:base64, as OpenSSH prints it
    algorithm       text NOT NULL,
    public_key      text NOT NULL,         -- the OpenSSH line without comment
    comment         text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz,
    disabled_at     timestamptz,
    -- Like authorized_keys: one person's key may be authorised for several of their
    -- accounts; the login name picks the account, the key must be registered for it.
    UNIQUE (fingerprint, user_id)
);
CREATE INDEX ssh_keys_user ON ssh_keys (user_id);

-- Failed logins, by login name (also unknown ones) and by peer address, for lockout.
CREATE TABLE login_failures (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login           text NOT NULL,
    peer            text NOT NULL,
    reason          text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_login ON login_failures (login, at);
CREATE INDEX login_failures_peer ON login_failures (peer, at);

------------------------------------------------------------------------------------------
-- tenant
------------------------------------------------------------------------------------------
CREATE TABLE facilities (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    facility_id     bigint GENERATED ALWAYS AS (id) STORED NOT NULL,
    slug            text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    time_zone       text NOT NULL DEFAULT 'UTC',
    settings        jsonb NOT NULL DEFAULT '{}'::jsonb,
    closed_at       timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
    facility_id     bigint NOT NULL REFERENCES facilities (id),
    user_id         bigint NOT NULL REFERENCES users (id),
    role            text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (facility_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE recipients (
    facility_id     bigint NOT NULL REFERENCES facilities (id),
    id              bigint GENERATED ALWAYS AS IDENTITY,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    unit            text NOT NULL DEFAULT '',
    email           text,
    phone           text,
    aliases         text[] NOT NULL DEFAULT '{}',
    active          boolean NOT NULL DEFAULT true,
    external_id     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (facility_id, id)
);
-- The natural key the CSV import upserts on.
CREATE UNIQUE INDEX recipients_name_unit ON recipients (facility_id, lower(name), lower(unit));
CREATE UNIQUE INDEX recipients_external_id ON recipients (facility_id, external_id)
    WHERE external_id IS NOT NULL;

CREATE TABLE packages (
    facility_id         bigint NOT NULL REFERENCES facilities (id),
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    tracking            text NOT NULL CHECK (length(tracking) BETWEEN 1 AND 64),
    carrier             text,
    recipient_id        bigint,          -- NULL: unmatched, to be resolved
    status              text NOT NULL DEFAULT 'waiting'
                        CHECK (status IN ('waiting', 'picked_up', 'returned', 'lost')),
    location            text NOT NULL DEFAULT '',
    perishable          boolean NOT NULL DEFAULT false,
    oversized           boolean NOT NULL DEFAULT false,
    damaged             boolean NOT NULL DEFAULT false,
    signature_required  boolean NOT NULL DEFAULT false,
    pickup_code         text CHECK (pickup_code ~ '^[0-9]{6}$'),
    note                text NOT NULL DEFAULT '',
    received_by         bigint REFERENCES users (id),
    received_at         timestamptz NOT NULL DEFAULT now(),
    picked_up_by        bigint REFERENCES users (id),
    picked_up_at        timestamptz,
    picked_up_name      text,            -- who signed for it
    proxy_name          text,            -- set when someone else collected it
    PRIMARY KEY (facility_id, id),
    FOREIGN KEY (facility_id, recipient_id) REFERENCES recipients (facility_id, id),
    CHECK ((status = 'picked_up') = (picked_up_at IS NOT NULL))
);
-- A tracking number is waiting at most once per facility; a re-scan finds that row.
CREATE UNIQUE INDEX packages_waiting_tracking ON packages (facility_id, tracking)
    WHERE status = 'waiting';
CREATE UNIQUE INDEX packages_waiting_code ON packages (facility_id, pickup_code)
    WHERE status = 'waiting';
CREATE INDEX packages_status_received ON packages (facility_id, status, received_at);
CREATE INDEX packages_recipient ON packages (facility_id, recipient_id, status);

-- Append-only custody chain.
CREATE TABLE package_events (
    facility_id     bigint NOT NULL REFERENCES facilities (id),
    id              bigint GENERATED ALWAYS AS IDENTITY,
    package_id      bigint NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('received', 'picked_up', 'moved', 'returned',
                        'lost', 'updated', 'reminded')),
    actor_id        bigint REFERENCES users (id),
    source          text NOT NULL DEFAULT '',   -- where it was done from: cli, ssh peer, kiosk
    location        text,
    detail          jsonb NOT NULL DEFAULT '{}'::jsonb,
    at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (facility_id, id),
    FOREIGN KEY (facility_id, package_id) REFERENCES packages (facility_id, id)
);
CREATE INDEX package_events_package ON package_events (facility_id, package_id, at);

-- Hash-chained audit trail, one chain per facility. Each row's hash covers its content and
-- the previous row's hash; the chain is computed by a trigger so no writer can skip it.
CREATE TABLE audit_log (
    facility_id     bigint NOT NULL REFERENCES facilities (id),
    id              bigint GENERATED ALWAYS AS IDENTITY,
    seq             bigint NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    actor           text NOT NULL,              -- login, or 'cli' for the admin CLI
    action          text NOT NULL,
    target          text NOT NULL DEFAULT '',
    detail          jsonb NOT NULL DEFAULT '{}'::jsonb,
    prev_hash       bytea NOT NULL,
    hash            bytea NOT NULL,
    PRIMARY KEY (facility_id, id),
    UNIQUE (facility_id, seq)
);

-- The digest of one audit row. Timestamps enter as integer microseconds so the digest does
-- not depend on the session's time zone or datestyle.
CREATE FUNCTION audit_digest(prev bytea, facility bigint, seq bigint, at timestamptz,
                             actor text, action text, target text, detail jsonb)
    RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT sha256(prev || convert_to(
            facility::text || E'\x1f' || seq::text || E'\x1f' ||
            (extract(epoch FROM at) * 1000000)::bigint::text || E'\x1f' ||
            actor || E'\x1f' || action || E'\x1f' || target || E'\x1f' || detail::text,
            'UTF8'))
    $$;

CREATE FUNCTION audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_seq  bigint;
    last_hash bytea;
BEGIN
    -- One writer per chain at a time; the lock ends with the transaction.
    PERFORM pg_advisory_xact_lock(7262817, NEW.facility_id::int);
    SELECT a.seq, a.hash INTO last_seq, last_hash
        FROM audit_log a WHERE a.facility_id = NEW.facility_id
        ORDER BY a.seq DESC LIMIT 1;
    NEW.seq := coalesce(last_seq, 0) + 1;
    NEW.at := clock_timestamp();
    NEW.prev_hash := coalesce(last_hash, '\x'::bytea);
    NEW.hash := audit_digest(NEW.prev_hash, NEW.facility_id, NEW.seq, NEW.at,
                             NEW.actor, NEW.action, NEW.target, NEW.detail);
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_chain();

------------------------------------------------------------------------------------------
-- row level security: ENABLE + FORCE on every tenant table
------------------------------------------------------------------------------------------
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['facilities', 'memberships', 'recipients', 'packages',
                             'package_events', 'audit_log']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY facility_isolation ON %I USING (facility_id = current_facility()) '
                       'WITH CHECK (facility_id = current_facility())', t);
    END LOOP;
END
$$;

------------------------------------------------------------------------------------------
-- login resolution: the only way the runtime role reads across facilities, and only the
-- rows needed to turn "LOGIN[+SLUG]" into a principal.
------------------------------------------------------------------------------------------
CREATE FUNCTION resolve_membership(p_user_id bigint, p_slug text)
    RETURNS TABLE (facility_id bigint, slug text, facility_name text, role text, memberships int)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        WITH m AS (
            SELECT f.id AS facility_id, f.slug, f.name AS facility_name, m.role
            FROM memberships m JOIN facilities f ON f.id = m.facility_id
            WHERE m.user_id = p_user_id AND f.closed_at IS NULL
        )
        SELECT m.facility_id, m.slug, m.facility_name, m.role,
               (SELECT count(*)::int FROM m)
        FROM m
        WHERE p_slug IS NULL OR m.slug = p_slug
    $$;

------------------------------------------------------------------------------------------
-- privileges of the runtime role
------------------------------------------------------------------------------------------
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON FUNCTION resolve_membership(bigint, text) FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO packtrack_app;
GRANT EXECUTE ON FUNCTION resolve_membership(bigint, text) TO packtrack_app;
GRANT SELECT ON users TO packtrack_app;
GRANT UPDATE (totp_last_step) ON users TO packtrack_app;
GRANT SELECT ON ssh_keys TO packtrack_app;
GRANT UPDATE (last_used_at) ON ssh_keys TO packtrack_app;
GRANT SELECT, INSERT ON login_failures TO packtrack_app;
GRANT SELECT ON facilities TO packtrack_app;
GRANT SELECT ON memberships TO packtrack_app;
GRANT SELECT, INSERT, UPDATE ON recipients TO packtrack_app;
GRANT SELECT, INSERT, UPDATE ON packages TO packtrack_app;
GRANT SELECT, INSERT ON package_events TO packtrack_app;
GRANT SELECT, INSERT ON audit_log TO packtrack_app;
