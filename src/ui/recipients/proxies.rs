//! A resident's authorised proxies, a pop-up over the recipients screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::form::popup;
use crate::app::recipients::proxies::ProxiesState;
use crate::domain::limits::PROXIES_MAX;
use crate::ui::theme::Theme;
use crate::ui::widgets::field;

pub fn draw(f: &mut Frame, area: Rect, s: &ProxiesState, t: &Theme) {
    let rows = s.names.as_ref().map_or(1, |l| l.len().max(1));
    let rect = popup(area, 72, u16::try_from(rows).unwrap_or(1) + 5);
    let r = &s.recipient;
    let who = if r.unit.is_empty() {
        r.name.clone()
    } else {
        format!("{} ({})", r.name, r.unit)
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" Authorised proxies of {who} "));
    let inner = block.inner(rect);
    f.render_widget(Clear, rect);
    f.render_widget(block, rect);
    let mut lines: Vec<Line> = Vec::new();
    match &s.names {
        None => lines.push(Line::from(Span::styled("loading…", t.dim))),
        Some(names) if names.is_empty() => lines.push(Line::from(Span::styled(
            "none yet: only the resident collects, or a proxy typed at pickup",
            t.dim,
        ))),
        Some(names) => {
            for (i, name) in names.iter().enumerate() {
                let here = i == s.cursor;
                lines.push(Line::from(Span::styled(
                    format!("{} {name}", if here { ">" } else { " " }),
                    if here { t.selected } else { t.text },
                )));
            }
        }
    }
    lines.push(Line::from(""));
    let width = (inner.width as usize).saturating_sub(12);
    lines.push(field("Add", &s.input, !s.busy, width, t));
    lines.push(Line::from(Span::styled(
        if s.busy {
            "saving…".to_string()
        } else {
            format!("Enter: add · Ctrl-X: remove · Esc: close · {PROXIES_MAX} at most")
        },
        t.dim,
    )));
    f.render_widget(Paragraph::new(lines), inner);
}
