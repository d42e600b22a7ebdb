-- Issue 18: every backup and restore drill (`admin backup`, `admin backup verify`, the
-- scheduled backups of `serve`) leaves one row, so the security scorecard can show when the
-- last verified restore happened and whether the last backup failed. Installation-wide, not
-- tenant data: no facility_id, no RLS; the runtime role gets no grant on the table, only the
-- summary function below.

CREATE TABLE backup_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL CHECK (kind IN ('backup', 'verify')),
    ok          boolean NOT NULL,
    file        text,
    detail      text NOT NULL,
    duration_ms bigint NOT NULL,
    packages    bigint
);
CREATE INDEX backup_runs_kind_id ON backup_runs (kind, id DESC);

-- The newest run of each kind, for the scorecard (read by the runtime role).
CREATE FUNCTION backup_status()
    RETURNS TABLE (kind text, at timestamptz, ok boolean, detail text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT DISTINCT ON (r.kind) r.kind, r.at, r.ok, r.detail
        FROM backup_runs r ORDER BY r.kind, r.id DESC
    $$;
REVOKE ALL ON FUNCTION backup_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION backup_status() TO packtrack_app;
