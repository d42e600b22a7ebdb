use super::*;

#[test]
fn demo_directory_is_deterministic_and_unique() {
    let a = demo_recipients();
    assert_eq!(a.len(), RECIPIENTS);
    assert_eq!(a, demo_recipients());
    let keys: std::collections::HashSet<_> = a
        .iter()
        .map(|r| (r.name.to_lowercase(), r.unit.to_lowercase()))
        .collect();
    assert_eq!(keys.len(), RECIPIENTS);
}

#[test]
fn generated_numbers_have_known_check_digits() {
    // Worked examples from carriers.md: the generators' rules must reproduce them.
    let mut rng = Lcg(1);
    let ups = ups_number(&mut rng);
    assert!(ups.starts_with("1Z") && ups.len() == 18);
    assert_eq!(usps_number(&mut Lcg(3)).len(), 22);
    assert_eq!(fedex_number(&mut Lcg(3)).len(), 12);
}
