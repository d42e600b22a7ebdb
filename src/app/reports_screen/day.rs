//! The Parcels tab of the Reports screen: one day's parcels (received or picked up that
//! day) as a list that scrolls through the day a page at a time, its totals, a parcel's
//! detail on Enter, and (admins) the audited CSV export, which answers with the command
//! that downloads the file (a terminal session cannot hand a file to the user's computer).

use chrono::NaiveDate;

use super::super::effect::Effect;
use super::super::failure::Failure;
use super::super::keymap::Action;
use super::super::model::{Me, Model, Screen, Tone};
use crate::reports::{DAY_PAGE, DayExport, DayPage, ParcelRow};
use crate::term::input::{KeyCode, KeyEvent};

/// The tab's state.
#[derive(Debug, Clone, Default)]
pub struct DayView {
    /// The day asked for (`None`: the facility's today).
    pub day: Option<NaiveDate>,
    /// The rows loaded: a window of the day's list, and its totals.
    pub page: Option<DayPage>,
    /// The selected parcel's position in the day's list.
    pub cursor: usize,
    /// The first position shown.
    pub top: usize,
    pub loading: bool,
    /// Answers to older requests are ignored.
    pub seq: u64,
    /// Set after `e`: what the export request covered (the screen shows the command).
    pub export: Option<DayExport>,
    pub exporting: bool,
}

impl DayView {
    /// Parcels the day lists (0 until a page is loaded).
    pub fn listed(&self) -> usize {
        self.page
            .as_ref()
            .map_or(0, |p| usize::try_from(p.totals.listed).unwrap_or(0))
    }

    /// The parcel at a position of the day's list, when it is loaded.
    pub fn row(&self, at: usize) -> Option<&ParcelRow> {
        let page = self.page.as_ref()?;
        let offset = usize::try_from(page.offset).ok()?;
        page.rows.get(at.checked_sub(offset)?)
    }

    /// The day shown, or asked for.
    pub fn shown_day(&self) -> Option<NaiveDate> {
        self.day.or(self.page.as_ref().map(|p| p.day))
    }
}

/// The Parcels tab's effects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayEffect {
    /// A page of a day (`None`: today) from a position in its list.
    Load {
        seq: u64,
        day: Option<NaiveDate>,
        offset: i64,
    },
    /// Record an export request for the day (admins) and answer with what it covers.
    Export(NaiveDate),
}

/// Their answers.
#[derive(Debug, Clone)]
pub enum DayMsg {
    Page {
        seq: u64,
        data: Result<DayPage, Failure>,
    },
    Exported(Result<DayExport, Failure>),
}

/// Parcel rows the list shows in a terminal `rows` high: the screen's header, tabs and day
/// lines, the list's border and heading, the status line and the key hints take 8.
pub fn visible_rows(rows: u16) -> usize {
    usize::from(rows.saturating_sub(8)).max(1)
}

/// Opens a day at its top (`None`: today).
pub fn open(m: &mut Model, day: Option<NaiveDate>) -> Vec<Effect> {
    let v = &mut m.reports.day;
    if v.page.as_ref().is_some_and(|p| Some(p.day) != day) || day.is_none() {
        v.page = None;
    }
    v.day = day;
    v.cursor = 0;
    v.top = 0;
    v.export = None;
    load(m, 0)
}

/// Reads the page around the view again (the selection stays).
pub fn reload(m: &mut Model) -> Vec<Effect> {
    let at = centred(m.reports.day.top, visible_rows(m.rows));
    load(m, at)
}

/// Asks for the page starting at `offset`.
fn load(m: &mut Model, offset: usize) -> Vec<Effect> {
    let seq = m.next_seq();
    let v = &mut m.reports.day;
    v.seq = seq;
    v.loading = true;
    vec![Effect::Day(DayEffect::Load {
        seq,
        day: v.day,
        offset: i64::try_from(offset).unwrap_or(i64::MAX),
    })]
}

/// Loads the rows around the view when what is shown is not loaded (scrolled past the
/// page); one request at a time.
fn ensure_loaded(m: &mut Model) -> Vec<Effect> {
    let shown = visible_rows(m.rows);
    let v = &m.reports.day;
    let Some(page) = &v.page else {
        return vec![];
    };
    if v.loading {
        return vec![];
    }
    let start = usize::try_from(page.offset).unwrap_or(0);
    let end = start + page.rows.len();
    let want_end = (v.top + shown).min(v.listed());
    if v.top >= start && want_end <= end {
        return vec![];
    }
    let offset = centred(v.top, shown);
    load(m, offset)
}

/// The first position of a page around a view at `top`: centred, so scrolling either way
/// lasts a while before the next load.
fn centred(top: usize, shown: usize) -> usize {
    let per_page = usize::try_from(DAY_PAGE).unwrap_or(200);
    top.saturating_sub(per_page.saturating_sub(shown) / 2)
}

/// Moves the selection to `to` (clamped to the list) and the view with it.
fn select(m: &mut Model, to: usize) -> Vec<Effect> {
    let shown = visible_rows(m.rows);
    let v = &mut m.reports.day;
    let last = v.listed().saturating_sub(1);
    v.cursor = to.min(last);
    if v.cursor < v.top {
        v.top = v.cursor;
    } else if v.cursor >= v.top + shown {
        v.top = v.cursor + 1 - shown;
    }
    ensure_loaded(m)
}

/// Keys on the Parcels tab; `None` when the key is not the tab's (the screen handles it).
pub fn key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Option<Vec<Effect>> {
    let page = visible_rows(m.rows);
    let cursor = m.reports.day.cursor;
    let fx = match (action, key.code) {
        (Some(Action::Back), _) if m.reports.day.export.is_some() => {
            m.reports.day.export = None;
            vec![]
        }
        (Some(Action::Up), _) => select(m, cursor.saturating_sub(1)),
        (Some(Action::Down), _) => select(m, cursor + 1),
        (_, KeyCode::PageUp) => select(m, cursor.saturating_sub(page)),
        (_, KeyCode::PageDown) => select(m, cursor + page),
        (_, KeyCode::Home) => select(m, 0),
        (_, KeyCode::End) => select(m, usize::MAX),
        (Some(Action::Earlier), _) => step(m, -1),
        (Some(Action::Later), _) => step(m, 1),
        (Some(Action::Today), _) => open(m, None),
        (Some(Action::Refresh), _) => reload(m),
        (Some(Action::Confirm), _) => match m.reports.day.row(cursor).map(|r| r.id) {
            Some(id) => {
                m.detail = None;
                m.correction = None;
                m.detail_from = Screen::Reports;
                m.screen = Screen::Detail;
                vec![Effect::LoadPackage(id)]
            }
            None => vec![],
        },
        (Some(Action::Export), _) => export(m),
        (Some(Action::Wider | Action::Narrower), _) => vec![],
        _ => return None,
    };
    Some(fx)
}

/// The day before (`-1`) or after (`1`), never past the facility's today.
fn step(m: &mut Model, by: i64) -> Vec<Effect> {
    let v = &m.reports.day;
    let (Some(day), Some(today)) = (v.shown_day(), v.page.as_ref().map(|p| p.today)) else {
        return vec![];
    };
    let to = day + chrono::Duration::days(by);
    if to > today {
        return vec![];
    }
    open(m, Some(to))
}

/// `e`: exports are for admins in their own session (the server checks again).
fn export(m: &mut Model) -> Vec<Effect> {
    if !m.me.role.can_administer() || m.kiosk.is_some() {
        m.note(
            "permission denied: CSV exports are for admins, in their own session",
            Tone::Error,
        );
        return vec![];
    }
    let v = &mut m.reports.day;
    let Some(page) = &v.page else {
        return vec![];
    };
    if v.exporting {
        return vec![];
    }
    v.exporting = true;
    vec![Effect::Day(DayEffect::Export(page.day))]
}

/// The answers.
pub fn on_msg(m: &mut Model, msg: DayMsg) -> Vec<Effect> {
    match msg {
        DayMsg::Page { seq, data } => {
            if seq != m.reports.day.seq {
                return vec![];
            }
            m.reports.day.loading = false;
            match data {
                Ok(page) => {
                    let v = &mut m.reports.day;
                    v.day = Some(page.day);
                    v.page = Some(page);
                    // The day may have fewer parcels than when the view was placed.
                    let last = v.listed().saturating_sub(1);
                    v.cursor = v.cursor.min(last);
                    v.top = v.top.min(v.cursor);
                    ensure_loaded(m)
                }
                Err(e) => {
                    m.note(format!("parcels not loaded: {e}"), Tone::Error);
                    vec![]
                }
            }
        }
        DayMsg::Exported(res) => {
            m.reports.day.exporting = false;
            match res {
                Ok(x) => {
                    m.reports.day.export = Some(x);
                    // A terminal session cannot hand over a file: the line below fetches it.
                    m.note(
                        "export recorded in the audit log; the download is audited too · Esc closes",
                        Tone::Success,
                    );
                }
                Err(e) => m.note(format!("export refused: {e}"), Tone::Error),
            }
            vec![]
        }
    }
}

/// The command that downloads a day's parcels as CSV, for a line `width` columns wide: with
/// the date in the file name when that fits, else a shorter name (a command cut over two
/// lines would not paste). `HOST` is the address the user connects to: the server cannot
/// know the name the user typed.
pub fn export_command(me: &Me, day: NaiveDate, width: usize) -> String {
    let base = format!(
        "ssh {}+{}@HOST reports parcels --day {day} --csv",
        me.login, me.slug
    );
    let dated = format!("{base} > parcels-{day}.csv");
    if dated.chars().count() <= width {
        dated
    } else {
        format!("{base} > parcels.csv")
    }
}

#[cfg(test)]
mod tests;
