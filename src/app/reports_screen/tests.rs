//! Transitions of the Reports screen and the dashboard's trend.

use chrono::{NaiveDate, TimeZone};

use super::*;
use crate::app::FailureKind;
use crate::app::msg::Msg;
use crate::app::testing::{key, model_as};
use crate::app::update::update;
use crate::domain::Role;
use crate::reports::{Range, Table};
use crate::term::input::KeyCode;

fn model(role: Role) -> Model {
    let mut m = model_as("boss", role);
    m.seq = 10;
    m
}

fn overview(reports: &[Report]) -> Overview {
    let d = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    Overview {
        range: Range { from: d, to: d },
        time_zone: "UTC".into(),
        tables: reports.iter().map(|r| (*r, Table::default())).collect(),
    }
}

#[test]
fn r_opens_reports_and_keys_move_the_range() {
    let mut m = model(Role::Admin);
    let fx = update(&mut m, key(KeyCode::Char('R')));
    assert_eq!(m.screen, Screen::Reports);
    assert_eq!(
        fx,
        vec![Effect::LoadReports {
            seq: 11,
            span: 30,
            ends_ago: 0
        }]
    );
    // Later than today: nothing to load.
    assert!(update(&mut m, key(KeyCode::Char(']'))).is_empty());
    assert_eq!(
        update(&mut m, key(KeyCode::Char('['))),
        vec![Effect::LoadReports {
            seq: 12,
            span: 30,
            ends_ago: 30
        }]
    );
    assert_eq!(
        update(&mut m, key(KeyCode::Char('+'))),
        vec![Effect::LoadReports {
            seq: 13,
            span: 90,
            ends_ago: 30
        }]
    );
    update(&mut m, key(KeyCode::Char('-')));
    update(&mut m, key(KeyCode::Char('-')));
    assert_eq!(m.reports.span, 14);
    assert_eq!(
        update(&mut m, key(KeyCode::Char('t'))),
        vec![Effect::LoadReports {
            seq: 16,
            span: 14,
            ends_ago: 0
        }]
    );
    // An older answer is dropped; the newest one shows.
    update(
        &mut m,
        Msg::Reports {
            seq: 15,
            data: Ok(overview(&[Report::Daily])),
        },
    );
    assert!(m.reports.data.is_none() && m.reports.loading);
    update(
        &mut m,
        Msg::Reports {
            seq: 16,
            data: Ok(overview(&Report::ALL)),
        },
    );
    assert!(!m.reports.loading);
    // Tab walks the reports and wraps.
    for want in [
        Report::Parcels,
        Report::Aging,
        Report::Carriers,
        Report::PickupTime,
        Report::Staff,
        Report::Daily,
    ] {
        update(&mut m, key(KeyCode::Tab));
        assert_eq!(m.reports.tab, want);
    }
    update(&mut m, key(KeyCode::BackTab));
    assert_eq!(m.reports.tab, Report::Staff);
    assert_eq!(update(&mut m, key(KeyCode::Esc)), vec![Effect::LoadStats]);
    assert_eq!(m.screen, Screen::Dashboard);
}

#[test]
fn an_operator_gets_the_compact_tabs() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::Char('R')));
    let seq = m.reports.seq;
    update(
        &mut m,
        Msg::Reports {
            seq,
            data: Ok(overview(&[Report::Daily, Report::Aging])),
        },
    );
    for want in [Report::Parcels, Report::Aging, Report::Daily] {
        update(&mut m, key(KeyCode::Tab));
        assert_eq!(m.reports.tab, want);
    }
    update(
        &mut m,
        Msg::Reports {
            seq,
            data: Err(Failure::new(FailureKind::Forbidden, "permission denied")),
        },
    );
    assert!(matches!(&m.status, Some((s, Tone::Error)) if s.contains("permission denied")));
}

#[test]
fn the_dashboard_trend_reloads_with_the_counts_at_most_once_a_minute() {
    let mut m = model(Role::Operator);
    let stats = crate::ops::Stats {
        overdue_days: 3,
        waiting: 1,
        received_today: 1,
        overdue: 0,
        picked_up_today: 0,
        recent: vec![],
        ..crate::ops::Stats::default()
    };
    assert_eq!(
        update(&mut m, Msg::Stats(Ok(stats.clone()))),
        vec![Effect::LoadTrend]
    );
    update(&mut m, Msg::Trend(Ok(vec![1, 2, 3])));
    assert_eq!(m.trend.received, vec![1, 2, 3]);
    assert!(update(&mut m, Msg::Stats(Ok(stats.clone()))).is_empty());
    update(
        &mut m,
        Msg::Tick(Utc.with_ymd_and_hms(2026, 11, 24, 12, 1, 0).unwrap()),
    );
    assert_eq!(
        update(&mut m, Msg::Stats(Ok(stats))),
        vec![Effect::LoadTrend]
    );
}
