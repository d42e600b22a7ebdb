//! The Reports screen's Parcels tab: the day and its totals on the range line, then the
//! day's parcels (time, tracking, recipient · unit, status, when and by whom collected) in
//! a box that scrolls, and after `e` the line that downloads the day as CSV.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::thousands;
use crate::app::model::Model;
use crate::app::reports_screen::day::{export_command, visible_rows};
use crate::domain::text::escape;
use crate::reports::{DayExport, ParcelRow};
use crate::ui::theme::Theme;

/// Stored text as shown: a forbidden character (an escape sequence that slipped past the
/// checks, in data from before them) is written out as `\uXXXX`, never sent raw.
fn shown(text: &str) -> String {
    escape(text, &[])
}

/// Cut to `n` columns with `…`, padded to `n`.
fn fit(text: &str, n: usize) -> String {
    let count = text.chars().count();
    let cut: String = if count > n {
        let mut s: String = text.chars().take(n.saturating_sub(1)).collect();
        s.push('…');
        s
    } else {
        text.to_string()
    };
    format!("{cut:<n$}")
}

/// The end of a tracking number: what a clerk reads off a label to find the parcel.
fn short_tracking(t: &str, n: usize) -> String {
    let count = t.chars().count();
    if count <= n {
        return t.to_string();
    }
    let tail: String = t.chars().skip(count + 1 - n).collect();
    format!("…{tail}")
}

/// Below this inner width the status has no column of its own: it shows in the pickup
/// column of a parcel not picked up (a 60-column terminal keeps room for names).
const STATUS_COLUMN_MIN: usize = 70;

/// Widths of the recipient and pickup columns for an inner width (after time, tracking and,
/// when wide enough, status).
fn widths(inner: usize) -> (usize, usize) {
    // " 08:12 …0357567127 " + recipient + " picked up " + pickup
    let status = if inner >= STATUS_COLUMN_MIN { 9 + 1 } else { 0 };
    let rest = inner.saturating_sub(1 + 5 + 1 + 11 + 1 + 1 + status);
    // The pickup column a little wider: "08:05 Joan Clarke (proxy)" whole at 80 columns.
    let recipient = rest * 11 / 24;
    (recipient, rest - recipient)
}

pub fn draw(f: &mut Frame, range: Rect, body: Rect, m: &Model, t: &Theme) {
    let v = &m.reports.day;
    let Some(page) = &v.page else {
        f.render_widget(
            Paragraph::new(Span::styled(" loading the day's parcels…", t.dim)),
            range,
        );
        return;
    };
    let tz: chrono_tz::Tz = page.time_zone.parse().unwrap_or(m.tz);
    let n = page.totals;
    // The totals before the time zone: a long zone name is what a narrow line cuts.
    let line = format!(
        " {} · received {} · picked up {} · {} still waiting · {}{}",
        page.day,
        thousands(n.received.max(0).unsigned_abs()),
        thousands(n.picked_up.max(0).unsigned_abs()),
        thousands(n.waiting.max(0).unsigned_abs()),
        if v.loading { "loading… · " } else { "" },
        page.time_zone,
    );
    f.render_widget(Paragraph::new(Span::styled(line, t.dim)), range);

    let (list, export) = match &v.export {
        Some(x) => {
            let [list, export] =
                Layout::vertical([Constraint::Min(3), Constraint::Length(4)]).areas(body);
            (list, Some((x, export)))
        }
        None => (body, None),
    };
    let listed = v.listed();
    let rows = usize::from(list.height.saturating_sub(3)).min(visible_rows(m.rows));
    let top = if v.cursor >= v.top && v.cursor < v.top + rows.max(1) {
        v.top
    } else {
        v.cursor.saturating_sub(rows.saturating_sub(1))
    };
    let mut block = Block::default().borders(Borders::ALL).title(format!(
        " Parcels of {} · {} ",
        page.day.format("%a %Y-%m-%d"),
        thousands(listed as u64)
    ));
    if listed > 0 {
        block = block.title_bottom(format!(
            " {}–{} of {} · ↑↓ PgUp PgDn ",
            top + 1,
            (top + rows).min(listed),
            thousands(listed as u64)
        ));
    }
    let inner = block.inner(list);
    f.render_widget(block, list);
    if listed == 0 {
        f.render_widget(
            Paragraph::new(Span::styled(
                " nothing was received or picked up on this day",
                t.dim,
            )),
            inner,
        );
    } else {
        let wide = usize::from(inner.width) >= STATUS_COLUMN_MIN;
        let (rw, pw) = widths(usize::from(inner.width));
        let heading = if wide {
            format!(
                " {} {} {} {} {}",
                fit("Time", 5),
                fit("Tracking", 11),
                fit("Recipient · unit", rw),
                fit("Status", 9),
                fit("Picked up · by", pw)
            )
        } else {
            format!(
                " {} {} {} {}",
                fit("Time", 5),
                fit("Tracking", 11),
                fit("Recipient · unit", rw),
                fit("Picked up / status", pw)
            )
        };
        let mut lines = vec![Line::from(Span::styled(heading, t.title))];
        for at in top..(top + rows).min(listed) {
            let style = if at == v.cursor { t.selected } else { t.text };
            let text = match v.row(at) {
                Some(p) => row(p, page.day, tz, (rw, pw), wide),
                None => " …".to_string(),
            };
            lines.push(Line::from(Span::styled(text, style)));
        }
        f.render_widget(Paragraph::new(lines), inner);
    }
    if let Some((x, area)) = export {
        export_panel(f, area, m, x, t);
    }
}

/// One parcel: received at (a time that day, else the date it came in), tracking, who it is
/// for, its status, and when and by whom it was collected (a proxy marked as such). Not
/// `wide`: the status only for a parcel not picked up, in the pickup column.
fn row(
    p: &ParcelRow,
    day: chrono::NaiveDate,
    tz: chrono_tz::Tz,
    (rw, pw): (usize, usize),
    wide: bool,
) -> String {
    let local = |at: DateTime<Utc>| at.with_timezone(&tz);
    let when = |at: DateTime<Utc>| {
        let l = local(at);
        if l.date_naive() == day {
            l.format("%H:%M").to_string()
        } else {
            l.format("%m-%d").to_string()
        }
    };
    // The unit tells residents of one name apart: a long name gives way, not the unit.
    let recipient = match (&p.recipient, &p.unit) {
        (Some(name), Some(unit)) if !unit.is_empty() => {
            let unit = shown(unit);
            let room = rw.saturating_sub(unit.chars().count() + 3).max(rw / 2);
            format!("{} · {unit}", fit(&shown(name), room).trim_end())
        }
        (Some(name), _) => shown(name),
        (None, _) => "(unmatched)".to_string(),
    };
    let pickup = match p.picked_up_at {
        Some(at) => {
            let l = local(at);
            let time = if l.date_naive() == day {
                l.format("%H:%M").to_string()
            } else {
                l.format("%m-%d %H:%M").to_string()
            };
            let who = p.collected_by.as_deref().map(shown).unwrap_or_default();
            let proxy = if p.proxy { " (proxy)" } else { "" };
            // The proxy mark stays whole; a long name gives way.
            let room = pw.saturating_sub(time.chars().count() + 1 + proxy.len());
            format!("{time} {}{proxy}", fit(&who, room).trim_end())
        }
        None if wide => String::new(),
        None => p.status.replace('_', " "),
    };
    let status = if wide {
        format!("{} ", fit(&p.status.replace('_', " "), 9))
    } else {
        String::new()
    };
    format!(
        " {} {} {} {status}{}",
        fit(&when(p.received_at), 5),
        fit(&short_tracking(&shown(&p.tracking), 11), 11),
        fit(&recipient, rw),
        fit(&pickup, pw)
    )
}

/// What `e` answered: the day's export was recorded; the command that downloads it, on a
/// line of its own from the first column (it copies whole; on a terminal too narrow for it,
/// it wraps rather than losing its end).
fn export_panel(f: &mut Frame, area: Rect, m: &Model, x: &DayExport, t: &Theme) {
    let block = Block::default().borders(Borders::TOP).title(format!(
        " Export CSV · {} · {} parcels · recorded in the audit log ",
        x.day,
        thousands(x.rows.max(0).unsigned_abs())
    ));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [say, command] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    f.render_widget(
        Paragraph::new(Span::styled(
            " Run on your computer (HOST: the address you log in to):",
            t.dim,
        )),
        say,
    );
    let line = export_command(&m.me, x.day, usize::from(command.width));
    f.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), command);
}
