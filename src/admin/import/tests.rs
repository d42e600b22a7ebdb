use super::*;

fn parse_str(s: &str) -> Result<Parsed, String> {
    parse(s.as_bytes(), 1000)
}

#[test]
fn good_and_bad_rows_with_line_numbers() {
    let csv = "name,unit,email,phone,aliases\n\
                   Ada Lovelace,101,ada@Example.ORG,+1 (555) 010-1234,Ada;A. Lovelace\n\
                   ,102,,,\n\
                   Bob,103,not-an-email,,\n\
                   Carol,104,,12,\n\
                   Dan,105,,,\n\
                   ada lovelace,101,,,\n\
                   Eve,106,,,Ada\n\
                   Frank,107\n";
    let p = parse_str(csv).unwrap();
    assert_eq!(p.rows.len(), 2, "{p:?}");
    assert_eq!(p.rows[0].email.as_deref(), Some("ada@example.org"));
    assert_eq!(p.rows[0].phone.as_deref(), Some("+15550101234"));
    assert_eq!(p.rows[0].aliases, vec!["Ada", "A. Lovelace"]);
    let lines: Vec<(u64, &str)> = p
        .rejected
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(lines[0], (3, "name is required"));
    assert_eq!(lines[1].0, 4);
    assert!(lines[1].1.contains("email"));
    assert_eq!(lines[2].0, 5);
    assert!(lines[2].1.contains("phone"));
    assert_eq!(lines[3].0, 7);
    assert!(lines[3].1.contains("duplicate of line 2"));
    assert_eq!(lines[4].0, 8);
    assert!(lines[4].1.contains("alias `Ada`"));
    assert_eq!(lines[5].0, 9);
    assert!(lines[5].1.contains("expected 5 fields"));
}

#[test]
fn wrong_header_is_rejected_whole() {
    let err = parse_str("name,email\nAda,ada@example.org\n").unwrap_err();
    assert!(err.contains("line 1"), "{err}");
    assert!(parse_str("\u{feff}name,unit,email,phone,aliases\nA,1,,,\n").is_ok());
}

#[test]
fn quoted_fields_and_blank_lines() {
    let p = parse_str("name,unit,email,phone,aliases\n\"Smith, Jane\",\"2B\",,,\n\n").unwrap();
    assert_eq!(p.rows[0].name, "Smith, Jane");
    assert!(p.rejected.is_empty());
}

#[test]
fn row_limit() {
    let mut s = String::from("name,unit,email,phone,aliases\n");
    for i in 0..5 {
        s.push_str(&format!("P{i},{i},,,\n"));
    }
    assert!(
        parse(s.as_bytes(), 3)
            .unwrap_err()
            .contains("more than 3 rows")
    );
}

#[test]
fn invalid_utf8_row_is_rejected_not_fatal() {
    let mut data = b"name,unit,email,phone,aliases\nA,1,,,\n".to_vec();
    data.extend_from_slice(b"B\xff,2,,,\nC,3,,,\n");
    let p = parse(&data, 100).unwrap();
    assert_eq!(p.rows.len(), 2);
    assert_eq!(p.rejected.len(), 1);
    assert_eq!(p.rejected[0].line, 3);
}

#[test]
fn email_and_phone_rules() {
    assert!(valid_email("a@b.co").is_some());
    assert!(valid_email("a@b").is_none());
    assert!(valid_email("a b@c.de").is_none());
    assert!(valid_email("@c.de").is_none());
    assert!(valid_email("a@-c.de").is_none());
    assert_eq!(normalize_phone("555-0101").as_deref(), Some("5550101"));
    assert!(normalize_phone("call me").is_none());
    assert!(normalize_phone("+1234567890123456").is_none());
}
