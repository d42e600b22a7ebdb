use std::time::{Duration, Instant};

use super::*;
use crate::term::input::{InputParser, Mods};

const UPS: &str = "1Z5R89390357567127";
const USPS: &str = "9400111899275432319480";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Feeds `(bytes, at ms)` chunks through the input parser and the detector, flushing at every
/// deadline that passes before the next chunk and at the end, as the session does.
fn run(chunks: &[(&str, u64)]) -> Vec<Item> {
    let t0 = Instant::now();
    let mut parser = InputParser::new();
    let mut det = ScanDetector::new();
    let mut out = Vec::new();
    for (bytes, at) in chunks {
        let at = t0 + ms(*at);
        if let Some(d) = det.deadline()
            && d < at
        {
            det.flush(d, &mut out);
        }
        let mut events = Vec::new();
        parser.feed(bytes.as_bytes(), &mut events);
        for ev in events {
            det.push(ev, at, &mut out);
        }
    }
    if let Some(d) = det.deadline() {
        det.flush(d, &mut out);
    }
    assert!(!det.holding(), "nothing held after the last deadline");
    out
}

/// One chunk per byte, `every` ms apart from `start`.
fn typed(text: &str, start: u64, every: u64) -> Vec<(String, u64)> {
    text.chars()
        .enumerate()
        .map(|(i, c)| (c.to_string(), start + i as u64 * every))
        .collect()
}

fn run_typed(parts: &[Vec<(String, u64)>]) -> Vec<Item> {
    let all: Vec<(&str, u64)> = parts
        .iter()
        .flatten()
        .map(|(s, t)| (s.as_str(), *t))
        .collect();
    run(&all)
}

fn keys(text: &str) -> Vec<Item> {
    text.chars()
        .map(|c| {
            let code = match c {
                '\r' => KeyCode::Enter,
                c => KeyCode::Char(c),
            };
            Item::Event(Event::Key(KeyEvent::from(code)))
        })
        .collect()
}

fn scan(text: &str) -> Item {
    Item::Scan(text.into())
}

#[test]
fn a_scan_in_one_packet_is_one_scan() {
    assert_eq!(run(&[(&format!("{UPS}\r"), 0)]), vec![scan(UPS)]);
}

#[test]
fn crlf_is_one_enter_of_the_scan() {
    assert_eq!(run(&[(&format!("{USPS}\r\n"), 0)]), vec![scan(USPS)]);
    // The LF in a packet of its own, a moment later: still nothing after the scan.
    assert_eq!(
        run(&[(&format!("{USPS}\r"), 0), ("\n", 3)]),
        vec![scan(USPS)]
    );
}

#[test]
fn a_scan_key_by_key_at_scanner_speed() {
    for every in [1, 4, 10, 25] {
        let out = run_typed(&[typed(&format!("{UPS}\r"), 0, every)]);
        assert_eq!(out, vec![scan(UPS)], "a key every {every} ms");
    }
}

#[test]
fn a_scan_in_a_few_packets() {
    assert_eq!(
        run(&[("1Z5R8939", 0), ("03575671", 12), ("27\r\n", 20)]),
        vec![scan(UPS)]
    );
}

#[test]
fn human_typing_is_never_a_scan() {
    for every in [80, 100, 150] {
        let text = format!("{UPS}\r");
        let out = run_typed(&[typed(&text, 0, every)]);
        assert_eq!(out, keys(&text), "a key every {every} ms");
    }
}

#[test]
fn a_scan_right_after_human_typing() {
    // "Shelf B" typed by hand, then the next parcel scanned 200 ms after the last key.
    let out = run_typed(&[
        typed("Shelf B", 0, 120),
        typed(&format!("{USPS}\r\n"), 720 + 200, 3),
    ]);
    let mut want = keys("Shelf B");
    want.push(scan(USPS));
    assert_eq!(out, want);
}

#[test]
fn human_typing_right_after_a_scan() {
    let mut chunks = vec![(format!("{UPS}\r"), 0)];
    chunks.extend(typed("ok", 300, 120));
    let out = run_typed(&[chunks]);
    let mut want = vec![scan(UPS)];
    want.extend(keys("ok"));
    assert_eq!(out, want);
}

#[test]
fn a_tracking_shaped_burst_without_enter_is_a_scan() {
    assert_eq!(run(&[(UPS, 0)]), vec![scan(UPS)]);
    assert_eq!(run_typed(&[typed(USPS, 0, 5)]), vec![scan(USPS)]);
}

#[test]
fn other_bursts_without_enter_are_keys() {
    // Too short, not a tracking number, or one key auto-repeating.
    for text in [
        "abc",
        "helloworld12",
        "jjjjjjjjjjjjjjjj",
        "1111111111111111",
    ] {
        assert_eq!(run(&[(text, 0)]), keys(text), "{text}");
    }
}

#[test]
fn short_bursts_with_enter_are_keys() {
    // A six-digit pickup code from a fast hand (or a keypad macro) stays typing.
    assert_eq!(run(&[("123456\r", 0)]), keys("123456\r"));
}

#[test]
fn an_unbracketed_paste_of_words_is_keys() {
    let text = "Aria Kowalski\r";
    assert_eq!(run(&[(text, 0)]), keys(text));
}

#[test]
fn bracketed_pastes_are_not_scans() {
    let out = run(&[(&format!("\x1b[200~{UPS}\r\x1b[201~"), 0)]);
    assert_eq!(out, vec![Item::Event(Event::Paste(format!("{UPS}\n")))]);
}

#[test]
fn other_keys_pass_at_once_and_in_order() {
    let t0 = Instant::now();
    let mut det = ScanDetector::new();
    let mut out = Vec::new();
    det.push(Event::Key(KeyCode::Char('a').into()), t0, &mut out);
    assert!(out.is_empty(), "a letter waits for the run to end");
    assert_eq!(det.deadline(), Some(t0 + GAP));
    det.push(Event::Key(KeyCode::Down.into()), t0 + ms(5), &mut out);
    assert_eq!(
        out,
        vec![
            Item::Event(Event::Key(KeyCode::Char('a').into())),
            Item::Event(Event::Key(KeyCode::Down.into())),
        ]
    );
    assert_eq!(det.deadline(), None, "nothing held: no timer");
    let ctrl = KeyEvent::new(KeyCode::Char('r'), Mods::CTRL);
    out.clear();
    det.push(Event::Key(ctrl), t0 + ms(500), &mut out);
    assert_eq!(out, vec![Item::Event(Event::Key(ctrl))]);
}

#[test]
fn a_held_letter_goes_out_at_its_deadline() {
    let t0 = Instant::now();
    let mut det = ScanDetector::new();
    let mut out = Vec::new();
    det.push(Event::Key(KeyCode::Char('R').into()), t0, &mut out);
    det.flush(t0 + ms(10), &mut out);
    assert!(out.is_empty(), "not yet: the run may go on");
    det.flush(t0 + GAP, &mut out);
    assert_eq!(out, keys("R"));
}

#[test]
fn a_flood_longer_than_any_barcode_is_keys() {
    let text = "a1".repeat(50) + "\r";
    assert_eq!(run(&[(&text, 0)]), keys(&text));
}

#[test]
fn a_scan_in_the_packet_after_typing_is_a_scan() {
    // Ctrl-U and a location typed in one packet, the scan in the next a moment later.
    let out = run(&[("\x15Shelf B", 0), (&format!("{USPS}\r\n"), 5)]);
    let mut want = vec![Item::Event(Event::Key(KeyEvent::new(
        KeyCode::Char('u'),
        Mods::CTRL,
    )))];
    want.extend(keys("Shelf B"));
    want.push(scan(USPS));
    assert_eq!(out, want);
}
