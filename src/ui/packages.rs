use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::theme::Theme;
use super::widgets::{age, field};
use crate::app::model::{CorrectionKind, Model};

/// Cut to `n` characters and padded, so a long name never pushes the columns apart.
fn col(text: &str, n: usize) -> String {
    let cut: String = text.chars().take(n).collect();
    format!("{cut:<n$}")
}

pub fn draw_list(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let visible = m.visible();
    let search = m.list.search();
    let marked = if m.list.marks.is_empty() {
        String::new()
    } else {
        format!("· {} marked ", m.list.marks.len())
    };
    let title = format!(
        " Packages · {}{} · {} {marked}",
        m.list.scope(),
        if search.is_empty() {
            String::new()
        } else {
            format!(" · “{}”", search.chars().take(20).collect::<String>())
        },
        count(m, visible.len())
    );
    let block = Block::default().borders(Borders::ALL).title(title);
    let mut inner = block.inner(area);
    f.render_widget(block, area);
    let searching = m.list.filtering && !m.list.choosing_status;
    if searching || !m.list.filter.is_empty() {
        let [filter, rest] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
        let width = (inner.width as usize).saturating_sub(12);
        let mut line = field("Search", &m.list.filter, searching, width.min(30), t);
        if searching {
            line.spans
                .push(Span::styled(" Enter: all statuses · Esc: clear", t.dim));
        }
        f.render_widget(Paragraph::new(line), filter);
        inner = rest;
    }
    // Unit and received date tell three "Abigail Lee" apart; names are cut to fit 80
    // columns (60 on a narrow terminal, without carrier and location).
    // Those who can act on parcels get a marks column first (Space marks, see
    // app::packages::bulk): two columns the status has to spare at 80, the name's at 60.
    let wide = inner.width >= 76;
    let marks = m.me.role.can_handle_packages();
    let row = |tracking: &str, name: &str, unit: &str, loc: &str, recv: &str, a: &str, st: &str| {
        if wide {
            format!(
                "{} {} {} {} {} {:>4} {}",
                col(tracking, 22),
                col(name, 15),
                col(unit, 6),
                col(loc, 8),
                col(recv, 5),
                a,
                st
            )
        } else {
            format!(
                "{} {} {} {} {:>4} {}",
                col(tracking, 18),
                col(name, if marks { 9 } else { 11 }),
                col(unit, 6),
                col(recv, 5),
                a,
                st
            )
        }
    };
    let rows = inner.height.saturating_sub(1) as usize;
    let start = m.list.cursor.saturating_sub(rows.saturating_sub(1));
    let gutter = |marked: bool| match (marks, marked) {
        (false, _) => "",
        (true, true) => "✓ ",
        (true, false) => "  ",
    };
    let mut lines = vec![Line::from(Span::styled(
        gutter(false).to_string()
            + &row(
                "Tracking",
                "Recipient",
                "Unit",
                "Location",
                "Recvd",
                "Age",
                "Status",
            ),
        t.title,
    ))];
    for (i, p) in visible.iter().enumerate().skip(start).take(rows) {
        let text = gutter(m.list.marks.contains(&p.id)).to_string()
            + &row(
                &p.tracking,
                &recipient(p),
                p.recipient_unit.as_deref().unwrap_or("-"),
                &p.location,
                &m.local(p.received_at).format("%m-%d").to_string(),
                &age((m.now - p.received_at).num_seconds()),
                &p.status.replace('_', " "),
            );
        let style = if i == m.list.cursor {
            t.selected
        } else if m.is_overdue(p) {
            t.overdue
        } else {
            t.text
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

/// The title's count: "12", or "500 of 5123" when the server's page is not every match.
/// A local narrowing (typed, Enter not yet pressed) counts the loaded rows it keeps.
fn count(m: &Model, visible: usize) -> String {
    use crate::db::packages::Total;
    if m.list.loading {
        return "loading…".into();
    }
    match m.list.total {
        Some(total) if visible == m.list.rows.len() && !total.complete(visible) => match total {
            Total::Exact(n) => format!("{visible} of {n}"),
            Total::Over(n) => format!("{visible} of over {n}"),
        },
        _ => visible.to_string(),
    }
}

/// A list row's recipient: the name, or for an unmatched parcel "?" and the name it was
/// recorded for (what the clerk typed at intake), so it can be matched later.
fn recipient(p: &crate::db::packages::Package) -> String {
    match (&p.recipient_name, &p.addressed_to) {
        (Some(name), _) => name.clone(),
        (None, Some(typed)) => format!("?{typed}"),
        (None, None) => "(unmatched)".into(),
    }
}

/// " by Bob Smith (proxy)" or " by Sam Lee (authorised proxy)": who collected the parcel,
/// from its handover event.
fn picked_up_by(events: &[crate::db::packages::Event]) -> String {
    let Some(e) = events.iter().rev().find(|e| e.kind == "picked_up") else {
        return String::new();
    };
    let Some(who) = e.detail.get("receiver").and_then(|r| r.as_str()) else {
        return String::new();
    };
    let flag = |k: &str| e.detail.get(k).and_then(serde_json::Value::as_bool) == Some(true);
    // `authorised`: the server found the name on the resident's list at the handover.
    let proxy = match (flag("proxy"), flag("authorised")) {
        (true, true) => " (authorised proxy)",
        (true, false) => " (proxy)",
        _ => "",
    };
    format!(" by {who}{proxy}")
}

pub fn draw_detail(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let block = Block::default().borders(Borders::ALL).title(" Package ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some((p, events)) = &m.detail else {
        f.render_widget(Paragraph::new(Span::styled("loading…", t.dim)), inner);
        return;
    };
    // Flags and note when loaded (the detail of a package read through ops has them).
    let head_rows = if p.handling.is_some() { 8 } else { 6 };
    let [head, timeline] =
        Layout::vertical([Constraint::Length(head_rows), Constraint::Min(1)]).areas(inner);
    let kv = |k: &'static str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<11}"), t.title),
            Span::raw(v),
        ])
    };
    let mut lines = vec![
        kv(
            "Tracking",
            format!(
                "{} ({})",
                p.tracking,
                p.carrier.as_deref().unwrap_or("unknown carrier")
            ),
        ),
        kv(
            "Recipient",
            match (&p.recipient_name, &p.addressed_to) {
                (Some(name), Some(typed)) => format!("{name} (addressed to “{typed}”)"),
                (Some(name), None) => name.clone(),
                (None, Some(typed)) => format!("(unmatched) addressed to “{typed}”"),
                (None, None) => "(unmatched)".into(),
            },
        ),
        kv(
            "Status",
            format!(
                "{}{}{}",
                p.status.replace('_', " "),
                picked_up_by(events),
                if m.is_overdue(p) { " · OVERDUE" } else { "" }
            ),
        ),
        kv("Location", p.location.clone()),
        kv("Code", p.pickup_code.clone().unwrap_or_else(|| "-".into())),
        kv(
            "Received",
            format!(
                "{} ({} ago)",
                m.local(p.received_at).format("%Y-%m-%d %H:%M %Z"),
                age((m.now - p.received_at).num_seconds())
            ),
        ),
    ];
    if let Some(h) = &p.handling {
        lines.push(kv("Flags", h.flags.label()));
        // One line: the first line of the note, and a mark when there is more.
        let mut note = h.note.as_str().lines();
        let first = note.next().unwrap_or("-").to_string();
        let more = if note.next().is_some() { " …" } else { "" };
        lines.push(kv("Note", format!("{first}{more}")));
    }
    f.render_widget(Paragraph::new(lines), head);
    let mut tl = vec![Line::from(Span::styled("Custody", t.title))];
    for e in events {
        // A correction names what it changed (the detail's keys), not the values.
        let changed = e
            .detail
            .get("changes")
            .and_then(|c| c.as_object())
            .map(|c| {
                let what: Vec<&str> = c
                    .keys()
                    .map(|k| if k == "recipient_id" { "recipient" } else { k })
                    .collect();
                format!(" · {}", what.join(", "))
            })
            .unwrap_or_default();
        tl.push(Line::from(format!(
            "{}  {:<10} {:<10} {}{changed}",
            m.local(e.at).format("%m-%d %H:%M"),
            e.kind.replace('_', " "),
            e.actor.as_deref().unwrap_or("-"),
            e.source
        )));
    }
    if let Some(c) = m.correction.as_ref().filter(|c| c.searches()) {
        let verb = if c.kind == CorrectionKind::Reassign {
            "reassign"
        } else {
            "assign"
        };
        let block = Block::default().borders(Borders::TOP).title(format!(
            " {} (Enter: {verb} · Esc: cancel) ",
            c.kind.title()
        ));
        let inner = block.inner(timeline);
        f.render_widget(block, timeline);
        super::recipients::search_box(f, inner, &m.search, true, t);
    } else if let Some(c) = &m.correction {
        let [list, form] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(4)]).areas(timeline);
        f.render_widget(Paragraph::new(tl), list);
        let width = (form.width as usize).saturating_sub(12);
        let mut lines = vec![Line::from(Span::styled(c.kind.title(), t.title))];
        match c.kind {
            CorrectionKind::Flags => {
                lines.push(super::intake::flag_line(c.flags, form.width < 72, t))
            }
            CorrectionKind::Note => lines.push(field("Note", &c.note, true, width, t)),
            _ => {
                if c.kind == CorrectionKind::Move {
                    lines.push(field("To", &c.location, !c.on_reason, width.min(30), t));
                }
                lines.push(field("Reason", &c.reason, c.on_reason, width, t));
            }
        }
        lines.push(Line::from(Span::styled(
            if c.saving {
                "Saving…"
            } else if c.kind == CorrectionKind::Flags {
                "F6-F9: toggle · Enter: save · Esc: cancel"
            } else {
                "Enter: save · Esc: cancel"
            },
            t.dim,
        )));
        f.render_widget(Paragraph::new(lines), form);
    } else {
        f.render_widget(Paragraph::new(tl), timeline);
    }
}

#[cfg(test)]
mod tests;
