//! The kiosk lock screen: facility, clock, and login + PIN.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::theme::Theme;
use super::widgets::field;
use crate::app::model::Model;
use crate::app::text::TextField;

pub fn draw(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let Some(k) = &m.kiosk else {
        return;
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {} · {} ", m.me.facility_name, k.device));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [top, form, foot] = Layout::vertical([
        Constraint::Length(6),
        Constraint::Length(4),
        Constraint::Min(1),
    ])
    .areas(inner);
    let head = vec![
        Line::from(""),
        Line::from(Span::styled(m.me.facility_name.clone(), t.title)),
        Line::from(m.now.format("%H:%M UTC · %a %d %b").to_string()),
        Line::from(""),
        Line::from(Span::styled(
            "Scan your badge or enter your login and PIN",
            t.dim,
        )),
    ];
    f.render_widget(Paragraph::new(head).alignment(Alignment::Center), top);
    // The PIN is shown as dots: a counter terminal is in view of the queue.
    let masked = TextField::with_text(12, &"•".repeat(k.pin.text().chars().count()));
    let lines = vec![
        field("Login:", &k.login, !k.on_pin && !k.busy, 24, t),
        field("PIN:", &masked, k.on_pin && !k.busy, 12, t),
        Line::from(""),
        Line::from(Span::styled(
            if k.busy {
                "checking…"
            } else {
                "Enter: next · Esc: clear"
            },
            t.dim,
        )),
    ];
    let [_, mid, _] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(40),
        Constraint::Min(0),
    ])
    .areas(form);
    f.render_widget(Paragraph::new(lines), mid);
    f.render_widget(Paragraph::new(""), foot);
}
