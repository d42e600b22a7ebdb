-- Notifications: integrations (SMTP, SMS API, webhooks) with sealed secrets, and a
-- transactional outbox that intake and pickup write into in their own transaction.

CREATE TABLE integrations (
    facility_id     bigint NOT NULL REFERENCES facilities (id),
    id              bigint GENERATED ALWAYS AS IDENTITY,
    kind            text NOT NULL CHECK (kind IN ('smtp', 'sms', 'webhook')),
    url             text NOT NULL CHECK (length(url) BETWEEN 1 AND 500),
    sender          text,                   -- SMTP From address
    username        text,                   -- SMTP user / SMS account
    secret          bytea,                  -- sealed, facility id as associated data
    enabled         boolean NOT NULL DEFAULT true,
    last_error      text,
    last_error_at   timestamptz,
    last_success_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (facility_id, id)
);
-- One SMTP and one SMS configuration per facility; any number of webhooks.
CREATE UNIQUE INDEX integrations_one_smtp ON integrations (facility_id) WHERE kind = 'smtp';
CREATE UNIQUE INDEX integrations_one_sms ON integrations (facility_id) WHERE kind = 'sms';

-- How a recipient wants to hear about parcels.
ALTER TABLE recipients
    ADD COLUMN notify_email boolean NOT NULL DEFAULT true,
    ADD COLUMN notify_sms boolean NOT NULL DEFAULT false,
    ADD COLUMN quiet_start smallint CHECK (quiet_start BETWEEN 0 AND 23),
    ADD COLUMN quiet_end smallint CHECK (quiet_end BETWEEN 0 AND 23);

CREATE TABLE outbox (
    facility_id     bigint NOT NULL REFERENCES facilities (id),
    id              bigint GENERATED ALWAYS AS IDENTITY,
    -- Idempotency key for receivers (webhooks send it; a retry reuses it).
    delivery_id     uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    channel         text NOT NULL CHECK (channel IN ('email', 'sms', 'webhook')),
    integration_id  bigint,
    event           text NOT NULL,          -- intake, pickup, reminder
    package_id      bigint,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    PRIMARY KEY (facility_id, id),
    FOREIGN KEY (facility_id, integration_id) REFERENCES integrations (facility_id, id)
);
-- The worker's queue scan: due pending rows, oldest first.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_facility ON outbox (facility_id, status, created_at);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['integrations', 'outbox']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY facility_isolation ON %I USING (facility_id = current_facility()) '
                       'WITH CHECK (facility_id = current_facility())', t);
    END LOOP;
END
$$;

REVOKE ALL ON integrations, outbox FROM PUBLIC;
-- Sessions write outbox rows with their intake/pickup; facility admins configure
-- integrations and retry dead letters from their session (RLS keeps them to their
-- facility). The delivery worker serves every facility and runs as the owner.
GRANT SELECT, INSERT, UPDATE ON integrations TO packtrack_app;
GRANT SELECT, INSERT, UPDATE ON outbox TO packtrack_app;
