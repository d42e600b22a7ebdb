-- Issue 13 item 10: audit digests that cannot collide across field boundaries.
--
-- Digest version 1 (0001_schema.sql) joins the fields with a 0x1F separator, which a field
-- may itself contain: actor 'a<US>b' + action 'c' and actor 'a' + action 'b<US>c' hash
-- alike, so bytes could be moved from one field into the next without breaking the chain.
-- Version 2 prefixes every field with its length. Rows written before this migration keep
-- version 1 (their hashes cannot change without breaking every later link) and still verify
-- with the old function; the trigger writes version 2 from now on.

-- One field of a version 2 digest: its octet count (8 bytes, big-endian), then its bytes.
CREATE FUNCTION audit_field(b bytea) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT int8send(octet_length(b)::bigint) || b $$;

CREATE FUNCTION audit_digest_v2(prev bytea, facility bigint, seq bigint, at timestamptz,
                                actor text, action text, target text, detail jsonb)
    RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT sha256(
            convert_to('packtrack-audit-v2', 'UTF8') ||
            audit_field(prev) ||
            audit_field(int8send(facility)) ||
            audit_field(int8send(seq)) ||
            audit_field(int8send((extract(epoch FROM at) * 1000000)::bigint)) ||
            audit_field(convert_to(actor, 'UTF8')) ||
            audit_field(convert_to(action, 'UTF8')) ||
            audit_field(convert_to(target, 'UTF8')) ||
            audit_field(convert_to(detail::text, 'UTF8')))
    $$;

-- Which digest function a row was hashed with. Existing rows: 1; the trigger sets 2.
ALTER TABLE audit_log ADD COLUMN digest smallint NOT NULL DEFAULT 1 CHECK (digest IN (1, 2));
ALTER TABLE audit_log ALTER COLUMN digest SET DEFAULT 2;

-- The digest of a row under its own version; what `admin audit verify` and the admin
-- scorecard recompute. NULL for an unknown version (which then does not verify).
CREATE FUNCTION audit_entry_digest(version smallint, prev bytea, facility bigint, seq bigint,
                                   at timestamptz, actor text, action text, target text,
                                   detail jsonb)
    RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT CASE version
            WHEN 1 THEN audit_digest(prev, facility, seq, at, actor, action, target, detail)
            WHEN 2 THEN audit_digest_v2(prev, facility, seq, at, actor, action, target, detail)
        END
    $$;

CREATE OR REPLACE FUNCTION audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
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
    -- Whatever the writer asked for: a new row never uses the old digest.
    NEW.digest := 2;
    NEW.hash := audit_digest_v2(NEW.prev_hash, NEW.facility_id, NEW.seq, NEW.at,
                                NEW.actor, NEW.action, NEW.target, NEW.detail);
    RETURN NEW;
END
$$;
