//! The recipients CSV import in the admin console: paste, columns, per-row preview with
//! the move-outs, progress, summary.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Wrap};

use crate::admin::import::{
    Columns, Counts, EntryKind, HEADER, MASS_DEACTIVATE_PERCENT, Plan, TARGETS, Target,
};
use crate::app::recipients::admin::{ImportState, ImportStep};
use crate::app::recipients::import::CONFIRM_MASS;
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
        ImportStep::Columns => {
            if let Some(c) = &s.columns {
                columns(f, inner, s, c, t);
            }
        }
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
            "or an export's: Unit, First/Last Name, Email, Phone… (you check the columns)",
            t.dim,
        )),
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

/// Greedy word wrap by characters (for the few long sentences this screen has: a refusal,
/// the list of ignored columns); the height it returns is what the layout reserves.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        while line.chars().count() > width {
            let head: String = line.chars().take(width).collect();
            line = line.chars().skip(width).collect();
            out.push(head);
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

fn styled_lines(text: &str, width: u16, style: Style) -> Vec<Line<'static>> {
    wrap(text, width as usize)
        .into_iter()
        .map(|l| Line::from(Span::styled(l, style)))
        .collect()
}

/// What a field reads, or why it reads nothing.
fn choice(c: &Columns, target: Target, t: &Theme) -> Span<'static> {
    use Target as T;
    if let Some(col) = c.column(target) {
        return Span::styled(format!("← {}", c.names[col]), t.text);
    }
    let named = |x: T| c.column(x).is_some();
    let (text, style) = match target {
        T::Name if named(T::First) || named(T::Last) => ("— first and last name joined", t.dim),
        T::First | T::Last if named(T::Name) => ("— not needed: the name column", t.dim),
        T::Name | T::Unit => ("— none: required, choose a column", t.error),
        T::First | T::Last => ("— none", t.dim),
        T::Email | T::Phone | T::Aliases => ("— none: kept as stored", t.dim),
    };
    Span::styled(text, style)
}

fn columns(f: &mut Frame, area: Rect, s: &ImportState, c: &Columns, t: &Theme) {
    let mut fields = vec![Line::from(Span::styled(
        "Columns: which column of the file fills each field",
        t.title,
    ))];
    for (i, target) in TARGETS.into_iter().enumerate() {
        let here = i == s.field;
        let label = format!("{} {:<11}", if here { "▸" } else { " " }, target.label());
        fields.push(Line::from(vec![
            Span::styled(label, if here { t.selected } else { t.text }),
            Span::raw(" "),
            choice(c, target, t),
        ]));
    }
    let [top, middle, foot] = Layout::vertical([
        Constraint::Length(fields.len() as u16),
        Constraint::Min(1),
        Constraint::Length(2),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(fields), top);
    let w = middle.width;
    let ignored = c.ignored();
    let mut lines = if ignored.is_empty() {
        vec![Line::from(Span::styled("every column is read", t.dim))]
    } else {
        let list: Vec<String> = ignored.iter().map(|n| format!("`{n}`")).collect();
        styled_lines(&format!("Ignored: {}", list.join(", ")), w, t.dim)
    };
    let mark = if s.deactivate_missing { "[x]" } else { "[ ]" };
    lines.push(Line::from(vec![
        Span::styled(format!("{mark} "), t.key),
        Span::raw("deactivate residents not in this file (move-outs)"),
    ]));
    lines.extend(styled_lines(
        &format!(
            "residents with packages waiting stay active; more than \
             {MASS_DEACTIVATE_PERCENT}% asks again"
        ),
        w,
        t.dim,
    ));
    if let Some(e) = &s.error {
        lines.extend(styled_lines(e, w, t.error));
    }
    f.render_widget(Paragraph::new(lines), middle);
    f.render_widget(
        Paragraph::new(vec![
            hints(
                &[
                    ("↑/↓", "field"),
                    ("←/→", "column"),
                    ("Ctrl-D", "move-outs on/off"),
                ],
                t,
            ),
            hints(
                &[
                    ("Enter", "preview"),
                    ("Ctrl-U", "paste again"),
                    ("Esc", "cancel"),
                ],
                t,
            ),
        ]),
        foot,
    );
}

/// The lines above the per-row list: counts, the move-outs, the columns read.
fn preview_head(plan: &Plan, width: u16, t: &Theme) -> Vec<Line<'static>> {
    let mut head = vec![
        Line::from(Span::styled("Preview (nothing written yet)", t.title)),
        count_line(plan.counts(), t),
    ];
    let mo = &plan.move_outs;
    if !mo.requested {
        let text = match mo.missing() {
            0 => "Move-outs off (Ctrl-D): every active resident is in the file".to_string(),
            n => format!(
                "Move-outs off (Ctrl-D): {n} active resident{} not in the file stay{} active",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" }
            ),
        };
        head.extend(styled_lines(&text, width, t.dim));
    } else if let Some(r) = mo.refusal() {
        head.extend(styled_lines(&r.message(CONFIRM_MASS), width, t.error));
    } else {
        let mut text = format!(
            "Move-outs: {} to deactivate of {} active",
            mo.deactivate.len(),
            mo.active
        );
        if !mo.held.is_empty() {
            text.push_str(&format!(
                "; {} kept active: packages waiting",
                mo.held.len()
            ));
        }
        if mo.allow_mass {
            text.push_str(" (confirmed: more than a fifth)");
        }
        head.extend(styled_lines(&text, width, t.warning));
    }
    if !plan.mapped.is_empty() {
        let read: Vec<String> = plan
            .mapped
            .iter()
            .map(|(f, c)| format!("{} ← {c}", f.key()))
            .collect();
        let mut text = format!("Columns: {}", read.join(", "));
        if !plan.ignored.is_empty() {
            text.push_str(&format!("; {} ignored (Tab)", plan.ignored.len()));
        }
        head.extend(styled_lines(&text, width, t.dim));
    }
    head
}

fn entry_style(kind: EntryKind, t: &Theme) -> Style {
    match kind {
        EntryKind::Rejected => t.error,
        EntryKind::Add => t.success,
        EntryKind::Update | EntryKind::Deactivate => t.warning,
        EntryKind::KeepActive => t.text,
    }
}

fn preview(f: &mut Frame, area: Rect, s: &ImportState, plan: &Plan, t: &Theme) {
    let head = preview_head(plan, area.width, t);
    let [head_area, list, foot] = Layout::vertical([
        Constraint::Length(head.len() as u16),
        Constraint::Min(1),
        Constraint::Length(3),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(head), head_area);
    let total = plan.entries_len();
    let mut lines = Vec::new();
    if total == 0 {
        lines.push(Line::from(Span::styled(
            "nothing changes: every row is already stored as in the file",
            t.dim,
        )));
    } else {
        let rows = list.height as usize;
        let start = s.scroll.min(total.saturating_sub(1));
        // Each entry wraps under its text; only the visible window is built (a large file
        // has 200,000 entries).
        const PREFIX: usize = 22;
        let width = (list.width as usize).saturating_sub(PREFIX).max(10);
        let mut body = Vec::new();
        let mut end = start;
        while end < total && body.len() + 1 < rows {
            let Some(e) = plan.entry(end) else { break };
            let wrapped = wrap(&e.text, width);
            if !body.is_empty() && body.len() + 1 + wrapped.len() > rows {
                break;
            }
            let line = e
                .line
                .map_or_else(|| " ".repeat(10), |l| format!("line {l:>5}"));
            for (i, part) in wrapped.into_iter().enumerate() {
                let lead = if i == 0 {
                    vec![
                        Span::styled(format!("{line}  "), t.dim),
                        Span::styled(format!("{:<9} ", e.kind.word()), entry_style(e.kind, t)),
                    ]
                } else {
                    vec![Span::raw(" ".repeat(PREFIX))]
                };
                let mut spans = lead;
                spans.push(Span::styled(part, t.text));
                body.push(Line::from(spans));
            }
            end += 1;
        }
        lines.push(Line::from(Span::styled(
            format!(
                "Changes {}–{end} of {total} (↑/↓ scroll; unchanged rows not listed):",
                start + 1,
            ),
            t.title,
        )));
        lines.extend(body);
    }
    f.render_widget(Paragraph::new(lines), list);
    let writes = plan.writes();
    let enter = if plan.rows.is_empty() {
        "nothing to import".to_string()
    } else {
        format!(
            "import ({writes} write{})",
            if writes == 1 { "" } else { "s" }
        )
    };
    let mo = &plan.move_outs;
    let mut first = vec![("Enter", enter.as_str())];
    if mo.requested && mo.is_mass() && mo.unreadable.is_empty() {
        first.push((
            "Ctrl-Y",
            if mo.allow_mass {
                "undo confirm"
            } else {
                "confirm move-outs"
            },
        ));
    }
    f.render_widget(
        Paragraph::new(vec![
            hints(&first, t),
            hints(&[("Ctrl-D", "move-outs on/off"), ("Tab", "columns")], t),
            hints(&[("Ctrl-U", "paste again"), ("Esc", "cancel")], t),
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
        Ok(c) => {
            let mut lines = vec![
                Line::from(Span::styled("Import done", t.success)),
                Line::from(format!("added {}", c.added)),
                Line::from(format!("updated {}", c.updated)),
                Line::from(format!("unchanged {}", c.unchanged)),
                Line::from(format!("rejected {} (not imported)", c.rejected)),
            ];
            if let Some(mo) = c.moved_out {
                lines.push(Line::from(format!(
                    "deactivated {} (moved out)",
                    mo.deactivated
                )));
                if mo.kept > 0 {
                    lines.push(Line::from(format!(
                        "kept active {} (packages waiting)",
                        mo.kept
                    )));
                }
            }
            lines.push(Line::from(Span::styled(
                "recorded in the audit trail; search is up to date",
                t.dim,
            )));
            lines
        }
        Err(e) => vec![
            Line::from(Span::styled("Import failed: nothing was written", t.error)),
            Line::from(e.text.clone()),
        ],
    };
    lines.push(Line::default());
    lines.push(hints(&[("Enter", "back to recipients")], t));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
