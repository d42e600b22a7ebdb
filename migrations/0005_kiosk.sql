-- Kiosk terminals: devices with their own SSH key, bound to one facility. Staff unlock a
-- kiosk with their PIN; what they do there is attributed to them and to the device.

CREATE TABLE devices (
    facility_id       bigint NOT NULL REFERENCES facilities (id),
    id                bigint GENERATED ALWAYS AS IDENTITY,
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    fingerprint       text NOT NULL UNIQUE,
    public_key        text NOT NULL,
    self_service      boolean NOT NULL DEFAULT false,
    quarantined_at    timestamptz,
    quarantine_reason text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    last_used_at      timestamptz,
    PRIMARY KEY (facility_id, id),
    UNIQUE (facility_id, name)
);

ALTER TABLE devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE devices FORCE ROW LEVEL SECURITY;
CREATE POLICY facility_isolation ON devices USING (facility_id = current_facility())
    WITH CHECK (facility_id = current_facility());
REVOKE ALL ON devices FROM PUBLIC;
GRANT SELECT ON devices TO packtrack_app;
GRANT UPDATE (last_used_at) ON devices TO packtrack_app;

ALTER TABLE package_events ADD COLUMN device_id bigint;
ALTER TABLE package_events ADD FOREIGN KEY (facility_id, device_id)
    REFERENCES devices (facility_id, id);

-- Device login: `kiosk+SLUG` with the device key. Like resolve_membership, the only
-- cross-facility read the runtime role gets, and only the row it needs.
CREATE FUNCTION resolve_device(p_slug text, p_fingerprint text)
    RETURNS TABLE (facility_id bigint, slug text, facility_name text, device_id bigint,
                   device_name text, public_key text, quarantined boolean, self_service boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT f.id, f.slug, f.name, d.id, d.name, d.public_key,
               d.quarantined_at IS NOT NULL, d.self_service
        FROM devices d JOIN facilities f ON f.id = d.facility_id
        WHERE f.slug = p_slug AND d.fingerprint = p_fingerprint AND f.closed_at IS NULL
    $$;
REVOKE ALL ON FUNCTION resolve_device(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION resolve_device(text, text) TO packtrack_app;
