//! The Parcels tab: loading a day, paging through it as the view scrolls, stepping days,
//! opening a parcel, and the export (admins only; the answer shows the download line).

use chrono::{Duration, NaiveDate};

use super::*;
use crate::app::FailureKind;
use crate::app::msg::Msg;
use crate::app::testing::{ch, key, model_as, now};
use crate::app::update::update;
use crate::domain::Role;
use crate::reports::{DayTotals, Report};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn parcel(at: usize) -> ParcelRow {
    ParcelRow {
        id: 1000 + at as i64,
        tracking: format!("1Z5R8939035756{at:04}"),
        carrier: Some("ups".into()),
        recipient: Some(format!("Resident {at}")),
        unit: Some("A-101".into()),
        status: "waiting".into(),
        location: "Shelf A".into(),
        received_at: now() - Duration::minutes(at as i64),
        picked_up_at: None,
        collected_by: None,
        proxy: false,
        received_by: Some("clerk".into()),
        handed_over_by: None,
    }
}

/// Rows `offset..offset+n` of a day listing `listed` parcels.
fn page(day: &str, listed: usize, offset: usize, n: usize) -> DayPage {
    DayPage {
        day: d(day),
        today: d("2026-11-24"),
        time_zone: "UTC".into(),
        totals: DayTotals {
            listed: listed as i64,
            received: listed as i64,
            picked_up: 0,
            waiting: listed as i64,
        },
        offset: offset as i64,
        rows: (offset..(offset + n).min(listed)).map(parcel).collect(),
    }
}

/// The model on the Parcels tab with `listed` parcels of today loaded from the top.
fn on_parcels(role: Role, listed: usize) -> Model {
    let mut m = model_as("boss", role);
    update(&mut m, ch('R'));
    let fx = update(&mut m, key(KeyCode::Tab));
    assert_eq!(m.reports.tab, Report::Parcels);
    let Some(Effect::Day(DayEffect::Load { seq, day, offset })) = fx.first().cloned() else {
        panic!("{fx:?}");
    };
    assert_eq!(
        (day, offset),
        (None, 0),
        "no overview yet: today, from the top"
    );
    let fx = answer(&mut m, seq, page("2026-11-24", listed, 0, 200));
    assert!(fx.is_empty(), "{fx:?}");
    m
}

fn answer(m: &mut Model, seq: u64, p: DayPage) -> Vec<Effect> {
    update(m, Msg::Day(DayMsg::Page { seq, data: Ok(p) }))
}

fn load_of(fx: &[Effect]) -> (u64, Option<NaiveDate>, i64) {
    match fx {
        [Effect::Day(DayEffect::Load { seq, day, offset })] => (*seq, *day, *offset),
        other => panic!("expected one load: {other:?}"),
    }
}

#[test]
fn scrolling_a_busy_day_loads_the_page_under_the_view_only() {
    let mut m = on_parcels(Role::Viewer, 2000);
    let shown = visible_rows(m.rows);
    assert_eq!(shown, 16, "80x24");
    // Within the loaded 200 rows: no request.
    for _ in 0..12 {
        assert!(update(&mut m, key(KeyCode::PageDown)).is_empty());
    }
    assert_eq!(m.reports.day.cursor, 12 * shown);
    // Past them: the page around the view.
    let mut fx = vec![];
    while fx.is_empty() {
        fx = update(&mut m, key(KeyCode::Down));
    }
    let (seq, day, offset) = load_of(&fx);
    let top = m.reports.day.top;
    assert_eq!(
        day,
        Some(d("2026-11-24")),
        "the day answered, not `today` again"
    );
    assert_eq!(offset as usize, top - (200 - shown) / 2);
    assert!(top + shown > 200 && (offset as usize) < top);
    // While it loads, further keys ask nothing more.
    assert!(update(&mut m, key(KeyCode::Down)).is_empty());
    assert!(answer(&mut m, seq, page("2026-11-24", 2000, offset as usize, 200)).is_empty());
    assert_eq!(
        m.reports.day.row(m.reports.day.cursor).unwrap().id,
        1000 + m.reports.day.cursor as i64
    );
    // End: the last parcel, its page loaded.
    let (seq, _, offset) = load_of(&update(&mut m, key(KeyCode::End)));
    assert_eq!(m.reports.day.cursor, 1999);
    assert_eq!(m.reports.day.top, 2000 - shown);
    assert!(answer(&mut m, seq, page("2026-11-24", 2000, offset as usize, 200)).is_empty());
    assert!(m.reports.day.row(1999).is_some());
    // Home goes back and loads the first page again.
    let (_, _, offset) = load_of(&update(&mut m, key(KeyCode::Home)));
    assert_eq!((m.reports.day.cursor, offset), (0, 0));
}

#[test]
fn an_older_answer_is_ignored_and_a_shrunken_day_keeps_the_cursor_inside() {
    let mut m = on_parcels(Role::Operator, 30);
    update(&mut m, key(KeyCode::End));
    assert_eq!(m.reports.day.cursor, 29);
    let (seq, _, _) = load_of(&update(&mut m, crate::app::testing::ctrl('r')));
    // An answer to an earlier request changes nothing.
    answer(&mut m, seq - 1, page("2026-11-24", 5, 0, 5));
    assert_eq!(m.reports.day.listed(), 30);
    // The day now lists fewer parcels than where the cursor was.
    answer(&mut m, seq, page("2026-11-24", 12, 0, 12));
    assert_eq!(m.reports.day.cursor, 11);
    assert!(m.reports.day.top <= 11);
}

#[test]
fn brackets_step_through_days_but_not_past_today() {
    let mut m = on_parcels(Role::Operator, 3);
    // Today is the newest day there is.
    assert!(update(&mut m, ch(']')).is_empty());
    let (seq, day, offset) = load_of(&update(&mut m, ch('[')));
    assert_eq!((day, offset), (Some(d("2026-11-23")), 0));
    assert!(
        m.reports.day.page.is_none(),
        "yesterday's rows are not today's"
    );
    answer(&mut m, seq, page("2026-11-23", 4, 0, 4));
    let (_, day, _) = load_of(&update(&mut m, ch(']')));
    assert_eq!(day, Some(d("2026-11-24")));
    let (_, day, _) = load_of(&update(&mut m, ch('t')));
    assert_eq!(day, None);
    // The range's keys do nothing here.
    assert!(update(&mut m, ch('+')).is_empty());
}

#[test]
fn enter_opens_the_parcel_and_esc_comes_back_to_the_list_where_it_was() {
    let mut m = on_parcels(Role::Viewer, 40);
    for _ in 0..25 {
        update(&mut m, key(KeyCode::Down));
    }
    let fx = update(&mut m, key(KeyCode::Enter));
    assert_eq!(fx, vec![Effect::LoadPackage(1025)]);
    assert_eq!((m.screen, m.detail_from), (Screen::Detail, Screen::Reports));
    let fx = update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.screen, Screen::Reports);
    assert_eq!(m.reports.tab, Report::Parcels);
    assert_eq!(m.reports.day.cursor, 25);
    assert!(matches!(fx[0], Effect::LoadReports { .. }), "{fx:?}");
    let (_, day, offset) = load_of(&fx[1..]);
    assert_eq!((day, offset), (Some(d("2026-11-24")), 0));
}

#[test]
fn export_is_for_admins_and_answers_with_the_download_line() {
    for role in [Role::Operator, Role::Viewer] {
        let mut m = on_parcels(role, 3);
        assert!(update(&mut m, ch('e')).is_empty());
        assert!(
            matches!(&m.status, Some((s, Tone::Error)) if s.contains("permission denied")),
            "{role}"
        );
    }
    let mut m = on_parcels(Role::Admin, 3);
    let fx = update(&mut m, ch('e'));
    assert_eq!(fx, vec![Effect::Day(DayEffect::Export(d("2026-11-24")))]);
    // Pressed again while it is recorded: one request.
    assert!(update(&mut m, ch('e')).is_empty());
    update(
        &mut m,
        Msg::Day(DayMsg::Exported(Ok(DayExport {
            day: d("2026-11-24"),
            rows: 3,
        }))),
    );
    assert_eq!(m.reports.day.export.as_ref().map(|x| x.rows), Some(3));
    // Esc closes the line first, then leaves the screen.
    assert!(update(&mut m, key(KeyCode::Esc)).is_empty());
    assert!(m.reports.day.export.is_none());
    assert_eq!(m.screen, Screen::Reports);
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.screen, Screen::Dashboard);
    // A refusal from the server is one line.
    update(&mut m, ch('R'));
    update(
        &mut m,
        Msg::Day(DayMsg::Exported(Err(Failure::new(
            FailureKind::Forbidden,
            "permission denied",
        )))),
    );
    assert!(
        matches!(&m.status, Some((s, Tone::Error)) if s == "export refused: permission denied")
    );
}

#[test]
fn a_kiosk_never_exports() {
    let mut m = on_parcels(Role::Admin, 3);
    let mut kiosk = crate::app::kiosk::Kiosk::new("Front desk");
    kiosk.locked = false;
    m.kiosk = Some(kiosk);
    assert!(update(&mut m, ch('e')).is_empty());
    assert!(matches!(&m.status, Some((s, Tone::Error)) if s.contains("own session")));
}

#[test]
fn the_daily_tab_opens_the_selected_days_parcels() {
    let mut m = model_as("boss", Role::Operator);
    update(&mut m, ch('R'));
    let seq = m.reports.seq;
    let to = d("2026-11-24");
    let rows = (0..7)
        .map(|i| {
            let day = to - Duration::days(6 - i);
            vec![
                crate::reports::Cell::Date(day),
                crate::reports::Cell::Count(i),
                crate::reports::Cell::Count(0),
            ]
        })
        .collect();
    let o = crate::reports::Overview {
        range: crate::reports::Range {
            from: to - Duration::days(6),
            to,
        },
        time_zone: "UTC".into(),
        tables: vec![(
            Report::Daily,
            crate::reports::Table {
                columns: Report::Daily.columns().to_vec(),
                rows,
            },
        )],
    };
    update(&mut m, Msg::Reports { seq, data: Ok(o) });
    // Down twice: two days before the newest; Down never leaves the range.
    update(&mut m, key(KeyCode::Down));
    update(&mut m, key(KeyCode::Down));
    assert_eq!(m.reports.daily_day(), Some(d("2026-11-22")));
    for _ in 0..10 {
        update(&mut m, key(KeyCode::Down));
    }
    assert_eq!(m.reports.daily_day(), Some(d("2026-11-18")));
    update(&mut m, key(KeyCode::Up));
    let (_, day, offset) = load_of(&update(&mut m, key(KeyCode::Enter)));
    assert_eq!((day, offset), (Some(d("2026-11-19")), 0));
    assert_eq!(m.reports.tab, Report::Parcels);
    assert_eq!(
        m.reports.tabs(),
        vec![Report::Daily, Report::Parcels],
        "the parcels tab follows the daily log"
    );
}

#[test]
fn the_download_line_fits_the_terminal() {
    let me = model_as("boss", Role::Admin).me;
    let day = d("2026-11-24");
    // A wide terminal: the date in the file name too.
    assert_eq!(
        export_command(&me, day, 100),
        "ssh boss+demo@HOST reports parcels --day 2026-11-24 --csv > parcels-2026-11-24.csv"
    );
    assert_eq!(
        export_command(&me, day, 80),
        "ssh boss+demo@HOST reports parcels --day 2026-11-24 --csv > parcels.csv"
    );
}
