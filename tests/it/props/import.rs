//! The recipients CSV import (`admin::import::parse`, fed by a file or by `ssh … recipients
//! import` stdin): any bytes parse without a panic into a bounded result whose messages are
//! short and free of control characters; rows written by a real CSV writer from valid
//! recipients come back exactly; every row it accepts is already in normal form.

use std::collections::HashSet;

use packtrack::admin::import::{HEADER, MAX_ROW_BYTES, parse, validate_fields};
use packtrack::db::recipients::NewRecipient;
use packtrack::domain::text;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use super::config;

/// Longest message the import may produce about one row or the header.
const MESSAGE_MAX: usize = 300;

fn assert_message(what: &str, msg: &str) {
    assert!(
        msg.chars().count() <= MESSAGE_MAX,
        "{what}: {} chars",
        msg.chars().count()
    );
    assert!(
        msg.chars().all(|c| text::forbidden(c).is_none()),
        "{what}: raw control character in {msg:?}"
    );
}

/// Everything `parse` says is short and printable, and it never accepts or rejects more
/// rows than the limit.
fn check_bounded(data: &[u8], max_rows: usize) {
    match parse(data, max_rows) {
        Err(e) => assert_message("error", &e),
        Ok(p) => {
            assert!(
                p.rows.len() + p.rejected.len() <= max_rows,
                "{} rows + {} rejected, limit {max_rows}",
                p.rows.len(),
                p.rejected.len()
            );
            let lines = 2 + data.iter().filter(|&&b| b == b'\n').count() as u64;
            for r in &p.rejected {
                assert_message("reason", &r.reason);
                assert!((2..=lines).contains(&r.line), "line {}", r.line);
            }
            // Accepted rows are in normal form: validating them again changes nothing.
            for row in &p.rows {
                let again = validate_fields(
                    &row.name,
                    &row.unit,
                    row.email.as_deref().unwrap_or(""),
                    row.phone.as_deref().unwrap_or(""),
                    &row.aliases.join(";"),
                )
                .expect("an accepted row validates again");
                assert_eq!(&again, row);
            }
        }
    }
}

/// CSV-ish bytes: fields with quotes, separators, line breaks, controls, invalid UTF-8.
fn csv_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => "[A-Za-z0-9@.+ ;-]{0,12}".prop_map(String::into_bytes),
        2 => select(vec![&b","[..], b"\n", b"\r\n", b"\"", b"\"\"", b";", b"\xef\xbb\xbf"])
            .prop_map(<[u8]>::to_vec),
        1 => vec(any::<u8>(), 0..6),
        1 => select(vec![&b"\x1b]0;x\x07"[..], b"\x1b[2J", "\u{202e}".as_bytes(), b"\xff\n"])
            .prop_map(<[u8]>::to_vec),
    ];
    vec(piece, 0..60).prop_map(|p| p.concat())
}

/// A recipient's fields in the normal form the import produces.
fn recipient() -> impl Strategy<Value = NewRecipient> {
    let words =
        |re: &'static str| re.prop_map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "));
    let email = "[A-Za-z0-9_%+-]{1,8}(\\.[A-Za-z0-9_%+-]{1,8})?@[a-z0-9]{1,8}(-[a-z0-9]{1,4})?\\.[a-z]{2,6}";
    (
        words("[A-Za-z0-9\u{c0}-\u{ff}\u{4e00}-\u{4e10}.,'\"&()/ \u{a0}-]{1,40}")
            .prop_filter("a name is required", |n| !n.is_empty()),
        words("[A-Z0-9 #-]{0,12}"),
        prop::option::of(email),
        prop::option::of("\\+?[1-9][0-9]{6,14}"),
        vec(words("[A-Za-z0-9\u{e0}-\u{ff} .,'\"-]{0,20}"), 0..4),
    )
        .prop_map(|(name, unit, email, phone, aliases)| {
            let mut seen = HashSet::new();
            let aliases = aliases
                .into_iter()
                .filter(|a| !a.is_empty() && seen.insert(a.to_lowercase()))
                .collect();
            NewRecipient {
                name,
                unit,
                email,
                phone,
                aliases,
            }
        })
}

/// Recipients the import takes together: no two with the same name and unit, no alias twice
/// (both compared without case, as the import does).
fn recipients() -> impl Strategy<Value = Vec<NewRecipient>> {
    vec(recipient(), 0..24).prop_map(|all| {
        let mut keys = HashSet::new();
        let mut aliases = HashSet::new();
        all.into_iter()
            .filter(|r| {
                let mine: Vec<String> = r.aliases.iter().map(|a| a.to_lowercase()).collect();
                let free = !mine.iter().any(|a| aliases.contains(a))
                    && keys.insert((r.name.to_lowercase(), r.unit.to_lowercase()));
                if free {
                    aliases.extend(mine);
                }
                free
            })
            .collect()
    })
}

fn write_csv(rows: &[NewRecipient]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).expect("header");
    for r in rows {
        w.write_record([
            r.name.as_str(),
            r.unit.as_str(),
            r.email.as_deref().unwrap_or(""),
            r.phone.as_deref().unwrap_or(""),
            r.aliases.join(";").as_str(),
        ])
        .expect("row");
    }
    w.into_inner().expect("flush")
}

proptest! {
    #![proptest_config(config(1))]

    /// Any bytes, with or without a valid header in front (the plain one, or an export's
    /// whose name comes from two columns): no panic, a bounded result.
    #[test]
    fn csv_import_of_any_bytes_is_bounded_and_printable(
        body in csv_bytes(),
        header in select(vec![
            "",
            "name,unit,email,phone,aliases\n",
            "Apt,Last Name,First Name,E-mail,Balance\n",
        ]),
        max_rows in 1usize..8,
    ) {
        let mut data = header.as_bytes().to_vec();
        data.extend_from_slice(&body);
        check_bounded(&data, max_rows);
    }

    /// Arbitrary bytes as they come, header and all.
    #[test]
    fn csv_import_of_raw_bytes_never_panics(data in vec(any::<u8>(), 0..400)) {
        check_bounded(&data, 5);
    }

    /// Valid recipients written by the csv crate (quoting commas, quotes, line breaks as
    /// needed) parse back to exactly the same recipients, none rejected.
    #[test]
    fn recipients_round_trip_through_csv(rows in recipients()) {
        let data = write_csv(&rows);
        let parsed = parse(&data, 1000).expect("header");
        prop_assert_eq!(parsed.rejected, vec![]);
        prop_assert_eq!(parsed.rows, rows);
    }
}

/// `row` as the third line of a file between two good rows: (rows accepted, rejections).
fn between_good_rows(row: &str) -> packtrack::admin::import::Parsed {
    let data = format!("name,unit,email,phone,aliases\nBob,2,,,\n{row}\nCarol,3,,,\n");
    parse(data.as_bytes(), 100).expect("header")
}

/// A row far over the size cap is rejected as a whole with a short reason, whichever field
/// is huge (it used to be quoted back whole: a 256 KiB message); the rows around it stay.
#[test]
fn csv_huge_row_is_rejected_not_echoed_back() {
    let huge = "x".repeat(MAX_ROW_BYTES * 4);
    for at in 0..5 {
        let mut fields = ["Ada", "1", "", "", ""];
        fields[at] = &huge;
        let p = between_good_rows(&fields.join(","));
        assert_eq!(p.rows.len(), 2, "field {at}: {:?}", p.rejected);
        assert_eq!(p.rejected.len(), 1, "field {at}");
        assert_eq!(p.rejected[0].line, 3);
        assert_message("reason", &p.rejected[0].reason);
    }
}

/// Tens of thousands of distinct aliases in one row (quadratic de-duplication work, and
/// stored as one recipient) are rejected unread.
#[test]
fn csv_alias_flood_in_one_row_is_rejected_unread() {
    let many: Vec<String> = (0..MAX_ROW_BYTES / 4).map(|i| i.to_string()).collect();
    let many = many.join(";");
    assert!(many.len() > MAX_ROW_BYTES);
    let p = between_good_rows(&format!("Ada,1,,,{many}"));
    assert_eq!(p.rows.len(), 2, "{:?}", p.rejected);
    assert_eq!(p.rejected.len(), 1);
    assert!(
        p.rejected[0].reason.contains("longer than"),
        "{:?}",
        p.rejected
    );
}

/// A field just under the cap but over its own limit is quoted only in part.
#[test]
fn csv_rejection_reasons_cannot_echo_a_long_field() {
    let long = "7".repeat(MAX_ROW_BYTES / 2);
    let long_email = format!("{long}@example.org");
    let long_alias = format!("a{long}");
    for (at, value) in [(1, &long), (2, &long_email), (3, &long), (4, &long_alias)] {
        let mut fields = [
            "Ada".to_string(),
            "1".into(),
            String::new(),
            String::new(),
            String::new(),
        ];
        fields[at] = value.clone();
        let data = format!("name,unit,email,phone,aliases\n{}\n", fields.join(","));
        let p = parse(data.as_bytes(), 100).expect("header");
        assert_eq!(p.rejected.len(), 1, "field {at}");
        assert_message("reason", &p.rejected[0].reason);
    }
}

/// A header line with terminal escapes in it is reported escaped: the admin's terminal
/// never receives them (the error goes to the host CLI's stderr and to SSH clients).
#[test]
fn csv_header_error_cannot_carry_terminal_escapes() {
    let e = parse(b"name,unit\x1b]0;owned\x07\x1b[2J,email\n", 100).expect_err("bad header");
    assert_message("error", &e);
    assert!(e.contains("\\u001b"), "{e}");
    let long = format!("{}\n", "n".repeat(100_000));
    assert_message(
        "error",
        &parse(long.as_bytes(), 100).expect_err("bad header"),
    );
}

/// Lines of invalid UTF-8 are rejections, and count towards the row limit like any row: a
/// file of two-byte lines cannot make the server hold millions of rejection messages.
#[test]
fn csv_import_of_invalid_utf8_lines_cannot_grow_past_the_row_limit() {
    let mut data = b"name,unit,email,phone,aliases\n".to_vec();
    for _ in 0..10_000 {
        data.extend_from_slice(b"\xff\n");
    }
    let e = parse(&data, 100).expect_err("over the limit");
    assert!(e.contains("more than 100 rows"), "{e}");
}

/// Aliases are de-duplicated in linear time: a row of thousands of aliases (under the size
/// cap) is accepted with each alias once.
#[test]
fn csv_import_handles_a_row_of_many_aliases() {
    let aliases: Vec<String> = (0..5_000).map(|i| format!("alias{i}")).collect();
    let mut list = aliases.join(";");
    list.push_str(";A;a;ALIAS0");
    let data = format!("name,unit,email,phone,aliases\nAda,1,,,{list}\n");
    assert!(data.len() < MAX_ROW_BYTES);
    let p = parse(data.as_bytes(), 100).expect("header");
    assert_eq!(p.rejected, vec![]);
    let mut expected = aliases;
    expected.push("A".into());
    assert_eq!(p.rows[0].aliases, expected);
}
