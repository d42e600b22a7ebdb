//! Property tests of every parser that reads untrusted bytes: the terminal input parser, the
//! label parser, the recipients CSV import and the SSH user name. (The exec command line's
//! parser is private; its properties are in src/ssh/exec/parse_props.rs.) Pure code only:
//! no database, no network, so the whole set runs in seconds.
//!
//! Each property runs proptest's default 256 cases (costly ones a fraction of that);
//! `PROPTEST_CASES=N cargo test --test it props::` runs N. A failing case is shrunk and
//! printed; its seed goes to the target dir's tmp dir (never into the source tree), so a
//! re-run on the same machine tries it first. A real finding becomes a named regression test.

use proptest::test_runner::{Config, FileFailurePersistence};

mod import;
mod input;
mod label;
mod ssh_user;

/// Proptest's configuration (`PROPTEST_CASES` honoured) with `1/div` of its cases, at least
/// one, and failures persisted outside the source tree.
pub fn config(div: u32) -> Config {
    let base = Config::default();
    Config {
        cases: (base.cases / div.max(1)).max(1),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_TARGET_TMPDIR"),
            "/proptest-regressions.txt"
        )))),
        ..base
    }
}
