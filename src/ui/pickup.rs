use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::recipients::search_box;
use super::theme::Theme;
use super::widgets::{age, field};
use crate::app::model::{Model, PickupStep};

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
            let [list, bottom] =
                Layout::vertical([Constraint::Min(1), Constraint::Length(3)]).areas(inner);
            let lines: Vec<Line> = p
                .packages
                .iter()
                .zip(&p.selected)
                .enumerate()
                .map(|(i, (pkg, sel))| {
                    let style = if i == p.cursor && p.step == PickupStep::Select {
                        t.selected
                    } else {
                        t.text
                    };
                    Line::from(Span::styled(
                        format!(
                            "[{}] {:<22} {:<7} {:<12} {:>4}",
                            if *sel { "x" } else { " " },
                            pkg.tracking,
                            pkg.carrier.as_deref().unwrap_or("-"),
                            pkg.location,
                            age((m.now - pkg.received_at).num_seconds()),
                        ),
                        style,
                    ))
                })
                .collect();
            f.render_widget(Paragraph::new(lines), list);
            let mut info = vec![field(
                "Receiver",
                &p.receiver,
                p.step == PickupStep::Receiver,
                width.min(40),
                t,
            )];
            info.push(Line::from(Span::styled(
                format!(
                    "{} of {} selected · proxy: {} (Ctrl-P){}",
                    p.chosen_ids().len(),
                    p.packages.len(),
                    if p.proxy { "yes" } else { "no" },
                    if p.committing { " · saving…" } else { "" }
                ),
                t.dim,
            )));
            f.render_widget(Paragraph::new(info), bottom);
        }
    }
}
