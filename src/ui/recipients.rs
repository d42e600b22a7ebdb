use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::theme::Theme;
use super::widgets::{field, highlighted};
use crate::app::model::{Model, RecipientSearch};
use crate::search::Field;

/// The search field and its results; used by the recipients, intake and pickup screens.
pub fn search_box(f: &mut Frame, area: Rect, s: &RecipientSearch, focused: bool, t: &Theme) {
    let [input, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let width = (area.width as usize).saturating_sub(12);
    f.render_widget(
        Paragraph::new(field("Search", &s.query, focused, width, t)),
        input,
    );
    let rows = list.height as usize;
    let start = s.cursor.saturating_sub(rows.saturating_sub(1));
    let lines: Vec<Line> = s
        .results
        .iter()
        .enumerate()
        .skip(start)
        .take(rows)
        .map(|(i, found)| {
            let r = &found.recipient;
            let base = if i == s.cursor { t.selected } else { t.text };
            let name_idx: &[u32] = if found.hit.field == Field::Name {
                &found.hit.indices
            } else {
                &[]
            };
            let unit_idx: &[u32] = if found.hit.field == Field::Unit {
                &found.hit.indices
            } else {
                &[]
            };
            let mut spans = vec![Span::styled(if i == s.cursor { "▶ " } else { "  " }, base)];
            spans.extend(highlighted(
                &format!("{:<30}", r.name),
                name_idx,
                base,
                t.matched,
            ));
            spans.push(Span::styled(" ", base));
            spans.extend(highlighted(
                &format!("{:<10}", r.unit),
                unit_idx,
                base,
                t.matched,
            ));
            if let Field::Alias(a) = found.hit.field
                && let Some(alias) = r.aliases.get(a)
            {
                spans.push(Span::styled(" aka ", base));
                spans.extend(highlighted(alias, &found.hit.indices, base, t.matched));
            }
            if !r.active {
                spans.push(Span::styled(" (inactive)", t.dim));
            }
            Line::from(spans)
        })
        .collect();
    let body = if lines.is_empty() {
        vec![Line::from(Span::styled("  no matches", t.dim))]
    } else {
        lines
    };
    f.render_widget(Paragraph::new(body), list);
}

pub fn draw(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let title = if m.search.include_inactive {
        " Recipients (including inactive; Ctrl-A hides them) "
    } else {
        " Recipients (Ctrl-A shows inactive) "
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    search_box(f, inner, &m.search, true, t);
}
