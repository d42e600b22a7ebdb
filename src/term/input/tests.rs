//! The input parser against its contract: keys, escapes, CRLF, pastes, byte splits and a
//! differential check. One file (about 600 lines): every test feeds the same parser fixture.

use super::*;

const S: Mods = Mods::SHIFT;
const A: Mods = Mods::ALT;
const C: Mods = Mods::CTRL;
const N: Mods = Mods::NONE;

fn k(code: KeyCode, mods: Mods) -> Event {
    Event::Key(KeyEvent::new(code, mods))
}

fn ch(c: char) -> Event {
    k(KeyCode::Char(c), N)
}

fn feed_chunks(chunks: &[&[u8]], flush: bool) -> Vec<Event> {
    let mut p = InputParser::new();
    let mut out = Vec::new();
    for c in chunks {
        p.feed(c, &mut out);
    }
    if flush {
        p.flush_timeout(&mut out);
    }
    out
}

/// Feed at once, byte by byte, and split at every boundary; then flush
/// (as the session would after the timeout). All must give `expected`.
#[track_caller]
fn check(bytes: &[u8], expected: &[Event]) {
    assert_eq!(feed_chunks(&[bytes], true), expected, "all at once");
    let singles: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(feed_chunks(&singles, true), expected, "byte by byte");
    for i in 1..bytes.len() {
        let (a, b) = bytes.split_at(i);
        assert_eq!(feed_chunks(&[a, b], true), expected, "split at {i}");
    }
}

#[test]
fn printable_ascii() {
    check(b"ab1 ~", &[ch('a'), ch('b'), ch('1'), ch(' '), ch('~')]);
}

#[test]
fn uppercase_has_no_shift() {
    check(b"Az", &[ch('A'), ch('z')]);
}

#[test]
fn utf8_multibyte_split() {
    check("é€😀".as_bytes(), &[ch('é'), ch('€'), ch('😀')]);
}

#[test]
fn utf8_char_waits_for_continuation_across_feeds() {
    let mut p = InputParser::new();
    let mut out = Vec::new();
    p.feed(&[0xe2, 0x82], &mut out);
    assert!(out.is_empty());
    assert!(!p.pending_escape(), "partial UTF-8 needs no Esc timer");
    p.flush_timeout(&mut out);
    assert!(out.is_empty(), "flush must not break a slow UTF-8 char");
    p.feed(&[0xac], &mut out);
    assert_eq!(out, [ch('€')]);
}

#[test]
fn invalid_utf8_becomes_replacement() {
    let r = || ch('\u{fffd}');
    check(&[0x80], &[r()]); // stray continuation
    check(&[0xff, b'a'], &[r(), ch('a')]);
    check(&[0xc0, 0xaf], &[r(), r()]); // overlong lead
    check(&[0xe0, 0x80, 0x80], &[r(), r(), r()]); // overlong
    check(&[0xed, 0xa0, 0x80], &[r(), r(), r()]); // surrogate
    check(&[0xf5, 0x80], &[r(), r()]); // beyond U+10FFFF
    // Broken char followed by a real key: the key survives.
    check(&[0xc3, b'A'], &[r(), ch('A')]);
    check(&[0xe2, 0x82, b'\r'], &[r(), k(KeyCode::Enter, N)]);
}

#[test]
fn enter_variants() {
    let e = || k(KeyCode::Enter, N);
    check(b"\r", &[e()]);
    check(b"\n", &[e()]);
    check(b"\r\n", &[e()]);
    check(b"\r\r", &[e(), e()]);
    check(b"\n\n", &[e(), e()]);
    check(b"\n\r", &[e(), e()]);
    check(b"\r\n\r\n", &[e(), e()]);
    check(b"\r\n\n", &[e(), e()]);
    check(b"\ra\n", &[e(), ch('a'), e()]);
}

#[test]
fn barcode_scanner_crlf_gives_one_enter() {
    let mut expected: Vec<Event> = "1Z999AA10123456784".chars().map(ch).collect();
    expected.push(k(KeyCode::Enter, N));
    check(b"1Z999AA10123456784\r\n", &expected);
    check(b"1Z999AA10123456784\r", &expected);
    // Two scans back to back.
    let mut two = expected.clone();
    two.extend(expected);
    check(b"1Z999AA10123456784\r\n1Z999AA10123456784\r\n", &two);
}

#[test]
fn crlf_across_separate_reads_is_one_enter() {
    let out = feed_chunks(&[b"42\r", b"\n7"], false);
    assert_eq!(out, [ch('4'), ch('2'), k(KeyCode::Enter, N), ch('7')]);
}

#[test]
fn backspace_both_bytes() {
    let bs = || k(KeyCode::Backspace, N);
    check(&[0x7f, 0x08], &[bs(), bs()]);
}

#[test]
fn tab_and_backtab() {
    check(b"\t", &[k(KeyCode::Tab, N)]);
    check(b"\x1b[Z", &[k(KeyCode::BackTab, N)]);
    check(b"\x1b[1;2Z", &[k(KeyCode::BackTab, N)]);
    check(b"\x1b[1;6Z", &[k(KeyCode::BackTab, C)]);
}

#[test]
fn ctrl_letters() {
    for b in 1u8..=26 {
        if matches!(b, 0x08 | 0x09 | 0x0a | 0x0d) {
            continue;
        }
        let c = char::from(b'a' + b - 1);
        check(&[b], &[k(KeyCode::Char(c), C)]);
    }
    check(&[0x03], &[k(KeyCode::Char('c'), C)]);
    check(&[0x1a], &[k(KeyCode::Char('z'), C)]);
}

#[test]
fn ctrl_punctuation() {
    check(
        &[0x1c, 0x1d, 0x1e, 0x1f],
        &[
            k(KeyCode::Char('\\'), C),
            k(KeyCode::Char(']'), C),
            k(KeyCode::Char('^'), C),
            k(KeyCode::Char('_'), C),
        ],
    );
}

#[test]
fn ctrl_space_is_nul() {
    check(&[0x00], &[k(KeyCode::Char(' '), C)]);
}

#[test]
fn arrows_csi_and_ss3() {
    let arrows = [
        k(KeyCode::Up, N),
        k(KeyCode::Down, N),
        k(KeyCode::Right, N),
        k(KeyCode::Left, N),
    ];
    check(b"\x1b[A\x1b[B\x1b[C\x1b[D", &arrows);
    check(b"\x1bOA\x1bOB\x1bOC\x1bOD", &arrows);
}

#[test]
fn home_end_all_variants() {
    let he = [k(KeyCode::Home, N), k(KeyCode::End, N)];
    check(b"\x1b[H\x1b[F", &he); // xterm, Windows Terminal
    check(b"\x1bOH\x1bOF", &he); // xterm application mode
    check(b"\x1b[1~\x1b[4~", &he); // PuTTY, linux console
    check(b"\x1b[7~\x1b[8~", &he); // rxvt
}

#[test]
fn insert_delete_paging() {
    check(
        b"\x1b[2~\x1b[3~\x1b[5~\x1b[6~",
        &[
            k(KeyCode::Insert, N),
            k(KeyCode::Delete, N),
            k(KeyCode::PageUp, N),
            k(KeyCode::PageDown, N),
        ],
    );
}

fn fkeys(range: std::ops::RangeInclusive<u8>) -> Vec<Event> {
    range.map(|n| k(KeyCode::F(n), N)).collect()
}

#[test]
fn function_keys_xterm() {
    check(b"\x1bOP\x1bOQ\x1bOR\x1bOS", &fkeys(1..=4));
    check(
        b"\x1b[15~\x1b[17~\x1b[18~\x1b[19~\x1b[20~\x1b[21~\x1b[23~\x1b[24~",
        &fkeys(5..=12),
    );
}

#[test]
fn function_keys_putty_linux_rxvt() {
    check(b"\x1b[[A\x1b[[B\x1b[[C\x1b[[D\x1b[[E", &fkeys(1..=5));
    check(b"\x1b[11~\x1b[12~\x1b[13~\x1b[14~", &fkeys(1..=4));
    // rxvt Shift-F3.. arrive as F13..
    check(
        b"\x1b[25~\x1b[34~",
        &[k(KeyCode::F(13), N), k(KeyCode::F(20), N)],
    );
}

#[test]
fn function_keys_with_modifiers() {
    check(b"\x1b[1;2P", &[k(KeyCode::F(1), S)]);
    check(b"\x1bO5Q", &[k(KeyCode::F(2), C)]);
    check(b"\x1b[15;5~", &[k(KeyCode::F(5), C)]);
    check(b"\x1b[24;3~", &[k(KeyCode::F(12), A)]);
}

#[test]
fn xterm_modifier_params() {
    check(b"\x1b[1;5C", &[k(KeyCode::Right, C)]);
    check(b"\x1b[1;2A", &[k(KeyCode::Up, S)]);
    check(b"\x1b[1;3D", &[k(KeyCode::Left, A)]);
    check(b"\x1b[1;8B", &[k(KeyCode::Down, S | A | C)]);
    check(b"\x1b[1;9B", &[k(KeyCode::Down, A)]); // meta counts as Alt
    check(b"\x1b[1;5H", &[k(KeyCode::Home, C)]);
    check(b"\x1b[3;5~", &[k(KeyCode::Delete, C)]);
    check(b"\x1b[5;2~", &[k(KeyCode::PageUp, S)]);
    check(b"\x1b[1;1C", &[k(KeyCode::Right, N)]);
    check(b"\x1b[1;5:1C", &[k(KeyCode::Right, C)]); // kitty sub-param
}

#[test]
fn rxvt_modifier_forms() {
    check(b"\x1b[a", &[k(KeyCode::Up, S)]);
    check(b"\x1b[d", &[k(KeyCode::Left, S)]);
    check(b"\x1bOc", &[k(KeyCode::Right, C)]);
    check(b"\x1b[7^", &[k(KeyCode::Home, C)]);
    check(b"\x1b[7$", &[k(KeyCode::Home, S)]);
    check(b"\x1b[8@", &[k(KeyCode::End, C | S)]);
    check(b"\x1b[11^", &[k(KeyCode::F(1), C)]);
    // Meta-sends-escape: ESC before a whole sequence is Alt.
    check(b"\x1b\x1b[A", &[k(KeyCode::Up, A)]);
    check(b"\x1b\x1bOD", &[k(KeyCode::Left, A)]);
}

#[test]
fn application_keypad() {
    check(
        b"\x1bOM\x1bOp\x1bOy\x1bOk",
        &[k(KeyCode::Enter, N), ch('0'), ch('9'), ch('+')],
    );
}

#[test]
fn alt_char() {
    check(b"\x1bx", &[k(KeyCode::Char('x'), A)]);
    check(b"\x1bX", &[k(KeyCode::Char('X'), A)]);
    check("\x1bé".as_bytes(), &[k(KeyCode::Char('é'), A)]);
    check(b"\x1b\r", &[k(KeyCode::Enter, A)]);
    check(b"\x1b\x7f", &[k(KeyCode::Backspace, A)]);
    check(b"\x1b\x03", &[k(KeyCode::Char('c'), A | C)]);
    check(b"\x1b\t", &[k(KeyCode::Tab, A)]);
}

#[test]
fn lone_esc_only_after_timeout() {
    let mut p = InputParser::new();
    let mut out = Vec::new();
    p.feed(b"\x1b", &mut out);
    assert!(out.is_empty(), "Esc must wait for the timeout");
    assert!(p.pending_escape());
    p.flush_timeout(&mut out);
    assert_eq!(out, [k(KeyCode::Esc, N)]);
    assert!(!p.pending_escape());
    // Flushing again, or with nothing pending, emits nothing.
    p.flush_timeout(&mut out);
    assert_eq!(out.len(), 1);
    p.feed(b"q", &mut out);
    assert_eq!(out, [k(KeyCode::Esc, N), ch('q')]);
}

#[test]
fn esc_then_char_without_timeout_is_alt() {
    let out = feed_chunks(&[b"\x1b", b"j"], false);
    assert_eq!(out, [k(KeyCode::Char('j'), A)]);
}

#[test]
fn double_esc() {
    let esc = || k(KeyCode::Esc, N);
    check(b"\x1b\x1b", &[esc(), esc()]);
    check(b"\x1b\x1bx", &[esc(), k(KeyCode::Char('x'), A)]);
    check(b"\x1b\x1b\x1b", &[esc(), esc(), esc()]);
}

#[test]
fn alt_bracket_and_alt_o_resolved_by_timeout() {
    check(b"\x1b[", &[k(KeyCode::Char('['), A)]);
    check(b"\x1bO", &[k(KeyCode::Char('O'), A)]);
    check(
        b"\x1b\x1b[",
        &[k(KeyCode::Esc, N), k(KeyCode::Char('['), A)],
    );
    // Before the timeout it is still undecided.
    let mut p = InputParser::new();
    let mut out = Vec::new();
    p.feed(b"\x1b[", &mut out);
    assert!(out.is_empty() && p.pending_escape());
}

#[test]
fn esc_before_partial_utf8_flushes_esc_keeps_char() {
    let mut p = InputParser::new();
    let mut out = Vec::new();
    p.feed(&[ESC, 0xc3], &mut out);
    assert!(p.pending_escape());
    p.flush_timeout(&mut out);
    assert_eq!(out, [k(KeyCode::Esc, N)]);
    p.feed(&[0xa9], &mut out);
    assert_eq!(out, [k(KeyCode::Esc, N), ch('é')]);
}

#[test]
fn truncated_sequence_dropped_on_timeout() {
    let mut p = InputParser::new();
    let mut out = Vec::new();
    p.feed(b"\x1b[1;", &mut out);
    p.flush_timeout(&mut out);
    assert!(out.is_empty());
    assert!(!p.pending_escape());
    p.feed(b"a", &mut out);
    assert_eq!(out, [ch('a')]);
}

#[test]
fn focus_events_ignored() {
    check(b"a\x1b[Ib\x1b[Oc", &[ch('a'), ch('b'), ch('c')]);
}

#[test]
fn unknown_and_malformed_sequences_dropped() {
    check(b"\x1b[99X1", &[ch('1')]); // unknown final
    check(b"\x1b[?1;2c2", &[ch('2')]); // device attributes reply
    check(b"\x1b[<0;10;5M3", &[ch('3')]); // SGR mouse
    check(b"\x1b[1 q4", &[ch('4')]); // intermediate byte
    check(b"\x1b[99~5", &[ch('5')]); // unknown tilde key
    check(b"\x1b[[Z6", &[ch('6')]); // bad linux F-key
    check(b"\x1bOz7", &[ch('7')]); // unknown SS3
    check(b"\x1b[201~8", &[ch('8')]); // stray paste end
    check(b"\x1b[E9", &[ch('9')]); // keypad 5 / Begin
}

#[test]
fn control_byte_inside_sequence_is_not_lost() {
    check(b"\x1b[1\r", &[k(KeyCode::Enter, N)]);
    check(b"\x1b[1\x1b[A", &[k(KeyCode::Up, N)]);
    check(b"\x1bO\x7f", &[k(KeyCode::Backspace, N)]);
    check(b"\x1b[[\x03", &[k(KeyCode::Char('c'), C)]);
}

fn paste(s: &str) -> Event {
    Event::Paste(s.to_owned())
}

#[test]
fn bracketed_paste_basic() {
    check(
        b"a\x1b[200~hello world\x1b[201~b",
        &[ch('a'), paste("hello world"), ch('b')],
    );
}

#[test]
fn paste_normalizes_newlines() {
    check(
        b"\x1b[200~l1\r\nl2\rl3\nl4\x1b[201~",
        &[paste("l1\nl2\nl3\nl4")],
    );
    // No Enter leaks out of the paste, and CR state does not carry over.
    check(
        b"\x1b[200~x\r\x1b[201~\n",
        &[paste("x\n"), k(KeyCode::Enter, N)],
    );
}

#[test]
fn paste_keeps_escape_like_content() {
    check(
        b"\x1b[200~\x1b[A\x1b[201x\x1b[20\x1b\x1b[201~",
        &[paste("\x1b[A\x1b[201x\x1b[20\x1b")],
    );
    check(b"\x1b[200~\x03\t\x7f\x1b[201~", &[paste("\x03\t\x7f")]);
    // The ESC that breaks a partial end marker may start the real one.
    check(b"\x1b[200~\x1b[20\x1b[201~", &[paste("\x1b[20")]);
    check(b"\x1b[200~\x1b\x1b[201~", &[paste("\x1b")]);
}

#[test]
fn paste_utf8_and_invalid_bytes() {
    let mut bytes = b"\x1b[200~".to_vec();
    bytes.extend_from_slice("né€".as_bytes());
    bytes.push(0xff);
    bytes.extend_from_slice(b"\x1b[201~");
    check(&bytes, &[paste("né€\u{fffd}")]);
}

#[test]
fn empty_paste_emits_nothing() {
    check(b"\x1b[200~\x1b[201~z", &[ch('z')]);
}

#[test]
fn paste_waits_for_end_marker() {
    let mut p = InputParser::new();
    let mut out = Vec::new();
    p.feed(b"\x1b[200~abc\x1b", &mut out);
    assert!(out.is_empty());
    assert!(!p.pending_escape(), "no Esc timeout inside a paste");
    p.flush_timeout(&mut out);
    assert!(out.is_empty());
    p.feed(b"[201~", &mut out);
    assert_eq!(out, [paste("abc")]);
}

#[test]
fn paste_is_capped() {
    let mut p = InputParser::new();
    let mut out = Vec::new();
    p.feed(b"\x1b[200~", &mut out);
    let chunk = vec![b'x'; 4096];
    for _ in 0..40 {
        p.feed(&chunk, &mut out);
        assert!(p.buffered_len() <= PASTE_CAP);
    }
    p.feed(b"\x1b[201~q", &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0], Event::Paste("x".repeat(PASTE_CAP)));
    assert_eq!(out[1], ch('q'));
}

#[test]
fn paste_cap_does_not_split_a_char() {
    let mut bytes = b"\x1b[200~".to_vec();
    bytes.extend_from_slice("€".repeat(30_000).as_bytes());
    bytes.extend_from_slice(b"\x1b[201~");
    let out = feed_chunks(&[&bytes], false);
    // 65536 / 3 = 21845 whole chars, the cut one is dropped, no U+FFFD.
    assert_eq!(out, [paste(&"€".repeat(PASTE_CAP / 3))]);
}

#[test]
fn overlong_sequence_abandoned() {
    let mut p = InputParser::new();
    let mut out = Vec::new();
    p.feed(b"\x1b[", &mut out);
    for _ in 0..10_000 {
        p.feed(b"1;", &mut out);
        assert!(p.buffered_len() <= MAX_SEQ);
    }
    // The garbage's final byte is swallowed, not typed.
    p.feed(b"Ax", &mut out);
    assert_eq!(out, [ch('x')]);
}

#[test]
fn overlong_sequence_then_real_key() {
    let mut bytes = b"\x1b[".to_vec();
    bytes.extend_from_slice(&[b'9'; 500]);
    bytes.extend_from_slice(b"\x1b[B");
    check(&bytes, &[k(KeyCode::Down, N)]);
}

#[test]
fn mods_api() {
    let m = Mods::CTRL | Mods::SHIFT;
    assert!(m.contains(Mods::CTRL));
    assert!(m.contains(Mods::SHIFT));
    assert!(!m.contains(Mods::ALT));
    assert!(m.contains(Mods::NONE));
    assert!(Mods::NONE.is_empty());
    assert_eq!(m.difference(Mods::CTRL), Mods::SHIFT);
    assert_eq!(Mods::default(), Mods::NONE);
    assert_eq!(KeyEvent::from(KeyCode::Tab), KeyEvent::new(KeyCode::Tab, N));
}

/// Deterministic LCG so the "fuzz" tests are reproducible without deps.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        u32::try_from(self.0 >> 33).unwrap_or_default()
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next()).unwrap_or_default() % n
    }

    /// Bytes biased toward sequence syntax so deep states get reached.
    fn byte(&mut self) -> u8 {
        const HOT: &[u8] = b"\x1b\x1b\x1b[[O~;012015\r\n\x7fAZaP$^@<?\xc3\xe2\x82\xf0\x9f";
        if self.below(3) == 0 {
            u8::try_from(self.next() & 0xff).unwrap_or_default()
        } else {
            HOT[self.below(HOT.len())]
        }
    }
}

#[test]
fn fuzz_random_bytes_never_panic_and_stay_bounded() {
    for seed in 0..20u64 {
        let mut rng = Lcg(seed);
        let mut p = InputParser::new();
        let mut out = Vec::new();
        for _ in 0..2_000 {
            let len = rng.below(40);
            let chunk: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
            p.feed(&chunk, &mut out);
            assert!(p.pending.len() <= MAX_SEQ, "seed {seed}");
            assert!(p.buffered_len() <= MAX_SEQ + PASTE_CAP, "seed {seed}");
            if rng.below(4) == 0 && p.pending_escape() {
                p.flush_timeout(&mut out);
            }
            out.clear();
        }
        // Whatever state it is in, the parser recovers: end any paste,
        // settle the Esc, then a plain key comes through.
        p.feed(b"\x1b[201~", &mut out);
        p.flush_timeout(&mut out);
        p.feed(b"q", &mut out);
        assert_eq!(out.last(), Some(&ch('q')), "seed {seed}");
    }
}

#[test]
fn fuzz_chunking_does_not_change_events() {
    for seed in 100..130u64 {
        let mut rng = Lcg(seed);
        let bytes: Vec<u8> = (0..3_000).map(|_| rng.byte()).collect();
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        let mut chunks = Vec::new();
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let n = (rng.below(16) + 1).min(rest.len());
            let (a, b) = rest.split_at(n);
            chunks.push(a);
            rest = b;
        }
        let whole = feed_chunks(&[&bytes], true);
        assert_eq!(feed_chunks(&singles, true), whole, "seed {seed}");
        assert_eq!(feed_chunks(&chunks, true), whole, "seed {seed}");
    }
}

/// Issue 16 item 11: `ESC[200~hello`, then a flood without the end marker. The session
/// flushes the paste once input paused for `PASTE_IDLE`; what follows is keys again.
#[test]
fn an_unfinished_paste_ends_on_flush_and_keys_are_keys_again() {
    let mut p = InputParser::new();
    let mut out = Vec::new();
    p.feed(b"\x1b[200~hello", &mut out);
    assert!(out.is_empty());
    assert!(p.pending_paste());
    assert!(!p.pending_escape(), "the Esc timer is not the paste's");
    // 200 KB more, still no end marker: held (capped), nothing emitted.
    p.feed(&vec![b'x'; 200 * 1024], &mut out);
    p.feed(b"\x1b[20", &mut out);
    assert!(out.is_empty() && p.pending_paste());
    p.flush_paste(&mut out);
    assert!(!p.pending_paste());
    match out.as_slice() {
        [Event::Paste(text)] => {
            assert!(text.starts_with("helloxxx"));
            assert_eq!(text.len(), PASTE_CAP, "capped, the partial marker dropped");
        }
        other => panic!("{other:?}"),
    }
    out.clear();
    p.feed(b"\x03q", &mut out);
    assert_eq!(
        out,
        vec![
            Event::Key(KeyEvent::new(KeyCode::Char('c'), Mods::CTRL)),
            Event::Key(KeyEvent::new(KeyCode::Char('q'), Mods::NONE)),
        ]
    );
    // Flushing with no paste open does nothing; a finished paste is unaffected.
    out.clear();
    p.flush_paste(&mut out);
    p.feed(b"\x1b[200~ok\x1b[201~", &mut out);
    assert_eq!(out, vec![Event::Paste("ok".into())]);
    assert!(!p.pending_paste());
}
