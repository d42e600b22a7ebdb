-- Reports (issue 7): each report reads one facility's packages by a time range — received
-- (daily log, carrier volume, staff) or picked up (daily log, time to pickup, staff). These
-- two indexes lead with facility_id, then the range column, and carry the other columns
-- those reports read, so a range is one index-only scan (see docs/REPORTS.md). The
-- conditions are plain bigint equality and timestamptz ranges (leakproof operators), so the
-- planner uses them under row level security like any other index. The aging report uses
-- packages_status_received (facility_id, status, received_at) from 0001.
CREATE INDEX packages_received_range ON packages (facility_id, received_at)
    INCLUDE (carrier, received_by);
CREATE INDEX packages_picked_up_range ON packages (facility_id, picked_up_at)
    INCLUDE (received_at, picked_up_by)
    WHERE picked_up_at IS NOT NULL;
