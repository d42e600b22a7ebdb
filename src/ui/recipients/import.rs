//! The recipients CSV import in the admin console: paste, preview, progress, summary.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Wrap};

use crate::admin::import::{Counts, HEADER, Plan};
use crate::app::recipients::admin::{ImportState, ImportStep};
use crate::ui::theme::Theme;
use crate::ui::widgets::hints;

pub fn draw(f: &mut Frame, area: Rect, s: &ImportState, t: &Theme) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Import recipients (CSV) ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    match &s.step {
        ImportStep::Paste => paste(f, inner, s, t),
        ImportStep::Planning => f.render_widget(
            Paragraph::new(vec![
                Line::from(format!("checking {} lines…", s.lines)),
                Line::default(),
                hints(&[("Esc", "cancel")], t),
            ]),
            inner,
        ),
        ImportStep::Preview(plan) => preview(f, inner, s, plan, t),
        ImportStep::Applying {
            planned,
            done,
            total,
        } => applying(f, inner, *planned, *done, *total, t),
        ImportStep::Done(res) => summary(f, inner, res, t),
    }
}

fn kib(n: usize) -> String {
    if n < 1024 {
        format!("{n} bytes")
    } else {
        format!("{:.1} KiB", n as f64 / 1024.0)
    }
}

fn paste(f: &mut Frame, area: Rect, s: &ImportState, t: &Theme) {
    let mut lines = vec![
        Line::from("Paste the CSV into this terminal. The first line is the header:"),
        Line::from(Span::styled(format!("  {}", HEADER.join(",")), t.title)),
        Line::from(Span::styled(
            "aliases separated by ;  ·  a large file can be pasted in parts (a repeated header is skipped)",
            t.dim,
        )),
        Line::default(),
    ];
    if s.pastes == 0 {
        lines.push(Line::from(Span::styled("nothing pasted yet", t.dim)));
    } else {
        lines.push(Line::from(format!(
            "pasted {} line{} ({}) in {} paste{}",
            s.lines,
            if s.lines == 1 { "" } else { "s" },
            kib(s.text.len()),
            s.pastes,
            if s.pastes == 1 { "" } else { "s" },
        )));
    }
    if let Some(cut) = &s.cut {
        lines.push(Line::from(Span::styled(cut.clone(), t.warning)));
    }
    if let Some(e) = &s.error {
        lines.push(Line::from(Span::styled(e.clone(), t.error)));
    }
    lines.push(Line::default());
    lines.push(Line::from(
        "Nothing is written before you confirm the preview.",
    ));
    lines.push(hints(
        &[("Enter", "preview"), ("Ctrl-U", "clear"), ("Esc", "cancel")],
        t,
    ));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn count_line<'a>(c: Counts, t: &Theme) -> Line<'a> {
    let item = |n: usize, label: &'static str, style| {
        vec![
            Span::styled(format!("{n}"), style),
            Span::styled(format!(" {label}   "), t.text),
        ]
    };
    let mut spans = Vec::new();
    spans.extend(item(c.added, "to add", t.success));
    spans.extend(item(c.updated, "to update", t.warning));
    spans.extend(item(c.unchanged, "unchanged", t.text));
    spans.extend(item(
        c.rejected,
        "rejected",
        if c.rejected > 0 { t.error } else { t.text },
    ));
    Line::from(spans)
}

fn preview(f: &mut Frame, area: Rect, s: &ImportState, plan: &Plan, t: &Theme) {
    let c = plan.counts();
    let [head, list, foot] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(2),
    ])
    .areas(area);
    f.render_widget(
        Paragraph::new(vec![
            Line::from(Span::styled("Preview (nothing written yet)", t.title)),
            count_line(c, t),
        ]),
        head,
    );
    let mut lines = Vec::new();
    if plan.rejected.is_empty() {
        lines.push(Line::from(Span::styled("no rejected lines", t.dim)));
    } else {
        let rows = list.height as usize;
        let start = s.scroll.min(plan.rejected.len().saturating_sub(1));
        let shown = rows.saturating_sub(1);
        lines.push(Line::from(Span::styled(
            format!(
                "Rejected lines {}–{} of {} (↑/↓ scroll):",
                start + 1,
                (start + shown).min(plan.rejected.len()),
                plan.rejected.len()
            ),
            t.title,
        )));
        for r in plan.rejected.iter().skip(start).take(shown) {
            lines.push(Line::from(vec![
                Span::styled(format!("line {:>5}  ", r.line), t.error),
                Span::styled(r.reason.clone(), t.text),
            ]));
        }
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), list);
    let writes = plan.writes();
    let enter = if plan.rows.is_empty() {
        "nothing to import".to_string()
    } else {
        format!(
            "import ({writes} write{})",
            if writes == 1 { "" } else { "s" }
        )
    };
    f.render_widget(
        Paragraph::new(vec![
            Line::default(),
            hints(
                &[
                    ("Enter", enter.as_str()),
                    ("Ctrl-U", "paste again"),
                    ("Esc", "cancel"),
                ],
                t,
            ),
        ]),
        foot,
    );
}

fn applying(f: &mut Frame, area: Rect, planned: Counts, done: usize, total: usize, t: &Theme) {
    let [head, gauge, rest] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    f.render_widget(
        Paragraph::new(vec![
            Line::from(Span::styled("Importing…", t.title)),
            count_line(planned, t),
            Line::default(),
        ]),
        head,
    );
    let ratio = if total == 0 {
        0.0
    } else {
        (done as f64 / total as f64).clamp(0.0, 1.0)
    };
    // Not the `selected` style: reversed (the mono theme) would invert the bar. The count
    // goes below the bar, readable in any theme.
    f.render_widget(
        Gauge::default()
            .gauge_style(t.success)
            .ratio(ratio)
            .label(Span::raw(""))
            .use_unicode(true),
        gauge,
    );
    f.render_widget(
        Paragraph::new(vec![
            Line::from(format!("{done} / {total} rows ({:.0}%)", ratio * 100.0)),
            Line::from(Span::styled(
                "written as one transaction: all rows or none",
                t.dim,
            )),
        ]),
        rest,
    );
}

fn summary(f: &mut Frame, area: Rect, res: &Result<Counts, crate::app::Failure>, t: &Theme) {
    let mut lines = match res {
        Ok(c) => vec![
            Line::from(Span::styled("Import done", t.success)),
            Line::from(format!("added {}", c.added)),
            Line::from(format!("updated {}", c.updated)),
            Line::from(format!("unchanged {}", c.unchanged)),
            Line::from(format!("rejected {} (not imported)", c.rejected)),
            Line::from(Span::styled(
                "recorded in the audit trail; search is up to date",
                t.dim,
            )),
        ],
        Err(e) => vec![
            Line::from(Span::styled("Import failed: nothing was written", t.error)),
            Line::from(e.text.clone()),
        ],
    };
    lines.push(Line::default());
    lines.push(hints(&[("Enter", "back to recipients")], t));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
