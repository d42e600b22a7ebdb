//! The theme files: every built-in theme parses and defines every key; bad files are refused.

use super::*;

#[test]
fn every_builtin_theme_defines_every_key() {
    for (name, text) in BUILTIN {
        let theme = Theme::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(theme.name, name);
        // A file without a key must fail: remove each key in turn.
        for key in KEYS {
            let without: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with(&format!("{key} ")))
                .collect::<Vec<_>>()
                .join("\n");
            assert!(
                Theme::parse(&without).is_err(),
                "{name} without {key} parsed"
            );
        }
    }
}

#[test]
fn mono_has_no_color() {
    let t = Theme::builtin("mono").unwrap();
    for s in [t.header, t.title, t.selected, t.error, t.overdue, t.matched] {
        assert_eq!(s.fg, None);
        assert_eq!(s.bg, None);
    }
    assert_eq!(Theme::for_depth(ColorDepth::Mono), t);
    assert_eq!(Theme::for_depth(ColorDepth::Ansi256).name, "default");
}

#[test]
fn bad_files_are_rejected_with_the_reason() {
    let e =
        Theme::parse("name = \"x\"\n[styles]\nheader = { fg = \"chartreuse-ish\" }").unwrap_err();
    assert!(e.contains("unknown color") || e.contains("missing"), "{e}");
    let e = Theme::parse("name = \"x\"\n[styles]\nbogus = {}").unwrap_err();
    assert!(e.contains("unknown style key `bogus`"), "{e}");
}
