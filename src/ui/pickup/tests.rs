//! Snapshots of the pickup's proxy picker: the resident's authorised proxies offered, one
//! picked; a typed name marked as not on the list; at 80x24, 60x20 and in monochrome.

use crate::app::model::{Model, PickupStep, Screen};
use crate::app::testing::pkg;
use crate::domain::Role;
use crate::term::ColorDepth;
use crate::ui::testing::{assert_mono, assert_snapshot_as, model_as, render};

fn picker() -> Model {
    let mut m = model_as("clerk", Role::Operator);
    m.screen = Screen::Pickup;
    m.pickup.packages = vec![pkg(1, "1Z5R89390357567127"), pkg(2, "986578788855")];
    m.pickup.selected = vec![true, true];
    m.pickup.resident = "Ada Lovelace".into();
    m.pickup.step = PickupStep::Receiver;
    m.pickup.proxy = true;
    m.pickup.proxies = Some(vec!["Sam Lee (partner)".into(), "Kim Park".into()]);
    m.pickup.proxy_pick = Some(0);
    m.pickup.receiver.set("Sam Lee (partner)");
    m
}

/// The frame's "Receiver" line (the name, then how the handover will record it).
fn receiver_line(frame: &str) -> &str {
    frame
        .lines()
        .find(|l| l.contains("Receiver"))
        .unwrap_or_default()
}

fn snapshots(name: &str, m: &Model) {
    for (suffix, w, h, depth) in [
        ("80x24", 80, 24, ColorDepth::Ansi256),
        ("60x20", 60, 20, ColorDepth::Ansi256),
        ("mono", 80, 24, ColorDepth::Mono),
    ] {
        assert_snapshot_as(
            "pickup_tests",
            &format!("{name}_{suffix}"),
            &render(m, w, h, depth),
        );
    }
    assert_mono(m, name);
}

#[test]
fn the_picker_offers_the_authorised_proxies() {
    let m = picker();
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("Authorised proxies:"), "{s}");
    assert!(s.contains("> Sam Lee (partner)"), "{s}");
    assert!(receiver_line(&s).contains("(authorised proxy)"), "{s}");
    assert!(
        s.contains("1Z5R89390357567127"),
        "the parcels stay in view: {s}"
    );
    snapshots("proxy_picker", &m);
}

#[test]
fn a_typed_proxy_is_marked_not_on_the_list() {
    let mut m = picker();
    m.pickup.proxy_pick = None;
    m.pickup.receiver.set("Jo Bloggs");
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    let line = receiver_line(&s);
    assert!(line.contains("Jo Bloggs"), "{s}");
    assert!(line.contains("(proxy, not on the list)"), "{s}");
    // The most a resident may authorise still fits 80x24 with the parcels in view.
    m.pickup.proxies = Some((1..=5).map(|i| format!("Proxy number {i}")).collect());
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("Proxy number 5"), "{s}");
    assert!(s.contains("986578788855"), "{s}");
    snapshots("proxy_typed_five", &m);
}
