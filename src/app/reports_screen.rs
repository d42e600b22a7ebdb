//! The Reports screen (`R`): the daily log, aging, carrier volume, time to pickup and staff
//! activity for a range of local days, with charts, and the Parcels tab (`day`): one day's
//! parcels. Admins see every tab; operators and viewers (and anyone at a kiosk) the daily
//! log, the parcels and aging. Exports are `ssh HOST reports … --csv` (admin-only, audited);
//! the Parcels tab's `e` records the request and shows that line for the day.

use chrono::{DateTime, Utc};

use super::effect::Effect;
use super::failure::Failure;
use super::keymap::Action;
use super::model::{Model, Screen, Tone};
use crate::reports::{Overview, Report};
use crate::term::input::KeyEvent;

pub mod day;

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
    /// The Daily tab's selected day among the newest shown (0: the range's last day).
    pub daily_cursor: usize,
    /// The Parcels tab.
    pub day: day::DayView,
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
            daily_cursor: 0,
            day: day::DayView::default(),
        }
    }
}

impl ReportsState {
    /// The tabs: the reports of the loaded overview (else the daily log), and the day's
    /// parcels after the daily log.
    pub fn tabs(&self) -> Vec<Report> {
        let mut tabs = match &self.data {
            Some(o) => o.tables.iter().map(|(r, _)| *r).collect(),
            None => vec![Report::Daily],
        };
        let at = tabs
            .iter()
            .position(|r| *r == Report::Daily)
            .map_or(0, |i| i + 1);
        tabs.insert(at, Report::Parcels);
        tabs
    }

    /// The day the Daily tab has selected, when its table is loaded.
    pub fn daily_day(&self) -> Option<chrono::NaiveDate> {
        let rows = &self.data.as_ref()?.table(Report::Daily)?.rows;
        let i = rows.len().checked_sub(1 + self.daily_cursor)?;
        match rows.get(i)?.first()? {
            crate::reports::Cell::Date(d) => Some(*d),
            _ => None,
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

/// Entering the screen: the overview, and the day's parcels when that tab is shown.
pub fn enter(m: &mut Model) -> Vec<Effect> {
    let mut fx = load(m);
    if m.reports.tab == Report::Parcels {
        // Back from a parcel's detail, say: the list where it was, read again.
        fx.extend(day::reload(m));
    }
    fx
}

/// The answer to [`load`].
pub fn on_loaded(m: &mut Model, seq: u64, res: Result<Overview, Failure>) -> Vec<Effect> {
    if seq != m.reports.seq {
        return vec![];
    }
    m.reports.loading = false;
    match res {
        Ok(o) => {
            let tab = m.reports.tab;
            if tab != Report::Parcels && !o.tables.iter().any(|(r, _)| *r == tab) {
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
pub fn key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    if m.reports.tab == Report::Parcels
        && !matches!(action, Some(Action::NextField | Action::PrevTab))
        && let Some(fx) = day::key(m, key, action)
    {
        return fx;
    }
    if m.reports.tab == Report::Daily {
        match action {
            Some(Action::Up) => {
                m.reports.daily_cursor = m.reports.daily_cursor.saturating_sub(1);
                return vec![];
            }
            Some(Action::Down) => {
                let days = m.reports.data.as_ref().map_or(0, |o| o.range.days());
                let last = usize::try_from(days - 1).unwrap_or(0);
                m.reports.daily_cursor = (m.reports.daily_cursor + 1).min(last);
                return vec![];
            }
            // The selected day's parcels.
            Some(Action::Confirm) => {
                let Some(d) = m.reports.daily_day() else {
                    return vec![];
                };
                m.reports.tab = Report::Parcels;
                return day::open(m, Some(d));
            }
            _ => {}
        }
    }
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
            // The Parcels tab opens on the range's last day the first time.
            if r.tab == Report::Parcels && r.day.page.is_none() && !r.day.loading {
                let last = r.data.as_ref().map(|o| o.range.to);
                return day::open(m, last);
            }
            vec![]
        }
        Some(Action::Earlier) => {
            r.ends_ago = (r.ends_ago + r.span).min(crate::reports::MAX_DAYS - r.span);
            r.daily_cursor = 0;
            load(m)
        }
        Some(Action::Later) => {
            if r.ends_ago == 0 {
                return vec![];
            }
            r.ends_ago = (r.ends_ago - r.span).max(0);
            r.daily_cursor = 0;
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
            r.daily_cursor = 0;
            load(m)
        }
        Some(Action::Today) => {
            if r.ends_ago == 0 {
                return vec![];
            }
            r.ends_ago = 0;
            r.daily_cursor = 0;
            load(m)
        }
        Some(Action::Refresh) => load(m),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests;
