//! The terminal input parser (`term::input`): whatever a client sends, no panic, at most one
//! event per byte, the same events however the bytes are split into packets, and a
//! bracketed paste hands over exactly what was pasted. (Its unit tests keep the hand-written
//! cases and the seeded byte-split fuzz; these add shrinking and many more shapes.)

use packtrack::term::input::{Event, InputParser, KeyCode, KeyEvent, Mods, PASTE_CAP};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use super::config;

const PASTE_START: &[u8] = b"\x1b[200~";
const PASTE_END: &[u8] = b"\x1b[201~";

/// Bytes that steer the parser into its deeper states, mixed with any byte at all.
fn byte() -> impl Strategy<Value = u8> {
    const HOT: &[u8] = b"\x1b\x1b\x1b[[O~;:012015$^@<?ABCDPZa \r\n\t\x7f\x08\x00\xc3\xa9\xe2\x82\xac\xf0\x9f\x80\xff";
    prop_oneof![1 => any::<u8>(), 2 => select(HOT)]
}

/// Runs of hot bytes, whole sequences terminals send, paste markers and overlong CSI
/// parameter lists, so the states worth testing are reached often.
fn token() -> impl Strategy<Value = Vec<u8>> {
    const KNOWN: &[&[u8]] = &[
        PASTE_START,
        PASTE_END,
        b"\x1b[1;5C",
        b"\x1b[15;2~",
        b"\x1bOP",
        b"\x1bO5Q",
        b"\x1b[[A",
        b"\x1b\x1b[A",
        b"\x1b[<0;10;5M",
        b"\x1b[?1;2c",
        b"\x1b[7$",
        b"\r\n",
        "é€😀".as_bytes(),
    ];
    let known = KNOWN;
    prop_oneof![
        6 => vec(byte(), 1..8),
        2 => select(known).prop_map(<[u8]>::to_vec),
        1 => (1usize..80).prop_map(|n| {
            let mut s = b"\x1b[".to_vec();
            s.extend(std::iter::repeat_n(b"1;".iter().copied(), n).flatten());
            s
        }),
    ]
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    vec(token(), 0..48).prop_map(|t| t.concat())
}

/// `bytes` cut at `cuts` (each taken modulo the length), in order.
fn split<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    at.sort_unstable();
    let mut out = Vec::new();
    let mut from = 0;
    for a in at.into_iter().chain([bytes.len()]) {
        out.push(&bytes[from..a]);
        from = a;
    }
    out
}

/// Feeds `chunks` as separate reads, then settles a pending Esc as the session's timer would.
fn events(chunks: &[&[u8]]) -> Vec<Event> {
    let mut p = InputParser::new();
    let mut out = Vec::new();
    for c in chunks {
        p.feed(c, &mut out);
    }
    p.flush_timeout(&mut out);
    out
}

/// How much text the events carry: a key counts one, a paste its characters.
fn weight(events: &[Event]) -> usize {
    events
        .iter()
        .map(|e| match e {
            Event::Key(_) => 1,
            Event::Paste(s) => s.chars().count(),
        })
        .sum()
}

fn ch(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), Mods::NONE))
}

/// What the parser makes of pasted text: terminals send line breaks as CR.
fn pasted(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

proptest! {
    #![proptest_config(config(1))]

    /// Any bytes, in any packets, with the Esc timer firing between any of them: no panic,
    /// never more events (or pasted characters) than bytes, and the parser always recovers:
    /// after an end-of-paste marker and a timeout, a typed `q` arrives as `q`.
    #[test]
    fn input_parser_survives_any_bytes_and_recovers(
        bytes in input(),
        cuts in vec(any::<usize>(), 0..12),
        timeouts in vec(any::<bool>(), 12),
    ) {
        let mut p = InputParser::new();
        let mut out = Vec::new();
        for (chunk, timeout) in split(&bytes, &cuts).into_iter().zip(timeouts.iter().cycle()) {
            p.feed(chunk, &mut out);
            if *timeout {
                p.flush_timeout(&mut out);
            }
        }
        prop_assert!(out.len() <= bytes.len(), "{} events from {} bytes", out.len(), bytes.len());
        prop_assert!(weight(&out) <= bytes.len());
        out.clear();
        p.feed(PASTE_END, &mut out);
        p.flush_timeout(&mut out);
        p.feed(b"q", &mut out);
        prop_assert_eq!(out.last(), Some(&ch('q')));
    }

    /// Packets may split a sequence anywhere: every split gives the events of one read, and
    /// so does byte by byte.
    #[test]
    fn input_events_do_not_depend_on_packet_boundaries(
        bytes in input(),
        cuts in vec(any::<usize>(), 1..16),
    ) {
        let whole = events(&[&bytes]);
        prop_assert_eq!(&events(&split(&bytes, &cuts)), &whole);
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        prop_assert_eq!(&events(&singles), &whole);
    }

    /// Bracketed paste hands over the pasted text as it was (CR line breaks as `\n`), keys
    /// around it stay keys, whatever the text holds (escape sequences, a partial end
    /// marker, invalid-looking controls) and however it is split.
    #[test]
    fn pasted_text_round_trips(
        text in prop_oneof![
            any::<String>(),
            "(\\PC|[\\x1b\\r\\n\\t\\x00\\x7f\\[~]|\\x1b\\[20[01]?|\\x1b\\[201)*",
        ]
        .prop_filter("the end marker ends a paste", |s| !s.as_bytes()
            .windows(PASTE_END.len())
            .any(|w| w == PASTE_END)),
        cuts in vec(any::<usize>(), 0..8),
    ) {
        let mut bytes = b"a".to_vec();
        bytes.extend_from_slice(PASTE_START);
        bytes.extend_from_slice(text.as_bytes());
        bytes.extend_from_slice(PASTE_END);
        bytes.push(b'b');
        let mut expected = vec![ch('a')];
        if !text.is_empty() {
            expected.push(Event::Paste(pasted(&text)));
        }
        expected.push(ch('b'));
        prop_assert_eq!(events(&split(&bytes, &cuts)), expected);
    }
}

/// Past the cap a paste is cut, never buffered: the excess of a huge paste is dropped.
#[test]
fn huge_paste_is_cut_at_the_cap() {
    let mut p = InputParser::new();
    let mut out = Vec::new();
    p.feed(PASTE_START, &mut out);
    let chunk = "é".repeat(4096);
    for _ in 0..64 {
        p.feed(chunk.as_bytes(), &mut out);
    }
    p.feed(PASTE_END, &mut out);
    assert_eq!(out, [Event::Paste("é".repeat(PASTE_CAP / 2))]);
}
