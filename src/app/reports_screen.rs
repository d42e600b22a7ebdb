//! The Reports screen (`R`): the daily log, aging, carrier volume, time to pickup and staff
//! activity for a range of local days, with charts. Admins see all five; operators and
//! viewers (and anyone at a kiosk) the daily log and aging. Exports stay with
//! `ssh HOST reports … --csv` (admin-only, audited).

use chrono::{DateTime, Utc};

use super::effect::Effect;
use super::failure::Failure;
use super::keymap::Action;
use super::model::{Model, Screen, Tone};
use crate::reports::{Overview, Report};

/// The spans `+`/`-` step through, in days.
pub const SPANS: [i64; 5] = [7, 14, 30, 90, 365];

/// Days in the dashboard's sparkline.
pub const TREND_DAYS: i64 = 14;
/// The dashboard's trend is reloaded with the counts at most this often (seconds).
pub const TREND_MAX_AGE_SECS: i64 = 60;

#[derive(Debug, Clone)]
pub struct ReportsState {
    /// The report shown (one of those the overview has).
    pub tab: Report,
    /// Days in the range.
    pub span: i64,
    /// The range ends this many days before the facility's today.
    pub ends_ago: i64,
    pub data: Option<Overview>,
    pub loading: bool,
    /// Answers to older requests are ignored.
    pub seq: u64,
}

impl Default for ReportsState {
    fn default() -> Self {
        Self {
            tab: Report::Daily,
            span: 30,
            ends_ago: 0,
            data: None,
            loading: false,
            seq: 0,
        }
    }
}

impl ReportsState {
    /// The reports there are tabs for: those of the loaded overview, else the daily log.
    pub fn tabs(&self) -> Vec<Report> {
        match &self.data {
            Some(o) => o.tables.iter().map(|(r, _)| *r).collect(),
            None => vec![Report::Daily],
        }
    }
}

/// The dashboard's sparkline: received per day, oldest first, and when it was loaded.
#[derive(Debug, Clone, Default)]
pub struct Trend {
    pub received: Vec<u64>,
    pub at: Option<DateTime<Utc>>,
}

impl Trend {
    /// Whether it should be loaded again (with the dashboard's counts).
    pub fn stale(&self, now: DateTime<Utc>) -> bool {
        self.at
            .is_none_or(|at| (now - at).num_seconds() >= TREND_MAX_AGE_SECS)
    }
}

/// Asks for the current range.
pub fn load(m: &mut Model) -> Vec<Effect> {
    let seq = m.next_seq();
    let r = &mut m.reports;
    r.seq = seq;
    r.loading = true;
    vec![Effect::LoadReports {
        seq,
        span: r.span,
        ends_ago: r.ends_ago,
    }]
}

/// The answer to [`load`].
pub fn on_loaded(m: &mut Model, seq: u64, res: Result<Overview, Failure>) -> Vec<Effect> {
    if seq != m.reports.seq {
        return vec![];
    }
    m.reports.loading = false;
    match res {
        Ok(o) => {
            if !o.tables.iter().any(|(r, _)| *r == m.reports.tab) {
                m.reports.tab = Report::Daily;
            }
            m.reports.data = Some(o);
        }
        Err(e) => m.note(format!("reports not loaded: {e}"), Tone::Error),
    }
    vec![]
}

/// The dashboard trend's answer.
pub fn on_trend(m: &mut Model, res: Result<Vec<u64>, Failure>) -> Vec<Effect> {
    match res {
        Ok(received) => {
            m.trend = Trend {
                received,
                at: Some(m.now),
            };
        }
        // The counts still show; the sparkline waits for the next try.
        Err(_) => m.trend.at = Some(m.now),
    }
    vec![]
}

/// Keys on the Reports screen.
pub fn key(m: &mut Model, action: Option<Action>) -> Vec<Effect> {
    let r = &mut m.reports;
    match action {
        Some(Action::Back) => {
            m.screen = Screen::Dashboard;
            m.status = None;
            vec![Effect::LoadStats]
        }
        Some(Action::NextField | Action::PrevTab) => {
            let tabs = r.tabs();
            let i = tabs.iter().position(|t| *t == r.tab).unwrap_or(0);
            let n = tabs.len();
            r.tab = if action == Some(Action::PrevTab) {
                tabs[(i + n - 1) % n]
            } else {
                tabs[(i + 1) % n]
            };
            vec![]
        }
        Some(Action::Earlier) => {
            r.ends_ago = (r.ends_ago + r.span).min(crate::reports::MAX_DAYS - r.span);
            load(m)
        }
        Some(Action::Later) => {
            if r.ends_ago == 0 {
                return vec![];
            }
            r.ends_ago = (r.ends_ago - r.span).max(0);
            load(m)
        }
        Some(Action::Wider | Action::Narrower) => {
            let i = SPANS.iter().position(|s| *s >= r.span).unwrap_or(0);
            let j = if action == Some(Action::Wider) {
                (i + 1).min(SPANS.len() - 1)
            } else {
                i.saturating_sub(1)
            };
            if SPANS[j] == r.span {
                return vec![];
            }
            r.span = SPANS[j];
            load(m)
        }
        Some(Action::Today) => {
            if r.ends_ago == 0 {
                return vec![];
            }
            r.ends_ago = 0;
            load(m)
        }
        Some(Action::Refresh) => load(m),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;
    use crate::app::FailureKind;
    use crate::app::model::Me;
    use crate::app::msg::Msg;
    use crate::app::update::update;
    use crate::domain::Role;
    use crate::reports::{Range, Table};
    use crate::term::input::{KeyCode, KeyEvent, Mods};

    fn key(code: KeyCode) -> Msg {
        Msg::Key(KeyEvent {
            code,
            mods: Mods::NONE,
        })
    }

    fn model(role: Role) -> Model {
        let mut m = Model::new(
            Me {
                login: "boss".into(),
                slug: "demo".into(),
                facility_name: "Demo".into(),
                role,
            },
            80,
            24,
            Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap(),
        );
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
        update(&mut m, key(KeyCode::Tab));
        update(&mut m, key(KeyCode::Tab));
        assert_eq!(m.reports.tab, Report::Daily);
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
}
