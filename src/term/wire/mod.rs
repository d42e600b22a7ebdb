//! The ratatui backend of terminal sessions: the fewest bytes per frame (issue 8's budget: under
//! 300 bytes per search keystroke at 80×24; crossterm's backend averaged about 490).
//!
//! ratatui gives a backend the cells that changed. crossterm's backend writes an absolute
//! cursor move before every run of them, one SGR sequence per attribute change, and ends every
//! frame by resetting all attributes and hiding the cursor again. This backend remembers what
//! the client's terminal is in (its attributes, its cursor when known, and the cells it was
//! sent) and, for each changed cell, takes the shortest way:
//!
//! - the cursor goes there by an absolute move, a relative one (`CUU/CUD/CUF/CUB`, backspace,
//!   carriage return), or by re-sending the few unchanged cells in between;
//! - attributes change with one SGR sequence: only what differs, or a reset and what is
//!   wanted, whichever is shorter. Colors 0-7 are written `3N`/`4N` except a foreground under
//!   bold, which stays `38;5;N` (terminals brighten bold `3N`, so the screen is the same as
//!   with crossterm's `38;5;N`);
//! - nothing is written at the end of a frame (the terminal keeps its state, the cursor stays
//!   hidden), so a frame without visible change is empty and the session sends nothing.
//!
//! The cursor position is tracked only across ASCII text: after anything wider (box drawing,
//! accents, CJK, whose width a terminal may see differently), or a write in the last column,
//! the next move is absolute. Tests render the same frames through crossterm's backend and
//! this one into vt100 and compare every cell.

use std::io;

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};

/// The attributes of the terminal (or of a cell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pen {
    fg: Color,
    bg: Color,
    ul: Color,
    modifier: Modifier,
    /// The foreground was written as `3N` (brightened by bold on some terminals).
    fg_short: bool,
}

const PLAIN: Pen = Pen {
    fg: Color::Reset,
    bg: Color::Reset,
    ul: Color::Reset,
    modifier: Modifier::empty(),
    fg_short: false,
};

impl Pen {
    fn of(cell: &Cell) -> Self {
        Pen {
            fg: cell.fg,
            bg: cell.bg,
            ul: cell.underline_color,
            modifier: cell.modifier,
            fg_short: false,
        }
    }

    /// Same look (the encoding of the foreground aside).
    fn looks(&self, other: &Pen) -> bool {
        self.fg == other.fg
            && self.bg == other.bg
            && self.ul == other.ul
            && self.modifier == other.modifier
    }
}

/// What the client shows in one cell, as far as this backend knows: a printable ASCII
/// character and its attributes (an index into `pens`), or unknown (character 0). Two bytes
/// a cell: a few KiB per session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shown {
    ch: u8,
    pen: u8,
}

const UNKNOWN: Shown = Shown { ch: 0, pen: 0 };

/// A backend writing into a buffer that the session sends as one SSH data message per frame.
pub struct WireBackend {
    out: Vec<u8>,
    size: Size,
    shown: Vec<Shown>,
    /// The distinct attributes on screen (a UI uses a few dozen); `shown` points here.
    pens: Vec<Pen>,
    /// The terminal's attributes; `None` when unknown.
    pen: Option<Pen>,
    /// The terminal's cursor; `None` when unknown.
    at: Option<Position>,
    cursor_visible: Option<bool>,
}

impl WireBackend {
    /// A backend for a terminal of `size` whose screen is first reset and cleared.
    pub fn cleared(size: Size) -> Self {
        let mut b = WireBackend {
            out: Vec::with_capacity(8192),
            size,
            shown: Vec::new(),
            pens: vec![PLAIN],
            pen: None,
            at: None,
            cursor_visible: None,
        };
        b.clear_all();
        b
    }

    /// The bytes written since the last call.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::replace(&mut self.out, Vec::with_capacity(8192))
    }

    fn clear_all(&mut self) {
        if self.pen != Some(PLAIN) {
            self.out.extend_from_slice(b"\x1b[m");
        }
        self.out.extend_from_slice(b"\x1b[H\x1b[2J");
        self.pen = Some(PLAIN);
        self.at = Some(Position::new(0, 0));
        let n = usize::from(self.size.width) * usize::from(self.size.height);
        self.shown = vec![Shown { ch: b' ', pen: 0 }; n];
    }

    fn index(&self, x: u16, y: u16) -> Option<usize> {
        (x < self.size.width && y < self.size.height)
            .then(|| usize::from(y) * usize::from(self.size.width) + usize::from(x))
    }

    fn forget(&mut self, x: u16, y: u16) {
        if let Some(i) = self.index(x, y) {
            self.shown[i] = UNKNOWN;
        }
    }

    /// `pen`'s index in `pens`, added when new; `None` once 256 are in use.
    fn intern(&mut self, pen: Pen) -> Option<u8> {
        if let Some(i) = self.pens.iter().position(|p| *p == pen) {
            return u8::try_from(i).ok();
        }
        let i = u8::try_from(self.pens.len()).ok()?;
        self.pens.push(pen);
        Some(i)
    }

    /// Moves the cursor to (x, y) the cheapest way.
    fn move_to(&mut self, x: u16, y: u16) {
        if self.at == Some(Position::new(x, y)) {
            return;
        }
        let mut best = absolute(x, y);
        let mut via_cells: Option<(Vec<u8>, Pen)> = None;
        if let Some(at) = self.at {
            let rel = relative(at, x, y);
            if rel.len() < best.len() {
                best = rel;
            }
            // Same row, a little further right: re-send the cells in between.
            if at.y == y
                && x > at.x
                && x - at.x <= 8
                && let Some((bytes, pen)) = self.resend(at.x, x, y)
                && bytes.len() < best.len()
            {
                via_cells = Some((bytes, pen));
            }
        }
        match via_cells {
            Some((bytes, pen)) => {
                self.out.extend_from_slice(&bytes);
                self.pen = Some(pen);
            }
            None => self.out.extend_from_slice(&best),
        }
        self.at = Some(Position::new(x, y));
    }

    /// The bytes that rewrite cells `from..to` of row `y` as they are, if all are known.
    fn resend(&self, from: u16, to: u16, y: u16) -> Option<(Vec<u8>, Pen)> {
        let mut bytes = Vec::new();
        let mut pen = self.pen?;
        for x in from..to {
            let cell = self.shown[self.index(x, y)?];
            if cell.ch == 0 {
                return None;
            }
            if let Some(p) = sgr(&mut bytes, Some(pen), &self.pens[usize::from(cell.pen)]) {
                pen = p;
            }
            bytes.push(cell.ch);
        }
        Some((bytes, pen))
    }
}

/// `CUP`, shortened where the defaults allow.
fn absolute(x: u16, y: u16) -> Vec<u8> {
    match (x, y) {
        (0, 0) => b"\x1b[H".to_vec(),
        (0, y) => format!("\x1b[{}H", y + 1).into_bytes(),
        (x, y) => format!("\x1b[{};{}H", y + 1, x + 1).into_bytes(),
    }
}

/// Relative moves from `at` (never scrolls: `CUU`/`CUD` stop at the margins, and the target is
/// on the screen).
fn relative(at: Position, x: u16, y: u16) -> Vec<u8> {
    let mut v = Vec::new();
    let step = |v: &mut Vec<u8>, n: u16, fin: char| {
        if n == 1 {
            v.extend_from_slice(format!("\x1b[{fin}").as_bytes());
        } else {
            v.extend_from_slice(format!("\x1b[{n}{fin}").as_bytes());
        }
    };
    if y > at.y {
        step(&mut v, y - at.y, 'B');
    } else if y < at.y {
        step(&mut v, at.y - y, 'A');
    }
    if x == 0 && at.x > 2 {
        v.push(b'\r');
    } else if x > at.x {
        step(&mut v, x - at.x, 'C');
    } else if x < at.x {
        let n = at.x - x;
        if n <= 2 {
            v.extend(std::iter::repeat_n(b'\x08', usize::from(n)));
        } else {
            step(&mut v, n, 'D');
        }
    }
    v
}

/// Writes the SGR sequence from `from` (unknown: `None`) to `to`; returns the new pen, or
/// `None` when nothing had to change.
fn sgr(out: &mut Vec<u8>, from: Option<Pen>, to: &Pen) -> Option<Pen> {
    let mut target = *to;
    // Bold brightens `3N` on some terminals: a bold foreground 0-7 is `38;5;N`.
    let short_ok = !to.modifier.contains(Modifier::BOLD);
    target.fg_short = short_ok && basic(to.fg).is_some_and(|n| n < 8);
    if let Some(f) = from {
        let fg_stale = f.fg_short && !short_ok && f.fg == to.fg;
        if f.looks(to) && !fg_stale {
            return None;
        }
    }
    let full = {
        let mut p = vec!["0".to_string()];
        p.extend(modifier_on(to.modifier));
        if to.fg != Color::Reset {
            p.push(color(to.fg, Layer::Fg, short_ok));
        }
        if to.bg != Color::Reset {
            p.push(color(to.bg, Layer::Bg, true));
        }
        if to.ul != Color::Reset {
            p.push(color(to.ul, Layer::Ul, false));
        }
        p
    };
    let params = match from {
        None => full,
        Some(f) => {
            let mut p = Vec::new();
            let removed = f.modifier - to.modifier;
            let mut have = f.modifier;
            // Bold and faint are one attribute on some terminals and two on others: any
            // change of them from either restarts from normal intensity.
            let intensity = Modifier::BOLD | Modifier::DIM;
            if f.modifier.intersects(intensity)
                && (f.modifier & intensity) != (to.modifier & intensity)
            {
                p.push("22".to_string());
                have -= intensity;
            }
            if removed.intersects(Modifier::SLOW_BLINK | Modifier::RAPID_BLINK) {
                p.push("25".to_string());
                have -= Modifier::SLOW_BLINK | Modifier::RAPID_BLINK;
            }
            for (m, off) in [
                (Modifier::ITALIC, "23"),
                (Modifier::UNDERLINED, "24"),
                (Modifier::REVERSED, "27"),
                (Modifier::HIDDEN, "28"),
                (Modifier::CROSSED_OUT, "29"),
            ] {
                if removed.contains(m) {
                    p.push(off.to_string());
                    have -= m;
                }
            }
            p.extend(modifier_on(to.modifier - have));
            let fg_stale = f.fg_short && !short_ok && f.fg == to.fg;
            if f.fg != to.fg || fg_stale {
                p.push(color(to.fg, Layer::Fg, short_ok));
            }
            if f.bg != to.bg {
                p.push(color(to.bg, Layer::Bg, true));
            }
            if f.ul != to.ul {
                p.push(color(to.ul, Layer::Ul, false));
            }
            if p.join(";").len() <= full.join(";").len() {
                p
            } else {
                full
            }
        }
    };
    out.extend_from_slice(b"\x1b[");
    if params != ["0"] {
        out.extend_from_slice(params.join(";").as_bytes());
    }
    out.push(b'm');
    Some(target)
}

fn modifier_on(m: Modifier) -> Vec<String> {
    [
        (Modifier::BOLD, "1"),
        (Modifier::DIM, "2"),
        (Modifier::ITALIC, "3"),
        (Modifier::UNDERLINED, "4"),
        (Modifier::SLOW_BLINK, "5"),
        (Modifier::RAPID_BLINK, "6"),
        (Modifier::REVERSED, "7"),
        (Modifier::HIDDEN, "8"),
        (Modifier::CROSSED_OUT, "9"),
    ]
    .iter()
    .filter(|(bit, _)| m.contains(*bit))
    .map(|(_, code)| (*code).to_string())
    .collect()
}

#[derive(Clone, Copy)]
enum Layer {
    Fg,
    Bg,
    Ul,
}

/// The palette index of the 16 named colors (crossterm's mapping), and of `Indexed`.
fn basic(c: Color) -> Option<u8> {
    Some(match c {
        Color::Black => 0,
        Color::Red => 1,
        Color::Green => 2,
        Color::Yellow => 3,
        Color::Blue => 4,
        Color::Magenta => 5,
        Color::Cyan => 6,
        Color::Gray => 7,
        Color::DarkGray => 8,
        Color::LightRed => 9,
        Color::LightGreen => 10,
        Color::LightYellow => 11,
        Color::LightBlue => 12,
        Color::LightMagenta => 13,
        Color::LightCyan => 14,
        Color::White => 15,
        Color::Indexed(n) => n,
        Color::Reset | Color::Rgb(..) => return None,
    })
}

fn color(c: Color, layer: Layer, short_ok: bool) -> String {
    let (reset, short, bright, long) = match layer {
        Layer::Fg => ("39", 30, 90, "38"),
        Layer::Bg => ("49", 40, 100, "48"),
        Layer::Ul => ("59", 0, 0, "58"),
    };
    if let Color::Rgb(r, g, b) = c {
        return format!("{long};2;{r};{g};{b}");
    }
    match basic(c) {
        None => reset.to_string(),
        Some(n) if !matches!(layer, Layer::Ul) && n < 8 && short_ok => {
            (short + u16::from(n)).to_string()
        }
        Some(n) if !matches!(layer, Layer::Ul) && (8..16).contains(&n) => {
            (bright + u16::from(n - 8)).to_string()
        }
        Some(n) => format!("{long};5;{n}"),
    }
}

impl Backend for WireBackend {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        for (x, y, cell) in content {
            let Some(i) = self.index(x, y) else {
                continue;
            };
            self.move_to(x, y);
            let want = Pen::of(cell);
            let mut seq = Vec::new();
            if let Some(p) = sgr(&mut seq, self.pen, &want) {
                self.out.extend_from_slice(&seq);
                self.pen = Some(p);
            }
            let symbol = cell.symbol();
            self.out.extend_from_slice(symbol.as_bytes());
            match symbol.as_bytes() {
                [c @ 0x20..=0x7e] => {
                    let pen = self.pen.unwrap_or(want);
                    self.shown[i] = match self.intern(pen) {
                        Some(p) => Shown { ch: *c, pen: p },
                        None => UNKNOWN,
                    };
                    self.at = (x + 1 < self.size.width).then(|| Position::new(x + 1, y));
                }
                _ => {
                    // Width unknown (1 or 2 columns, as the terminal sees it).
                    self.shown[i] = UNKNOWN;
                    self.forget(x + 1, y);
                    self.at = None;
                }
            }
        }
        Ok(())
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if self.cursor_visible != Some(false) {
            self.out.extend_from_slice(b"\x1b[?25l");
            self.cursor_visible = Some(false);
        }
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.cursor_visible != Some(true) {
            self.out.extend_from_slice(b"\x1b[?25h");
            self.cursor_visible = Some(true);
        }
        Ok(())
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(self.at.unwrap_or_default())
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let p = position.into();
        self.move_to(
            p.x.min(self.size.width.saturating_sub(1)),
            p.y.min(self.size.height.saturating_sub(1)),
        );
        Ok(())
    }

    fn clear(&mut self) -> io::Result<()> {
        self.clear_all();
        Ok(())
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        if clear_type == ClearType::All {
            return self.clear();
        }
        // Erases paint with the current background: reset first.
        if self.pen != Some(PLAIN) {
            self.out.extend_from_slice(b"\x1b[m");
            self.pen = Some(PLAIN);
        }
        self.out.extend_from_slice(match clear_type {
            ClearType::AfterCursor => b"\x1b[J",
            ClearType::BeforeCursor => b"\x1b[1J",
            ClearType::CurrentLine => b"\x1b[2K",
            ClearType::UntilNewLine => b"\x1b[K",
            ClearType::All => b"\x1b[2J",
        });
        // Rare (ratatui does not use these with a fixed viewport): forget the screen.
        self.shown.fill(UNKNOWN);
        Ok(())
    }

    fn size(&self) -> io::Result<Size> {
        Ok(self.size)
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: self.size,
            pixels: Size::default(),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
