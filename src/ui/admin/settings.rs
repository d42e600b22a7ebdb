//! The admin console's Settings tab: one row per setting, the draft's value, a mark on
//! changed rows, and the field being typed into.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::admin::settings::Field;
use crate::app::model::Model;
use crate::ui::theme::Theme;
use crate::ui::widgets::field;

pub fn draw(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let s = &m.admin.settings;
    let (Some(loaded), Some(draft)) = (&s.loaded, &s.draft) else {
        f.render_widget(Paragraph::new(Span::styled("loading…", t.dim)), area);
        return;
    };
    let changed = loaded.changes(draft);
    let label_w = if area.width >= 70 { 27 } else { 22 };
    let value_w = (area.width as usize).saturating_sub(label_w + 3);
    let mut lines = Vec::new();
    for (i, fl) in Field::ALL.iter().enumerate() {
        let mark = if changed.contains(&fl.key()) {
            "*"
        } else {
            " "
        };
        let focused = i == s.cursor;
        let label_style = if focused { t.selected } else { t.title };
        let label: String = fl.label().chars().take(label_w).collect();
        if let (true, Some(edit)) = (focused, &s.editing) {
            let mut line = field("", edit, true, value_w, t);
            // `field` pads its (empty) label to 11 columns; the label goes first here.
            line.spans.remove(0);
            line.spans.insert(
                0,
                Span::styled(format!("{mark}{label:<label_w$}  "), label_style),
            );
            lines.push(line);
            continue;
        }
        let value: String = fl.value(draft).chars().take(value_w).collect();
        let value_style = match fl.value(draft).as_str() {
            "not configured" => t.dim,
            "on" => t.success,
            _ => t.text,
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{mark}{label:<label_w$}  "), label_style),
            Span::styled(value, value_style),
        ]));
    }
    lines.push(Line::from(""));
    let (text, style) = if s.saving {
        ("saving…".to_string(), t.dim)
    } else if changed.is_empty() {
        (
            "Enter: edit · Space: switch · Ctrl-S: save".to_string(),
            t.dim,
        )
    } else {
        (
            format!("* unsaved: {} · Ctrl-S: save · Esc: discard", changed.len()),
            t.warning,
        )
    };
    lines.push(Line::from(Span::styled(text, style)));
    f.render_widget(Paragraph::new(lines), area);
}
