-- Cache coherence: every server keeps an in-memory search index per facility, built from
-- `recipients`. Any process may change those rows (a server, another node, the admin CLI, a
-- migration), so the database itself announces each change: one NOTIFY on the global channel
-- `packtrack_cache` per facility touched, payload `recipients:<facility id>`. Each server
-- LISTENs on it (src/live.rs) and marks that facility's index stale.
--
-- While a transaction has changed at most 1000 of a facility's rows, the payloads also list
-- the ids, `recipients:<facility id>:<id>,<id>,…` (at most 100 per notification, far below
-- NOTIFY's 8000-byte limit), so a node reloads just those rows: reloading a 100k-row
-- facility whole takes a node about half a second (docs/SCALE.md). Past 1000 (a
-- transaction-local counter per facility; the node's own limit, INDEX_UPDATE_MAX, is the
-- same) the payload is the bare `recipients:<facility id>`, which PostgreSQL folds into one
-- per transaction, and nodes rebuild: an import of 100k rows, one statement per row, sends
-- at most 1001 notifications.
--
-- Statement-level triggers: one notification per statement and facility, not per row.
-- NOTIFY is delivered at commit, never for a rolled-back transaction.
--
-- PostgreSQL allows transition tables only on single-event triggers, hence one trigger per
-- event, all sharing this function through the transition table name `changed_rows`.
CREATE FUNCTION notify_recipients_changed() RETURNS trigger
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
        IF seen <= 1000 THEN
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

CREATE TRIGGER recipients_notify_insert AFTER INSERT ON recipients
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION notify_recipients_changed();
-- `facility_id` is part of the key and never moves, so the new rows name every facility.
CREATE TRIGGER recipients_notify_update AFTER UPDATE ON recipients
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION notify_recipients_changed();
CREATE TRIGGER recipients_notify_delete AFTER DELETE ON recipients
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION notify_recipients_changed();
CREATE TRIGGER recipients_notify_truncate AFTER TRUNCATE ON recipients
    FOR EACH STATEMENT EXECUTE FUNCTION notify_recipients_changed();
