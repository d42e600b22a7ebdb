//! Styles by role, chosen from the terminal's color depth. Monochrome uses only bold,
//! reverse and underline, so every state stays visible without color.

use ratatui::style::{Color, Modifier, Style};

use crate::ssh::term::ColorDepth;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub header: Style,
    pub title: Style,
    pub text: Style,
    pub dim: Style,
    pub key: Style,
    pub selected: Style,
    pub field: Style,
    pub cursor: Style,
    pub matched: Style,
    pub info: Style,
    pub success: Style,
    pub warning: Style,
    pub error: Style,
    pub overdue: Style,
}

impl Theme {
    pub fn for_depth(depth: ColorDepth) -> Self {
        let b = Style::default();
        match depth {
            ColorDepth::Mono => Self {
                header: b.add_modifier(Modifier::REVERSED),
                title: b.add_modifier(Modifier::BOLD),
                text: b,
                dim: b,
                key: b.add_modifier(Modifier::REVERSED),
                selected: b.add_modifier(Modifier::REVERSED),
                field: b.add_modifier(Modifier::UNDERLINED),
                cursor: b.add_modifier(Modifier::REVERSED),
                matched: b.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                info: b,
                success: b.add_modifier(Modifier::BOLD),
                warning: b.add_modifier(Modifier::BOLD),
                error: b.add_modifier(Modifier::BOLD | Modifier::REVERSED),
                overdue: b.add_modifier(Modifier::BOLD),
            },
            _ => Self {
                header: b.fg(Color::Black).bg(Color::Cyan),
                title: b.fg(Color::Cyan).add_modifier(Modifier::BOLD),
                text: b,
                dim: b.fg(Color::DarkGray),
                key: b.fg(Color::Black).bg(Color::Gray),
                selected: b.fg(Color::Black).bg(Color::Yellow),
                field: b.add_modifier(Modifier::UNDERLINED),
                cursor: b.add_modifier(Modifier::REVERSED),
                matched: b.fg(Color::Yellow).add_modifier(Modifier::BOLD),
                info: b.fg(Color::Cyan),
                success: b.fg(Color::Green).add_modifier(Modifier::BOLD),
                warning: b.fg(Color::Yellow).add_modifier(Modifier::BOLD),
                error: b
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(Modifier::BOLD),
                overdue: b.fg(Color::Red).add_modifier(Modifier::BOLD),
            },
        }
    }
}
