//! Pickup: by code, by scan, proxies, damaged parcels.

use super::*;

#[test]
fn pickup_by_code_hands_over_with_one_enter_to_the_resident() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(3)));
    typed(&mut m, "123456");
    let fx = update(&mut m, key(KeyCode::Enter));
    assert_eq!(fx, vec![Effect::FindByCode("123456".into())]);
    update(
        &mut m,
        Msg::PickupList(Ok(vec![pkg(1, "A1"), pkg(2, "B2")])),
    );
    assert_eq!(m.pickup.step, PickupStep::Select);
    assert_eq!(m.pickup.chosen_ids(), vec![1, 2]);
    assert_eq!(m.pickup.receiver.text(), "Ada Lovelace");
    update(&mut m, key(KeyCode::Down));
    update(&mut m, key(KeyCode::Char(' ')));
    assert_eq!(m.pickup.chosen_ids(), vec![1]);
    // One Enter: no hidden receiver step.
    let fx = update(&mut m, key(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::CommitPickup { ids, handover }] if ids == &vec![1] && !handover.proxy && handover.receiver == "Ada Lovelace"),
        "{fx:?}"
    );
    update(&mut m, Msg::PickupDone(Ok(vec![pkg(1, "A1")])));
    assert_eq!(m.pickup.step, PickupStep::Code);
    assert!(matches!(m.status, Some((_, Tone::Success))));
}

#[test]
fn proxy_from_the_list_names_who_collects() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(3)));
    update(&mut m, Msg::PickupList(Ok(vec![pkg(1, "A1")])));
    update(&mut m, ctrl('p'));
    assert_eq!(m.pickup.step, PickupStep::Receiver);
    assert!(m.pickup.proxy && m.pickup.receiver.is_empty());
    assert!(
        update(&mut m, key(KeyCode::Enter)).is_empty(),
        "a proxy's name is required"
    );
    typed(&mut m, "Bob Proxy");
    let fx = update(&mut m, key(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::CommitPickup { handover, .. }] if handover.proxy && handover.receiver == "Bob Proxy"),
        "{fx:?}"
    );
    update(&mut m, Msg::PickupDone(Ok(vec![pkg(1, "A1")])));
    let (line, _) = m.status.clone().unwrap();
    assert!(line.ends_with("to Bob Proxy (proxy)"), "{line}");
    // Esc from the proxy's name is back to the resident.
    update(&mut m, Msg::PickupList(Ok(vec![pkg(1, "A1")])));
    update(&mut m, ctrl('p'));
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.pickup.step, PickupStep::Select);
    assert!(!m.pickup.proxy);
    assert_eq!(m.pickup.receiver.text(), "Ada Lovelace");
}

#[test]
fn damaged_parcels_are_confirmed_before_the_handover() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(3)));
    let mut broken = pkg(2, "B2");
    let flags = crate::domain::Flags {
        damaged: true,
        ..Default::default()
    };
    broken.handling = Some(crate::db::packages::Handling {
        flags,
        note: crate::domain::Note::stored("box crushed".into()),
    });
    update(&mut m, Msg::PickupList(Ok(vec![pkg(1, "A1"), broken])));
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert!(m.pickup.asking_damaged);
    let (line, tone) = m.status.clone().unwrap();
    assert!(line.contains("1 DAMAGED"), "{line}");
    assert_eq!(tone, Tone::Warning);
    // Keys other than the answer do nothing; Esc goes back to the list.
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    update(&mut m, key(KeyCode::Esc));
    assert!(!m.pickup.asking_damaged);
    assert_eq!(m.pickup.step, PickupStep::Select);
    update(&mut m, key(KeyCode::Enter));
    let fx = update(&mut m, key(KeyCode::Char('y')));
    assert!(
        matches!(fx.as_slice(), [Effect::CommitPickup { ids, .. }] if ids == &vec![1, 2]),
        "{fx:?}"
    );
}

#[test]
fn pickup_by_scanning_the_parcel() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(3)));
    let fx = update(&mut m, Msg::Paste("1z5r 8939 0357 5671 27\n".into()));
    assert_eq!(
        fx,
        vec![Effect::FindByTracking("1Z5R89390357567127".into())]
    );
}
