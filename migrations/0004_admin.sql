-- Facility admins manage their members from their session: change a role, disable a
-- membership (history stays; the member can no longer log in to this facility).

ALTER TABLE memberships ADD COLUMN disabled_at timestamptz;
GRANT UPDATE (role, disabled_at) ON memberships TO packtrack_app;

CREATE OR REPLACE FUNCTION resolve_membership(p_user_id bigint, p_slug text)
    RETURNS TABLE (facility_id bigint, slug text, facility_name text, role text, memberships int)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        WITH m AS (
            SELECT f.id AS facility_id, f.slug, f.name AS facility_name, m.role
            FROM memberships m JOIN facilities f ON f.id = m.facility_id
            WHERE m.user_id = p_user_id AND f.closed_at IS NULL AND m.disabled_at IS NULL
        )
        SELECT m.facility_id, m.slug, m.facility_name, m.role,
               (SELECT count(*)::int FROM m)
        FROM m
        WHERE p_slug IS NULL OR m.slug = p_slug
    $$;
