use super::*;

#[test]
fn relock_setting_parses_clamps_and_defaults() {
    let d = |v: Value| relock_from(Some(&v)).as_secs();
    assert_eq!(relock_from(None).as_secs(), 120);
    assert_eq!(d(json!(300)), 300);
    assert_eq!(d(json!("45")), 45);
    assert_eq!(d(json!(1)), RELOCK_SECS_MIN);
    assert_eq!(d(json!(-4)), RELOCK_SECS_MIN);
    assert_eq!(d(json!(999_999)), RELOCK_SECS_MAX);
    assert_eq!(d(json!("soon")), 120);
    assert_eq!(d(json!(2.5)), 120);
    assert_eq!(d(Value::Null), 120);
}

#[test]
fn pin_totp_flag_is_off_unless_true() {
    assert!(flag_from(Some(&json!(true))));
    assert!(flag_from(Some(&json!("true"))));
    assert!(!flag_from(Some(&json!(false))));
    assert!(!flag_from(Some(&json!(1))));
    assert!(!flag_from(None));
}

#[test]
fn masked_package_keeps_only_the_tracking_tail() {
    let p = packages::Package {
        id: 7,
        tracking: "1Z5R89390357567127".into(),
        carrier: Some("ups".into()),
        recipient_id: Some(1),
        recipient_name: Some("Ada Lovelace".into()),
        recipient_unit: Some("A-101".into()),
        status: "waiting".into(),
        location: "Shelf A".into(),
        pickup_code: Some("123456".into()),
        addressed_to: None,
        received_at: Utc::now(),
        picked_up_at: None,
        handling: None,
    };
    let m = MaskedPackage::from_package(&p);
    assert_eq!(m.tracking, "…7127");
    assert_eq!(m.location, "Shelf A");
    let shown = format!("{m:?}");
    assert!(
        !shown.contains("Ada") && !shown.contains("123456"),
        "{shown}"
    );
    let short = packages::Package {
        tracking: "AB".into(),
        ..p
    };
    assert_eq!(MaskedPackage::from_package(&short).tracking, "…AB");
}
