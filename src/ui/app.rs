//! The whole interface: header, the current screen, status line, key hints, help overlay.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::theme::Theme;
use super::widgets::hints;
use super::{admin, dashboard, intake, packages, pickup, recipients};
use crate::app::keymap;
use crate::app::model::{Model, Screen, Tone};
use crate::app::update::typing;

/// The interface lays out for at least this size (80x24 is the norm, 60x20 still works).
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 20;

pub fn view(f: &mut Frame, m: &Model, t: &Theme) {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "Terminal too small: {}x{}. Enlarge to at least {MIN_WIDTH}x{MIN_HEIGHT}. Ctrl-C quits.",
            area.width, area.height
        );
        f.render_widget(
            Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let [head, body, status, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    header(f, head, m, t);
    if m.locked() {
        super::lock::draw(f, body, m, t);
        if let Some((text, tone)) = &m.status {
            let style = match tone {
                Tone::Success => t.success,
                Tone::Warning => t.warning,
                Tone::Info | Tone::Error => t.error,
            };
            f.render_widget(Paragraph::new(Span::styled(text.as_str(), style)), status);
        }
        return;
    }
    match m.screen {
        Screen::Dashboard => dashboard::draw(f, body, m, t),
        Screen::Intake => intake::draw(f, body, m, t),
        Screen::Pickup => pickup::draw(f, body, m, t),
        Screen::Packages => packages::draw_list(f, body, m, t),
        Screen::Detail => packages::draw_detail(f, body, m, t),
        Screen::Recipients => recipients::draw(f, body, m, t),
        Screen::Admin => admin::draw(f, body, m, t),
        Screen::Reports => super::reports::draw(f, body, m, t),
    }
    if let Some((text, tone)) = &m.status {
        let style = match tone {
            Tone::Info => t.info,
            Tone::Success => t.success,
            Tone::Warning => t.warning,
            Tone::Error => t.error,
        };
        f.render_widget(Paragraph::new(Span::styled(text.as_str(), style)), status);
    }
    f.render_widget(Paragraph::new(footer(m, foot.width, t)), foot);
    if m.help {
        help(f, area, m, t);
    }
}

fn header(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let left = match &m.kiosk {
        Some(k) if k.locked => format!(
            " packtrack · {} · kiosk {} · locked",
            m.me.facility_name, k.device
        ),
        Some(k) => format!(
            " packtrack · {} · {} ({}) at {}",
            m.me.facility_name, m.me.login, m.me.role, k.device
        ),
        None => format!(
            " packtrack · {} · {} ({})",
            m.me.facility_name, m.me.login, m.me.role
        ),
    };
    let right = if m.locked() {
        "Locked ".to_string()
    } else {
        format!("{} ", m.screen.title())
    };
    let pad = (area.width as usize).saturating_sub(left.chars().count() + right.chars().count());
    let line = format!("{left}{}{right}", " ".repeat(pad));
    f.render_widget(Paragraph::new(Span::styled(line, t.header)), area);
}

fn footer<'a>(m: &Model, width: u16, t: &Theme) -> Line<'a> {
    let pairs: &[(&str, &str)] = match m.screen {
        Screen::Admin => admin::hints::hints(m),
        // 80 columns hold every way out of the dashboard (`a` only for those who may open
        // the console); a narrower terminal keeps the daily ones and `?` lists the rest.
        Screen::Dashboard if width < 80 => &[
            ("i", "intake"),
            ("p", "pickup"),
            ("l", "packages"),
            ("R", "reports"),
            ("?", "help"),
            ("q", "quit"),
        ],
        Screen::Dashboard if m.me.role.can_administer() && m.kiosk.is_none() => &[
            ("i", "intake"),
            ("p", "pickup"),
            ("l", "packages"),
            ("r", "recipients"),
            ("R", "reports"),
            ("a", "admin"),
            ("?", "help"),
            ("q", "quit"),
        ],
        Screen::Dashboard => &[
            ("i", "intake"),
            ("p", "pickup"),
            ("l", "packages"),
            ("r", "recipients"),
            ("R", "reports"),
            ("?", "help"),
            ("q", "quit"),
        ],
        Screen::Intake => &[
            ("Enter", "next"),
            ("Esc", "back"),
            ("Ctrl-N", "no number"),
            ("F1", "help"),
        ],
        Screen::Pickup => &[
            ("Enter", "next"),
            ("Space", "select"),
            ("Esc", "back"),
            ("F1", "help"),
        ],
        Screen::Packages
            if m.me.role.can_handle_packages() && !m.list.marks.is_empty() && width < 76 =>
        {
            &[
                ("Space", "mark"),
                ("*", "all"),
                ("n", "remind"),
                ("t", "return"),
                ("?", "help"),
            ]
        }
        Screen::Packages if m.me.role.can_handle_packages() && !m.list.marks.is_empty() => &[
            ("Space", "mark"),
            ("*", "all"),
            ("n", "remind"),
            ("t", "return to sender"),
            ("Esc", "back"),
            ("?", "help"),
        ],
        Screen::Packages if m.me.role.can_handle_packages() && width >= 76 => &[
            ("Enter", "open"),
            ("Space", "mark"),
            ("s", "status"),
            ("/", "filter"),
            ("o", "overdue"),
            ("Esc", "back"),
            ("?", "help"),
        ],
        Screen::Packages => &[
            ("Enter", "open"),
            ("s", "status"),
            ("/", "filter"),
            ("o", "overdue"),
            ("Esc", "back"),
            ("?", "help"),
        ],
        // A narrow terminal keeps the daily corrections and the way out; `?` lists the rest.
        Screen::Detail
            if m.me.role.can_handle_packages() && m.correction.is_none() && width < 72 =>
        {
            &[
                ("m", "move"),
                ("e", "reassign"),
                ("f", "flags"),
                ("n", "note"),
                ("Esc", "back"),
                ("?", "help"),
            ]
        }
        Screen::Detail if m.me.role.can_handle_packages() && m.correction.is_none() => &[
            ("m", "move"),
            ("t", "return"),
            ("x", "lost"),
            ("e", "reassign"),
            ("f", "flags"),
            ("n", "note"),
            ("Esc", "back"),
            ("?", "help"),
        ],
        Screen::Detail => &[("Esc", "back"), ("F1", "help")],
        Screen::Recipients => recipients::footer_pairs(m),
        Screen::Reports => reports_hints(m, width),
    };
    hints(pairs, t)
}

/// The Reports screen's hints, per tab (export only for those it is for); a terminal
/// narrower than 80 columns gets the short forms (`?` lists every key).
fn reports_hints(m: &Model, width: u16) -> &'static [(&'static str, &'static str)] {
    use crate::reports::Report;
    let exports = m.me.role.can_administer() && m.kiosk.is_none();
    match (m.reports.tab, width >= 80) {
        (Report::Parcels, true) if exports => &[
            ("Tab", "report"),
            ("↑↓", "scroll"),
            ("Enter", "open"),
            ("[ ]", "day"),
            ("e", "export CSV"),
            ("Esc", "back"),
        ],
        (Report::Parcels, false) if exports => &[
            ("Tab", "report"),
            ("↑↓", "scroll"),
            ("[ ]", "day"),
            ("e", "export"),
            ("Esc", "back"),
        ],
        (Report::Parcels, true) => &[
            ("Tab", "report"),
            ("↑↓", "scroll"),
            ("Enter", "open"),
            ("[ ]", "day before/after"),
            ("t", "today"),
            ("Esc", "back"),
        ],
        (Report::Parcels, false) => &[
            ("Tab", "report"),
            ("↑↓", "scroll"),
            ("Enter", "open"),
            ("[ ]", "day"),
            ("Esc", "back"),
        ],
        (Report::Daily, true) => &[
            ("Tab", "report"),
            ("↑↓ Enter", "a day's parcels"),
            ("[ ]", "earlier/later"),
            ("- +", "days"),
            ("Esc", "back"),
        ],
        (Report::Daily, false) => &[
            ("Tab", "report"),
            ("↑↓ Enter", "day"),
            ("[ ]", "range"),
            ("- +", "days"),
            ("Esc", "back"),
        ],
        _ => &[
            ("Tab", "report"),
            ("[ ]", "earlier/later"),
            ("- +", "days"),
            ("t", "today"),
            ("Esc", "back"),
        ],
    }
}

/// The keys of the screen in a box; when they do not fit (most screens at 80x24) the box
/// scrolls with ↑/↓/PgUp/PgDn and its bottom border says where the view is.
fn help(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let bindings = keymap::help_for(m.screen, typing(m));
    let visible = keymap::help_visible(area.height);
    let w = 56.min(area.width.saturating_sub(4));
    let h = (bindings.len() as u16 + 3).min(area.height.saturating_sub(2));
    let popup = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    let scroll = m
        .help_scroll
        .min(keymap::help_max_scroll(m.screen, typing(m), area.height));
    let lines: Vec<Line> = bindings
        .iter()
        .skip(scroll)
        .take(visible)
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("{:>8}", b.label), t.title),
                Span::raw(format!("  {}", b.help)),
            ])
        })
        .collect();
    let mut block = Block::default().borders(Borders::ALL);
    if bindings.len() > visible {
        let last = (scroll + visible).min(bindings.len());
        block = block
            .title(format!(" Keys: {} ", m.screen.title()))
            .title_bottom(format!(
                " {}-{last} of {} · ↑↓ PgUp PgDn · other keys close ",
                scroll + 1,
                bindings.len()
            ));
    } else {
        block = block.title(format!(" Keys: {} (any key closes) ", m.screen.title()));
    }
    f.render_widget(Clear, popup);
    f.render_widget(Paragraph::new(lines).block(block), popup);
}
