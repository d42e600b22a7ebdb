//! Small drawing helpers shared by the screens.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use crate::app::text::TextField;

/// A text field as a line: label, then the text with a visible cursor when focused.
pub fn field<'a>(
    label: &'a str,
    f: &TextField,
    focused: bool,
    width: usize,
    t: &Theme,
) -> Line<'a> {
    let text = f.text();
    let mut spans = vec![Span::styled(format!("{label:<11}"), t.title)];
    let chars: Vec<char> = text.chars().collect();
    // Keep the cursor in view on narrow terminals.
    let start = f.cursor().saturating_sub(width.saturating_sub(2));
    let shown: String = chars.iter().skip(start).take(width).collect();
    if focused {
        let cur = f.cursor() - start;
        let before: String = shown.chars().take(cur).collect();
        let at: String = shown.chars().nth(cur).map_or(" ".into(), |c| c.to_string());
        let after: String = shown.chars().skip(cur + 1).collect();
        spans.push(Span::styled(before, t.field));
        spans.push(Span::styled(at, t.cursor));
        spans.push(Span::styled(after, t.field));
        let used = shown.chars().count().max(cur + 1);
        spans.push(Span::styled(
            " ".repeat(width.saturating_sub(used)),
            t.field,
        ));
    } else {
        spans.push(Span::styled(shown, t.text));
    }
    Line::from(spans)
}

/// `text` with the characters at `indices` in the `matched` style.
pub fn highlighted(text: &str, indices: &[u32], base: Style, matched: Style) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let mut run = String::new();
    let mut run_matched = false;
    for (i, c) in text.chars().enumerate() {
        let m = indices.contains(&(i as u32));
        if m != run_matched && !run.is_empty() {
            spans.push(Span::styled(
                std::mem::take(&mut run),
                if run_matched { matched } else { base },
            ));
        }
        run_matched = m;
        run.push(c);
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, if run_matched { matched } else { base }));
    }
    spans
}

/// Key hints for the footer: `key label` pairs.
pub fn hints<'a>(pairs: &[(&'a str, &'a str)], t: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    for (k, label) in pairs {
        spans.push(Span::styled(*k, t.key));
        spans.push(Span::raw(format!(" {label}  ")));
    }
    Line::from(spans)
}

/// A human age: "5m", "3h", "2d".
pub fn age(secs: i64) -> String {
    match secs {
        s if s < 3600 => format!("{}m", (s / 60).max(0)),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests;
