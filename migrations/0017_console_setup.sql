-- Setup without the host's shell (issue 16): facility admins add members from the console.
--
-- A new user, their membership of the transaction's facility and, when given, their first
-- password (an argon2id hash); a first key goes through admin_add_ssh_key (0011) in the same
-- transaction, valid in this facility only. The runtime role has no write grant on `users`,
-- so this SECURITY DEFINER function does it, for `current_facility()` only and only for a
-- login nobody has: a person who exists (here or in another facility) is never taken over
-- from a console, they are added to more facilities by the host's admin CLI. The acting
-- admin is checked here too, behind the application's own role check.
CREATE FUNCTION admin_add_member(p_actor text, p_login text, p_display_name text,
                                 p_role text, p_password_hash text)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
        v_facility bigint := current_facility();
        v_id bigint;
    BEGIN
        IF v_facility IS NULL OR NOT EXISTS (
            SELECT 1 FROM memberships a JOIN users u ON u.id = a.user_id
            WHERE u.login = p_actor AND a.facility_id = v_facility
              AND a.role = 'admin' AND a.disabled_at IS NULL AND u.disabled_at IS NULL)
        THEN
            RAISE EXCEPTION 'only an admin of this facility adds members' USING ERRCODE = 'PT403';
        END IF;
        INSERT INTO users (login, display_name, password_hash)
            VALUES (p_login, p_display_name, p_password_hash)
            ON CONFLICT (login) DO NOTHING
            RETURNING id INTO v_id;
        IF v_id IS NULL THEN
            RAISE EXCEPTION 'the login % is taken', p_login USING ERRCODE = 'PT409';
        END IF;
        INSERT INTO memberships (facility_id, user_id, role) VALUES (v_facility, v_id, p_role);
        INSERT INTO audit_log (facility_id, actor, action, target, detail)
        VALUES (v_facility, p_actor, 'user.add', p_login,
                jsonb_build_object('role', p_role,
                                   'password_set', p_password_hash IS NOT NULL,
                                   'via', 'console'));
        RETURN v_id;
    END
    $$;
REVOKE ALL ON FUNCTION admin_add_member(text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION admin_add_member(text, text, text, text, text) TO packtrack_app;
