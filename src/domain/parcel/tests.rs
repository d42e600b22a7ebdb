use super::*;

#[test]
fn locations_keep_their_texts() {
    assert_eq!(Location::new("  Shelf B ").unwrap().as_str(), "Shelf B");
    assert_eq!(Location::new("").unwrap().as_str(), "");
    let long = "x".repeat(LOCATION_MAX + 1);
    assert_eq!(
        Location::new(&long).unwrap_err().0,
        "location is longer than 64 characters"
    );
    assert!(
        Location::new("a\x1bb")
            .unwrap_err()
            .0
            .starts_with("location contains")
    );
    assert_eq!(
        Location::new_nonempty(" ").unwrap_err().0,
        "the new location must be 1-64 characters"
    );
    assert_eq!(
        Location::new_nonempty(&long).unwrap_err().0,
        "the new location must be 1-64 characters"
    );
    assert!(
        Location::new_nonempty("\x1b")
            .unwrap_err()
            .0
            .starts_with("location contains")
    );
}

#[test]
fn notes_are_multi_line_and_bounded() {
    assert_eq!(Note::new(" a\nb ").unwrap().as_str(), "a\nb");
    assert_eq!(
        Note::new(&"n".repeat(NOTE_MAX + 1)).unwrap_err().0,
        "note is longer than 2000 characters"
    );
    assert!(Note::new("a\rb").is_err());
}

#[test]
fn pickup_codes() {
    assert_eq!(PickupCode::parse(" 042917 ").unwrap().as_str(), "042917");
    assert_eq!(
        PickupCode::parse("42917").unwrap_err().0,
        "a pickup code is 6 digits"
    );
    assert!(PickupCode::parse("04291x").is_err());
    assert_eq!(PickupCode::from_entropy([0, 0, 0, 0]).as_str(), "000000");
    assert!(PickupCode::is_valid(
        PickupCode::from_entropy([255; 4]).as_str()
    ));
    assert!(!format!("{:?}", PickupCode::parse("123456").unwrap()).contains("123"));
}

#[test]
fn flags() {
    let mut f = Flags::default();
    assert_eq!(f.label(), "none");
    f.toggle(Flag::Damaged);
    f.toggle(Flag::Perishable);
    assert_eq!(f.label(), "perishable damaged");
    assert!(f.get(Flag::Damaged) && !f.get(Flag::Signature));
    f.toggle(Flag::Damaged);
    assert_eq!(f.set().collect::<Vec<_>>(), [Flag::Perishable]);
}

#[test]
fn an_addressed_to_name_is_cleaned_not_refused() {
    let clean = |t: &str| AddressedTo::clean(t).map(|a| a.as_str().to_string());
    assert_eq!(clean("  kowalsky "), Some("kowalsky".into()));
    assert_eq!(clean("aria \t  kowalsky\n"), Some("aria kowalsky".into()));
    assert_eq!(clean(""), None);
    assert_eq!(clean(" \u{1b}\u{7} "), None);
    // No escape sequence survives to repaint another clerk's terminal.
    assert_eq!(clean("kow\u{1b}[2Jalsky\u{9b}"), Some("kow[2Jalsky".into()));
    assert_eq!(clean("a\u{202e}bc"), Some("abc".into()));
    let long = "é".repeat(ADDRESSED_TO_MAX + 5);
    assert_eq!(
        clean(&long).unwrap().as_str().chars().count(),
        ADDRESSED_TO_MAX
    );
    // PII: Debug (what reaches a log) shows only the length.
    assert_eq!(
        format!("{:?}", AddressedTo::clean("aria kowalsky").unwrap()),
        "AddressedTo(13 chars)"
    );
}
