//! What every screen shares: cancel paths, permissions, live updates, quitting, help, the admin console and the kiosk lock.

use super::*;

#[test]
fn cancel_paths_go_back_step_by_step() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    typed(&mut m, "1Z5R89390357567127");
    update(&mut m, key(KeyCode::Enter));
    results(&mut m);
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.intake.step, IntakeStep::Details);
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.intake.step, IntakeStep::Recipient);
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.intake.step, IntakeStep::Scan);
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.screen, Screen::Dashboard);
}

#[test]
fn viewers_cannot_reach_intake_or_pickup() {
    let mut m = model(Role::Viewer);
    for k in [
        KeyCode::Char('i'),
        KeyCode::F(2),
        KeyCode::Char('p'),
        KeyCode::F(3),
    ] {
        assert!(update(&mut m, key(k)).is_empty());
        assert_eq!(m.screen, Screen::Dashboard);
        assert!(matches!(&m.status, Some((s, Tone::Error)) if s.contains("permission denied")));
    }
    // Browsing still works.
    update(&mut m, key(KeyCode::Char('l')));
    assert_eq!(m.screen, Screen::Packages);
}

#[test]
fn live_updates_reload_what_is_shown() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::Char('l')));
    let fx = update(
        &mut m,
        Msg::Live {
            kind: "intake".into(),
            by: "other".into(),
            ids: vec![3],
        },
    );
    // The counts are not on this screen: no stats query per event.
    assert!(!fx.contains(&Effect::LoadStats));
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadPackages { .. })));
    assert_eq!(
        m.activity.front().map(String::as_str),
        Some("other received 1 package(s)")
    );
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.screen, Screen::Dashboard);
    let live = Msg::Live {
        kind: "intake".into(),
        by: "other".into(),
        ids: vec![4],
    };
    assert_eq!(update(&mut m, live), vec![Effect::LoadStats]);
}

#[test]
fn quit_only_outside_text_fields() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    update(&mut m, key(KeyCode::Char('q')));
    assert!(!m.quit, "q is text while scanning");
    assert_eq!(m.intake.tracking.text(), "q");
    update(&mut m, key(KeyCode::Esc));
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(update(&mut m, key(KeyCode::Char('q'))), vec![]);
    assert_eq!(update(&mut m, key(KeyCode::Char('y'))), vec![Effect::Quit]);
    assert!(m.quit);
}

#[test]
fn q_asks_before_quitting_and_any_other_key_keeps_the_session() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::Char('l')));
    // "quill" typed into a list still loading: the q asks, the u answers no.
    assert_eq!(update(&mut m, key(KeyCode::Char('q'))), vec![]);
    assert_eq!(m.status, Some(("Quit? y/n".into(), Tone::Warning)));
    assert_eq!(update(&mut m, key(KeyCode::Char('u'))), vec![]);
    assert!(!m.quit && !m.confirm_quit && m.status.is_none());
    assert_eq!(
        m.screen,
        Screen::Packages,
        "the answer key is not a command"
    );
    // A scan while the question shows: the question goes, the scan is handled.
    update(&mut m, key(KeyCode::Char('q')));
    update(&mut m, Msg::Scan("1Z5R89390357567127".into()));
    assert!(!m.confirm_quit && !m.quit);
    // Ctrl-C is a deliberate chord: no question.
    assert_eq!(update(&mut m, ctrl('c')), vec![Effect::Quit]);
}

#[test]
fn q_and_ctrl_c_lock_a_kiosk_instead_of_ending_its_session() {
    for quit in [key(KeyCode::Char('q')), ctrl('c')] {
        let mut m = kiosk_model();
        update(
            &mut m,
            Msg::Unlocked(Ok(Me {
                login: "clerk".into(),
                slug: "demo".into(),
                facility_name: "Demo".into(),
                role: Role::Operator,
            })),
        );
        assert!(!m.locked());
        assert_eq!(update(&mut m, quit), vec![Effect::Lock]);
        assert!(m.locked() && !m.quit);
    }
}

#[test]
fn help_scrolls_to_its_last_lines_at_80x24() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::Char('?')));
    assert!(m.help);
    let max = crate::app::keymap::help_max_scroll(Screen::Dashboard, false, 24);
    assert!(max > 0, "the dashboard's keys no longer overflow 80x24");
    update(&mut m, key(KeyCode::PageDown));
    update(&mut m, key(KeyCode::PageDown));
    assert_eq!(m.help_scroll, max, "PgDn stops at the last line");
    update(&mut m, key(KeyCode::Up));
    assert_eq!(m.help_scroll, max - 1);
    update(&mut m, key(KeyCode::PageUp));
    assert_eq!(m.help_scroll, 0);
    assert!(m.help, "scrolling keeps the help open");
    update(&mut m, key(KeyCode::Char('x')));
    assert!(!m.help && m.help_scroll == 0);
    assert_eq!(
        m.screen,
        Screen::Dashboard,
        "the closing key is not a command"
    );
}

#[test]
fn admin_console_is_for_admins_and_edits_members() {
    let mut m = model(Role::Operator);
    assert!(update(&mut m, key(KeyCode::Char('a'))).is_empty());
    assert_eq!(m.screen, Screen::Dashboard);
    assert!(matches!(&m.status, Some((s, Tone::Error)) if s.contains("admin console")));

    let mut m = model(Role::Admin);
    assert_eq!(
        update(&mut m, key(KeyCode::Char('a'))),
        vec![Effect::LoadMembers]
    );
    assert_eq!(m.screen, Screen::Admin);
    let member = crate::db::members::Member {
        user_id: 9,
        login: "sam".into(),
        display_name: "Sam".into(),
        role: "viewer".into(),
        disabled: false,
        has_password: true,
        has_totp: false,
        keys: 0,
        key_last_used: None,
    };
    update(&mut m, Msg::Members(Ok(vec![member])));
    // 'r' is "change role" here, not "recipients".
    assert_eq!(
        update(&mut m, key(KeyCode::Char('r'))),
        vec![Effect::UpdateMember {
            user_id: 9,
            role: Some(Role::Operator),
            disabled: None
        }]
    );
    assert_eq!(
        update(&mut m, key(KeyCode::Char('d'))),
        vec![Effect::UpdateMember {
            user_id: 9,
            role: None,
            disabled: Some(true)
        }]
    );
    assert_eq!(
        update(&mut m, key(KeyCode::Tab)),
        vec![Effect::LoadAudit(String::new())]
    );
    update(&mut m, key(KeyCode::Char('/')));
    typed(&mut m, "role");
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        vec![Effect::LoadAudit("role".into())]
    );
    assert_eq!(
        update(&mut m, key(KeyCode::Tab)),
        vec![Effect::LoadScorecard]
    );
}

#[test]
fn kiosk_unlocks_with_login_and_pin_and_locks_again() {
    let mut m = kiosk_model();
    assert!(m.locked());
    // Commands do nothing while locked: keys type into the login field.
    assert!(update(&mut m, key(KeyCode::Char('i'))).is_empty());
    assert_eq!(m.screen, Screen::Dashboard);
    update(&mut m, key(KeyCode::Backspace));
    typed(&mut m, "clerk");
    update(&mut m, key(KeyCode::Enter));
    typed(&mut m, "12a34"); // letters are not PIN digits
    let fx = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        fx,
        vec![Effect::Unlock {
            login: "clerk".into(),
            pin: "1234".into(),
            totp: None,
        }]
    );
    update(
        &mut m,
        Msg::Unlocked(Err(crate::app::Failure::new(
            crate::app::FailureKind::Forbidden,
            "wrong login or PIN",
        ))),
    );
    assert!(m.locked());
    assert!(matches!(&m.status, Some((s, Tone::Error)) if s.contains("wrong login or PIN")));
    typed(&mut m, "1234");
    update(&mut m, key(KeyCode::Enter));
    let fx = update(
        &mut m,
        Msg::Unlocked(Ok(Me {
            login: "clerk".into(),
            slug: "demo".into(),
            facility_name: "Demo".into(),
            role: Role::Admin,
        })),
    );
    assert_eq!(fx, vec![Effect::LoadStats]);
    assert!(!m.locked());
    // Even an admin gets no admin console on a kiosk.
    assert!(update(&mut m, key(KeyCode::Char('a'))).is_empty());
    assert_ne!(m.screen, Screen::Admin);
    update(&mut m, key(KeyCode::Char('i')));
    typed(&mut m, "1Z5R");
    assert_eq!(update(&mut m, ctrl('l')), vec![Effect::Lock]);
    assert!(m.locked());
    assert!(
        m.intake.tracking.is_empty(),
        "nothing of the last user stays"
    );
    assert_eq!(m.me.login, "");
    // The idle timer locks the same way.
    let mut m2 = kiosk_model();
    m2.kiosk.as_mut().unwrap().locked = false;
    assert_eq!(update(&mut m2, Msg::Lock), vec![Effect::Lock]);
    assert!(m2.locked());
}
