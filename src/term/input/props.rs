//! The input parser's memory bound as a property: whatever bytes arrive, in whatever
//! packets, with the Esc timer firing anywhere, the parser holds at most one sequence
//! ([`MAX_SEQ`]) and one capped paste ([`PASTE_CAP`]). Its internals are private, so this
//! lives beside it; the behavioural properties are in tests/it/props/input.rs.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::Config;

use super::{InputParser, MAX_SEQ, PASTE_CAP};

/// A chunk: a run of hot bytes, a long parameter list, or a slab of paste content.
fn chunk() -> impl Strategy<Value = Vec<u8>> {
    const HOT: &[u8] = b"\x1b\x1b[[O~;1259$^@\r\n\xc3\xe2\x82\xf0\x9f\xff";
    prop_oneof![
        4 => vec(prop_oneof![any::<u8>(), proptest::sample::select(HOT)], 0..32),
        1 => Just(b"\x1b[200~".to_vec()),
        1 => Just(b"\x1b[201~".to_vec()),
        1 => (1usize..200).prop_map(|n| b"1;".repeat(n)),
        1 => (1usize..24).prop_map(|n| vec![b'x'; n * 4096]),
    ]
}

/// Half of proptest's cases (`PROPTEST_CASES` honoured; each case feeds up to a few MB in a
/// debug build). Failures are shrunk and printed, not persisted (that would write into src/).
fn config() -> Config {
    let base = Config::default();
    Config {
        cases: (base.cases / 2).max(1),
        failure_persistence: None,
        ..base
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn input_parser_memory_stays_bounded(
        chunks in vec((chunk(), any::<bool>()), 0..40),
    ) {
        let mut p = InputParser::new();
        let mut out = Vec::new();
        for (bytes, timeout) in &chunks {
            p.feed(bytes, &mut out);
            if *timeout {
                p.flush_timeout(&mut out);
            }
            prop_assert!(p.pending.len() <= MAX_SEQ, "pending {}", p.pending.len());
            prop_assert!(p.buffered_len() <= MAX_SEQ + PASTE_CAP, "held {}", p.buffered_len());
            out.clear();
        }
    }
}
