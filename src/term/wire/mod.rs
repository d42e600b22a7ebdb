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
mod tests {
    use ratatui::backend::CrosstermBackend;
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::style::Style;
    use ratatui::{Terminal, TerminalOptions, Viewport};

    use super::*;

    /// Feeds the same sequence of buffers through crossterm's backend and this one and
    /// compares the vt100 screens after every frame; returns (crossterm bytes, our bytes).
    fn compare(frames: &[Buffer], w: u16, h: u16) -> (usize, usize) {
        let area = Rect::new(0, 0, w, h);
        let opts = || TerminalOptions {
            viewport: Viewport::Fixed(area),
        };
        let mut theirs = Terminal::with_options(CrosstermBackend::new(Vec::new()), opts())
            .expect("crossterm terminal");
        let mut ours =
            Terminal::with_options(WireBackend::cleared(Size::new(w, h)), opts()).expect("ours");
        let nz = |v: u16| std::num::NonZeroU16::new(v).expect("non-zero");
        let mut a = vt100::Parser::new(nz(h), nz(w), 0);
        let mut b = vt100::Parser::new(nz(h), nz(w), 0);
        a.process(b"\x1b[H\x1b[2J");
        let (mut na, mut nb) = (0, 0);
        for (i, frame) in frames.iter().enumerate() {
            let draw = |f: &mut ratatui::Frame| {
                let buf = f.buffer_mut();
                for y in 0..h {
                    for x in 0..w {
                        buf[(x, y)] = frame[(x, y)].clone();
                    }
                }
            };
            theirs.draw(draw).expect("draw");
            ours.draw(draw).expect("draw");
            let ta = std::mem::take(theirs.backend_mut().writer_mut());
            let tb = ours.backend_mut().take();
            if i > 0 {
                na += ta.len();
                nb += tb.len();
            }
            a.process(&ta);
            b.process(&tb);
            for y in 0..h {
                for x in 0..w {
                    let (ca, cb) = (
                        a.screen().cell(y, x).expect("cell"),
                        b.screen().cell(y, x).expect("cell"),
                    );
                    // A cell never written and a written space look the same.
                    let blank = |c: &str| if c.is_empty() { " " } else { c }.to_string();
                    assert_eq!(
                        (
                            blank(ca.contents()),
                            ca.fgcolor(),
                            ca.bgcolor(),
                            ca.bold(),
                            ca.dim(),
                            ca.italic(),
                            ca.underline(),
                            ca.inverse()
                        ),
                        (
                            blank(cb.contents()),
                            cb.fgcolor(),
                            cb.bgcolor(),
                            cb.bold(),
                            cb.dim(),
                            cb.italic(),
                            cb.underline(),
                            cb.inverse()
                        ),
                        "frame {i}, cell ({x}, {y}); ours: {:?}; crossterm: {:?}",
                        String::from_utf8_lossy(&tb),
                        String::from_utf8_lossy(&ta)
                    );
                }
            }
        }
        (na, nb)
    }

    /// Deterministic pseudo-random numbers.
    struct Lcg(u64);
    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    fn random_style(rng: &mut Lcg) -> Style {
        let colors = [
            Color::Reset,
            Color::Red,
            Color::Yellow,
            Color::LightCyan,
            Color::Indexed(3),
            Color::Indexed(8),
            Color::Indexed(200),
            Color::Rgb(10, 200, 30),
            Color::White,
            Color::Black,
        ];
        let mods = [
            Modifier::empty(),
            Modifier::BOLD,
            Modifier::DIM,
            Modifier::UNDERLINED,
            Modifier::REVERSED,
            Modifier::ITALIC | Modifier::BOLD,
        ];
        Style::default()
            .fg(colors[rng.below(colors.len() as u64) as usize])
            .bg(colors[rng.below(colors.len() as u64) as usize])
            .add_modifier(mods[rng.below(mods.len() as u64) as usize])
    }

    #[test]
    fn random_frames_look_the_same_as_with_crossterm() {
        let (w, h) = (40, 12);
        let mut rng = Lcg(7);
        let symbols = ["a", "b", " ", "Z", "│", "é", "▶", "x", "-"];
        let mut frames = Vec::new();
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        for _ in 0..200 {
            // A few runs of changes per frame, as a UI update makes them.
            for _ in 0..1 + rng.below(6) {
                let y = rng.below(u64::from(h)) as u16;
                let x0 = rng.below(u64::from(w)) as u16;
                let len = 1 + rng.below(12) as u16;
                let style = random_style(&mut rng);
                for x in x0..(x0 + len).min(w) {
                    if rng.below(5) == 0 {
                        continue; // gaps inside runs
                    }
                    let s = symbols[rng.below(symbols.len() as u64) as usize];
                    // Whole cells: `set_style` alone would add up modifiers (bold and faint
                    // together look different from terminal to terminal).
                    buf[(x, y)].reset();
                    buf[(x, y)].set_symbol(s).set_style(style);
                }
            }
            frames.push(buf.clone());
        }
        let (theirs, ours) = compare(&frames, w, h);
        assert!(ours < theirs, "ours {ours} bytes, crossterm {theirs}");
    }

    #[test]
    fn widget_frames_with_wide_characters_look_the_same() {
        use ratatui::text::{Line, Span};
        use ratatui::widgets::{Block, Borders, Paragraph, Widget};
        let (w, h) = (30, 10);
        let names = [
            "Ada Lovelace",
            "山田 太郎",
            "Zoë Ångström",
            "Grace Hopper",
            "李小龍",
            "Ed",
        ];
        let mut rng = Lcg(3);
        let mut frames = Vec::new();
        for i in 0..120 {
            let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
            let lines: Vec<Line> = (0..8)
                .map(|r| {
                    let name = names[(i + r + rng.below(2) as usize) % names.len()];
                    let hl = rng.below(4) as usize;
                    let (a, b): (String, String) = (
                        name.chars().take(hl).collect(),
                        name.chars().skip(hl).collect(),
                    );
                    Line::from(vec![
                        Span::styled(if r == i % 8 { "▶ " } else { "  " }, random_style(&mut rng)),
                        Span::styled(
                            a,
                            Style::default()
                                .fg(Color::Indexed(3))
                                .add_modifier(Modifier::BOLD),
                        ),
                        Span::raw(b),
                    ])
                })
                .collect();
            Paragraph::new(lines)
                .block(Block::default().borders(Borders::ALL).title(" 検索 "))
                .render(buf.area, &mut buf);
            frames.push(buf);
        }
        let (theirs, ours) = compare(&frames, w, h);
        assert!(ours < theirs, "ours {ours} bytes, crossterm {theirs}");
    }

    #[test]
    fn unchanged_frames_send_nothing_and_the_cursor_is_hidden_once() {
        let area = Rect::new(0, 0, 10, 3);
        let mut t = Terminal::with_options(
            WireBackend::cleared(Size::new(10, 3)),
            TerminalOptions {
                viewport: Viewport::Fixed(area),
            },
        )
        .expect("terminal");
        let draw = |f: &mut ratatui::Frame| {
            f.buffer_mut()[(2, 1)].set_symbol("x");
        };
        t.draw(draw).expect("draw");
        let first = t.backend_mut().take();
        assert!(first.ends_with(b"x\x1b[?25l"), "{first:?}");
        t.draw(draw).expect("draw");
        assert!(t.backend_mut().take().is_empty());
    }

    #[test]
    fn shortest_moves_and_attributes() {
        assert_eq!(absolute(0, 0), b"\x1b[H");
        assert_eq!(absolute(0, 4), b"\x1b[5H");
        assert_eq!(absolute(9, 4), b"\x1b[5;10H");
        assert_eq!(relative(Position::new(5, 2), 5, 3), b"\x1b[B");
        assert_eq!(relative(Position::new(5, 2), 4, 3), b"\x1b[B\x08");
        assert_eq!(relative(Position::new(5, 2), 0, 2), b"\r");
        assert_eq!(relative(Position::new(5, 2), 9, 2), b"\x1b[4C");
        let mut out = Vec::new();
        let yellow = Pen {
            fg: Color::Indexed(3),
            ..PLAIN
        };
        sgr(&mut out, Some(PLAIN), &yellow);
        assert_eq!(out, b"\x1b[33m");
        // Bold on a `3N` foreground: written again as `38;5;N` (no brightening).
        out.clear();
        let bold = Pen {
            modifier: Modifier::BOLD,
            ..yellow
        };
        let now = Pen {
            fg_short: true,
            ..yellow
        };
        sgr(&mut out, Some(now), &bold);
        assert_eq!(out, b"\x1b[1;38;5;3m");
        out.clear();
        assert!(sgr(&mut out, Some(PLAIN), &PLAIN).is_none());
        sgr(&mut out, Some(bold), &PLAIN);
        assert_eq!(out, b"\x1b[m");
    }
}
