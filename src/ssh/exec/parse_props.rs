//! Properties of the exec command line's parser (`ssh host COMMAND`, a logged-in user's
//! bytes): any line parses or is refused with one escaped line, never a panic; `reads_stdin`
//! agrees with it; and arguments quoted by shell-words arrive exactly as quoted, whatever
//! they hold. (The other parsers' properties are in tests/it/props; this one is private.)

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::Config;

use super::{Cmd, PackagesCmd, RecipientsCmd, Top, parse, reads_stdin};
use crate::domain::text;

/// Proptest's defaults (`PROPTEST_CASES` honoured). A failure is shrunk and printed, and
/// not persisted: unit tests would write it into src/.
fn config() -> Config {
    Config {
        failure_persistence: None,
        ..Config::default()
    }
}

/// Lines a user may type: the commands' own words, flags, quotes, escapes, any char.
fn line() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        3 => proptest::sample::select(vec![
            "recipients", "search", "import", "packages", "list", "intake", "pickup", "reports",
            "daily", "whoami", "help", "--limit", "--json", "--reveal", "--dry-run", "--status",
            "--tracking", "--recipient", "--location", "--code", "--id", "--name", "--from",
            "--csv", "--", "-", "--limit=", "--help", "-h", "'", "\"", "\\", "=", "1", "-1",
            "99999999999999999999",
        ])
        .prop_map(str::to_string),
        2 => "[a-z0-9'\"\\\\ =-]{0,6}",
        1 => any::<String>(),
    ];
    prop_oneof![
        vec(word.clone(), 0..8).prop_map(|w| w.join(" ")),
        // The one command that reads stdin, with whatever follows.
        vec(word, 0..3).prop_map(|w| format!("recipients import {}", w.join(" "))),
        any::<String>(),
    ]
}

/// Any text without NUL (a line holding one is refused as a whole).
fn no_nul() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| s.replace('\0', ""))
}

fn split_args(line: &str) -> Vec<String> {
    shell_words::split(line).expect("quoted by shell-words")
}

fn parsed(args: &[String]) -> Top {
    match parse(&shell_words::join(args)) {
        Ok(Some(Cmd { cmd })) => cmd,
        Ok(None) => panic!("{args:?}: empty"),
        Err(out) => panic!("{args:?}: {}", out.stderr),
    }
}

proptest! {
    #![proptest_config(config())]

    /// Any line: no panic. A refusal is exit 1 with one line on stderr that holds no
    /// control character; a command that reads stdin is exactly `recipients import`.
    #[test]
    fn exec_command_line_parse_is_total(line in line()) {
        match parse(&line) {
            Ok(cmd) => {
                let import = matches!(
                    cmd,
                    Some(Cmd { cmd: Top::Recipients(RecipientsCmd::Import { .. }) })
                );
                prop_assert_eq!(reads_stdin(&line), import);
            }
            Err(out) => {
                prop_assert_eq!(out.status, 1);
                prop_assert!(out.stdout.is_empty());
                let msg = out.stderr.strip_suffix('\n').unwrap_or(&out.stderr);
                prop_assert!(!msg.is_empty() && !msg.contains('\n'), "{:?}", out.stderr);
                prop_assert!(
                    msg.chars().all(|c| c == '\t' || text::forbidden(c).is_none()),
                    "{:?}", msg
                );
                prop_assert!(!reads_stdin(&line));
            }
        }
    }

    /// shell-words quoting round-trips any argument list.
    #[test]
    fn shell_words_quoting_round_trips(args in vec(any::<String>(), 0..6)) {
        prop_assert_eq!(split_args(&shell_words::join(&args)), args);
    }

    /// Quoted values reach the command unchanged: a search's words after `--`, an intake's
    /// tracking text and location, a pickup's code and receiver name, whatever they hold
    /// (leading dashes, quotes, spaces, line breaks, any Unicode but NUL, which refuses the
    /// whole line) and any positive id.
    #[test]
    fn quoted_exec_arguments_arrive_unchanged(
        words in vec(no_nul(), 0..5),
        tracking in no_nul(),
        location in no_nul(),
        recipient in 1..=i64::MAX,
        code in no_nul(),
        name in no_nul(),
    ) {
        let mut search = vec!["recipients".to_string(), "search".into(), "--".into()];
        search.extend(words.iter().cloned());
        match parsed(&search) {
            Top::Recipients(RecipientsCmd::Search { query, .. }) => prop_assert_eq!(query, words),
            other => prop_assert!(false, "{:?}", other),
        }

        let intake = [
            "packages".to_string(),
            "intake".into(),
            format!("--tracking={tracking}"),
            format!("--recipient={recipient}"),
            format!("--location={location}"),
        ];
        match parsed(&intake) {
            Top::Packages(PackagesCmd::Intake(a)) => {
                prop_assert_eq!(a.tracking, tracking);
                prop_assert_eq!(a.location, location);
                prop_assert_eq!(a.recipient, recipient);
            }
            other => prop_assert!(false, "{:?}", other),
        }

        let pickup = [
            "packages".to_string(),
            "pickup".into(),
            format!("--code={code}"),
            format!("--name={name}"),
        ];
        match parsed(&pickup) {
            Top::Packages(PackagesCmd::Pickup { code: c, name: n, id, .. }) => {
                prop_assert_eq!(c, Some(code));
                prop_assert_eq!(n, Some(name));
                prop_assert_eq!(id, None);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }
}

/// Found by `exec_command_line_parse_is_total`: `recipients import` followed by anything the
/// parser refuses made the server wait for the client's EOF and buffer its stdin (up to the
/// import limit) only to refuse the command afterwards.
#[test]
fn exec_import_line_the_parser_refuses_does_not_wait_for_stdin() {
    for line in [
        "recipients import recipients",
        "recipients import --dry-run extra",
        "recipients import --bogus",
        "recipients  import  'a b'",
    ] {
        assert!(parse(line).is_err(), "{line}");
        assert!(!reads_stdin(line), "{line}");
    }
    for line in [
        "recipients import",
        "recipients import --dry-run",
        " recipients 'import' ",
    ] {
        assert!(reads_stdin(line), "{line}");
    }
}
