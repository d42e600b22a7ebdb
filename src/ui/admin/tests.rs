//! Snapshots of the admin console's Keys, TOTP, Settings and Outbox tabs at 80x24 and
//! 60x20 and in monochrome, and of their dialogs.

use chrono::{TimeZone, Utc};

use crate::app::admin::keys::KeysMode;
use crate::app::admin::totp::TotpMode;
use crate::app::model::{AdminTab, Model, Screen};
use crate::app::text::TextField;
use crate::db::keys_admin::KeyRow;
use crate::db::members::Member;
use crate::db::outbox_admin::{ChannelCounts, FailedRow, IntegrationState, OutboxView};
use crate::db::settings;
use crate::domain::Role;
use crate::ops_admin::TotpEnrollment;
use crate::term::ColorDepth;
use crate::ui::testing::{assert_mono, assert_snapshot_as, model_as, now, render};

fn member(id: i64, login: &str, role: &str, totp: bool, keys: i64) -> Member {
    Member {
        user_id: id,
        login: login.into(),
        display_name: login.into(),
        role: role.into(),
        disabled: false,
        has_password: totp,
        has_totp: totp,
        keys,
        key_last_used: None,
    }
}

fn model(tab: AdminTab) -> Model {
    let mut m = model_as("boss", Role::Admin);
    m.screen = Screen::Admin;
    m.admin.tab = tab;
    m.admin.members = vec![
        member(1, "ada", "operator", false, 1),
        member(2, "boss", "admin", true, 1),
        member(3, "sam", "viewer", true, 0),
    ];
    let key = |id, user_id, login: &str, fp: &str, used: Option<i64>, revoked: bool| KeyRow {
        id,
        user_id,
        login: login.into(),
        algorithm: "ssh-ed25519".into(),
        fingerprint: fp.into(),
        comment: format!("{login}@laptop"),
        created_at: Utc.with_ymd_and_hms(2026, 10, 1, 9, 0, 0).unwrap(),
        last_used_at: used.map(|h| now() - chrono::Duration::hours(h)),
        disabled_at: revoked.then(|| Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()),
        // ada's key came from the admin CLI; the others were added in this console.
        all_facilities: login == "ada",
    };
    m.admin.keys.rows = vec![
        key(
            10,
            1,
            "ada",
            "SHA256:Lp1W1Cq0a6u4a2m3p0n1F7o1G5mJ0jv4m6yJm0s9a0I",
            Some(2),
            false,
        ),
        key(
            11,
            2,
            "boss",
            "SHA256:9c2dQx5Zy0n4Yx1rP7vK2s8BfH3tM6wE1qL0aR5uT4o",
            None,
            false,
        ),
        key(
            12,
            3,
            "sam",
            "SHA256:Vt8rN2bQ6yM1xZ4cK9pL3wJ7hF5dS0gA2eR6uI8oT1k",
            Some(24 * 120),
            true,
        ),
    ];
    let mut s = settings::from_document(
        "Demo Mailroom".into(),
        "Europe/Berlin".into(),
        &serde_json::json!({"overdue_days": 5, "reminder_schedule": [3, 7]}),
        [Some(true), None, Some(false)],
    );
    m.admin.settings.loaded = Some(s.clone());
    s.kiosk_pin_totp = true;
    m.admin.settings.draft = Some(s);
    m.admin.settings.cursor = 2;
    m.admin.outbox.view = Some(OutboxView {
        channels: vec![
            ChannelCounts {
                channel: "email".into(),
                pending: 4,
                failing: 1,
                delivered: 120,
                dead: 2,
            },
            ChannelCounts {
                channel: "webhook".into(),
                pending: 0,
                failing: 0,
                delivered: 64,
                dead: 0,
            },
        ],
        integrations: vec![
            IntegrationState {
                id: 1,
                kind: "smtp".into(),
                target: "smtp://mail.example.org:25".into(),
                enabled: true,
                backlog: 4,
                last_error: Some("550 mailbox unavailable".into()),
                last_error_at: Some(now() - chrono::Duration::minutes(12)),
                last_success_at: None,
            },
            IntegrationState {
                id: 2,
                kind: "webhook".into(),
                target: "https://hooks.example.org".into(),
                enabled: false,
                backlog: 0,
                last_error: None,
                last_error_at: None,
                last_success_at: None,
            },
        ],
        failed: vec![
            FailedRow {
                id: 311,
                channel: "email".into(),
                event: "intake".into(),
                status: "dead".into(),
                attempts: 8,
                recipient: "a**@example.org".into(),
                last_error: "550 mailbox unavailable".into(),
                created_at: now(),
            },
            FailedRow {
                id: 309,
                channel: "email".into(),
                event: "reminder".into(),
                status: "pending".into(),
                attempts: 2,
                recipient: "g****@example.org".into(),
                last_error: "connection refused".into(),
                created_at: now(),
            },
        ],
    });
    m
}

#[test]
fn new_tabs_at_80x24_60x20_and_mono() {
    for tab in [
        AdminTab::Keys,
        AdminTab::Totp,
        AdminTab::Settings,
        AdminTab::Outbox,
    ] {
        let m = model(tab);
        let name = format!("admin_{}", tab.title().to_lowercase());
        let wide = render(&m, 80, 24, ColorDepth::Ansi256);
        for t in AdminTab::ALL {
            assert!(
                wide.contains(t.title()),
                "{} missing at 80x24:\n{wide}",
                t.title()
            );
        }
        snap(format!("{name}_80x24"), wide);
        snap(
            format!("{name}_60x20"),
            render(&m, 60, 20, ColorDepth::Ansi256),
        );
        assert_mono(&m, &name);
        snap(format!("{name}_mono"), render(&m, 80, 24, ColorDepth::Mono));
    }
}

#[test]
fn keys_dialogs() {
    let mut m = model(AdminTab::Keys);
    m.admin.keys.mode = KeysMode::PickMember { cursor: 1 };
    snap(
        "admin_keys_pick_80x24",
        render(&m, 80, 24, ColorDepth::Mono),
    );
    m.admin.keys.mode = KeysMode::Paste {
        user_id: 2,
        login: "boss".into(),
        line: TextField::with_text(
            8192,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl boss@desk",
        ),
    };
    let s = render(&m, 80, 24, ColorDepth::Mono);
    assert!(
        s.contains("New key for boss") && s.contains("boss@desk"),
        "{s}"
    );
    snap("admin_keys_paste_80x24", s);
    m.admin.keys.mode = KeysMode::ConfirmRevoke {
        key_id: 10,
        login: "ada".into(),
        fingerprint: "SHA256:Lp1W1Cq0a6u4a2m3p0n1F7o1G5mJ0jv4m6yJm0s9a0I".into(),
    };
    snap(
        "admin_keys_revoke_60x20",
        render(&m, 60, 20, ColorDepth::Mono),
    );
}

fn enrolling(account: &str) -> Model {
    let mut m = model(AdminTab::Totp);
    let uri = crate::auth::totp::otpauth_uri(&[0x5Au8; 20], account);
    m.admin.totp.mode = TotpMode::Enroll {
        enrollment: Box::new(TotpEnrollment {
            user_id: 1,
            login: "ada".into(),
            account: account.into(),
            sealed: vec![0; 8],
            qr: crate::auth::totp::qr_matrix(&uri),
            manual: crate::auth::totp::secret_base32(&[0x5Au8; 20]),
        }),
        code: TextField::with_text(6, "123"),
        busy: false,
    };
    m
}

#[test]
fn totp_enrollment_qr_fits_80x24_and_asks_for_more_room_below() {
    let m = enrolling("ada@demo");
    let s = render(&m, 80, 24, ColorDepth::Mono);
    assert!(s.contains('▀') && s.contains("Scan the code"), "{s}");
    assert!(!s.contains("enlarge"), "{s}");
    snap("admin_totp_enroll_80x24", s);
    let s = render(&m, 60, 20, ColorDepth::Mono);
    assert!(!s.contains('▀'), "no partial QR code:\n{s}");
    assert!(s.contains("enlarge the terminal"), "{s}");
    snap("admin_totp_enroll_60x20", s);
    // A reset asks for the reason.
    let mut m = model(AdminTab::Totp);
    m.admin.totp.mode = TotpMode::Reset {
        user_id: 3,
        login: "sam".into(),
        reason: TextField::with_text(200, "lost phone"),
        busy: false,
    };
    snap(
        "admin_totp_reset_80x24",
        render(&m, 80, 24, ColorDepth::Mono),
    );
    // A kiosk PIN being typed shows as dots only.
    m.admin.totp.mode = TotpMode::Pin {
        user_id: 3,
        login: "sam".into(),
        pin: TextField::with_text(12, "4711"),
        busy: false,
    };
    let s = render(&m, 80, 24, ColorDepth::Mono);
    assert!(s.contains("Kiosk PIN for sam") && s.contains("••••"), "{s}");
    assert!(!s.contains("4711"), "{s}");
    snap("admin_totp_pin_80x24", s);
}

#[test]
fn settings_field_being_edited() {
    let mut m = model(AdminTab::Settings);
    m.admin.settings.cursor = 1;
    m.admin.settings.editing = Some(TextField::with_text(200, "America/New_Yor"));
    let s = render(&m, 80, 24, ColorDepth::Mono);
    assert!(s.contains("America/New_Yor"), "{s}");
    snap(
        "admin_settings_editing_60x20",
        render(&m, 60, 20, ColorDepth::Mono),
    );
}

#[test]
fn help_overlay_lists_the_console_keys_first() {
    let mut m = model(AdminTab::Outbox);
    m.help = true;
    let s = render(&m, 80, 24, ColorDepth::Mono);
    for text in [
        "change role",
        "add a key (paste)",
        "revoke",
        "outbox: retry",
        "settings: save",
    ] {
        assert!(s.contains(text), "{text} missing:\n{s}");
    }
}

/// Snapshot files keep the names they had as `ui::admin_tabs_tests`.
fn snap(name: impl AsRef<str>, text: impl AsRef<str>) {
    assert_snapshot_as("admin_tabs_tests", name.as_ref(), text.as_ref());
}

/// The Security tab says when the last backup and restore drill ran and flags a failed,
/// missing or overdue one (issue 18: the drill's result shows in the scorecard).
#[test]
fn security_tab_shows_backup_and_restore_drill() {
    use crate::db::members::{BackupMark, Scorecard};
    let mut m = model(AdminTab::Security);
    m.admin.scorecard = Some(Scorecard {
        members: 3,
        last_backup: Some(BackupMark {
            at: now() - chrono::Duration::hours(9),
            ok: true,
        }),
        last_drill: Some(BackupMark {
            at: now() - chrono::Duration::days(40),
            ok: true,
        }),
        ..Default::default()
    });
    let text = render(&m, 80, 24, ColorDepth::TrueColor);
    assert!(text.contains("Last backup"), "{text}");
    assert!(text.contains("OK 2026-11-24 06:00"), "{text}");
    assert!(text.contains("Restore drill"), "{text}");
    assert!(text.contains("OK 2026-10-15 15:00 (overdue)"), "{text}");

    m.admin.scorecard = Some(Scorecard {
        last_backup: Some(BackupMark {
            at: now(),
            ok: false,
        }),
        ..Default::default()
    });
    let text = render(&m, 80, 24, ColorDepth::TrueColor);
    assert!(text.contains("FAILED 2026-11-24 15:00"), "{text}");
    assert!(text.contains("never"), "{text}");
    assert!(
        !text.contains("WAL archive"),
        "no archive row where archiving never ran: {text}"
    );

    // serve --wal-archive: shipping failed an hour ago; the row says so, fitting 80x24.
    m.admin.scorecard = Some(Scorecard {
        last_wal: Some(BackupMark {
            at: now() - chrono::Duration::hours(1),
            ok: false,
        }),
        ..Default::default()
    });
    let text = render(&m, 80, 24, ColorDepth::TrueColor);
    assert!(text.contains("WAL archive"), "{text}");
    assert!(text.contains("FAILED 2026-11-24 14:00"), "{text}");
}
