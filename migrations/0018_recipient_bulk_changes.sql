-- Bulk changes reach every node's search index as the rows that changed (issue 17): the
-- trigger of 0016 now lists changed ids for up to 10,000 rows per facility and transaction
-- (was 1000; still at most 100 ids per notification, so at most 100 notifications, far below
-- NOTIFY's limits). A node reloads those rows in one query and applies them in one pass over
-- its index (`RecipientIndex::apply`, INDEX_UPDATE_MAX in src/ops/recipients_admin.rs is the
-- same number): measured at 100,000 recipients, a change of 10,000 rows is visible in every
-- node's search in 0.3 s (p50; at most 0.5 s), where 1,001 rows used to mean a rebuild and
-- 1.2 s (docs/SCALE.md).
-- Beyond 10,000 the payload is still the bare `recipients:<facility id>`, and nodes rebuild
-- beside the index in use, which keeps answering meanwhile.
--
-- Only the function changes; the triggers of 0016 call it by name.
CREATE OR REPLACE FUNCTION notify_recipients_changed() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public
    AS $$
DECLARE
    f bigint;
    n bigint;
    ids text;
    seen bigint;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- No rows to look at: every facility's index is stale.
        PERFORM pg_notify('packtrack_cache', 'recipients:*');
        RETURN NULL;
    END IF;
    FOR f, n IN SELECT facility_id, count(*) FROM changed_rows GROUP BY facility_id LOOP
        seen := coalesce(nullif(current_setting('packtrack.notified_' || f, true), ''), '0')::bigint + n;
        PERFORM set_config('packtrack.notified_' || f, seen::text, true);
        IF seen <= 10000 THEN
            FOR ids IN
                SELECT string_agg(id::text, ',' ORDER BY id)
                FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / 100 AS chunk
                      FROM changed_rows WHERE facility_id = f) c
                GROUP BY chunk
            LOOP
                PERFORM pg_notify('packtrack_cache', 'recipients:' || f || ':' || ids);
            END LOOP;
        ELSE
            PERFORM pg_notify('packtrack_cache', 'recipients:' || f);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
