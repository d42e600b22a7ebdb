-- Credentials set in a facility's admin console are valid only in that facility (issue 13).
--
-- Before: a key or kiosk PIN a facility admin set in the console was the person's in every
-- facility, including ones they joined later (north's admin adds a key to bob; the host
-- adds bob to south; the key now logs in as bob+south, and south's audit chain never saw
-- it). Now:
--   * `ssh_keys.scope_facility_id` NULL: the person's key everywhere (only the host's admin
--     CLI adds those); non-NULL: valid only in that facility (the console adds those). The
--     column is not named `facility_id` on purpose: ssh_keys stays a global identity table.
--   * `member_pins`: a kiosk PIN set in the console, per membership, valid only at that
--     facility's kiosks. `users.pin_hash` (the CLI's `user set-pin`) stays the person's PIN
--     at every facility where no console PIN is set.
--   * TOTP is unchanged: it is a second factor that opens nothing without the password (or
--     a PIN), and only the host CLI sets passwords; replacing or resetting it would deny
--     service elsewhere, so the console still needs an admin of all the person's facilities.

ALTER TABLE ssh_keys ADD COLUMN scope_facility_id bigint REFERENCES facilities (id);
COMMENT ON COLUMN ssh_keys.scope_facility_id IS
    'NULL: valid in every facility of the user (admin CLI); else only in this facility (console)';

-- Keys the console registered before this migration: when every `key.add` row for that
-- key is a console row (actor is not the CLI) in one single facility, the key was set by
-- that facility's admin for a member of it only; it becomes valid there only. A key the CLI
-- added, or that the console audited in several facilities (the old rule let only an admin
-- of all of them do that), stays the person's everywhere.
UPDATE ssh_keys k SET scope_facility_id = s.facility_id
FROM (
    SELECT k2.id, min(a.facility_id) AS facility_id
    FROM ssh_keys k2
    JOIN users u ON u.id = k2.user_id
    JOIN audit_log a ON a.action = 'key.add' AND a.target = u.login
                    AND a.detail ->> 'fingerprint' = k2.fingerprint
    GROUP BY k2.id
    HAVING bool_and(a.actor <> 'cli') AND count(DISTINCT a.facility_id) = 1
) s
WHERE s.id = k.id;

CREATE TABLE member_pins (
    facility_id     bigint NOT NULL,
    user_id         bigint NOT NULL,
    pin_hash        text NOT NULL,        -- argon2id PHC string
    set_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (facility_id, user_id),
    FOREIGN KEY (facility_id, user_id) REFERENCES memberships (facility_id, user_id)
);
ALTER TABLE member_pins ENABLE ROW LEVEL SECURITY;
ALTER TABLE member_pins FORCE ROW LEVEL SECURITY;
CREATE POLICY facility_isolation ON member_pins USING (facility_id = current_facility())
    WITH CHECK (facility_id = current_facility());
-- The runtime role may see whose PIN is set here, never the hash: that is written and read
-- only through the SECURITY DEFINER functions below.
GRANT SELECT (facility_id, user_id, set_at) ON member_pins TO packtrack_app;

-- PINs the console set before this migration, by the same rule as keys: every `pin.set`
-- row of the person is a console row in one single facility.
WITH moved AS (
    SELECT u.id AS user_id, min(a.facility_id) AS facility_id
    FROM users u
    JOIN audit_log a ON a.action = 'pin.set' AND a.target = u.login
    WHERE u.pin_hash IS NOT NULL
    GROUP BY u.id
    HAVING bool_and(a.actor <> 'cli') AND count(DISTINCT a.facility_id) = 1
), ins AS (
    INSERT INTO member_pins (facility_id, user_id, pin_hash)
    SELECT mv.facility_id, mv.user_id, u.pin_hash
    FROM moved mv JOIN users u ON u.id = mv.user_id
    JOIN memberships m ON m.facility_id = mv.facility_id AND m.user_id = mv.user_id
    RETURNING user_id
)
UPDATE users SET pin_hash = NULL WHERE id IN (SELECT user_id FROM ins);

-- The login of a member of the current facility, or P0002. Unlike facility_member_login
-- (0008) it does not ask whether the acting admin administers the member's other
-- facilities: what is set through it is valid in this facility only.
CREATE FUNCTION facility_member(p_user_id bigint)
    RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        v_login text;
    BEGIN
        SELECT u.login INTO v_login FROM users u
            JOIN memberships m ON m.user_id = u.id AND m.facility_id = current_facility()
            WHERE u.id = p_user_id;
        IF v_login IS NULL THEN
            RAISE EXCEPTION 'not a member of this facility' USING ERRCODE = 'P0002';
        END IF;
        RETURN v_login;
    END
    $$;
REVOKE ALL ON FUNCTION facility_member(bigint) FROM PUBLIC;

-- Registers a key for a member, valid in this facility only, audited in this facility only.
-- Returns the new key's id, or NULL when this key is already registered (active or revoked,
-- whatever its scope) for that user.
CREATE OR REPLACE FUNCTION admin_add_ssh_key(p_user_id bigint, p_actor text,
                                             p_fingerprint text, p_algorithm text,
                                             p_public_key text, p_comment text)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        v_login text := facility_member(p_user_id);
        v_id bigint;
    BEGIN
        INSERT INTO ssh_keys (user_id, fingerprint, algorithm, public_key, comment,
                              scope_facility_id)
            VALUES (p_user_id, p_fingerprint, p_algorithm, p_public_key, p_comment,
                    current_facility())
            ON CONFLICT (fingerprint, user_id) DO NOTHING
            RETURNING id INTO v_id;
        IF v_id IS NOT NULL THEN
            INSERT INTO audit_log (facility_id, actor, action, target, detail)
            VALUES (current_facility(), p_actor, 'key.add', v_login,
                    jsonb_build_object('fingerprint', p_fingerprint, 'algorithm', p_algorithm,
                                       'comment', p_comment, 'valid_in', 'this facility'));
        END IF;
        RETURN v_id;
    END
    $$;

-- Revokes a member's key (it stays on record, disabled). A key valid in this facility only
-- is this facility's business; a key valid everywhere may be revoked only by an admin of all
-- the member's facilities (revoking it there is a denial of service elsewhere), and the
-- revocation is audited in all of them. Returns the fingerprint, or NULL when the key was
-- already revoked, or is not a key of a member of this facility valid here.
CREATE OR REPLACE FUNCTION admin_revoke_ssh_key(p_key_id bigint, p_actor text)
    RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        v_user bigint;
        v_fp text;
        v_scope bigint;
        v_login text;
    BEGIN
        UPDATE ssh_keys k SET disabled_at = now()
            WHERE k.id = p_key_id AND k.disabled_at IS NULL
              AND (k.scope_facility_id IS NULL OR k.scope_facility_id = current_facility())
              AND EXISTS (SELECT 1 FROM memberships m
                          WHERE m.user_id = k.user_id AND m.facility_id = current_facility())
            RETURNING k.user_id, k.fingerprint, k.scope_facility_id
            INTO v_user, v_fp, v_scope;
        IF v_user IS NULL THEN
            RETURN NULL;
        END IF;
        IF v_scope IS NULL THEN
            v_login := facility_member_login(v_user, p_actor);
            PERFORM audit_user_change(v_user, p_actor, 'key.revoke', v_login,
                jsonb_build_object('fingerprint', v_fp, 'valid_in', 'all facilities'));
        ELSE
            v_login := facility_member(v_user);
            INSERT INTO audit_log (facility_id, actor, action, target, detail)
            VALUES (current_facility(), p_actor, 'key.revoke', v_login,
                    jsonb_build_object('fingerprint', v_fp, 'valid_in', 'this facility'));
        END IF;
        RETURN v_fp;
    END
    $$;

-- Sets a member's kiosk PIN for this facility's kiosks (an argon2id PHC string made by the
-- application), audited in this facility only.
CREATE FUNCTION admin_set_member_pin(p_user_id bigint, p_actor text, p_pin_hash text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        v_login text := facility_member(p_user_id);
    BEGIN
        INSERT INTO member_pins (facility_id, user_id, pin_hash)
            VALUES (current_facility(), p_user_id, p_pin_hash)
            ON CONFLICT (facility_id, user_id)
            DO UPDATE SET pin_hash = EXCLUDED.pin_hash, set_at = now();
        INSERT INTO audit_log (facility_id, actor, action, target, detail)
        VALUES (current_facility(), p_actor, 'pin.set', v_login,
                jsonb_build_object('valid_in', 'this facility'));
    END
    $$;

-- The PIN hash that unlocks `p_login` at a kiosk of `p_facility`: the one set for that
-- membership in the console, else the person's own (admin CLI), else NULL. Only the kiosk
-- unlock reads it, with the device's facility (from the device key, never typed).
CREATE FUNCTION kiosk_pin_hash(p_login text, p_facility bigint)
    RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT coalesce(p.pin_hash, u.pin_hash)
        FROM users u
        LEFT JOIN member_pins p ON p.user_id = u.id AND p.facility_id = p_facility
        WHERE u.login = p_login
    $$;

REVOKE ALL ON FUNCTION admin_set_member_pin(bigint, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION kiosk_pin_hash(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION admin_set_member_pin(bigint, text, text) TO packtrack_app;
GRANT EXECUTE ON FUNCTION kiosk_pin_hash(text, bigint) TO packtrack_app;
-- The runtime role no longer sets anyone's all-facilities PIN (0008's admin_set_pin).
REVOKE EXECUTE ON FUNCTION admin_set_pin(bigint, text, text) FROM packtrack_app;
