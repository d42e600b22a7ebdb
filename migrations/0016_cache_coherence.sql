-- Cache coherence: every server keeps an in-memory search index per facility, built from
-- `recipients`. Any process may change those rows (a server, another node, the admin CLI, a
-- migration), so the database itself announces each change: one NOTIFY on the global channel
-- `packtrack_cache` per facility touched, payload `recipients:<facility id>`. Each server
-- LISTENs on it (src/live.rs) and marks that facility's index stale.
--
-- Statement-level triggers: one notification per statement and facility, not per row (an
-- import of 100k rows sends one). NOTIFY is delivered at commit, never for a rolled-back
-- transaction, and identical payloads within one transaction are folded into one, so a
-- transaction that runs many statements on one facility still notifies once.
--
-- PostgreSQL allows transition tables only on single-event triggers, hence one trigger per
-- event, all sharing this function through the transition table name `changed_rows`.
CREATE FUNCTION notify_recipients_changed() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public
    AS $$
DECLARE
    f bigint;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- No rows to look at: every facility's index is stale.
        PERFORM pg_notify('packtrack_cache', 'recipients:*');
        RETURN NULL;
    END IF;
    FOR f IN SELECT DISTINCT facility_id FROM changed_rows LOOP
        PERFORM pg_notify('packtrack_cache', 'recipients:' || f);
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
