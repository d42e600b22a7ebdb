-- Admin console tabs (issue 6): a facility admin manages, from their own session, the SSH
-- keys and TOTP of their facility's members, the facility's settings, and retries of dead
-- notifications.
--
-- Users and their keys are global (a person may belong to several facilities), so the
-- runtime role gets no write grant on them. Instead these SECURITY DEFINER functions change
-- only users who are members of the transaction's facility (`current_facility()`), and
-- write the audit row into every facility the user belongs to, like the admin CLI does:
-- each facility's admins see what changed about their staff. Role checks (admins only) are
-- made by the application before it calls them, as for every other tenant write.

-- Audit rows for a user-level change in each facility the user belongs to.
CREATE FUNCTION audit_user_change(p_user_id bigint, p_actor text, p_action text,
                                  p_target text, p_detail jsonb)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        INSERT INTO audit_log (facility_id, actor, action, target, detail)
        SELECT m.facility_id, p_actor, p_action, p_target, p_detail
        FROM memberships m WHERE m.user_id = p_user_id ORDER BY m.facility_id
    $$;
REVOKE ALL ON FUNCTION audit_user_change(bigint, text, text, text, jsonb) FROM PUBLIC;

-- The login of a member of the current facility whose keys and TOTP the acting admin may
-- change, or an error. Keys and TOTP are the user's, in every facility they belong to: an
-- admin of this facility must also administer each other facility of that user (else adding
-- a key or enrolling TOTP would let them sign in as that user where they have no say).
CREATE FUNCTION facility_member_login(p_user_id bigint, p_actor text)
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
        IF EXISTS (
            SELECT 1 FROM memberships m
            WHERE m.user_id = p_user_id AND m.facility_id <> current_facility()
              AND NOT EXISTS (
                  SELECT 1 FROM memberships a JOIN users u ON u.id = a.user_id
                  WHERE u.login = p_actor AND a.facility_id = m.facility_id
                    AND a.role = 'admin' AND a.disabled_at IS NULL))
        THEN
            RAISE EXCEPTION '% also belongs to a facility you do not administer', v_login
                USING ERRCODE = 'PT403';
        END IF;
        RETURN v_login;
    END
    $$;
REVOKE ALL ON FUNCTION facility_member_login(bigint, text) FROM PUBLIC;

-- Registers a key for a member. Returns the new key's id, or NULL when this key is already
-- registered (active or revoked) for that user.
CREATE FUNCTION admin_add_ssh_key(p_user_id bigint, p_actor text, p_fingerprint text,
                                  p_algorithm text, p_public_key text, p_comment text)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        v_login text := facility_member_login(p_user_id, p_actor);
        v_id bigint;
    BEGIN
        INSERT INTO ssh_keys (user_id, fingerprint, algorithm, public_key, comment)
            VALUES (p_user_id, p_fingerprint, p_algorithm, p_public_key, p_comment)
            ON CONFLICT (fingerprint, user_id) DO NOTHING
            RETURNING id INTO v_id;
        IF v_id IS NOT NULL THEN
            PERFORM audit_user_change(p_user_id, p_actor, 'key.add', v_login,
                jsonb_build_object('fingerprint', p_fingerprint, 'algorithm', p_algorithm,
                                   'comment', p_comment));
        END IF;
        RETURN v_id;
    END
    $$;

-- Revokes a member's key (it stays on record, disabled). Returns the fingerprint, or NULL
-- when the key was already revoked or does not belong to a member of this facility.
CREATE FUNCTION admin_revoke_ssh_key(p_key_id bigint, p_actor text)
    RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        v_user bigint;
        v_fp text;
        v_login text;
    BEGIN
        UPDATE ssh_keys k SET disabled_at = now()
            WHERE k.id = p_key_id AND k.disabled_at IS NULL
              AND EXISTS (SELECT 1 FROM memberships m
                          WHERE m.user_id = k.user_id AND m.facility_id = current_facility())
            RETURNING k.user_id, k.fingerprint INTO v_user, v_fp;
        IF v_user IS NULL THEN
            RETURN NULL;
        END IF;
        v_login := facility_member_login(v_user, p_actor);
        PERFORM audit_user_change(v_user, p_actor, 'key.revoke', v_login,
            jsonb_build_object('fingerprint', v_fp));
        RETURN v_fp;
    END
    $$;

-- Stores a member's sealed TOTP secret after the enrollment was confirmed with a first
-- code (`p_step`, so that code cannot be replayed at login).
CREATE FUNCTION admin_set_totp(p_user_id bigint, p_actor text, p_sealed bytea, p_step bigint)
    RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        v_login text := facility_member_login(p_user_id, p_actor);
    BEGIN
        UPDATE users SET totp_secret = p_sealed, totp_last_step = p_step WHERE id = p_user_id;
        PERFORM audit_user_change(p_user_id, p_actor, 'totp.enroll', v_login,
            jsonb_build_object('confirmed', true));
    END
    $$;

-- Removes a member's TOTP secret, with the admin's reason. Returns false when none was set.
CREATE FUNCTION admin_reset_totp(p_user_id bigint, p_actor text, p_reason text)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        v_login text := facility_member_login(p_user_id, p_actor);
        v_n int;
    BEGIN
        UPDATE users SET totp_secret = NULL, totp_last_step = NULL
            WHERE id = p_user_id AND totp_secret IS NOT NULL;
        GET DIAGNOSTICS v_n = ROW_COUNT;
        IF v_n = 0 THEN
            RETURN false;
        END IF;
        PERFORM audit_user_change(p_user_id, p_actor, 'totp.reset', v_login,
            jsonb_build_object('reason', p_reason));
        RETURN true;
    END
    $$;

-- The facilities a member of the current facility belongs to, so that a revoked key or a
-- reset TOTP ends their sessions in each of them (the changes above are allowed only to an
-- admin of all of them).
CREATE FUNCTION member_facilities(p_user_id bigint)
    RETURNS SETOF bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT m.facility_id FROM memberships m
        WHERE m.user_id = p_user_id
          AND EXISTS (SELECT 1 FROM memberships c
                      WHERE c.user_id = p_user_id AND c.facility_id = current_facility())
        ORDER BY m.facility_id
    $$;
REVOKE ALL ON FUNCTION member_facilities(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION member_facilities(bigint) TO packtrack_app;

-- Sets a member's kiosk unlock PIN (an argon2id PHC string made by the application).
CREATE FUNCTION admin_set_pin(p_user_id bigint, p_actor text, p_pin_hash text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        v_login text := facility_member_login(p_user_id, p_actor);
    BEGIN
        UPDATE users SET pin_hash = p_pin_hash WHERE id = p_user_id;
        PERFORM audit_user_change(p_user_id, p_actor, 'pin.set', v_login, '{}'::jsonb);
    END
    $$;

REVOKE ALL ON FUNCTION admin_set_pin(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION admin_set_pin(bigint, text, text) TO packtrack_app;
REVOKE ALL ON FUNCTION admin_add_ssh_key(bigint, text, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION admin_revoke_ssh_key(bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION admin_set_totp(bigint, text, bytea, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION admin_reset_totp(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION admin_add_ssh_key(bigint, text, text, text, text, text) TO packtrack_app;
GRANT EXECUTE ON FUNCTION admin_revoke_ssh_key(bigint, text) TO packtrack_app;
GRANT EXECUTE ON FUNCTION admin_set_totp(bigint, text, bytea, bigint) TO packtrack_app;
GRANT EXECUTE ON FUNCTION admin_reset_totp(bigint, text, text) TO packtrack_app;

-- Facility settings: the name, time zone and settings document of the session's own
-- facility (row level security keeps the update to it).
GRANT UPDATE (name, time_zone, settings) ON facilities TO packtrack_app;
