-- PACKAGES (psql variable `packages`) parcels in facility `bench`, each with a `received`
-- event and 80 % picked up with a `picked_up` event; deterministic. Used by
-- scripts/backup-bench.sh and scripts/pitr-bench.sh:
--   packtrack admin psql -- -q -v ON_ERROR_STOP=1 -v packages=N -f scripts/seed-packages.sql
INSERT INTO packages (facility_id, tracking, carrier, status, location, received_at,
                      picked_up_at, picked_up_name)
SELECT f.id, 'BK' || i, 'ups', CASE WHEN i % 10 < 8 THEN 'picked_up' ELSE 'waiting' END,
       'Shelf ' || (i % 40), now() - make_interval(secs => i),
       CASE WHEN i % 10 < 8 THEN now() - make_interval(secs => i) + interval '1 hour' END,
       CASE WHEN i % 10 < 8 THEN 'Recipient ' || (i % 5000) END
FROM facilities f, generate_series(1, :packages) i WHERE f.slug = 'bench';
INSERT INTO package_events (facility_id, package_id, kind, source, location, at)
SELECT facility_id, id, 'received', 'bench', location, received_at FROM packages;
INSERT INTO package_events (facility_id, package_id, kind, source, at)
SELECT facility_id, id, 'picked_up', 'bench', picked_up_at FROM packages
WHERE status = 'picked_up';
VACUUM ANALYZE packages, package_events;
