-- Time to pickup without sorting a year (issue 7, docs/REPORTS.md "pickup-time").
--
-- The report's median and 90th percentile are exact (`percentile_cont`). Over a year of a
-- busy facility that was a scan of ~920,000 pickups and a sort of as many waits: 390-550 ms
-- on a loaded 2-vCPU host, against a 500 ms budget. Now:
--
-- * `packages.wait_secs`: the wait from intake to pickup in seconds, kept by PostgreSQL.
-- * `pickup_wait_rollup`: per facility, UTC day of the pickup and wait bucket, how many
--   pickups. Kept by row triggers on packages that fire only when a pickup time or an
--   intake time changes (a pickup, a correction) or a picked-up row is inserted or deleted:
--   an intake (a waiting package) and a move never call them. The report checks each
--   bucket it reads against the rollup and falls back to the exact sort when they differ
--   (`rebuild_pickup_wait_rollup()` recounts; for data loaded with triggers disabled).
-- * The report adds the buckets of the range's whole UTC days from the rollup and counts
--   the range's partial days from the packages, finds the bucket holding each percentile's
--   rows, and reads only that bucket's waits, in order, from `packages_wait`.

ALTER TABLE packages ADD COLUMN wait_secs double precision
    GENERATED ALWAYS AS (extract(epoch FROM picked_up_at - received_at)::float8) STORED;

CREATE INDEX packages_wait ON packages (facility_id, wait_secs) INCLUDE (picked_up_at)
    WHERE picked_up_at IS NOT NULL;

-- Hours under two days, then 8-hour steps up to 60 days, then one bucket for the rest.
-- Must match `reports::wait_bucket_bounds`.
CREATE FUNCTION pickup_wait_bucket(secs double precision) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT CASE
            WHEN secs < 172800 THEN greatest(floor(secs / 3600), 0)::integer
            WHEN secs < 5184000 THEN 48 + floor((secs - 172800) / 28800)::integer
            ELSE 222
        END
    $$;

CREATE TABLE pickup_wait_rollup (
    facility_id bigint NOT NULL REFERENCES facilities (id),
    day         date NOT NULL,      -- UTC day of picked_up_at
    bucket      integer NOT NULL,   -- pickup_wait_bucket(wait_secs)
    n           integer NOT NULL,
    PRIMARY KEY (facility_id, day, bucket)
);

ALTER TABLE pickup_wait_rollup ENABLE ROW LEVEL SECURITY;
ALTER TABLE pickup_wait_rollup FORCE ROW LEVEL SECURITY;
CREATE POLICY facility_isolation ON pickup_wait_rollup
    USING (facility_id = current_facility()) WITH CHECK (facility_id = current_facility());
REVOKE ALL ON pickup_wait_rollup FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON pickup_wait_rollup TO packtrack_app;

-- One row changes the rollup by -1 at its old (day, bucket) and +1 at its new one. Row
-- triggers with a WHEN condition: PostgreSQL checks it without calling the function, so an
-- intake (picked_up_at NULL) or a move (wait unchanged) costs nothing.
CREATE FUNCTION pickup_wait_rollup_row() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.picked_up_at IS NOT NULL THEN
            INSERT INTO pickup_wait_rollup AS r (facility_id, day, bucket, n)
            VALUES (OLD.facility_id, (OLD.picked_up_at AT TIME ZONE 'UTC')::date,
                    pickup_wait_bucket(OLD.wait_secs), -1)
            ON CONFLICT (facility_id, day, bucket) DO UPDATE SET n = r.n - 1;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.picked_up_at IS NOT NULL THEN
            INSERT INTO pickup_wait_rollup AS r (facility_id, day, bucket, n)
            VALUES (NEW.facility_id, (NEW.picked_up_at AT TIME ZONE 'UTC')::date,
                    pickup_wait_bucket(NEW.wait_secs), 1)
            ON CONFLICT (facility_id, day, bucket) DO UPDATE SET n = r.n + 1;
        END IF;
        RETURN NULL;
    END
    $$;

CREATE TRIGGER pickup_wait_rollup_insert AFTER INSERT ON packages
    FOR EACH ROW WHEN (NEW.picked_up_at IS NOT NULL)
    EXECUTE FUNCTION pickup_wait_rollup_row();
CREATE TRIGGER pickup_wait_rollup_update AFTER UPDATE ON packages
    FOR EACH ROW WHEN (OLD.picked_up_at IS DISTINCT FROM NEW.picked_up_at
                       OR OLD.received_at IS DISTINCT FROM NEW.received_at)
    EXECUTE FUNCTION pickup_wait_rollup_row();
CREATE TRIGGER pickup_wait_rollup_delete AFTER DELETE ON packages
    FOR EACH ROW WHEN (OLD.picked_up_at IS NOT NULL)
    EXECUTE FUNCTION pickup_wait_rollup_row();

-- Recounts the rollup from the packages (all facilities; the owner only). For data loaded
-- with the triggers disabled (the benchmark's seed).
CREATE FUNCTION rebuild_pickup_wait_rollup() RETURNS bigint
    LANGUAGE sql
    AS $$
        DELETE FROM pickup_wait_rollup;
        INSERT INTO pickup_wait_rollup (facility_id, day, bucket, n)
        SELECT facility_id, (picked_up_at AT TIME ZONE 'UTC')::date,
               pickup_wait_bucket(wait_secs), count(*)
        FROM packages WHERE picked_up_at IS NOT NULL
        GROUP BY 1, 2, 3;
        SELECT count(*) FROM pickup_wait_rollup;
    $$;
REVOKE ALL ON FUNCTION rebuild_pickup_wait_rollup() FROM PUBLIC;

SELECT rebuild_pickup_wait_rollup();
