/// The timing log names the effect and never carries what it holds.
#[test]
fn effect_kind_is_the_variant_name_only() {
    use crate::app::Effect;
    use crate::ops::IntakeRequest;
    let e = Effect::CommitIntake(IntakeRequest {
        tracking: "1Z999AA10123456784".into(),
        note: "for Ada Lovelace".into(),
        ..Default::default()
    });
    assert_eq!(crate::effects::kind_name(&e), "CommitIntake");
    assert_eq!(crate::effects::kind_name(&Effect::LoadStats), "LoadStats");
    let search = Effect::Search {
        seq: 1,
        query: "lovelace".into(),
        include_inactive: false,
    };
    assert_eq!(crate::effects::kind_name(&search), "Search");
}

#[test]
fn live_batches_merge_per_kind_and_author() {
    use crate::live::LiveEvent;
    let ev = |kind: &str, by: &str, id: i64| LiveEvent {
        kind: kind.into(),
        by: by.into(),
        ids: vec![id],
    };
    let merged = super::merge_live(vec![
        ev("intake", "ann", 1),
        ev("intake", "bob", 2),
        ev("intake", "ann", 3),
        ev("pickup", "ann", 1),
    ]);
    assert_eq!(
        merged,
        vec![
            ("intake".into(), "ann".into(), vec![1, 3]),
            ("intake".into(), "bob".into(), vec![2]),
            ("pickup".into(), "ann".into(), vec![1]),
        ]
    );
}

#[test]
fn human_durations() {
    use super::human_duration as h;
    use std::time::Duration as D;
    assert_eq!(h(D::from_secs(600)), "10 minutes");
    assert_eq!(h(D::from_secs(60)), "1 minute");
    assert_eq!(h(D::from_secs(1)), "1 second");
    assert_eq!(h(D::from_secs(90)), "90 seconds");
}
