use super::*;
use serde_json::json;

fn parcel() -> Parcel {
    Parcel::from_payload(&json!({
        "package": {
            "id": 7, "tracking": "1Z999AA10123456784", "carrier": "ups",
            "status": "waiting", "location": "Shelf <B>", "pickup_code": "042917",
            "received_at": "2026-03-01T09:30:00.123456Z", "picked_up_at": null
        }
    }))
}

#[test]
fn intake_email_has_the_essentials_in_both_parts() {
    let p = parcel();
    assert_eq!(p.id, 7);
    let e = email("intake", "North Hall", "Ada <Lovelace>", &p);
    assert_eq!(e.subject, "A parcel is waiting for you");
    for part in [&e.text, &e.html] {
        assert!(part.contains("UPS"), "{part}");
        assert!(part.contains("042917"), "{part}");
        assert!(part.contains("2026-03-01 09:30 UTC"), "{part}");
    }
    assert!(e.text.contains("Hello Ada <Lovelace>,"));
    assert!(e.text.contains("Shelf <B>"));
    assert!(e.html.contains("Ada &lt;Lovelace&gt;"));
    assert!(e.html.contains("Shelf &lt;B&gt;"));
    assert!(!e.html.contains("<Lovelace>"));
}

#[test]
fn pickup_and_reminder() {
    let mut p = parcel();
    p.picked_up_at = "2026-03-02T18:05:00Z".parse().ok();
    let e = email("pickup", "North Hall", "Ada", &p);
    assert_eq!(e.subject, "Your parcel was picked up");
    assert!(e.text.contains("2026-03-02 18:05 UTC"));
    assert!(
        !e.text.contains("042917"),
        "a receipt does not repeat the code"
    );
    let r = email("reminder", "North Hall", "Ada", &p);
    assert!(r.subject.starts_with("Reminder"));
    assert!(r.text.contains("042917"));
    assert_eq!(
        sms("intake", "North Hall", &parcel()),
        "North Hall: a UPS parcel is waiting for you (Shelf <B>). Pickup code 042917."
    );
    assert!(sms("pickup", "North Hall", &p).contains("picked up 2026-03-02 18:05 UTC"));
    assert!(sms("reminder", "North Hall", &p).starts_with("North Hall: reminder"));
}

#[test]
fn disregard_says_little() {
    let e = email("disregard", "North Hall", "Ada", &parcel());
    assert_eq!(e.subject, "Please disregard our parcel notice");
    for part in [&e.text, &e.html] {
        assert!(part.contains("1Z999AA10123456784"), "{part}");
        assert!(!part.contains("042917"), "no pickup code: {part}");
        assert!(!part.contains("Shelf"), "no location: {part}");
    }
    assert_eq!(
        sms("disregard", "North Hall", &parcel()),
        "North Hall: please disregard our message about a UPS parcel; it was not for you."
    );
    let r = email("reassigned", "North Hall", "Ada", &parcel());
    assert_eq!(r.subject, "A parcel is waiting for you");
}

#[test]
fn missing_fields_still_render() {
    let p = Parcel::from_payload(&json!({}));
    let e = email("intake", "F", "R", &p);
    assert!(e.text.contains("Unknown carrier"));
    assert!(e.text.contains("the mailroom"));
}
