//! The admin console's Outbox tab: counts by state and channel, integrations with their
//! backlog and last error, and recent failed or dead deliveries (recipients masked).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::model::Model;
use crate::ui::theme::Theme;
use crate::ui::widgets::age;

fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

pub fn draw(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let o = &m.admin.outbox;
    let Some(v) = &o.view else {
        f.render_widget(Paragraph::new(Span::styled("loading…", t.dim)), area);
        return;
    };
    let w = area.width as usize;
    let mut top = vec![Line::from(Span::styled(
        format!(
            "{:<9} {:>8} {:>8} {:>10} {:>6}",
            "Channel", "pending", "failing", "delivered", "dead"
        ),
        t.title,
    ))];
    let mut counts = v.channels.clone();
    counts.push(v.total());
    for c in &counts {
        let style = if c.channel == "all" { t.title } else { t.text };
        top.push(Line::from(vec![
            Span::styled(
                format!(
                    "{:<9} {:>8} {:>8} {:>10} ",
                    c.channel, c.pending, c.failing, c.delivered
                ),
                style,
            ),
            Span::styled(
                format!("{:>6}", c.dead),
                if c.dead > 0 { t.warning } else { style },
            ),
        ]));
    }
    top.push(Line::from(""));
    if v.integrations.is_empty() {
        top.push(Line::from(Span::styled(
            "no integrations configured: set them up on the Channels tab",
            t.dim,
        )));
    }
    for i in &v.integrations {
        let state = if i.enabled { "on" } else { "off" };
        let err = match (&i.last_error, i.last_error_at) {
            (Some(e), Some(at)) => format!(" · {} ago: {e}", age((m.now - at).num_seconds())),
            (Some(e), None) => format!(" · {e}"),
            _ => String::new(),
        };
        let line = format!(
            "{:<7} {:<3} backlog {:<4} {}{}",
            i.kind, state, i.backlog, i.target, err
        );
        let style = if i.last_error.is_some() {
            t.warning
        } else {
            t.text
        };
        top.push(Line::from(Span::styled(cut(&line, w), style)));
    }
    top.push(Line::from(""));
    let top_h = (top.len() as u16).min(area.height.saturating_sub(3));
    let [head, list] =
        Layout::vertical([Constraint::Length(top_h), Constraint::Min(1)]).areas(area);
    f.render_widget(Paragraph::new(top), head);

    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{:<6} {:<7} {:<8} {:<7} {:>3} {:<16} {}",
            "#", "channel", "event", "state", "try", "recipient", "last error"
        ),
        t.title,
    ))];
    if v.failed.is_empty() {
        lines.push(Line::from(Span::styled(
            "no failed or dead deliveries",
            t.success,
        )));
    }
    let rows = list.height.saturating_sub(1) as usize;
    let start = o.cursor.saturating_sub(rows.saturating_sub(1));
    for (i, r) in v.failed.iter().enumerate().skip(start).take(rows) {
        let style = if i == o.cursor { t.selected } else { t.text };
        let state = if r.status == "dead" {
            "dead"
        } else {
            "failing"
        };
        lines.push(Line::from(Span::styled(
            cut(
                &format!(
                    "{:<6} {:<7} {:<8} {:<7} {:>3} {:<16} {}",
                    r.id,
                    r.channel,
                    cut(&r.event, 8),
                    state,
                    r.attempts,
                    cut(&r.recipient, 16),
                    r.last_error
                ),
                w,
            ),
            style,
        )));
    }
    f.render_widget(Paragraph::new(lines), list);
}
