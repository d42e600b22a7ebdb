//! The terminal layer, knowing nothing of SSH: bytes from a terminal become key events
//! ([`input`]), frames become the fewest bytes ([`wire`]), and here what a client terminal can
//! do, from its TERM (and COLORTERM when the client sends it). [`scan`] tells a barcode
//! scanner's burst from typing. app and ui take their key types and [`ColorDepth`] from here;
//! ssh feeds it a channel's bytes.

pub mod input; // bytes from the terminal -> key events (stateful, pure)
pub mod scan; // key events with arrival times -> the same events, or one barcode scan
pub mod wire; // the sessions' ratatui backend: fewest bytes per frame

/// Colors a terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorDepth {
    /// No color: bold, reverse and underline only.
    Mono,
    Ansi16,
    Ansi256,
    TrueColor,
}

impl ColorDepth {
    pub fn from_term(term: &str, colorterm: Option<&str>) -> Self {
        let term = term.to_ascii_lowercase();
        if matches!(colorterm, Some(c) if c.eq_ignore_ascii_case("truecolor") || c.eq_ignore_ascii_case("24bit"))
            || term.contains("direct")
            || term.contains("truecolor")
        {
            return ColorDepth::TrueColor;
        }
        if term.is_empty()
            || term == "dumb"
            || term.ends_with("-mono")
            || term.ends_with("-m")
            || term.starts_with("vt1")
            || term.starts_with("vt2")
            || term.starts_with("vt5")
        {
            return ColorDepth::Mono;
        }
        if term.contains("256") {
            return ColorDepth::Ansi256;
        }
        ColorDepth::Ansi16
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ColorDepth::Mono => "mono",
            ColorDepth::Ansi16 => "16",
            ColorDepth::Ansi256 => "256",
            ColorDepth::TrueColor => "truecolor",
        }
    }
}

/// Escape sequences around a full-screen session.
pub const ENTER: &str = "\x1b[?1049h\x1b[?2004h\x1b[?25l\x1b[H\x1b[2J";
/// Leaves everything as it was: bracketed paste off, cursor shown, attributes reset,
/// main screen back.
pub const LEAVE: &str = "\x1b[?2004l\x1b[0m\x1b[?25h\x1b[?1049l";

#[cfg(test)]
mod tests;
