use super::*;

fn base() -> FacilitySettings {
    from_document("North".into(), "UTC".into(), &json!({}), [None, None, None])
}

#[test]
fn defaults_follow_the_readers() {
    let s = base();
    assert_eq!(s.overdue_days, 3);
    assert_eq!(s.reminders, vec![3]);
    assert_eq!(s.retention_days, 30);
    assert_eq!(s.kiosk_relock_minutes, 2);
    assert!(!s.kiosk_pin_totp);
    assert!(s.validate().is_ok());
}

#[test]
fn document_values_and_schedule() {
    let s = from_document(
        "N".into(),
        "UTC".into(),
        &json!({"overdue_days": "5", "reminder_days": 0, "kiosk_relock_secs": 90,
                    "kiosk_pin_totp": true, "notification_retention_days": 7}),
        [Some(true), None, Some(false)],
    );
    assert_eq!(s.overdue_days, 5);
    assert!(s.reminders.is_empty());
    assert_eq!(s.kiosk_relock_minutes, 2);
    assert!(s.kiosk_pin_totp);
    assert_eq!(s.retention_days, 7);
    let s = from_document(
        "N".into(),
        "UTC".into(),
        &json!({"reminder_days": 3, "reminder_schedule": [3, 7]}),
        [None; 3],
    );
    assert_eq!(s.reminders, vec![3, 7]);
}

#[test]
fn validation_names_the_field() {
    let mut s = base();
    s.overdue_days = 61;
    assert!(s.validate().unwrap_err().contains("overdue days"));
    s.overdue_days = 0;
    assert!(s.validate().unwrap_err().contains("1–60"));
    let mut s = base();
    s.reminders = vec![7, 3];
    assert!(s.validate().unwrap_err().contains("increase"));
    let mut s = base();
    s.name = "  ".into();
    assert!(s.validate().unwrap_err().starts_with("name"));
    let mut s = base();
    s.kiosk_relock_minutes = 0;
    assert!(s.validate().unwrap_err().contains("kiosk relock"));
}

#[test]
fn reminder_schedule_parsing() {
    assert_eq!(parse_reminders(" 3, 7 ").unwrap(), vec![3, 7]);
    assert_eq!(parse_reminders("").unwrap(), Vec::<i64>::new());
    assert_eq!(parse_reminders("0").unwrap(), Vec::<i64>::new());
    assert!(parse_reminders("3;7").unwrap_err().contains("`3;7`"));
    assert_eq!(format_reminders(&[3, 7]), "3,7");
}

#[test]
fn changes_list_keys() {
    let a = base();
    let mut b = a.clone();
    assert!(a.changes(&b).is_empty());
    b.reminders = vec![3, 7];
    b.kiosk_pin_totp = true;
    assert_eq!(a.changes(&b), vec!["reminder_days", "kiosk_pin_totp"]);
}

/// The usual location (intake starts there) is a setting like the others: read from the
/// document, checked like a parcel's location, and listed when it changed.
#[test]
fn usual_location_is_read_checked_and_saved_as_a_change() {
    let doc = serde_json::json!({ "default_location": "Shelf A" });
    let s = from_document("North".into(), "UTC".into(), &doc, [None; 3]);
    assert_eq!(s.default_location, "Shelf A");
    let none = from_document(
        "North".into(),
        "UTC".into(),
        &serde_json::json!({}),
        [None; 3],
    );
    assert_eq!(none.default_location, "");
    let mut b = s.clone();
    b.default_location = "Fridge".into();
    assert_eq!(s.changes(&b), vec!["default_location"]);
    b.default_location = "x".repeat(65);
    assert!(
        b.problem("default_location")
            .is_some_and(|e| e.starts_with("usual location")),
        "{:?}",
        b.problem("default_location")
    );
    b.default_location = "Shelf\u{1b}[2J".into();
    assert!(b.problem("default_location").is_some());
}
