use super::*;

#[test]
fn webhook_body_leaves_out_contact_details() {
    let payload = json!({
        "event": "intake",
        "facility": "north",
        "package": { "id": 1, "tracking": "T1" },
        "recipient": { "id": 5, "name": "Ada", "unit": "A-1",
                       "email": "ada@example.org", "phone": "+15550100" }
    });
    let body = webhook_body("d-1", "intake", "north", &payload, false);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["delivery_id"], "d-1");
    assert_eq!(v["package"]["tracking"], "T1");
    assert_eq!(
        v["recipient"],
        json!({ "id": 5, "name": "Ada", "unit": "A-1" })
    );
    let text = String::from_utf8(body).unwrap();
    assert!(!text.contains("example.org") && !text.contains("5550100"));
    let unmatched = webhook_body(
        "d-2",
        "intake",
        "north",
        &json!({ "recipient": null }),
        false,
    );
    let v: Value = serde_json::from_slice(&unmatched).unwrap();
    assert!(v["recipient"].is_null());
}

#[test]
fn webhook_gets_pickup_code_only_when_added_with_the_option() {
    let payload = json!({ "package": { "id": 1, "tracking": "T1", "pickup_code": "482913" } });
    let without: Value =
        serde_json::from_slice(&webhook_body("d", "intake", "n", &payload, false)).unwrap();
    assert!(without["package"]["pickup_code"].is_null());
    assert_eq!(without["package"]["tracking"], "T1");
    let with: Value =
        serde_json::from_slice(&webhook_body("d", "intake", "n", &payload, true)).unwrap();
    assert_eq!(with["package"]["pickup_code"], "482913");
}
