//! Views: pure functions from state to a ratatui frame. They draw and never mutate.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::ssh::term::ColorDepth;

/// Smallest terminal the interface lays out for.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;

/// What the session screen shows about who is logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub facility_name: String,
    pub slug: String,
    pub login: String,
    pub role: String,
    pub depth: ColorDepth,
}

fn accent(depth: ColorDepth) -> Style {
    match depth {
        ColorDepth::Mono => Style::default().add_modifier(Modifier::BOLD),
        _ => Style::default()
            .fg(Color::Cyan)
            .add_modifier(Modifier::BOLD),
    }
}

/// The session's home screen (until the operator interface replaces it).
pub fn draw_session(frame: &mut Frame, info: &SessionInfo) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_too_small(frame, area);
        return;
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(" packtrack ", accent(info.depth)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [body, footer] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    let lines = vec![
        Line::from(""),
        Line::from(Span::styled(info.facility_name.clone(), accent(info.depth))),
        Line::from(format!("facility  {}", info.slug)),
        Line::from(format!("user      {}", info.login)),
        Line::from(format!("role      {}", info.role)),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        body,
    );
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("q", Style::default().add_modifier(Modifier::REVERSED)),
            Span::raw(" quit"),
        ])),
        footer,
    );
}

/// A clear message instead of a garbled layout on a tiny terminal.
pub fn draw_too_small(frame: &mut Frame, area: Rect) {
    let text = format!(
        "Terminal too small: {}x{}. Enlarge to at least {MIN_WIDTH}x{MIN_HEIGHT}. q quits.",
        area.width, area.height
    );
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn render(w: u16, h: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        let info = SessionInfo {
            facility_name: "Demo Mailroom".into(),
            slug: "demo".into(),
            login: "clerk".into(),
            role: "operator".into(),
            depth: ColorDepth::Mono,
        };
        t.draw(|f| draw_session(f, &info)).unwrap();
        let buf = t.backend().buffer().clone();
        (0..h)
            .map(|y| {
                (0..w)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn session_screen_shows_facility_user_role() {
        let s = render(80, 24);
        assert!(s.contains("Demo Mailroom"), "{s}");
        assert!(s.contains("facility  demo"));
        assert!(s.contains("user      clerk"));
        assert!(s.contains("role      operator"));
        assert!(s.contains("q quit"));
    }

    #[test]
    fn tiny_terminal_gets_enlarge_message() {
        let s = render(20, 5);
        assert!(s.contains("Terminal too"), "{s}");
        assert!(s.replace('\n', "").contains("40x10"), "{s}");
    }
}
