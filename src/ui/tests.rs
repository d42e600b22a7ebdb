//! Snapshots of every screen at 80x24 and 60x20, and in monochrome.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::testing::{assert_mono, model_as, now, render};
use super::{Theme, view};
use crate::app::model::{Chosen, IntakeStep, Model, PickupStep, Screen, Tone};
use crate::db::packages::{Event, Package};
use crate::db::recipients::Recipient;
use crate::domain::Role;
use crate::label;
use crate::ops::{Found, Stats};
use crate::search::{Field, Hit};
use crate::term::ColorDepth;

fn package(id: i64, tracking: &str, name: &str, hours_ago: i64, status: &str) -> Package {
    Package {
        id,
        tracking: tracking.into(),
        carrier: label::parse(tracking).carrier.map(str::to_string),
        recipient_id: Some(id * 10),
        recipient_name: Some(name.into()),
        recipient_unit: Some("A-101".into()),
        status: status.into(),
        location: "Shelf A".into(),
        pickup_code: Some(format!("{:06}", 100_000 + id)),
        addressed_to: None,
        received_at: now() - chrono::Duration::hours(hours_ago),
        picked_up_at: None,
        handling: None,
    }
}

fn found(id: i64, name: &str, unit: &str, indices: Vec<u32>) -> Found {
    Found {
        recipient: Recipient {
            id,
            name: name.into(),
            unit: unit.into(),
            email: None,
            phone: None,
            aliases: vec![],
            active: true,
        },
        hit: Hit {
            id,
            score: 100,
            field: Field::Name,
            indices,
            suggested: false,
        },
    }
}

fn model(screen: Screen) -> Model {
    let mut m = model_as("clerk", Role::Operator);
    m.screen = screen;
    m.stats = Some(Stats {
        overdue_days: 3,
        waiting: 81,
        received_today: 8,
        overdue: 12,
        picked_up_today: 11,
        recent: vec![],
        default_location: "Shelf A".into(),
        ..Stats::default()
    });
    m.trend.received = vec![12, 30, 28, 25, 31, 8, 4, 27, 33, 29, 26, 35, 9, 8];
    m.log_activity("clerk received 1Z5R89390357567127 for Ada Lovelace · code 123456".into());
    m.search.query.set("ada");
    m.search.results = vec![
        found(1, "Ada Lovelace", "A-101", vec![0, 1, 2]),
        found(2, "Adam Smith", "B-204", vec![0, 1, 2]),
    ];
    match screen {
        Screen::Intake => {
            m.intake.tracking.set("1Z5R89390357567127");
            m.intake.parsed = Some(label::parse("1Z5R89390357567127"));
            m.intake.step = IntakeStep::Recipient;
            m.intake.location.set("Shelf A");
            m.intake.tally = 3;
        }
        Screen::Pickup => {
            m.pickup.packages = vec![
                package(1, "1Z5R89390357567127", "Ada Lovelace", 2, "waiting"),
                package(2, "9400100000000000000005", "Ada Lovelace", 80, "waiting"),
            ];
            let flags = crate::domain::Flags {
                perishable: true,
                damaged: true,
                ..Default::default()
            };
            m.pickup.packages[1].handling = Some(crate::db::packages::Handling {
                flags,
                note: crate::domain::Note::stored("box crushed".into()),
            });
            m.pickup.selected = vec![true, false];
            m.pickup.step = PickupStep::Select;
            m.pickup.receiver.set("Ada Lovelace");
            m.pickup.resident = "Ada Lovelace".into();
        }
        Screen::Packages => {
            m.list.rows = vec![
                package(1, "1Z5R89390357567127", "Ada Lovelace", 2, "waiting"),
                package(2, "986578788855", "Grace Hopper", 100, "waiting"),
                package(3, "9400100000000000000005", "Alan Turing", 30, "picked_up"),
            ];
        }
        Screen::Detail => {
            m.detail = Some((
                package(2, "986578788855", "Grace Hopper", 100, "waiting"),
                vec![Event {
                    kind: "received".into(),
                    at: now() - chrono::Duration::hours(100),
                    actor: Some("clerk".into()),
                    source: "ssh 10.0.0.5".into(),
                    location: Some("Shelf A".into()),
                    detail: serde_json::json!({}),
                }],
            ));
        }
        Screen::Reports => {
            m.me.role = Role::Admin;
            m.reports.data = Some(overview());
        }
        Screen::Admin => {
            m.me.role = Role::Admin;
            m.admin.members = vec![crate::db::members::Member {
                user_id: 2,
                login: "clerk".into(),
                display_name: "Clerk".into(),
                role: "operator".into(),
                disabled: false,
                has_password: true,
                has_totp: true,
                keys: 1,
                key_last_used: None,
            }];
        }
        _ => {}
    }
    m
}

const SCREENS: [Screen; 8] = [
    Screen::Reports,
    Screen::Admin,
    Screen::Dashboard,
    Screen::Intake,
    Screen::Pickup,
    Screen::Packages,
    Screen::Detail,
    Screen::Recipients,
];

#[test]
fn every_screen_at_80x24_and_60x20() {
    for screen in SCREENS {
        let m = model(screen);
        let name = format!("{screen:?}").to_lowercase();
        insta::assert_snapshot!(
            format!("{name}_80x24"),
            render(&m, 80, 24, ColorDepth::Ansi256)
        );
        insta::assert_snapshot!(
            format!("{name}_60x20"),
            render(&m, 60, 20, ColorDepth::Ansi256)
        );
    }
}

/// A waiting parcel's detail with its flags and note, a correction in its history, and the
/// flags and note being changed; the reassign search at 80x24.
#[test]
fn corrections_on_the_detail() {
    use crate::app::model::{Correction, CorrectionKind};
    use crate::db::packages::Handling;
    use crate::domain::{Flag, Flags, Note};
    let mut m = model(Screen::Detail);
    if let Some((p, events)) = m.detail.as_mut() {
        p.handling = Some(Handling {
            flags: Flags {
                perishable: true,
                ..Flags::default()
            },
            note: Note::new("box crushed\nleft corner").unwrap(),
        });
        events.push(Event {
            kind: "updated".into(),
            at: now() - chrono::Duration::hours(2),
            actor: Some("clerk".into()),
            source: "ssh 10.0.0.5".into(),
            location: None,
            detail: serde_json::json!({"changes": {"recipient_id": {"from": 1, "to": 2},
                "flags": {"from": "none", "to": "perishable"}}, "reason": "corrected"}),
        });
    }
    insta::assert_snapshot!(
        "detail_handling_80x24",
        render(&m, 80, 24, ColorDepth::Ansi256)
    );
    let mut c = Correction::new(CorrectionKind::Flags);
    c.flags = Flags::default();
    c.flags.toggle(Flag::Damaged);
    m.correction = Some(c);
    insta::assert_snapshot!(
        "detail_flags_80x24",
        render(&m, 80, 24, ColorDepth::Ansi256)
    );
    let mut c = Correction::new(CorrectionKind::Note);
    c.note.set("box crushed");
    m.correction = Some(c);
    insta::assert_snapshot!("detail_note_80x24", render(&m, 80, 24, ColorDepth::Ansi256));
    m.correction = Some(Correction::new(CorrectionKind::Reassign));
    insta::assert_snapshot!(
        "detail_reassign_80x24",
        render(&m, 80, 24, ColorDepth::Ansi256)
    );
}

#[test]
fn a_carried_over_location_is_marked_when_not_the_usual_one() {
    let mut m = model(Screen::Intake);
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(!s.contains("usual"), "Shelf A is the usual location: {s}");
    m.intake.location.set("Fridge");
    m.intake.flags.toggle(crate::domain::Flag::Perishable);
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("Fridge ! usual: Shelf A"), "{s}");
    insta::assert_snapshot!("intake_carried_location_80x24", s);
}

#[test]
fn the_detail_names_who_picked_up_and_a_proxy() {
    let mut m = model(Screen::Detail);
    let mut p = package(3, "9400100000000000000005", "Alan Turing", 30, "picked_up");
    p.handling = None;
    let handover = Event {
        kind: "picked_up".into(),
        at: now(),
        actor: Some("clerk".into()),
        source: "tui".into(),
        location: None,
        detail: serde_json::json!({"receiver": "Bob Smith", "proxy": true}),
    };
    m.detail = Some((p, vec![handover]));
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("picked up by Bob Smith (proxy)"), "{s}");
    // On the resident's list at the handover (the server decided): an authorised proxy.
    if let Some((_, events)) = m.detail.as_mut() {
        events[0].detail =
            serde_json::json!({"receiver": "Sam Lee", "proxy": true, "authorised": true});
    }
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("picked up by Sam Lee (authorised proxy)"), "{s}");
}

#[test]
fn an_unmatched_parcel_shows_the_name_it_was_recorded_for() {
    let mut m = model(Screen::Packages);
    let mut p = package(4, "PT-ABCDEFGH", "-", 5, "waiting");
    (p.recipient_id, p.recipient_name) = (None, None);
    p.addressed_to = Some("aria kowalsky".into());
    m.list.rows = vec![p.clone()];
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("?aria kowalsky"), "{s}");
    m.screen = Screen::Detail;
    m.detail = Some((p, vec![]));
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(
        s.contains("(unmatched) addressed to “aria kowalsky”"),
        "{s}"
    );
}

#[test]
fn three_residents_of_one_name_are_told_apart_by_unit_and_date() {
    let mut m = model(Screen::Packages);
    m.list.rows = (0..3)
        .map(|i| {
            let mut p = package(
                i + 1,
                "1Z5R89390357567127",
                "Abigail Lee",
                30 * i + 2,
                "waiting",
            );
            p.recipient_unit = Some(["A-101", "B-204", "C-12"][i as usize].into());
            p
        })
        .collect();
    m.list.filter.set("lee");
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("Packages · all statuses · “lee” · 3"), "{s}");
    assert!(s.contains("B-204") && s.contains("11-23"), "{s}");
    insta::assert_snapshot!("packages_search_80x24", s);
}

#[test]
fn mono_theme_uses_no_color() {
    let m = model(Screen::Packages);
    assert_mono(&m, "packages");
    insta::assert_snapshot!("packages_mono", render(&m, 80, 24, ColorDepth::Mono));
}

#[test]
fn help_overlay_and_status_line() {
    let mut m = model(Screen::Intake);
    m.intake.step = IntakeStep::Details;
    m.intake.recipient = Some(Chosen {
        id: Some(1),
        label: "Ada Lovelace · A-101".into(),
        addressed_to: None,
    });
    m.note("not recorded: the database is not answering", Tone::Error);
    let s = render(&m, 80, 24, ColorDepth::Ansi16);
    assert!(
        s.contains("not recorded: the database is not answering"),
        "{s}"
    );
    m.help = true;
    let s = render(&m, 80, 24, ColorDepth::Ansi16);
    assert!(s.contains("Keys: Intake"), "{s}");
    assert!(s.contains("Ctrl-N"), "{s}");
}

#[test]
fn help_scrolls_to_reports_and_lock_at_80x24() {
    let mut m = model(Screen::Dashboard);
    m.help = true;
    let top = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(top.contains("↑↓ PgUp PgDn"), "{top}");
    m.help_scroll = usize::MAX;
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("R  reports"), "{s}");
    assert!(s.contains("Ctrl-L  lock"), "{s}");
    insta::assert_snapshot!("help_dashboard_end_80x24", s);
}

#[test]
fn dashboard_footer_shows_reports_and_the_console_to_admins() {
    let last = |m: &Model| {
        let s = render(m, 80, 24, ColorDepth::Mono);
        s.lines().last().unwrap_or_default().to_string()
    };
    let mut m = model(Screen::Dashboard);
    assert!(!last(&m).contains("a admin"), "{}", last(&m));
    m.me.role = Role::Admin;
    assert_eq!(
        last(&m).trim_end(),
        "i intake  p pickup  l packages  r recipients  R reports  a admin  ? help  q quit"
    );
}

#[test]
fn tiny_terminal_says_how_big_it_must_be() {
    let s = render(&model(Screen::Dashboard), 20, 5, ColorDepth::Mono);
    assert!(s.replace('\n', " ").contains("60x20"), "{s}");
}

#[test]
fn kiosk_lock_screen_at_80x24_and_mono() {
    let m = Model::new_kiosk("Demo Mailroom", "demo", "Front desk 2", 80, 24, now());
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("Login:") && s.contains("PIN:"), "{s}");
    insta::assert_snapshot!("lock_80x24", s);
    insta::assert_snapshot!("lock_mono_60x20", render(&m, 60, 20, ColorDepth::Mono));
}

fn lock_variant(pin_totp: bool, self_service: bool) -> Model {
    let mut m = Model::new_kiosk("Demo Mailroom", "demo", "Front desk 2", 80, 24, now());
    crate::app::update(
        &mut m,
        crate::app::Msg::KioskSettings {
            pin_totp,
            self_service,
        },
    );
    m
}

#[test]
fn kiosk_lock_screen_with_pin_and_totp() {
    let mut m = lock_variant(true, false);
    let k = m.kiosk.as_mut().unwrap();
    k.login.set("clerk");
    k.pin.set("4711");
    k.focus = crate::app::kiosk::LockField::Totp;
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("Code:") && s.contains("••••"), "{s}");
    assert!(!s.contains("4711"), "the PIN is never shown: {s}");
    insta::assert_snapshot!("lock_pin_totp_80x24", s);
    insta::assert_snapshot!("lock_pin_totp_mono", render(&m, 80, 24, ColorDepth::Mono));
}

#[test]
fn kiosk_lock_screen_self_service() {
    let m = lock_variant(false, true);
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("type your pickup code"), "{s}");
    insta::assert_snapshot!("lock_self_service_80x24", s);
    insta::assert_snapshot!(
        "lock_self_service_mono",
        render(&m, 80, 24, ColorDepth::Mono)
    );
    insta::assert_snapshot!(
        "lock_self_service_60x20",
        render(&m, 60, 20, ColorDepth::Ansi256)
    );
}

#[test]
fn kiosk_self_service_packages_are_masked() {
    let mut m = lock_variant(true, true);
    let pkgs = [
        package(1, "1Z5R89390357567127", "Ada Lovelace", 2, "waiting"),
        package(2, "9400100000000000000005", "Ada Lovelace", 80, "waiting"),
    ];
    crate::app::update(
        &mut m,
        crate::app::Msg::PickupCodeFound(Ok(pkgs
            .iter()
            .map(crate::db::kiosk::MaskedPackage::from_package)
            .collect())),
    );
    m.kiosk.as_mut().unwrap().login.set("clerk");
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(
        s.contains("2 packages are waiting") && s.contains("…7127"),
        "{s}"
    );
    assert!(!s.contains("Ada") && !s.contains("1Z5R8939"), "{s}");
    insta::assert_snapshot!("lock_self_service_found_80x24", s);
    insta::assert_snapshot!(
        "lock_self_service_found_mono",
        render(&m, 80, 24, ColorDepth::Mono)
    );
}

/// Report tables with known numbers: 30 days, five carriers, three staff members.
fn overview() -> crate::reports::Overview {
    use crate::reports::{Cell, Range, Report, Table};
    let to = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let from = to - chrono::Duration::days(29);
    let table = |report: Report, rows: Vec<Vec<Cell>>| Table {
        columns: report.columns().to_vec(),
        rows,
    };
    let daily = (0..30)
        .map(|i| {
            let d = from + chrono::Duration::days(i);
            let weekend = matches!(
                chrono::Datelike::weekday(&d),
                chrono::Weekday::Sat | chrono::Weekday::Sun
            );
            let r = if weekend { 6 } else { 20 + (i * 7) % 15 };
            Vec::from([Cell::Date(d), Cell::Count(r), Cell::Count(r - 3 + i % 5)])
        })
        .collect();
    let counts = |pairs: &[(&str, i64)]| {
        pairs
            .iter()
            .map(|(l, n)| Vec::from([Cell::Text((*l).into()), Cell::Count(*n)]))
            .collect::<Vec<_>>()
    };
    crate::reports::Overview {
        range: Range { from, to },
        time_zone: "America/New_York".into(),
        tables: vec![
            (Report::Daily, table(Report::Daily, daily)),
            (
                Report::Aging,
                table(
                    Report::Aging,
                    counts(&[
                        ("<1d", 31),
                        ("1-3d", 24),
                        ("3-7d", 11),
                        ("7-14d", 4),
                        ("14d+", 2),
                    ]),
                ),
            ),
            (
                Report::Carriers,
                table(
                    Report::Carriers,
                    counts(&[
                        ("ups", 240),
                        ("usps", 190),
                        ("fedex", 120),
                        ("dhl", 31),
                        ("(unknown)", 9),
                    ]),
                ),
            ),
            (
                Report::PickupTime,
                table(
                    Report::PickupTime,
                    vec![Vec::from([
                        Cell::Count(512),
                        Cell::Hours(Some(20.5)),
                        Cell::Hours(Some(71.25)),
                    ])],
                ),
            ),
            (
                Report::Staff,
                table(
                    Report::Staff,
                    vec![
                        Vec::from([Cell::Text("ann".into()), Cell::Count(310), Cell::Count(120)]),
                        Vec::from([Cell::Text("bob".into()), Cell::Count(200), Cell::Count(260)]),
                        Vec::from([Cell::Text("(none)".into()), Cell::Count(80), Cell::Count(0)]),
                    ],
                ),
            ),
        ],
    }
}

#[test]
fn report_screens_at_80x24_and_mono() {
    let mut m = model(Screen::Reports);
    for report in crate::reports::Report::ALL {
        m.reports.tab = report;
        let name = report.name().replace('-', "_");
        let s = render(&m, 80, 24, ColorDepth::Ansi256);
        assert!(s.contains("Pickup time"), "{s}");
        insta::assert_snapshot!(format!("reports_{name}_80x24"), s);
        insta::assert_snapshot!(
            format!("reports_{name}_mono"),
            render(&m, 80, 24, ColorDepth::Mono)
        );
    }
    // Mono really is without colors, charts included.
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    for report in crate::reports::Report::ALL {
        m.reports.tab = report;
        t.draw(|f| view(f, &m, &Theme::for_depth(ColorDepth::Mono)))
            .unwrap();
        for cell in t.backend().buffer().content() {
            assert_eq!(cell.fg, ratatui::style::Color::Reset);
            assert_eq!(cell.bg, ratatui::style::Color::Reset);
        }
    }
    // An operator's compact screen has the daily log and aging only.
    m.me.role = Role::Operator;
    m.reports.tab = crate::reports::Report::Daily;
    let mut o = overview();
    o.tables.truncate(2);
    m.reports.data = Some(o);
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("Aging") && !s.contains("Staff"), "{s}");
    insta::assert_snapshot!("reports_compact_80x24", s);
}

/// Times are the mailroom's: the detail's received time and timeline follow the facility's
/// time zone once the dashboard counts brought it (the package was received 2026-11-20 at
/// 11:00 UTC: 12:00 in Berlin, midnight of the 21st in Auckland).
#[test]
fn times_are_shown_in_the_facility_time_zone() {
    let mut m = model(Screen::Detail);
    let utc = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(utc.contains("2026-11-20 11:00 UTC"), "{utc}");
    crate::app::update(
        &mut m,
        crate::app::Msg::Stats(Ok(Stats {
            time_zone: "Europe/Berlin".into(),
            overdue_days: 3,
            ..Stats::default()
        })),
    );
    let berlin = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(berlin.contains("2026-11-20 12:00 CET"), "{berlin}");
    assert!(
        berlin.contains("11-20 12:00  received"),
        "timeline: {berlin}"
    );
    crate::app::update(
        &mut m,
        crate::app::Msg::TimeZone(chrono_tz::Pacific::Auckland),
    );
    let auckland = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(auckland.contains("2026-11-21 00:00 NZDT"), "{auckland}");
}
