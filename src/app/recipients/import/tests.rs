//! The import's columns step and the move-outs in its preview (paste, progress and summary
//! are in `admin/tests.rs`).

use std::collections::HashMap;

use super::*;
use crate::admin::import::{ColumnMap, Target, parse_with, plan_with};
use crate::app::model::Screen;
use crate::app::recipients::admin::AdminEffect;
use crate::app::testing::{ctrl, key, model_as, recipient};
use crate::app::update::update;
use crate::app::{Effect, Msg};
use crate::domain::Role;

const EXPORT: &str = "Unit,First Name,Last Name,E-mail,Balance\n\
                      A-101,Ada,Lovelace,ada@example.org,0\n\
                      B-2,Grace,Hopper,,0\n";

fn model() -> Model {
    let mut m = model_as("boss", Role::Admin);
    m.screen = Screen::Recipients;
    m
}

fn state(m: &Model) -> &ImportState {
    match &m.recipients_admin.mode {
        Mode::Import(s) => s,
        other => panic!("import expected, got {other:?}"),
    }
}

fn pasted(csv: &str) -> Model {
    let mut m = model();
    update(&mut m, ctrl('o'));
    update(&mut m, Msg::Paste(csv.into()));
    m
}

fn admin_effect(fx: &[Effect]) -> &AdminEffect {
    match fx {
        [Effect::RecipientsAdmin(e)] => e,
        other => panic!("expected one admin effect, got {other:?}"),
    }
}

#[test]
fn an_export_opens_the_columns_step_with_its_columns_guessed() {
    let mut m = pasted(EXPORT);
    assert!(
        update(&mut m, key(KeyCode::Enter)).is_empty(),
        "no round trip"
    );
    let s = state(&m);
    assert!(matches!(s.step, ImportStep::Columns));
    let c = s.columns.as_ref().unwrap();
    assert_eq!(c.column(Target::First), Some(1));
    assert_eq!(c.column(Target::Last), Some(2));
    assert_eq!(c.column(Target::Email), Some(3));
    assert_eq!(c.ignored(), vec!["Balance"]);
    let fx = update(&mut m, key(KeyCode::Enter));
    let AdminEffect::PlanImport { csv, options } = admin_effect(&fx) else {
        panic!("plan expected: {fx:?}");
    };
    assert_eq!(csv, EXPORT);
    assert_eq!(options.map, c_map(&m));
    assert!(!options.deactivate_missing && !options.allow_mass_deactivate);
    // The plan made from that map reads what the step showed.
    let parsed = parse_with(EXPORT.as_bytes(), 100, &options.map).unwrap();
    assert_eq!(parsed.rows[0].name, "Ada Lovelace");
    assert!(matches!(state(&m).step, ImportStep::Planning));
}

fn c_map(m: &Model) -> ColumnMap {
    state(m).columns.as_ref().unwrap().to_map()
}

#[test]
fn arrows_choose_columns_and_enter_needs_a_name_and_a_unit() {
    let mut m = pasted("Bldg,Door,Person\nN,12,Ada Lovelace\n");
    update(&mut m, key(KeyCode::Enter));
    // Nothing recognised: the cursor starts on the name, the first field to choose.
    assert_eq!(state(&m).field, 0);
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    let (text, tone) = m.status.clone().unwrap();
    assert_eq!(
        (text.as_str(), tone),
        ("choose a column for the name or unit (←/→)", Tone::Warning)
    );
    // Name: ← from "none" wraps to the last column, Person.
    update(&mut m, key(KeyCode::Left));
    // Unit: down three (first, last, unit), → twice: none → Bldg → Door.
    for _ in 0..3 {
        update(&mut m, key(KeyCode::Down));
    }
    update(&mut m, key(KeyCode::Right));
    update(&mut m, key(KeyCode::Right));
    let c = state(&m).columns.clone().unwrap();
    assert_eq!(c.column(Target::Name), Some(2));
    assert_eq!(c.column(Target::Unit), Some(1));
    assert_eq!(c.ignored(), vec!["Bldg"]);
    // The cursor stops at the ends.
    for _ in 0..10 {
        update(&mut m, key(KeyCode::Down));
    }
    assert_eq!(state(&m).field, TARGETS.len() - 1);
    let fx = update(&mut m, key(KeyCode::Enter));
    assert!(matches!(admin_effect(&fx), AdminEffect::PlanImport { .. }));
}

#[test]
fn typed_letters_and_a_scan_in_the_columns_step_change_nothing() {
    let mut m = pasted(EXPORT);
    update(&mut m, key(KeyCode::Enter));
    let before = state(&m).clone();
    // A scanner's burst (or a clerk typing) is never a shortcut here: not `d`, not `y`.
    for c in "dyDY1Z999AA10123456784".chars() {
        assert!(update(&mut m, crate::app::testing::ch(c)).is_empty());
    }
    let after = state(&m);
    assert_eq!(after.columns, before.columns);
    assert_eq!(after.field, before.field);
    assert!(!after.deactivate_missing);
    update(&mut m, Msg::Scan("1Z999AA10123456784".into()));
    let Mode::Import(after) = &m.recipients_admin.mode else {
        panic!("the import stays open behind intake");
    };
    assert_eq!(after.columns, before.columns);
    assert!(!after.deactivate_missing);
}

#[test]
fn ctrl_d_in_the_columns_step_asks_for_move_outs() {
    let mut m = pasted(EXPORT);
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, ctrl('d'));
    assert!(state(&m).deactivate_missing);
    let fx = update(&mut m, key(KeyCode::Enter));
    let AdminEffect::PlanImport { options, .. } = admin_effect(&fx) else {
        panic!("plan expected");
    };
    assert!(options.deactivate_missing);
    assert!(
        !options.allow_mass_deactivate,
        "confirmed only in the preview"
    );
}

/// A preview of a file with 1 of 3 residents: 2 missing, a mass move-out.
fn mass_plan(requested: bool) -> Plan {
    let csv = "name,unit,email,phone,aliases\nAda Lovelace,A-101,,,\n";
    let parsed = parse_with(csv.as_bytes(), 100, &ColumnMap::default()).unwrap();
    plan_with(
        parsed,
        &[
            recipient(1, "Ada Lovelace", "A-101"),
            recipient(2, "Grace Hopper", "B-2"),
            recipient(3, "Alan Turing", "C-3"),
        ],
        &HashMap::from([(3, 2)]),
        &ImportOptions {
            deactivate_missing: requested,
            ..ImportOptions::default()
        },
    )
}

fn previewing(plan: Plan) -> Model {
    let mut m = pasted("name,unit,email,phone,aliases\nAda Lovelace,A-101,,,\n");
    update(&mut m, key(KeyCode::Enter));
    assert!(matches!(state(&m).step, ImportStep::Planning));
    update(&mut m, Msg::RecipientsAdmin(AdminMsg::ImportPlan(Ok(plan))));
    assert!(matches!(state(&m).step, ImportStep::Preview(_)));
    m
}

#[test]
fn a_mass_move_out_needs_ctrl_y_before_enter_imports() {
    let mut m = previewing(mass_plan(true));
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    let (text, tone) = m.status.clone().unwrap();
    assert_eq!(tone, Tone::Error);
    assert_eq!(
        text,
        "2 of 3 residents would move out: Ctrl-Y confirms, Ctrl-D turns move-outs off"
    );
    assert!(text.chars().count() <= 80, "one status line");
    update(&mut m, ctrl('y'));
    let fx = update(&mut m, key(KeyCode::Enter));
    let AdminEffect::ApplyImport(plan) = admin_effect(&fx) else {
        panic!("apply expected");
    };
    assert!(plan.move_outs.requested && plan.move_outs.allow_mass);
    // Grace moves out; Alan has packages waiting and stays.
    assert_eq!(plan.move_outs.ids(), Some(vec![2]));
    assert_eq!(plan.move_outs.held[0].name, "Alan Turing");
    let ImportStep::Applying { planned, .. } = &state(&m).step else {
        panic!("applying expected");
    };
    assert_eq!(
        planned.moved_out,
        Some(crate::admin::import::MovedOut {
            deactivated: 1,
            kept: 1
        })
    );
}

#[test]
fn ctrl_d_in_the_preview_switches_move_outs_without_asking_the_server() {
    let mut m = previewing(mass_plan(false));
    assert!(update(&mut m, ctrl('d')).is_empty());
    let ImportStep::Preview(plan) = &state(&m).step else {
        panic!("preview expected");
    };
    assert!(plan.move_outs.requested);
    assert_eq!(
        plan.entries_len(),
        3,
        "Ada's update (the fixture has contact data), who moves out, who is kept"
    );
    // Ctrl-Y confirms only what is on; Ctrl-D off again drops the confirmation.
    update(&mut m, ctrl('y'));
    update(&mut m, ctrl('d'));
    update(&mut m, ctrl('d'));
    assert!(
        update(&mut m, key(KeyCode::Enter)).is_empty(),
        "unconfirmed again"
    );
    update(&mut m, ctrl('d'));
    let fx = update(&mut m, key(KeyCode::Enter));
    let AdminEffect::ApplyImport(plan) = admin_effect(&fx) else {
        panic!("apply expected");
    };
    assert_eq!(plan.move_outs.ids(), None, "switched off: nobody moves out");
}

#[test]
fn tab_in_the_preview_goes_back_to_the_columns() {
    let mut m = previewing(mass_plan(false));
    update(&mut m, key(KeyCode::Tab));
    let s = state(&m);
    assert!(matches!(s.step, ImportStep::Columns));
    assert!(s.columns.as_ref().unwrap().is_plain());
    assert!(matches!(
        admin_effect(&update(&mut m, key(KeyCode::Enter))),
        AdminEffect::PlanImport { .. }
    ));
    // A failed plan returns to where the choice was made.
    update(
        &mut m,
        Msg::RecipientsAdmin(AdminMsg::ImportPlan(Err(Failure::new(
            crate::app::FailureKind::Unavailable,
            "the database is not answering",
        )))),
    );
    let s = state(&m);
    assert!(matches!(s.step, ImportStep::Columns));
    assert_eq!(s.error.as_deref(), Some("the database is not answering"));
}

#[test]
fn an_export_pasted_in_parts_drops_its_repeated_header() {
    let mut m = pasted("Apt,Resident\n1,Ada Lovelace\n");
    update(&mut m, Msg::Paste("APT,Resident\n2,Grace Hopper\n".into()));
    assert_eq!(
        state(&m).text,
        "Apt,Resident\n1,Ada Lovelace\n2,Grace Hopper\n"
    );
}
