use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::theme::Theme;
use crate::app::model::Model;

pub fn draw(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let [counts, activity] =
        Layout::vertical([Constraint::Length(4), Constraint::Min(1)]).areas(area);
    let n = |v: Option<i64>| v.map_or("…".to_string(), |v| v.to_string());
    let s = m.stats.as_ref();
    let line = Line::from(vec![
        Span::styled(" Waiting ", t.title),
        Span::raw(n(s.map(|s| s.waiting))),
        Span::styled("   Received today ", t.title),
        Span::raw(n(s.map(|s| s.received_today))),
        Span::styled("   Picked up today ", t.title),
        Span::raw(n(s.map(|s| s.picked_up_today))),
        Span::styled(format!("   Overdue ({}d+) ", m.overdue_days), t.title),
        Span::styled(
            n(s.map(|s| s.overdue)),
            if s.is_some_and(|s| s.overdue > 0) {
                t.overdue
            } else {
                t.text
            },
        ),
    ]);
    f.render_widget(
        Paragraph::new(vec![Line::from(""), line])
            .block(Block::default().borders(Borders::ALL).title(" Today ")),
        counts,
    );
    let mut lines: Vec<Line> = m.activity.iter().map(|a| Line::from(a.as_str())).collect();
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            "Nothing yet this session. i: record parcels, p: hand them over.",
            t.dim,
        )));
    }
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Recent activity "),
        ),
        activity,
    );
}
