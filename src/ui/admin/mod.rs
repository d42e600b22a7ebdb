//! The admin console: members and roles, the audit trail, the security scorecard, and the
//! Keys, TOTP, Settings, Channels and Outbox tabs and the new member form (drawn by their
//! own modules), and the console's key hints ([`hints`]).

mod channels;
pub(super) mod hints;
mod keys;
mod new_member;
mod outbox;
mod settings;
mod totp;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::model::{AdminTab, Model};
use crate::ui::theme::Theme;
use crate::ui::widgets::field;

pub fn draw(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let a = &m.admin;
    if a.tab == AdminTab::Totp && totp::draw_enrollment(f, area, m, t) {
        return;
    }
    // Full titles when they all fit in the frame's top border, else short ones.
    let full: usize = AdminTab::ALL
        .iter()
        .map(|t| t.title().len() + 3)
        .sum::<usize>()
        + 1;
    let short = full + 2 > area.width as usize;
    let mut tabs = vec![Span::raw(" ")];
    for tab in AdminTab::ALL {
        let style = if tab == a.tab { t.selected } else { t.dim };
        let title = if short && tab != a.tab {
            tab.short_title()
        } else {
            tab.title()
        };
        tabs.push(Span::styled(format!(" {title} "), style));
        // Narrow: no gap between titles, so all eight fit 60 columns.
        if !short {
            tabs.push(Span::raw(" "));
        }
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(tabs));
    let inner = block.inner(area);
    f.render_widget(block, area);
    match a.tab {
        AdminTab::Members => match &a.new_member {
            Some(form) => new_member::draw(f, inner, form, t),
            None => members(f, inner, m, t),
        },
        AdminTab::Audit => audit(f, inner, m, t),
        AdminTab::Security => security(f, inner, m, t),
        AdminTab::Keys => keys::draw_keys(f, inner, m, t),
        AdminTab::Totp => totp::draw_totp(f, inner, m, t),
        AdminTab::Settings => settings::draw(f, inner, m, t),
        AdminTab::Channels => channels::draw(f, inner, m, t),
        AdminTab::Outbox => outbox::draw(f, inner, m, t),
    }
}

fn members(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let a = &m.admin;
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{:<16} {:<9} {:<9} {:<5} {:<8}",
            "Login", "Role", "Status", "Keys", "TOTP"
        ),
        t.title,
    ))];
    let rows = area.height.saturating_sub(1) as usize;
    let start = a.cursor.saturating_sub(rows.saturating_sub(1));
    for (i, mem) in a.members.iter().enumerate().skip(start).take(rows) {
        let style = if i == a.cursor { t.selected } else { t.text };
        lines.push(Line::from(Span::styled(
            format!(
                "{:<16} {:<9} {:<9} {:<5} {:<8}",
                mem.login.chars().take(16).collect::<String>(),
                mem.role,
                if mem.disabled { "disabled" } else { "active" },
                mem.keys,
                if mem.has_totp { "enrolled" } else { "—" },
            ),
            style,
        )));
    }
    f.render_widget(Paragraph::new(lines), area);
}

fn audit(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let a = &m.admin;
    let [filter, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    f.render_widget(
        Paragraph::new(field("Filter", &a.audit_filter, a.filtering, 30, t)),
        filter,
    );
    let rows = list.height as usize;
    let start = a.cursor.saturating_sub(rows.saturating_sub(1));
    let lines: Vec<Line> = a
        .audit
        .iter()
        .enumerate()
        .skip(start)
        .take(rows)
        .map(|(i, r)| {
            let style = if i == a.cursor { t.selected } else { t.text };
            Line::from(Span::styled(
                format!(
                    "{:>5} {} {:<10} {:<22} {}",
                    r.seq,
                    m.local(r.at).format("%m-%d %H:%M"),
                    r.actor.chars().take(10).collect::<String>(),
                    r.action.chars().take(22).collect::<String>(),
                    r.target
                ),
                style,
            ))
        })
        .collect();
    f.render_widget(Paragraph::new(lines), list);
}

/// A backup older than this many days is flagged (scheduled backups run daily or so).
const BACKUP_STALE_DAYS: i64 = 2;
/// The restore drill is monthly (docs/BACKUP.md); a few days of slack before it is flagged.
const DRILL_STALE_DAYS: i64 = 35;

/// "OK 12-05 06:00", "FAILED …" or "never"; flagged when failed, missing or older than
/// `stale_days`.
fn backup_row<'a>(
    m: &Model,
    label: &'static str,
    mark: Option<crate::db::members::BackupMark>,
    stale_days: i64,
    row: &impl Fn(&'static str, String, bool) -> Line<'a>,
) -> Line<'a> {
    match mark {
        None => row(label, "never".into(), true),
        Some(b) => {
            let stale = (m.now - b.at).num_days() > stale_days;
            let when = m.local(b.at).format("%Y-%m-%d %H:%M");
            let what = if b.ok { "OK" } else { "FAILED" };
            let old = if stale { " (overdue)" } else { "" };
            row(label, format!("{what} {when}{old}"), !b.ok || stale)
        }
    }
}

fn security(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let Some(card) = &m.admin.scorecard else {
        f.render_widget(Paragraph::new(Span::styled("loading…", t.dim)), area);
        return;
    };
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let flag = |bad: bool| if bad { t.warning } else { t.success };
    let row = |label: &'static str, value: String, bad: bool| {
        Line::from(vec![
            Span::styled(format!("{label:<28}"), t.title),
            Span::styled(value, flag(bad)),
        ])
    };
    let mut lines = vec![
        row("Members", card.members.to_string(), false),
        row(
            "Without TOTP or a key",
            list(&card.without_mfa_or_key),
            !card.without_mfa_or_key.is_empty(),
        ),
        row(
            "Keys unused for 90 days",
            list(&card.stale_keys),
            !card.stale_keys.is_empty(),
        ),
        row(
            "Failed logins, last 24 h",
            card.failed_logins_24h.to_string(),
            card.failed_logins_24h > 0,
        ),
        row("Locked now", list(&card.locked), !card.locked.is_empty()),
        row(
            "Notifications pending",
            card.pending_notifications.to_string(),
            false,
        ),
        row(
            "Dead letters",
            card.dead_letters.to_string(),
            card.dead_letters > 0,
        ),
        row(
            "Last delivery error",
            card.last_delivery_error
                .clone()
                .unwrap_or_else(|| "none".into()),
            card.last_delivery_error.is_some(),
        ),
        match card.audit_first_bad {
            None => row(
                "Audit chain",
                format!("intact ({} entries)", card.audit_entries),
                false,
            ),
            Some(seq) => row("Audit chain", format!("BROKEN at entry {seq}"), true),
        },
        backup_row(m, "Last backup", card.last_backup, BACKUP_STALE_DAYS, &row),
        backup_row(m, "Restore drill", card.last_drill, DRILL_STALE_DAYS, &row),
    ];
    // Only where point-in-time archiving has run: elsewhere it is not a promise.
    if card.last_wal.is_some() {
        lines.push(backup_row(
            m,
            "WAL archive",
            card.last_wal,
            BACKUP_STALE_DAYS,
            &row,
        ));
    }
    f.render_widget(
        Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }),
        area,
    );
}

#[cfg(test)]
mod tests;
