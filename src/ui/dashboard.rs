use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

use super::theme::Theme;
use crate::app::model::Model;

pub fn draw(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let [counts, trend, activity] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Min(1),
    ])
    .areas(area);
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
    // Received per day, last 14 days (the daily log's numbers; R: all reports).
    let received = &m.trend.received;
    let title = if received.is_empty() {
        " Received, last 14 days ".to_string()
    } else {
        format!(
            " Received, last {} days · {} · R: reports ",
            received.len(),
            received.iter().sum::<u64>()
        )
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    if received.is_empty() {
        f.render_widget(Paragraph::new(Span::styled("…", t.dim)).block(block), trend);
    } else {
        let wide = stretch(received, block.inner(trend).width);
        f.render_widget(
            Sparkline::default()
                .block(block)
                .data(&wide)
                .style(t.success),
            trend,
        );
    }
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

/// Each value repeated so a short series fills more of the width (at most 4 columns a
/// value); a series wider than `width` keeps its newest values.
pub fn stretch(values: &[u64], width: u16) -> Vec<u64> {
    let width = usize::from(width);
    if values.is_empty() || width == 0 {
        return Vec::new();
    }
    let k = (width / values.len()).clamp(1, 4);
    let out: Vec<u64> = values
        .iter()
        .flat_map(|v| std::iter::repeat_n(*v, k))
        .collect();
    out[out.len().saturating_sub(width)..].to_vec()
}
