use super::*;

#[test]
fn letter_values() {
    let got: String = "ABHIJRZ"
        .chars()
        .map(|c| char::from_digit(char_value(c).unwrap_or(99), 10).unwrap_or('?'))
        .collect();
    assert_eq!(got, "2390197");
    assert_eq!(char_value('C'), Some(4));
    assert_eq!(char_value('D'), Some(5));
    assert_eq!(char_value('a'), None);
    assert_eq!(char_value('-'), None);
}

// The worked examples of the spec (carriers.md), one per rule.
#[test]
fn worked_examples() {
    assert_eq!(alternating_mod10("5R8939035756712", 1, 2), Some(7));
    assert_eq!(fedex_mod11("98657878885"), Some(5));
    assert_eq!(gs1_mod10("940011120620640626078"), Some(7));
    assert_eq!(mod7("331881002"), Some(5));
    assert_eq!(s10_mod11("12345678"), Some(5));
}

#[test]
fn edge_cases() {
    // Sum already a multiple of 10 gives 0, not 10.
    assert_eq!(alternating_mod10("0000", 1, 2), Some(0));
    assert_eq!(gs1_mod10("0000"), Some(0));
    // Non-digits are rejected where the rule has no letter values.
    assert_eq!(gs1_mod10("12A4"), None);
    assert_eq!(fedex_mod11("12A4"), None);
    assert_eq!(mod7("12A4"), None);
    assert_eq!(mod7(""), None);
    assert_eq!(s10_mod11("1234567"), None);
    assert_eq!(s10_mod11("1234567A"), None);
    // FedEx weights run from the right: "51" is 1·1 + 5·3 = 16 ≡ 5 (mod 11).
    assert_eq!(fedex_mod11("51"), Some(5));
    assert_eq!(fedex_mod11("100"), Some(7));
    // A remainder of 10 folds to 0: "31" is 1·1 + 3·3 = 10.
    assert_eq!(fedex_mod11("31"), Some(0));
    // S10 remainders 1 and 0 map to 0 and 5.
    assert_eq!(s10_mod11("00000000"), Some(5));
    assert_eq!(s10_mod11("00004000"), Some(0)); // 4·3 = 12 ≡ 1 → 10 → 0
}

// Long bodies must not overflow.
#[test]
fn long_bodies() {
    let long = "9".repeat(10_000);
    assert!(mod7(&long).is_some());
    assert!(gs1_mod10(&long).is_some());
    assert!(fedex_mod11(&long).is_some());
    assert!(alternating_mod10(&long, 1, 3).is_some());
}
