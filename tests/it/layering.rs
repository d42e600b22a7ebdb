//! The dependency direction between top-level modules (issue 15), as a test in the habit of
//! ArchUnit: read every `src/**/*.rs`, collect each `crate::<module>` path (in `use` and in
//! expressions, `use crate::{a, b}` groups, `crate::some_macro!` resolved to the module that
//! defines the macro) and fail on an edge that points up [`LAYERS`].
//!
//! Upward edges that exist today are listed, file by file, in [`KNOWN_UPWARD`]; the test also
//! fails when one of them is gone, so the list only shrinks as the refactor proceeds. A new
//! top-level module must be placed in [`LAYERS`] before the test passes.
//!
//! A line scan, not a parser (no `syn`): comments, string and char literals are blanked
//! first, so doc links and messages do not count. Not seen: `super::` chains that climb out of
//! a top-level module (none today; write `crate::` instead).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers, lowest first. A module may use modules of its own layer (peers, but never both
/// ways) and of any layer below; using a higher layer is an upward edge.
const LAYERS: &[&[&str]] = &[
    // Bench and example helpers (feature `bench-data`): percentiles, no crate imports.
    &["benchkit"],
    // Foundations: newtypes and rules, error enums, settings and limits. No IO.
    &["domain", "error", "config"],
    // Pure, table-driven tracking-number recognition.
    &["label"],
    // Leaf services the database layer needs: secret sealing, tracing setup and PII masking.
    &["secrets", "logging"],
    // PostgreSQL: embedded cluster, tenant transactions, queries (and the outbox rows a
    // committing transaction writes).
    &["db"],
    // Services over the database: fuzzy search, notification delivery, reports, login and
    // credentials, admin CLI actions (import plan, demo seed), live fan-out, audit anchors.
    &[
        "search",
        "notify",
        "reports",
        "auth",
        "admin",
        "live",
        "audit_anchor",
        "backup",
    ],
    // Operations with their role checks, shared by exec commands and the interface; `term`
    // (input parser, wire backend, colour depth, knowing nothing of SSH) sits under app and ui
    // here too, and so do the server's counters (`metrics`, which reads the database
    // supervisor's health).
    &["ops", "ops_admin", "term", "metrics"],
    // The interface's pure core: model, messages, update, keymap.
    &["app"],
    // What hangs off the core: views draw a `Model`, the effect runner answers with `Msg`s.
    &["ui", "effects"],
    // Composition: the SSH server and the command line wire everything together.
    &["ssh", "cli"],
];

/// Upward edges that exist today: (file, module it reaches up to). Remove an entry when its
/// edge is gone (the test says which); never add one.
const KNOWN_UPWARD: &[(&str, &str)] = &[];

#[test]
fn dependencies_point_down_the_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|p| {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read_to_string(p).unwrap())
        })
        .collect();

    let rank: BTreeMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, layer)| layer.iter().map(move |m| (*m, i)))
        .collect();
    let mut problems = Vec::new();

    // Exported macros are named `crate::name!`: resolve them to their module.
    let mut macros = BTreeMap::new();
    for (rel, text) in &sources {
        if let Some(module) = top_module(rel) {
            for name in macro_names(&blank_comments_and_literals(text)) {
                macros.insert(name, module.to_string());
            }
        }
    }

    // (from module, to module) -> first file and line; (file, to module) seen upward.
    let mut module_edges: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut upward_seen = BTreeSet::new();
    for (rel, text) in &sources {
        let Some(from) = top_module(rel) else {
            continue;
        };
        if !rank.contains_key(from) {
            problems.push(format!("{rel}: module `{from}` is not placed in LAYERS"));
            continue;
        }
        for (line, target) in crate_paths(&blank_comments_and_literals(text)) {
            let to = macros.get(&target).cloned().unwrap_or(target);
            if to == from {
                continue;
            }
            let Some(&to_rank) = rank.get(to.as_str()) else {
                problems.push(format!(
                    "{rel}:{line}: `crate::{to}` is not placed in LAYERS"
                ));
                continue;
            };
            let at = format!("{rel}:{line}");
            module_edges
                .entry((from.to_string(), to.clone()))
                .or_insert_with(|| at.clone());
            if to_rank > rank[from] {
                if KNOWN_UPWARD.contains(&(rel.as_str(), to.as_str())) {
                    upward_seen.insert((rel.clone(), to));
                } else {
                    problems.push(format!("{at}: `{from}` uses `{to}`, a higher layer"));
                }
            }
        }
    }

    for ((from, to), at) in &module_edges {
        if from < to
            && rank[from.as_str()] == rank[to.as_str()]
            && let Some(back) = module_edges.get(&(to.clone(), from.clone()))
        {
            problems.push(format!(
                "peers `{from}` and `{to}` use each other ({at}, {back}): pick a direction"
            ));
        }
    }

    for (file, to) in KNOWN_UPWARD {
        if !upward_seen.contains(&(file.to_string(), to.to_string())) {
            problems.push(format!(
                "{file} no longer reaches up to `{to}`: remove it from KNOWN_UPWARD"
            ));
        }
    }

    assert!(
        problems.is_empty(),
        "layering (tests/it/layering.rs):\n  {}",
        problems.join("\n  ")
    );
}

/// The scanner itself: literals and comments do not count; groups and macros do.
#[test]
fn scanner_sees_paths_not_literals() {
    let text = blank_comments_and_literals(
        "use crate::db::Db; // crate::ui\n\
         /* crate::ssh /* nested */ crate::cli */ let s = \"crate::app\";\n\
         let r = r#\"crate::ops\"#; let c = '\"'; let q = b'x'; fn f<'a>() {}\n\
         use crate::{\n    domain::Role,\n    label::{self, Carrier},\n};\n\
         crate::outbox_wanted!(); $crate::search::x(); pub(crate) fn g() {}\n\
         #[macro_export]\nmacro_rules! outbox_wanted { () => {} }\n",
    );
    let paths: Vec<(usize, String)> = crate_paths(&text);
    let expected = [
        (1, "db"),
        (4, "domain"),
        (4, "label"),
        (8, "outbox_wanted"),
        (8, "search"),
    ];
    let expected: Vec<(usize, String)> =
        expected.iter().map(|(l, m)| (*l, m.to_string())).collect();
    assert_eq!(paths, expected);
    assert_eq!(macro_names(&text), ["outbox_wanted"]);
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/db/packages.rs` -> `db`, `src/ops.rs` -> `ops`; the crate roots have none.
fn top_module(rel: &str) -> Option<&str> {
    let rest = rel.strip_prefix("src/")?;
    let first = rest.split('/').next()?;
    let module = first.strip_suffix(".rs").unwrap_or(first);
    (module != "lib" && module != "main").then_some(module)
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The source with comments and string/char literals replaced by spaces (newlines kept, so
/// line numbers still match).
fn blank_comments_and_literals(text: &str) -> Vec<u8> {
    let mut s = text.as_bytes().to_vec();
    let n = s.len();
    let blank = |s: &mut Vec<u8>, from: usize, to: usize| {
        for b in &mut s[from..to.min(n)] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    let mut i = 0;
    while i < n {
        let prev_ident = i > 0 && is_ident(s[i - 1]);
        if s[i..].starts_with(b"//") {
            let end = s[i..].iter().position(|&b| b == b'\n').map_or(n, |p| i + p);
            blank(&mut s, i, end);
            i = end;
        } else if s[i..].starts_with(b"/*") {
            let (mut depth, mut j) = (0, i);
            while j < n {
                if s[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if s[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut s, i, j);
            i = j;
        } else if s[i] == b'r'
            && (!prev_ident || (i >= 2 && s[i - 1] == b'b' && !is_ident(s[i - 2])))
        {
            // r"…", r#"…"#, br"…" (but not r#ident).
            let hashes = s[i + 1..].iter().take_while(|&&b| b == b'#').count();
            if s.get(i + 1 + hashes) != Some(&b'"') {
                i += 1;
                continue;
            }
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let body = i + 2 + hashes;
            let end = s[body..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(n, |p| body + p + close.len());
            blank(&mut s, i, end);
            i = end;
        } else if s[i] == b'"' {
            let mut j = i + 1;
            while j < n && s[j] != b'"' {
                j += if s[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut s, i, j + 1);
            i = j + 1;
        } else if s[i] == b'\'' {
            // A char literal ('x', '\n', '\'', '\u{..}', one UTF-8 char); otherwise a lifetime.
            let end = if s.get(i + 1) == Some(&b'\\') {
                s[i + 3..]
                    .iter()
                    .position(|&b| b == b'\'')
                    .map(|p| i + 3 + p + 1)
            } else {
                let len = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                (s.get(i + 1 + len) == Some(&b'\'')).then_some(i + 2 + len)
            };
            match end {
                Some(end) => {
                    blank(&mut s, i, end);
                    i = end;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    s
}

/// Every `crate::<name>` (also `$crate::`, and each item of a `crate::{…}` group) with its
/// 1-based line.
fn crate_paths(s: &[u8]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(p) = s[i..].windows(7).position(|w| w == b"crate::") {
        let at = i + p;
        i = at + 7;
        if at > 0 && is_ident(s[at - 1]) {
            continue;
        }
        let line = 1 + s[..at].iter().filter(|&&b| b == b'\n').count();
        let rest = skip_space(s, i);
        if s.get(rest) == Some(&b'{') {
            // Top-level items of the group: the first name after `{` or a depth-1 comma.
            let mut depth = 0;
            let mut j = rest;
            let mut expect_name = false;
            while j < s.len() {
                match s[j] {
                    b'{' => {
                        depth += 1;
                        expect_name = depth == 1;
                    }
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    b',' if depth == 1 => expect_name = true,
                    b if expect_name && is_ident(b) => {
                        let name = ident_at(s, j);
                        if name != "self" {
                            found.push((line, name.clone()));
                        }
                        j += name.len();
                        expect_name = false;
                        continue;
                    }
                    _ => {}
                }
                j += 1;
            }
        } else {
            let name = ident_at(s, rest);
            if !name.is_empty() {
                found.push((line, name));
            }
        }
    }
    found
}

/// Names of the macros defined in a file (`macro_rules! name`).
fn macro_names(s: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut i = 0;
    while let Some(p) = s[i..].windows(12).position(|w| w == b"macro_rules!") {
        i += p + 12;
        names.push(ident_at(s, skip_space(s, i)));
    }
    names
}

fn skip_space(s: &[u8], mut i: usize) -> usize {
    while s.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

fn ident_at(s: &[u8], i: usize) -> String {
    let len = s[i.min(s.len())..]
        .iter()
        .take_while(|&&b| is_ident(b))
        .count();
    String::from_utf8_lossy(&s[i..i + len]).into_owned()
}
