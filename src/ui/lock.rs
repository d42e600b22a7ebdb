//! The kiosk lock screen: facility, clock, and login + PIN (+ authenticator code when the
//! facility asks for it). On a self-service terminal it also takes a recipient's pickup
//! code and shows their waiting packages, masked, until a staff member confirms.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::theme::Theme;
use super::widgets::field;
use crate::app::kiosk::{Kiosk, LockField};
use crate::app::model::Model;
use crate::app::text::TextField;

/// A secret as dots: a counter terminal is in view of the queue.
fn masked(f: &TextField, max: usize) -> TextField {
    TextField::with_text(max, &"•".repeat(f.text().chars().count()))
}

fn staff_fields<'a>(k: &Kiosk, t: &Theme) -> Vec<Line<'a>> {
    let on = |f: LockField| k.focus == f && !k.busy;
    let mut lines = vec![
        field("Login:", &k.login, on(LockField::Login), 24, t),
        field("PIN:", &masked(&k.pin, 12), on(LockField::Pin), 12, t),
    ];
    if k.pin_totp {
        lines.push(field(
            "Code:",
            &masked(&k.totp, 6),
            on(LockField::Totp),
            6,
            t,
        ));
    }
    lines
}

fn hint<'a>(k: &Kiosk, t: &Theme) -> Line<'a> {
    let text = if k.busy {
        "checking…"
    } else if k.pending.is_some() && k.pin_totp {
        "Staff: login, PIN, code, Enter · Esc: cancel"
    } else if k.pending.is_some() {
        "Staff: login, PIN, Enter · Esc: cancel"
    } else if k.pin_totp {
        "Enter: next · Code: authenticator app · Esc: clear"
    } else {
        "Enter: next · Esc: clear"
    };
    Line::from(Span::styled(text, t.dim))
}

pub fn draw(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let Some(k) = &m.kiosk else {
        return;
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {} · {} ", m.me.facility_name, k.device));
    let inner = block.inner(area);
    f.render_widget(block, area);
    if let Some(p) = &k.pending {
        return draw_pending(f, inner, m, k, p, t);
    }
    let top_h = if k.self_service { 4 } else { 6 };
    let [top, form, _] = Layout::vertical([
        Constraint::Length(top_h),
        Constraint::Length(if k.self_service { 10 } else { 5 }),
        Constraint::Min(0),
    ])
    .areas(inner);
    let mut head = vec![
        Line::from(""),
        Line::from(Span::styled(m.me.facility_name.clone(), t.title)),
        Line::from(m.local(m.now).format("%H:%M %Z · %a %d %b").to_string()),
    ];
    if !k.self_service {
        head.push(Line::from(""));
        head.push(Line::from(Span::styled(
            "Scan your badge or enter your login and PIN",
            t.dim,
        )));
    }
    f.render_widget(Paragraph::new(head).alignment(Alignment::Center), top);
    let mut lines = Vec::new();
    if k.self_service {
        lines.push(Line::from(Span::styled(
            "Pick up: type your pickup code",
            t.title,
        )));
        lines.push(field(
            "Pickup code:",
            &masked(&k.pickup_code, 6),
            k.focus == LockField::PickupCode && !k.busy,
            6,
            t,
        ));
        lines.push(Line::from(Span::styled(
            "from your notification; Enter shows your packages",
            t.dim,
        )));
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            "Staff: scan your badge or type your login",
            t.title,
        )));
    }
    lines.extend(staff_fields(k, t));
    lines.push(Line::from(""));
    lines.push(hint(k, t));
    let [_, mid, _] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(52),
        Constraint::Min(0),
    ])
    .areas(form);
    f.render_widget(Paragraph::new(lines), mid);
}

/// A pickup code's packages, masked: the end of the tracking number, carrier, shelf and
/// age; never a name.
fn draw_pending(
    f: &mut Frame,
    area: Rect,
    m: &Model,
    k: &Kiosk,
    p: &crate::app::kiosk::PendingPickup,
    t: &Theme,
) {
    let staff_h = 4 + u16::from(k.pin_totp);
    let [head, list, staff] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(staff_h),
    ])
    .areas(area);
    let n = p.packages.len();
    f.render_widget(
        Paragraph::new(vec![
            Line::from(Span::styled(
                format!(
                    " {n} package{} waiting for you",
                    if n == 1 { " is" } else { "s are" }
                ),
                t.title,
            )),
            Line::from(Span::styled(
                " Please show this screen to a staff member.",
                t.dim,
            )),
        ]),
        head,
    );
    let rows = usize::from(list.height);
    let mut lines: Vec<Line> = p
        .packages
        .iter()
        .take(if n > rows {
            rows.saturating_sub(1)
        } else {
            rows
        })
        .map(|pkg| {
            let days = (m.now - pkg.received_at).num_days();
            let age = match days {
                0 => "today".to_string(),
                1 => "1 day".to_string(),
                d => format!("{d} days"),
            };
            Line::from(vec![
                Span::styled(format!("  {:<8}", pkg.tracking), t.text),
                Span::styled(
                    format!("{:<10}", pkg.carrier.as_deref().unwrap_or("-")),
                    t.dim,
                ),
                Span::styled(format!("{:<20}", pkg.location), t.text),
                Span::styled(age, t.dim),
            ])
        })
        .collect();
    if n > rows {
        lines.push(Line::from(Span::styled(
            format!("  … and {} more", n - rows.saturating_sub(1)),
            t.dim,
        )));
    }
    f.render_widget(Paragraph::new(lines), list);
    let mut staff_lines = staff_fields(k, t);
    staff_lines.push(hint(k, t));
    let [_, mid, _] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(52),
        Constraint::Min(0),
    ])
    .areas(staff);
    f.render_widget(
        Paragraph::new(staff_lines).block(Block::default().borders(Borders::TOP).title(" Staff ")),
        mid,
    );
}
