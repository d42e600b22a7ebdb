use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::recipients::search_box;
use super::theme::Theme;
use super::widgets::field;
use crate::app::intake;
use crate::app::model::{IntakeStep, Model};
use crate::domain::{Flag, Flags};
use crate::label::Checksum;

pub fn draw(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let form = &m.intake;
    let title = format!(
        " Intake · {} this run{} ",
        form.tally,
        if form.batch { " · batch" } else { "" }
    );
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [top, rest] = Layout::vertical([Constraint::Length(5), Constraint::Min(1)]).areas(inner);
    let width = (inner.width as usize).saturating_sub(12);

    let mut lines = vec![field(
        "Tracking",
        &form.tracking,
        form.step == IntakeStep::Scan,
        width,
        t,
    )];
    lines.push(match &form.parsed {
        Some(p) => {
            let carrier = p
                .carrier
                .map_or("unknown carrier".to_string(), str::to_uppercase);
            let (check, style) = match p.checksum {
                Checksum::Valid => ("check digit ok", t.success),
                Checksum::Invalid => ("CHECK DIGIT WRONG", t.warning),
                Checksum::None => ("no check digit", t.dim),
            };
            let mut spans = vec![
                Span::styled(format!("{:<11}", ""), t.text),
                Span::raw(format!(
                    "{carrier} · {} · ",
                    p.service.as_deref().unwrap_or("-")
                )),
                Span::styled(check, style),
            ];
            if p.candidates.len() > 1 {
                let others: Vec<&str> = p.candidates[1..].iter().map(|c| c.carrier).collect();
                spans.push(Span::styled(format!(" · or {}", others.join(", ")), t.dim));
            }
            Line::from(spans)
        }
        None if form.step == IntakeStep::Scan => Line::from(Span::styled(
            format!("{:<11}scan the label (Ctrl-N: parcel has no number)", ""),
            t.dim,
        )),
        None => Line::from(Span::styled(
            format!("{:<11}internal id assigned on save", ""),
            t.dim,
        )),
    });
    lines.push(Line::from(vec![
        Span::styled(format!("{:<11}", "Recipient"), t.title),
        Span::raw(
            form.recipient
                .as_ref()
                .map_or("—", |c| c.label.as_str())
                .to_string(),
        ),
    ]));
    let mut location = field(
        "Location",
        &form.location,
        form.step == IntakeStep::Details && !form.on_note,
        width.min(30),
        t,
    );
    if intake::unusual_location(m) {
        // A location carried over from the previous parcel ("Fridge") is easy to save by
        // habit: marked whenever it is not the facility's usual one.
        let usual = intake::default_location(m);
        location.spans[0].style = t.warning;
        location.spans.push(Span::styled(
            if usual.is_empty() {
                " ! not the usual".to_string()
            } else {
                format!(" ! usual: {}", usual.chars().take(16).collect::<String>())
            },
            t.warning,
        ));
    }
    lines.push(location);
    // Narrow terminals get short flag names so all four stay visible.
    let narrow = inner.width < 72;
    lines.push(flag_line(form.flags, narrow, t));
    f.render_widget(Paragraph::new(lines), top);

    match form.step {
        IntakeStep::Recipient => {
            let block = Block::default()
                .borders(Borders::TOP)
                .title(" Who is it for? (Enter: choose · Ctrl-U: unknown) ");
            let inner = block.inner(rest);
            f.render_widget(block, rest);
            search_box(f, inner, &m.search, true, t);
        }
        IntakeStep::ConfirmChecksum => f.render_widget(
            Paragraph::new(Span::styled(
                "The check digit does not match this carrier's rule. Enter: keep it · Esc: scan again",
                t.warning,
            )),
            rest,
        ),
        IntakeStep::Details => {
            let [hint, note] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(rest);
            f.render_widget(
                Paragraph::new(if form.committing {
                    Span::styled("Saving…", t.info)
                } else if form.on_note {
                    Span::styled("Ctrl-S: save · Tab: back to location", t.dim)
                } else {
                    Span::styled("Enter: save · Tab: note · Esc: change recipient", t.dim)
                }),
                hint,
            );
            let block = Block::default()
                .borders(Borders::TOP)
                .title(" Note ")
                .border_style(if form.on_note { t.title } else { t.dim });
            let inner = block.inner(note);
            f.render_widget(block, note);
            f.render_widget(&form.note, inner);
        }
        IntakeStep::Scan => {}
    }
}

/// The four flags with their keys, set ones highlighted: `F6[x]perishable F7[ ]oversized …`,
/// short names and no label on a narrow terminal.
pub fn flag_line(flags: Flags, narrow: bool, t: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    if !narrow {
        spans.push(Span::styled(format!("{:<11}", "Flags"), t.title));
    }
    spans.extend(Flag::ALL.into_iter().map(|flag| {
        let on = flags.get(flag);
        let name = if narrow { flag.short() } else { flag.name() };
        Span::styled(
            format!("{}[{}]{name} ", flag.key(), if on { "x" } else { " " }),
            if on { t.title } else { t.dim },
        )
    }));
    Line::from(spans)
}
