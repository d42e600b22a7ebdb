//! The pickup screen: the code (or recipient search), then whose parcels these are, each
//! parcel with its flags and note, and the receiver the handover will name.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::recipients::search_box;
use super::theme::Theme;
use super::widgets::{age, field};
use crate::app::model::{Model, PickupStep};
use crate::db::packages::Package;

pub fn draw(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let p = &m.pickup;
    let block = Block::default().borders(Borders::ALL).title(" Pickup ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let width = (inner.width as usize).saturating_sub(12);
    match p.step {
        PickupStep::Code => {
            let lines = vec![
                field("Code", &p.code, true, 24, t),
                Line::from(""),
                Line::from(Span::styled(
                    "Type the 6-digit pickup code or scan the parcel · Ctrl-F: by recipient",
                    t.dim,
                )),
            ];
            f.render_widget(Paragraph::new(lines), inner);
        }
        PickupStep::Search => search_box(f, inner, &m.search, true, t),
        PickupStep::Select | PickupStep::Receiver => {
            let picker = proxy_picker(m, t);
            let [head, list, bottom] = Layout::vertical([
                Constraint::Length(1),
                Constraint::Min(1),
                Constraint::Length(2 + u16::try_from(picker.len()).unwrap_or(0)),
            ])
            .areas(inner);
            f.render_widget(Paragraph::new(whose(m, t)), head);
            let mut lines = Vec::new();
            let mut cursor_line = 0;
            for (i, (pkg, sel)) in p.packages.iter().zip(&p.selected).enumerate() {
                let style = if i == p.cursor && p.step == PickupStep::Select {
                    cursor_line = lines.len();
                    t.selected
                } else {
                    t.text
                };
                lines.push(Line::from(Span::styled(
                    format!(
                        "[{}] {:<22} {:<7} {:<14} {:>4}",
                        if *sel { "x" } else { " " },
                        pkg.tracking,
                        pkg.carrier.as_deref().unwrap_or("-"),
                        pkg.location.chars().take(14).collect::<String>(),
                        age((m.now - pkg.received_at).num_seconds()),
                    ),
                    style,
                )));
                if let Some(line) = handling_line(pkg, list.width as usize, t) {
                    lines.push(line);
                }
            }
            // Keep the cursor's parcel (and its flags line) in view.
            let rows = list.height as usize;
            let scroll = (cursor_line + 2).saturating_sub(rows);
            f.render_widget(
                Paragraph::new(lines).scroll((u16::try_from(scroll).unwrap_or(0), 0)),
                list,
            );
            // The field gives way to how the handover will be recorded, so it stays in view.
            let mark = p.proxy.then(|| proxy_mark(m, t));
            let room = width.saturating_sub(mark.as_ref().map_or(0, |s| s.content.chars().count()));
            let mut receiver = field(
                "Receiver",
                &p.receiver,
                p.step == PickupStep::Receiver,
                room.min(40),
                t,
            );
            receiver.spans.extend(mark);
            let hint = if p.committing {
                Span::styled("saving…", t.info)
            } else if p.asking_damaged {
                Span::styled(
                    format!(
                        "{} DAMAGED · y: receiver has seen it, hand over · Esc: back",
                        p.damaged_chosen()
                    ),
                    t.warning,
                )
            } else if p.step == PickupStep::Receiver {
                Span::styled(
                    if p.proxy {
                        "↑/↓: pick a proxy · Enter: hand over · Esc: back"
                    } else {
                        "Enter: hand over · Ctrl-P: proxy on/off · Esc: back to the list"
                    },
                    t.dim,
                )
            } else {
                Span::styled(
                    format!(
                        "{} of {} · Enter: hand over · Space: select · Ctrl-P: proxy · Tab: name",
                        p.chosen_ids().len(),
                        p.packages.len()
                    ),
                    t.dim,
                )
            };
            let mut lines = picker;
            lines.push(receiver);
            lines.push(Line::from(hint));
            f.render_widget(Paragraph::new(lines), bottom);
        }
    }
}

/// The resident's authorised proxies above the receiver while a proxy is being named, the
/// picked one highlighted; nothing outside proxy mode.
fn proxy_picker(m: &Model, t: &Theme) -> Vec<Line<'static>> {
    let p = &m.pickup;
    if !p.proxy || p.step != PickupStep::Receiver {
        return Vec::new();
    }
    let Some(names) = &p.proxies else {
        return vec![Line::from(Span::styled(
            "authorised proxies: loading…",
            t.dim,
        ))];
    };
    if names.is_empty() {
        return vec![Line::from(Span::styled(
            "no authorised proxies on file: type who collects",
            t.dim,
        ))];
    }
    let mut lines = vec![Line::from(Span::styled("Authorised proxies:", t.dim))];
    for (i, name) in names.iter().enumerate() {
        let picked = p.proxy_pick == Some(i);
        lines.push(Line::from(Span::styled(
            format!("{} {name}", if picked { ">" } else { " " }),
            if picked { t.selected } else { t.text },
        )));
    }
    lines
}

/// After the receiver's name: on the resident's list, not on it, or (nothing typed yet) a
/// proxy.
fn proxy_mark(m: &Model, t: &Theme) -> Span<'static> {
    let p = &m.pickup;
    if p.proxy_authorised() {
        Span::styled(" (authorised proxy)", t.success)
    } else if p.proxies.is_some() && !p.receiver.text().trim().is_empty() {
        Span::styled(" (proxy, not on the list)", t.warning)
    } else {
        Span::styled(" (proxy)", t.warning)
    }
}

/// "Ada Lovelace · A-101 · 2 waiting": whose parcels these are, at a glance.
fn whose(m: &Model, t: &Theme) -> Line<'static> {
    let p = &m.pickup;
    let first = p.packages.first();
    let name = first
        .and_then(|x| x.recipient_name.clone())
        .unwrap_or_else(|| "(unmatched)".into());
    let mut text = name;
    if let Some(unit) = first.and_then(|x| x.recipient_unit.as_deref()) {
        text.push_str(" · ");
        text.push_str(unit);
    }
    text.push_str(&format!(" · {} waiting", p.packages.len()));
    Line::from(Span::styled(text, t.title))
}

/// "    PERISHABLE DAMAGED · box crushed" under a parcel with flags or a note; damaged ones
/// stand out.
fn handling_line(pkg: &Package, width: usize, t: &Theme) -> Option<Line<'static>> {
    let h = pkg.handling.as_ref()?;
    let flags: Vec<String> = h.flags.set().map(|f| f.name().to_uppercase()).collect();
    let note = h.note.as_str().lines().next().unwrap_or("").trim();
    if flags.is_empty() && note.is_empty() {
        return None;
    }
    let mut text = flags.join(" ");
    if !note.is_empty() {
        if !text.is_empty() {
            text.push_str(" · ");
        }
        text.push_str(note);
    }
    let text: String = text.chars().take(width.saturating_sub(4)).collect();
    let style = if h.flags.damaged { t.warning } else { t.dim };
    Some(Line::from(Span::styled(format!("    {text}"), style)))
}

#[cfg(test)]
mod tests;
