//! The recipients screen: the search (shared with intake, pickup and corrections) and,
//! for admins, management: the record form and merge ([`form`]) and the CSV import ([`import`]).

mod form;
mod import;
mod proxies;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::model::{Model, RecipientSearch};
use crate::app::recipients::admin::{Mode, allowed, mask_email, mask_phone};
use crate::search::Field;
use crate::ui::theme::Theme;
use crate::ui::widgets::{field, highlighted};

/// The search field and its results; used by the recipients, intake and pickup screens.
pub fn search_box(f: &mut Frame, area: Rect, s: &RecipientSearch, focused: bool, t: &Theme) {
    search_list(f, area, s, focused, false, t);
}

/// [`search_box`], optionally with each recipient's contact data, masked (PII: the full
/// values are shown only in an admin's edit form).
fn search_list(
    f: &mut Frame,
    area: Rect,
    s: &RecipientSearch,
    focused: bool,
    contact: bool,
    t: &Theme,
) {
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
            // Not what was typed but a name a few typos away: asked, so that no one picks it
            // blindly (the corrected word is highlighted).
            if found.hit.suggested {
                spans.push(Span::styled(" did you mean?", t.warning));
            }
            if let Field::Alias(a) = found.hit.field
                && let Some(alias) = r.aliases.get(a)
            {
                spans.push(Span::styled(" aka ", base));
                spans.extend(highlighted(alias, &found.hit.indices, base, t.matched));
            }
            if !r.active {
                spans.push(Span::styled(" (inactive)", t.dim));
            }
            if contact {
                let masked: Vec<String> = r
                    .email
                    .as_deref()
                    .map(mask_email)
                    .into_iter()
                    .chain(r.phone.as_deref().map(mask_phone))
                    .collect();
                if !masked.is_empty() {
                    spans.push(Span::styled(format!(" · {}", masked.join(" · ")), t.dim));
                }
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
    let mode = &m.recipients_admin.mode;
    if let Mode::Import(state) = mode {
        import::draw(f, area, state, t);
        return;
    }
    let title = match mode {
        Mode::PickDuplicate { keep, .. } => format!(
            " Merge into {}{}: select the duplicate, Enter ",
            keep.name,
            if keep.unit.is_empty() {
                String::new()
            } else {
                format!(" ({})", keep.unit)
            }
        ),
        _ if m.search.include_inactive => {
            " Recipients (including inactive; Ctrl-A hides them) ".to_string()
        }
        _ => " Recipients (Ctrl-A shows inactive) ".to_string(),
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let editing = matches!(
        mode,
        Mode::Form(_) | Mode::ConfirmMerge { .. } | Mode::Proxies(_)
    );
    // Contact data (masked) only for those who manage recipients: an operator finding a
    // resident needs the name and unit, not their address (and every result line that
    // changes is bytes on a thin terminal's link).
    search_list(f, inner, &m.search, !editing, allowed(m), t);
    match mode {
        Mode::Form(form) => form::draw_form(f, area, form, t),
        Mode::ConfirmMerge { preview, busy } => {
            form::draw_merge(f, area, preview, *busy, t);
        }
        Mode::Proxies(s) => proxies::draw(f, area, s, t),
        _ => {}
    }
}

/// The footer's key hints on the recipients screen.
pub fn footer_pairs(m: &Model) -> &'static [(&'static str, &'static str)] {
    match &m.recipients_admin.mode {
        Mode::Form(_) => &[("Ctrl-S", "save"), ("Esc", "cancel")],
        Mode::PickDuplicate { .. } => &[("Enter", "pick duplicate"), ("Esc", "cancel merge")],
        Mode::ConfirmMerge { .. } => &[("Enter", "merge"), ("Esc", "cancel")],
        Mode::Import(_) => &[("Enter", "next"), ("Esc", "cancel")],
        Mode::Proxies(_) => &[("Enter", "add"), ("^X", "remove"), ("Esc", "close")],
        Mode::Browse if allowed(m) => &[
            ("^N", "new"),
            ("^E", "edit"),
            ("^D", "(de)activate"),
            ("^G", "merge"),
            ("^O", "import"),
            ("F1", "help"),
        ],
        Mode::Browse if m.me.role.can_handle_packages() => &[
            ("Enter", "waiting packages"),
            ("^P", "proxies"),
            ("Esc", "back"),
            ("F1", "help"),
        ],
        Mode::Browse => &[
            ("Enter", "waiting packages"),
            ("Esc", "back"),
            ("F1", "help"),
        ],
    }
}

#[cfg(test)]
mod tests;
