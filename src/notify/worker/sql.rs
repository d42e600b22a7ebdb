//! The worker's statements: claiming due rows, recording outcomes, the reminder sweep and
//! pruning of old rows.

pub(super) const CLAIM: &str = "\
    WITH due AS ( \
        SELECT facility_id, id FROM outbox \
        WHERE status = 'pending' AND next_attempt_at <= now() \
          AND (integration_id IS NULL OR integration_id <> ALL($3)) \
        ORDER BY next_attempt_at LIMIT $1 \
        FOR UPDATE SKIP LOCKED \
    ), claimed AS ( \
        UPDATE outbox o SET attempts = o.attempts + 1, \
               next_attempt_at = now() + make_interval(secs => $2) \
        FROM due WHERE o.facility_id = due.facility_id AND o.id = due.id \
        RETURNING o.facility_id, o.id, o.delivery_id::text AS delivery_id, o.channel, \
                  o.integration_id, o.event, o.payload, o.attempts \
    ) \
    SELECT c.facility_id, c.id, c.integration_id, c.delivery_id, c.channel, c.event, \
           c.payload, c.attempts, \
           i.kind, i.enabled, i.url, i.sender, i.username, i.secret, i.include_pickup_code, \
           f.slug AS facility_slug, f.name AS facility_name \
    FROM claimed c \
    JOIN facilities f ON f.id = c.facility_id \
    LEFT JOIN integrations i ON i.facility_id = c.facility_id AND i.id = c.integration_id";

/// Delivered: the row, and the integration's last success (written at most once a second
/// per integration, so a busy webhook does not turn into a hot row).
pub(super) const DELIVERED: &str = "\
    WITH o AS ( \
        UPDATE outbox SET status = 'delivered', delivered_at = now(), last_error = NULL \
        WHERE facility_id = $1 AND id = $2 AND status = 'pending' AND attempts = $3 \
        RETURNING facility_id, integration_id \
    ), i AS ( \
        UPDATE integrations i SET last_success_at = now() FROM o \
        WHERE i.facility_id = o.facility_id AND i.id = o.integration_id \
          AND (i.last_success_at IS NULL OR i.last_success_at < now() - interval '1 second') \
    ) \
    SELECT count(*) FROM o";

/// Failed: rescheduled (`$4` false) after `$5` seconds, or dead; the error on the row and on
/// the integration (there only when it is a different error or a second has passed: with a
/// receiver down every queued row fails, and the integration, which every intake reads,
/// must not become a hot row).
pub(super) const FAILED: &str = "\
    WITH o AS ( \
        UPDATE outbox SET \
            status = CASE WHEN $4 THEN 'dead' ELSE 'pending' END, \
            next_attempt_at = CASE WHEN $4 THEN now() \
                                   ELSE now() + make_interval(secs => $5) END, \
            last_error = $6 \
        WHERE facility_id = $1 AND id = $2 AND status = 'pending' AND attempts = $3 \
        RETURNING facility_id, integration_id \
    ), i AS ( \
        UPDATE integrations i SET last_error = $6, last_error_at = now() FROM o \
        WHERE i.facility_id = o.facility_id AND i.id = o.integration_id \
          AND (i.last_error_at IS NULL OR i.last_error_at < now() - interval '1 second' \
               OR i.last_error IS DISTINCT FROM $6) \
    ) \
    SELECT count(*) FROM o";

/// Quiet hours: back to the queue until `$4`, the claim's attempt given back.
pub(super) const POSTPONED: &str = "\
    UPDATE outbox SET attempts = attempts - 1, next_attempt_at = $4 \
    WHERE facility_id = $1 AND id = $2 AND status = 'pending' AND attempts = $3";

/// A facility setting in days: a small non-negative integer, else the default `$n`.
macro_rules! days_setting {
    ($key:literal, $default:literal) => {
        concat!(
            "CASE WHEN f.settings->>'",
            $key,
            "' ~ '^[0-9]{1,4}$' THEN (f.settings->>'",
            $key,
            "')::int ELSE ",
            $default,
            "::int END"
        )
    };
}

/// Reminders: the facility's schedule is `reminder_schedule` (days after intake, e.g.
/// `[3, 7]`, as the admin console saves it) or else the single `reminder_days`. A waiting
/// package that has had n reminders is due for the next when it has waited the schedule's
/// (n+1)th number of days; it gets a `reminded` custody event and one outbox row per channel
/// the recipient wants (same payload shape as [`super::enqueue`]).
pub(super) const REMIND: &str = concat!(
    "WITH due AS ( \
        SELECT p.facility_id, p.id, p.recipient_id, d.days, f.slug \
        FROM facilities f \
        CROSS JOIN LATERAL (SELECT CASE \
            WHEN jsonb_typeof(f.settings->'reminder_schedule') = 'array' THEN ARRAY( \
                SELECT x::int FROM jsonb_array_elements_text(f.settings->'reminder_schedule') x \
                WHERE x ~ '^[0-9]{1,4}$' AND x::int > 0 ORDER BY x::int) \
            ELSE ARRAY[",
    days_setting!("reminder_days", "$1"),
    "] END AS sched) s \
        JOIN packages p ON p.facility_id = f.id \
        CROSS JOIN LATERAL (SELECT count(*)::int AS sent FROM package_events e \
                            WHERE e.facility_id = p.facility_id AND e.package_id = p.id \
                              AND e.kind = 'reminded') r \
        CROSS JOIN LATERAL (SELECT s.sched[r.sent + 1] AS days) d \
        WHERE f.closed_at IS NULL AND coalesce(s.sched[1], 0) > 0 AND d.days > 0 \
          AND p.status = 'waiting' AND p.recipient_id IS NOT NULL \
          AND p.received_at <= now() - make_interval(days => d.days) \
        ORDER BY p.received_at LIMIT $2 \
    ), events AS ( \
        INSERT INTO package_events (facility_id, package_id, kind, source, detail) \
        SELECT facility_id, id, 'reminded', 'notify', jsonb_build_object('after_days', days) \
        FROM due RETURNING 1 \
    ), queued AS ( \
        INSERT INTO outbox (facility_id, channel, integration_id, event, package_id, payload) \
        SELECT i.facility_id, CASE i.kind WHEN 'smtp' THEN 'email' ELSE i.kind END, i.id, \
               'reminder', p.id, \
               jsonb_build_object( \
                   'event', 'reminder', 'facility', due.slug, \
                   'package', jsonb_build_object( \
                       'id', p.id, 'tracking', p.tracking, 'carrier', p.carrier, \
                       'status', p.status, 'location', p.location, \
                       'pickup_code', p.pickup_code, 'received_at', p.received_at, \
                       'picked_up_at', p.picked_up_at), \
                   'recipient', jsonb_build_object( \
                       'id', r.id, 'name', r.name, 'unit', r.unit, 'email', r.email, \
                       'phone', r.phone, 'quiet_start', r.quiet_start, \
                       'quiet_end', r.quiet_end)) \
        FROM due \
        JOIN packages p ON p.facility_id = due.facility_id AND p.id = due.id \
        JOIN recipients r ON r.facility_id = due.facility_id AND r.id = due.recipient_id \
        JOIN integrations i ON i.facility_id = due.facility_id AND i.enabled \
        WHERE r.active AND ( \
              (i.kind = 'smtp' AND r.email IS NOT NULL AND r.notify_email) \
           OR (i.kind = 'sms' AND r.phone IS NOT NULL AND r.notify_sms)) \
        RETURNING 1 \
    ) \
    SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM queued)"
);

/// Settled rows past the facility's retention (`notification_retention_days`, at least 1).
pub(super) const PRUNE: &str = concat!(
    "WITH old AS ( \
        SELECT o.facility_id, o.id FROM outbox o JOIN facilities f ON f.id = o.facility_id \
        WHERE o.status IN ('delivered', 'dead') \
          AND o.created_at < now() - make_interval(days => greatest(1, ",
    days_setting!("notification_retention_days", "$1"),
    ")) \
        LIMIT $2 \
    ) \
    DELETE FROM outbox o USING old WHERE o.facility_id = old.facility_id AND o.id = old.id"
);

/// Only one server sends reminders at a time (two would both find a package unreminded).
pub(super) const REMINDER_LOCK: i64 = 0x7061_636b_7472_6b01;
