-- Cache coherence: every server keeps an in-memory search index per facility, built from
-- `recipients`. Any process may change those rows (a server, another node, the admin CLI, a
-- migration), so the database itself announces each change: one NOTIFY on the global channel
-- `packtrack_cache` per facility touched, payload `recipients:<facility id>`. Each server
-- LISTENs on it (src/live.rs) and marks that facility's index stale.
--
-- While a transaction has changed at most 100 of a facility's rows, each statement's payload
-- also lists the ids, `recipients:<facility id>:<id>,<id>,…`, so a node reloads just those
-- rows (reloading a 100k-row facility whole takes about a third of a second). Past 100 (a
-- transaction-local counter per facility) the payload is the bare `recipients:<facility id>`,
-- which PostgreSQL folds into one per transaction, and nodes rebuild: an import of 100k rows,
-- one statement per row, sends at most 101 notifications. 100 ids stay far below NOTIFY's
-- 8000-byte payload limit.
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
    FOR f, n, ids IN
        SELECT facility_id, count(*),
               CASE WHEN count(*) <= 100 THEN string_agg(id::text, ',' ORDER BY id) END
        FROM changed_rows GROUP BY facility_id
    LOOP
        seen := coalesce(nullif(current_setting('packtrack.notified_' || f, true), ''), '0')::bigint + n;
        PERFORM set_config('packtrack.notified_' || f, seen::text, true);
        IF seen <= 100 THEN
            PERFORM pg_notify('packtrack_cache', 'recipients:' || f || ':' || ids);
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
