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

/// The resident's authorised proxies as the server answers them.
fn proxies_arrive(m: &mut Model) {
    update(
        m,
        Msg::PickupProxies {
            recipient: 7,
            names: Ok(vec!["Sam Lee (partner)".into(), "Kim Park".into()]),
        },
    );
}

#[test]
fn ctrl_p_offers_the_authorised_proxies_to_pick_with_arrows() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(3)));
    update(&mut m, Msg::PickupList(Ok(vec![pkg(1, "A1")])));
    let fx = update(&mut m, ctrl('p'));
    assert_eq!(
        fx,
        vec![Effect::LoadProxies(7)],
        "the resident's list is loaded"
    );
    proxies_arrive(&mut m);
    assert!(
        m.pickup.receiver.is_empty(),
        "nobody is picked for the clerk"
    );
    update(&mut m, key(KeyCode::Down));
    update(&mut m, key(KeyCode::Down));
    assert_eq!(m.pickup.receiver.text(), "Kim Park");
    update(&mut m, key(KeyCode::Down));
    assert_eq!(m.pickup.receiver.text(), "Kim Park", "stays on the last");
    update(&mut m, key(KeyCode::Up));
    assert_eq!(m.pickup.receiver.text(), "Sam Lee (partner)");
    assert!(m.pickup.proxy_authorised());
    let fx = update(&mut m, key(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::CommitPickup { handover, .. }]
            if handover.proxy && handover.receiver == "Sam Lee (partner)"),
        "{fx:?}"
    );
    update(&mut m, Msg::PickupDone(Ok(vec![pkg(1, "A1")])));
    let (line, _) = m.status.clone().unwrap();
    assert!(
        line.ends_with("to Sam Lee (partner) (authorised proxy)"),
        "{line}"
    );
}

#[test]
fn typing_over_a_picked_proxy_names_someone_not_on_the_list() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(3)));
    update(&mut m, Msg::PickupList(Ok(vec![pkg(1, "A1")])));
    update(&mut m, ctrl('p'));
    proxies_arrive(&mut m);
    update(&mut m, key(KeyCode::Down));
    typed(&mut m, "Jo");
    assert_eq!(m.pickup.receiver.text(), "Jo", "a new name, not appended");
    assert_eq!(m.pickup.proxy_pick, None);
    assert!(!m.pickup.proxy_authorised());
    // Up above the first pick goes back to an empty, typed name.
    let mut m2 = m.clone();
    update(&mut m2, key(KeyCode::Down));
    update(&mut m2, key(KeyCode::Up));
    assert!(m2.pickup.receiver.is_empty());
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, Msg::PickupDone(Ok(vec![pkg(1, "A1")])));
    let (line, _) = m.status.clone().unwrap();
    assert!(line.ends_with("to Jo (proxy)"), "{line}");
}

#[test]
fn a_scan_in_the_proxy_picker_ticks_the_parcel_and_never_becomes_the_name() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(3)));
    update(
        &mut m,
        Msg::PickupList(Ok(vec![pkg(1, "A1"), pkg(2, "B2")])),
    );
    update(&mut m, key(KeyCode::Char(' ')));
    update(&mut m, ctrl('p'));
    proxies_arrive(&mut m);
    update(&mut m, key(KeyCode::Down));
    update(&mut m, Msg::Scan("A1".into()));
    assert_eq!(m.pickup.receiver.text(), "Sam Lee (partner)");
    assert_eq!(m.pickup.step, PickupStep::Receiver);
    assert_eq!(
        m.pickup.chosen_ids(),
        vec![1, 2],
        "the scanned parcel is ticked"
    );
}

#[test]
fn a_late_proxy_list_for_another_resident_is_ignored() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(3)));
    update(&mut m, Msg::PickupList(Ok(vec![pkg(1, "A1")])));
    update(&mut m, ctrl('p'));
    update(
        &mut m,
        Msg::PickupProxies {
            recipient: 8,
            names: Ok(vec!["Eve".into()]),
        },
    );
    assert!(m.pickup.proxies.is_none());
    // Esc and Ctrl-P again: the list is loaded afresh for the open resident.
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(update(&mut m, ctrl('p')), vec![Effect::LoadProxies(7)]);
}
