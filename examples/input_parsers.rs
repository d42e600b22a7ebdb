//! Throughput of our terminal input parser (`term::input`) against `termina`'s input parser
//! and `vte`'s state machine on
//! the same byte streams (issue 15, item 4): typed text, scanner bursts, escape-heavy input
//! and bracketed pastes, fed in 4 KiB reads as an SSH channel delivers them.
//!
//! `vte` only tokenizes (print / execute / CSI / ESC dispatch); the count here is a lower
//! bound for a vte-based parser, which would still need the key mapping, SS3, the paste
//! state and the lone-Esc timeout on top. Run: `cargo run --release --example input_parsers`.

use std::hint::black_box;
use std::time::Instant;

use packtrack::term::input::{Event, InputParser};

const READ: usize = 4096;

fn typed(n: usize) -> Vec<u8> {
    let words = [
        "parcel ",
        "Müller ",
        "B-12 ",
        "hopper ",
        "front desk ",
        "Zoë ",
    ];
    let mut out = Vec::new();
    let mut i = 0;
    while out.len() < n {
        out.extend_from_slice(words[i % words.len()].as_bytes());
        if i % 9 == 8 {
            out.extend_from_slice(b"\x7f\r");
        }
        i += 1;
    }
    out
}

fn scanner(n: usize) -> Vec<u8> {
    let codes: [&[u8]; 3] = [
        b"1Z5R89390357567127\r",
        b"9400111206206406260787\r",
        b"]C142078745\x1d9400111206206406260787\r",
    ];
    let mut out = Vec::new();
    let mut i = 0;
    while out.len() < n {
        out.extend_from_slice(codes[i % codes.len()]);
        i += 1;
    }
    out
}

fn escapes(n: usize) -> Vec<u8> {
    let keys: [&[u8]; 8] = [
        b"\x1b[A",
        b"\x1b[1;5C",
        b"\x1b[15~",
        b"\x1b[3;2~",
        b"\x1bOP",
        b"\x1b[Z",
        b"\x1bx",
        b"\x1b[1;3B",
    ];
    let mut out = Vec::new();
    let mut i = 0;
    while out.len() < n {
        out.extend_from_slice(keys[i % keys.len()]);
        i += 1;
    }
    out
}

fn pastes(n: usize) -> Vec<u8> {
    let body = typed(16 * 1024);
    let mut out = Vec::new();
    while out.len() < n {
        out.extend_from_slice(b"\x1b[200~");
        out.extend_from_slice(&body);
        out.extend_from_slice(b"\x1b[201~");
    }
    out
}

#[derive(Default)]
struct Count(u64);

impl vte::Perform for Count {
    fn print(&mut self, _c: char) {
        self.0 += 1;
    }
    fn execute(&mut self, _byte: u8) {
        self.0 += 1;
    }
    fn csi_dispatch(&mut self, _: &vte::Params, _: &[u8], _: bool, _: char) {
        self.0 += 1;
    }
    fn esc_dispatch(&mut self, _: &[u8], _: bool, _: u8) {
        self.0 += 1;
    }
}

/// Best of `rounds` runs of `f` over `bytes`, in MB/s, with the event count of one run.
fn measure(bytes: &[u8], rounds: usize, mut f: impl FnMut(&[u8]) -> u64) -> (f64, u64) {
    let mut best = f64::MAX;
    let mut events = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        events = black_box(f(bytes));
        best = best.min(t.elapsed().as_secs_f64());
    }
    (bytes.len() as f64 / best / 1e6, events)
}

fn ours(bytes: &[u8]) -> u64 {
    let mut p = InputParser::new();
    let mut out: Vec<Event> = Vec::new();
    let mut n = 0;
    for chunk in bytes.chunks(READ) {
        p.feed(chunk, &mut out);
        n += out.len() as u64;
        out.clear();
    }
    n
}

fn theirs(bytes: &[u8]) -> u64 {
    let mut p = vte::Parser::new();
    let mut c = Count::default();
    for chunk in bytes.chunks(READ) {
        p.advance(&mut c, chunk);
    }
    c.0
}

fn termina(bytes: &[u8]) -> u64 {
    let mut p = termina::Parser::default();
    let mut n = 0;
    for chunk in bytes.chunks(READ) {
        p.parse(chunk, true);
        while p.pop().is_some() {
            n += 1;
        }
    }
    n
}

fn main() {
    let size = 4 << 20;
    let rounds = 7;
    println!(
        "{:<8} {:>10} {:>12} {:>9} {:>12} {:>14} {:>12}",
        "stream",
        "ours MB/s",
        "termina MB/s",
        "vte MB/s",
        "ours events",
        "termina events",
        "vte events"
    );
    for (name, bytes) in [
        ("typed", typed(size)),
        ("scanner", scanner(size)),
        ("escapes", escapes(size)),
        ("pastes", pastes(size)),
    ] {
        let (a, ea) = measure(&bytes, rounds, ours);
        let (t, et) = measure(&bytes, rounds, termina);
        let (b, eb) = measure(&bytes, rounds, theirs);
        println!("{name:<8} {a:>10.0} {t:>12.0} {b:>9.0} {ea:>12} {et:>14} {eb:>12}");
    }
}
