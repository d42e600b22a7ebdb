//! The admin console's Keys tab: members' keys, the member picker, the paste and revoke
//! dialogs. The TOTP tab is in [`super::totp`].

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::admin::keys::KeysMode;
use crate::app::model::Model;
use crate::ui::theme::Theme;
use crate::ui::widgets::{age, field};

/// `ssh-ed25519` → `ed25519`, `ecdsa-sha2-nistp256` → `ecdsa-p256`.
pub fn short_algorithm(a: &str) -> String {
    let a = a.strip_prefix("ssh-").unwrap_or(a);
    match a.strip_prefix("ecdsa-sha2-nist") {
        Some(curve) => format!("ecdsa-{curve}"),
        None => a.replace("sk-ssh-", "sk-").replace("@openssh.com", ""),
    }
}

fn ago(now: DateTime<Utc>, at: Option<DateTime<Utc>>) -> String {
    match at {
        Some(t) => format!("{} ago", age((now - t).num_seconds())),
        None => "never".into(),
    }
}

pub(super) fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

pub fn draw_keys(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let k = &m.admin.keys;
    let panel = match &k.mode {
        KeysMode::Paste { .. } => 3,
        KeysMode::ConfirmRevoke { .. } => 2,
        _ => 0,
    };
    let [list, bottom] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(panel)]).areas(area);
    let w = list.width as usize;
    let login_w = if w >= 70 { 14 } else { 10 };
    // Narrow: "Last used" (9) is as wide as its longest usual value, which leaves
    // "all facilities" whole at 60 columns.
    let used_w = if w >= 70 { 11 } else { 9 };
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{:<login_w$} {:<10} {:<10} {:<used_w$} {}",
            "Login", "Algorithm", "Created", "Last used", "Valid in"
        ),
        t.title,
    ))];
    if k.rows.is_empty() {
        lines.push(Line::from(Span::styled(
            "no keys registered · n: add one",
            t.dim,
        )));
    }
    // Two lines per key: the facts, then fingerprint and comment.
    let per_page = (list.height.saturating_sub(1) / 2).max(1) as usize;
    let start = k.cursor.saturating_sub(per_page - 1);
    for (i, r) in k.rows.iter().enumerate().skip(start).take(per_page) {
        let style = if i == k.cursor { t.selected } else { t.text };
        // Where an active key logs in: the member's every facility (admin CLI) or this
        // one (added in this console); a revoked key logs in nowhere.
        let status = match r.disabled_at {
            Some(at) => format!("revoked {}", m.local(at).format("%Y-%m-%d")),
            None if r.all_facilities => "all facilities".into(),
            None => "this facility".into(),
        };
        lines.push(Line::from(Span::styled(
            format!(
                "{:<login_w$} {:<10} {:<10} {:<used_w$} {}",
                cut(&r.login, login_w),
                cut(&short_algorithm(&r.algorithm), 10),
                m.local(r.created_at).format("%Y-%m-%d"),
                ago(m.now, r.last_used_at),
                status
            ),
            style,
        )));
        let comment = if r.comment.is_empty() {
            String::new()
        } else {
            format!("  {}", r.comment)
        };
        let fp_style = if r.disabled_at.is_some() {
            t.dim
        } else {
            style
        };
        lines.push(Line::from(Span::styled(
            cut(&format!("  {}{comment}", r.fingerprint), w),
            fp_style,
        )));
    }
    f.render_widget(Paragraph::new(lines), list);
    match &k.mode {
        KeysMode::Paste { login, line, .. } => {
            let preview = match m.admin.keys.preview() {
                None => Line::from(Span::styled(
                    "paste the line from the member's id_ed25519.pub (or similar)",
                    t.dim,
                )),
                Some(Ok(info)) => Line::from(Span::styled(
                    cut(
                        &format!(
                            "{} {} {}",
                            short_algorithm(&info.algorithm),
                            info.fingerprint,
                            info.comment
                        ),
                        w,
                    ),
                    t.success,
                )),
                Some(Err(e)) => Line::from(Span::styled(cut(&e, w), t.error)),
            };
            let lines = vec![
                Line::from(Span::styled(
                    cut(
                        &format!("New key for {login}, valid in this facility only · Enter: add"),
                        w,
                    ),
                    t.title,
                )),
                field("Key", line, true, w.saturating_sub(12), t),
                preview,
            ];
            f.render_widget(Paragraph::new(lines), bottom);
        }
        KeysMode::ConfirmRevoke {
            login, fingerprint, ..
        } => {
            let lines = vec![
                Line::from(Span::styled(
                    cut(&format!("Revoke {fingerprint} of {login}?"), w),
                    t.warning,
                )),
                Line::from(Span::styled(
                    "Enter: revoke (it no longer logs in) · Esc: keep it",
                    t.title,
                )),
            ];
            f.render_widget(Paragraph::new(lines), bottom);
        }
        KeysMode::PickMember { cursor } => pick_member(f, area, m, *cursor, t),
        KeysMode::Browse | KeysMode::Busy(_) => {}
    }
}

fn pick_member(f: &mut Frame, area: Rect, m: &Model, cursor: usize, t: &Theme) {
    let members = &m.admin.members;
    let w = 36.min(area.width.saturating_sub(2));
    let h = (members.len() as u16 + 2).min(area.height);
    let popup = Rect::new(area.x + area.width.saturating_sub(w) / 2, area.y, w, h);
    let rows = h.saturating_sub(2) as usize;
    let start = cursor.saturating_sub(rows.saturating_sub(1));
    let lines: Vec<Line> = members
        .iter()
        .enumerate()
        .skip(start)
        .take(rows)
        .map(|(i, mem)| {
            let style = if i == cursor { t.selected } else { t.text };
            Line::from(Span::styled(
                format!(
                    " {:<20} {:<9}",
                    cut(&mem.login, 20),
                    format!("{} key{}", mem.keys, if mem.keys == 1 { "" } else { "s" })
                ),
                style,
            ))
        })
        .collect();
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Add a key for "),
        ),
        popup,
    );
}
