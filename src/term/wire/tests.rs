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
