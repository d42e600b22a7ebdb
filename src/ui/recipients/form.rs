//! The admin's recipient form (create or edit) and the merge confirmation, drawn as
//! pop-ups over the recipients screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::recipients::admin::{FORM_FIELDS, RecipientForm, field_label};
use crate::db::recipients::Recipient;
use crate::ops::MergePreview;
use crate::ui::theme::Theme;
use crate::ui::widgets::{field, hints};

/// A centred rectangle of at most `w` x `h` inside `area`.
pub fn popup(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2)).max(1);
    let h = h.min(area.height).max(1);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

pub fn draw_form(f: &mut Frame, area: Rect, form: &RecipientForm, t: &Theme) {
    let rect = popup(area, 72, 11);
    let title = match form.id {
        Some(id) => format!(" Edit recipient #{id} "),
        None => " New recipient ".to_string(),
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(rect);
    f.render_widget(Clear, rect);
    f.render_widget(block, rect);
    let width = (inner.width as usize).saturating_sub(12);
    let mut lines: Vec<Line> = Vec::new();
    if form.loading {
        lines.push(Line::from(Span::styled("loading…", t.dim)));
    } else {
        for (i, name) in FORM_FIELDS.iter().enumerate() {
            let mut line = field(
                field_label(*name),
                &form.fields[i],
                i == form.focus && !form.saving,
                width,
                t,
            );
            if form.error.as_ref().is_some_and(|(f, _)| *f == Some(*name)) {
                // The label of the field to fix, in the error style (mono: reversed).
                if let Some(label) = line.spans.first_mut() {
                    label.style = t.error;
                }
            }
            lines.push(line);
        }
        lines.push(Line::from(Span::styled(
            "           aliases: separate with ;  email, phone: optional",
            t.dim,
        )));
        lines.push(match &form.error {
            Some((_, e)) => Line::from(Span::styled(e.clone(), t.error)),
            None if form.saving => Line::from(Span::styled("saving…", t.info)),
            None => Line::default(),
        });
    }
    lines.push(Line::default());
    lines.push(hints(
        &[
            ("Tab", "next"),
            ("Enter", "next / save"),
            ("Ctrl-S", "save"),
            ("Esc", "cancel"),
        ],
        t,
    ));
    f.render_widget(Paragraph::new(lines), inner);
}

fn who(r: &Recipient) -> String {
    let unit = if r.unit.is_empty() {
        "no unit".to_string()
    } else {
        format!("unit {}", r.unit)
    };
    let inactive = if r.active { "" } else { ", inactive" };
    format!("{} ({unit}, #{}{inactive})", r.name, r.id)
}

pub fn draw_merge(f: &mut Frame, area: Rect, p: &MergePreview, busy: bool, t: &Theme) {
    let rect = popup(area, 72, 9);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Merge duplicate recipients ");
    let inner = block.inner(rect);
    f.render_widget(Clear, rect);
    f.render_widget(block, rect);
    let row = |label: &'static str, text: String| {
        Line::from(vec![
            Span::styled(format!("{label:<11}"), t.title),
            Span::styled(text, t.text),
        ])
    };
    let mut lines = vec![
        row("Keep", who(&p.keep)),
        row("Duplicate", who(&p.duplicate)),
        row(
            "Packages",
            format!(
                "{} move to the kept recipient ({} waiting)",
                p.total, p.waiting
            ),
        ),
        row(
            "Aliases",
            format!(
                "the duplicate's name and {} alias{} are added",
                p.duplicate.aliases.len(),
                if p.duplicate.aliases.len() == 1 {
                    ""
                } else {
                    "es"
                }
            ),
        ),
        row("Then", "the duplicate is deactivated (history kept)".into()),
    ];
    if busy {
        lines.push(Line::from(Span::styled("merging…", t.info)));
    } else {
        lines.push(hints(&[("Enter/y", "merge"), ("Esc/n", "cancel")], t));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
