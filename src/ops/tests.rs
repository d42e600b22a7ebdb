use super::*;

#[test]
fn tracking_normalisation() {
    assert_eq!(
        normalize_tracking("1z5r 8939 0357 5671 27").unwrap(),
        ("1Z5R89390357567127".into(), Some("ups".into()))
    );
    assert_eq!(
        normalize_tracking("pt-000123").unwrap(),
        ("PT-000123".into(), None)
    );
    assert!(normalize_tracking("   ").is_err());
    assert!(normalize_tracking("hello world!").is_err());
}
