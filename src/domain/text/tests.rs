use super::*;

#[test]
fn terminal_escape_is_refused_and_named() {
    let e = check("location", "Shelf \x1b]0;pwned\x07\x1b[2J", Lines::One).unwrap_err();
    assert_eq!(e.field, "location");
    assert_eq!(e.code, 0x1b);
    let msg = e.to_string();
    assert!(
        msg.starts_with("location contains a control character"),
        "{msg}"
    );
    assert!(!msg.contains('\x1b'));
}

#[test]
fn what_is_refused() {
    for bad in [
        "a\rb",
        "a\tb",
        "\x7f",
        "\u{9b}2J",
        "\u{202e}21-A",
        "\u{2066}x",
        "a\u{2028}b",
    ] {
        assert!(check("f", bad, Lines::Many).is_err(), "{bad:?}");
    }
    assert!(check("f", "a\nb", Lines::One).is_err());
    assert!(check("note", "line 1\nline 2", Lines::Many).is_ok());
    for good in [
        "Shelf B-3",
        "Zoë Ångström",
        "棚 3",
        "O'Brien; Jr.",
        "📦",
        "",
    ] {
        assert!(check("f", good, Lines::One).is_ok(), "{good:?}");
    }
}

#[test]
fn escape_shows_controls_and_keeps_the_rest() {
    assert_eq!(
        escape("a\x1b[2Jb\u{9b}c\u{202e}d\ne", &['\n']),
        "a\\u001b[2Jb\\u009bc\\u202ed\ne"
    );
    assert_eq!(escape("x\ny", &[]), "x\\u000ay");
    assert_eq!(escape("plain ünïcode", &[]), "plain ünïcode");
}
