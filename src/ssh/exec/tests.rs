//! The exec parser's answers to wrong command lines: each names what is wrong.

use super::{HELP, parse};

fn refusal(line: &str) -> String {
    match parse(line) {
        Err(out) => {
            assert_eq!(out.status, 1, "{line}");
            assert_eq!(out.stderr.lines().count(), 1, "{line}: {:?}", out.stderr);
            out.stderr
        }
        Ok(cmd) => panic!("{line}: parsed as {cmd:?}"),
    }
}

#[test]
fn a_missing_argument_is_named() {
    let e = refusal("packages intake --recipient 3");
    assert!(e.contains("--tracking"), "{e}");
    let e = refusal("packages intake --tracking 1Z5R89390357567127");
    assert!(e.contains("--recipient"), "{e}");
}

#[test]
fn negative_and_zero_numbers_must_be_positive() {
    for line in [
        "packages list --limit -1",
        "packages list --limit 0",
        "recipients search ada --limit -5",
        "recipients search ada --limit 0",
        "packages pickup --id -1",
        "packages intake --tracking X --recipient -2",
    ] {
        let e = refusal(line);
        assert!(e.contains("must be positive"), "{line}: {e}");
        assert!(!e.contains("unexpected argument"), "{line}: {e}");
    }
    let e = refusal("packages list --limit lots");
    assert!(e.contains("positive whole number"), "{e}");
}

#[test]
fn limits_over_the_cap_say_the_cap() {
    let e = refusal("packages list --limit 5001");
    assert!(e.contains("at most 5000"), "{e}");
    let e = refusal("recipients search ada --limit 1001");
    assert!(e.contains("at most 1000"), "{e}");
    assert!(parse("packages list --limit 5000").is_ok());
}

#[test]
fn a_nul_byte_refuses_the_line() {
    let e = refusal("whoami\0");
    assert!(e.contains("NUL"), "{e}");
    let e = refusal("packages list --status wait\0ing");
    assert!(e.contains("NUL"), "{e}");
}

#[test]
fn help_documents_the_list_limit_and_unmatched() {
    assert!(HELP.contains("--status S] [--limit N]"), "{HELP}");
    assert!(HELP.contains("default 500"), "{HELP}");
    assert!(HELP.contains("unmatched"), "{HELP}");
}
