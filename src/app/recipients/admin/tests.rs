//! Transitions of the recipients admin: create, edit, deactivate, merge, import.

use crate::app::{Failure, FailureKind};
use chrono::Utc;

use super::*;
use crate::admin::import::{Rejected, plan};
use crate::app::model::Screen;
use crate::app::testing::{ctrl, found, key, model_as, recipient};
use crate::app::update::update;
use crate::app::{Effect, Msg};
use crate::db::recipients::{NewRecipient, Upserted};
use crate::domain::Role;
use crate::term::input::PASTE_CAP;

fn model(role: Role) -> Model {
    let mut m = model_as("boss", role);
    m.screen = Screen::Recipients;
    m.search.results = vec![
        found(7, "Ada Lovelace", "A-101"),
        found(9, "Ada Lovelace", "A101"),
    ];
    m
}

/// Types `text`; none of it asks for an effect.
fn typed(m: &mut Model, text: &str) {
    assert!(crate::app::testing::typed(m, text).is_empty());
}

fn admin_effect(fx: &[Effect]) -> &AdminEffect {
    match fx {
        [Effect::RecipientsAdmin(e)] => e,
        other => panic!("expected one admin effect, got {other:?}"),
    }
}

fn msg(m: &mut Model, a: AdminMsg) -> Vec<Effect> {
    update(m, Msg::RecipientsAdmin(a))
}

#[test]
fn operators_and_viewers_get_the_read_only_screen() {
    for role in [Role::Operator, Role::Viewer] {
        let mut m = model(role);
        for c in ['n', 'e', 'd', 'g', 'o'] {
            assert!(update(&mut m, ctrl(c)).is_empty(), "{role:?} ctrl-{c}");
            assert!(matches!(m.recipients_admin.mode, Mode::Browse));
            let (text, tone) = m.status.clone().unwrap();
            assert_eq!(tone, Tone::Error);
            assert!(text.contains("for admins"), "{text}");
        }
        // The search still works.
        assert!(matches!(
            update(&mut m, key(KeyCode::Char('x'))).as_slice(),
            [Effect::Search { .. }]
        ));
    }
}

#[test]
fn a_kiosk_never_reaches_recipient_admin() {
    let mut m = Model::new_kiosk("Demo", "demo", "Front", 80, 24, Utc::now());
    if let Some(k) = m.kiosk.as_mut() {
        k.locked = false;
    }
    m.me.role = Role::Admin;
    m.screen = Screen::Recipients;
    assert!(update(&mut m, ctrl('n')).is_empty());
    assert!(m.status.unwrap().0.contains("kiosk"));
}

#[test]
fn create_validates_locally_then_saves() {
    let mut m = model(Role::Admin);
    m.search.query.set("Grace");
    assert!(update(&mut m, ctrl('n')).is_empty());
    let Mode::Form(form) = &m.recipients_admin.mode else {
        panic!("form expected");
    };
    assert_eq!(form.fields[0].text(), "Grace", "the query starts the name");
    typed(&mut m, " Hopper");
    update(&mut m, key(KeyCode::Tab));
    typed(&mut m, "B-2");
    update(&mut m, key(KeyCode::Tab));
    typed(&mut m, "not-an-email");
    // Ctrl-S saves from any field: the bad email is reported on its field, no effect.
    assert!(update(&mut m, ctrl('s')).is_empty());
    let Mode::Form(form) = &m.recipients_admin.mode else {
        panic!("form expected");
    };
    assert_eq!(form.focus, 2);
    let (field, text) = form.error.clone().unwrap();
    assert_eq!(field, Some(FieldName::Email));
    assert!(
        text.contains("email `not-an-email` is not a valid address"),
        "{text}"
    );
    // Fix it: editing the field clears its error.
    update(&mut m, ctrl('u'));
    let Mode::Form(form) = &m.recipients_admin.mode else {
        panic!("form expected");
    };
    assert!(form.error.is_none());
    typed(&mut m, "grace@Navy.MIL");
    for _ in 0..2 {
        update(&mut m, key(KeyCode::Enter));
    }
    typed(&mut m, "Amazing Grace");
    let fx = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        admin_effect(&fx),
        &AdminEffect::Create(RecipientFields {
            name: "Grace Hopper".into(),
            unit: "B-2".into(),
            email: "grace@Navy.MIL".into(),
            phone: String::new(),
            aliases: "Amazing Grace".into(),
        })
    );
    // Keys while saving change nothing.
    assert!(update(&mut m, key(KeyCode::Char('x'))).is_empty());
    let fx = msg(
        &mut m,
        AdminMsg::Saved(Ok(recipient(11, "Grace Hopper", "B-2"))),
    );
    assert!(matches!(m.recipients_admin.mode, Mode::Browse));
    assert!(
        matches!(fx.as_slice(), [Effect::Search { .. }]),
        "refreshes the list"
    );
    assert_eq!(m.status.clone().unwrap().0, "added Grace Hopper (B-2)");
}

#[test]
fn too_long_name_is_specific() {
    // The form's field holds at most 200 characters; the server checks the same rule.
    let long = RecipientFields {
        name: "x".repeat(201),
        ..Default::default()
    };
    assert_eq!(
        long.validate().unwrap_err().message,
        "name is longer than 200 characters"
    );
    let empty = RecipientFields::default();
    assert_eq!(empty.validate().unwrap_err().field, FieldName::Name);
    let phone = RecipientFields {
        name: "A".into(),
        phone: "call me".into(),
        ..Default::default()
    };
    assert_eq!(
        phone.validate().unwrap_err().message,
        "phone `call me` is not a valid number"
    );
}

#[test]
fn edit_loads_full_contact_then_conflict_stays_in_form() {
    let mut m = model(Role::Admin);
    update(&mut m, key(KeyCode::Down));
    let fx = update(&mut m, ctrl('e'));
    assert_eq!(admin_effect(&fx), &AdminEffect::LoadForEdit(9));
    let Mode::Form(form) = &m.recipients_admin.mode else {
        panic!("form expected");
    };
    assert!(form.loading);
    // Typing while loading does nothing.
    assert!(update(&mut m, key(KeyCode::Char('z'))).is_empty());
    msg(
        &mut m,
        AdminMsg::Loaded(Ok(recipient(9, "Ada Lovelace", "A101"))),
    );
    let Mode::Form(form) = &m.recipients_admin.mode else {
        panic!("form expected");
    };
    assert!(!form.loading);
    assert_eq!(form.fields[2].text(), "ada@example.org");
    assert_eq!(form.fields[3].text(), "+15550101234");
    update(&mut m, key(KeyCode::Tab));
    update(&mut m, ctrl('u'));
    typed(&mut m, "A-101");
    let fx = update(&mut m, ctrl('s'));
    let AdminEffect::Update { id, fields } = admin_effect(&fx) else {
        panic!("update expected");
    };
    assert_eq!((*id, fields.unit.as_str()), (9, "A-101"));
    let fx = msg(
        &mut m,
        AdminMsg::Saved(Err(Failure::new(
            FailureKind::Conflict,
            "a recipient named `Ada Lovelace` in unit `A-101` already exists",
        ))),
    );
    assert!(fx.is_empty());
    let Mode::Form(form) = &m.recipients_admin.mode else {
        panic!("the form stays open on an error");
    };
    assert!(!form.saving);
    assert_eq!(form.error.as_ref().unwrap().0, Some(FieldName::Name));
    // Esc cancels without saving.
    assert!(update(&mut m, key(KeyCode::Esc)).is_empty());
    assert!(matches!(m.recipients_admin.mode, Mode::Browse));
    assert_eq!(m.screen, Screen::Recipients);
}

#[test]
fn deactivate_and_reactivate() {
    let mut m = model(Role::Admin);
    let fx = update(&mut m, ctrl('d'));
    assert_eq!(
        admin_effect(&fx),
        &AdminEffect::SetActive {
            id: 7,
            active: false
        }
    );
    let mut r = recipient(7, "Ada Lovelace", "A-101");
    r.active = false;
    let fx = msg(&mut m, AdminMsg::Activated(Ok((r.clone(), 2))));
    assert!(matches!(fx.as_slice(), [Effect::Search { .. }]));
    assert!(
        m.status
            .clone()
            .unwrap()
            .0
            .contains("2 packages still waiting")
    );
    m.search.results[0].recipient = r;
    let fx = update(&mut m, ctrl('d'));
    assert_eq!(
        admin_effect(&fx),
        &AdminEffect::SetActive {
            id: 7,
            active: true
        }
    );
}

fn preview(keep: i64, dup: i64) -> MergePreview {
    MergePreview {
        keep: recipient(keep, "Ada Lovelace", "A-101"),
        duplicate: recipient(dup, "Ada Lovelace", "A101"),
        waiting: 1,
        total: 3,
    }
}

#[test]
fn merge_picks_keep_then_duplicate_then_confirms() {
    let mut m = model(Role::Admin);
    assert!(update(&mut m, ctrl('g')).is_empty());
    assert!(matches!(
        &m.recipients_admin.mode,
        Mode::PickDuplicate { keep, .. } if keep.id == 7
    ));
    // The kept one itself is refused as its own duplicate.
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert!(m.status.clone().unwrap().0.contains("select its duplicate"));
    // Searching works while picking.
    assert!(matches!(
        update(&mut m, key(KeyCode::Char('a'))).as_slice(),
        [Effect::Search { .. }]
    ));
    update(&mut m, key(KeyCode::Down));
    let fx = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        admin_effect(&fx),
        &AdminEffect::MergePreview {
            keep: 7,
            duplicate: 9
        }
    );
    // A second Enter while checking sends nothing more.
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    msg(&mut m, AdminMsg::MergePreview(Ok(preview(7, 9))));
    assert!(matches!(
        m.recipients_admin.mode,
        Mode::ConfirmMerge { busy: false, .. }
    ));
    let fx = update(&mut m, key(KeyCode::Char('y')));
    assert_eq!(
        admin_effect(&fx),
        &AdminEffect::Merge {
            keep: 7,
            duplicate: 9
        }
    );
    assert!(update(&mut m, key(KeyCode::Char('y'))).is_empty(), "busy");
    let mut dup = recipient(9, "Ada Lovelace", "A101");
    dup.active = false;
    let fx = msg(
        &mut m,
        AdminMsg::Merged(Ok(Merged {
            kept: recipient(7, "Ada Lovelace", "A-101"),
            duplicate: dup,
            moved: vec![1, 2, 3],
            waiting_moved: 1,
        })),
    );
    assert!(matches!(fx.as_slice(), [Effect::Search { .. }]));
    assert!(matches!(m.recipients_admin.mode, Mode::Browse));
    let text = m.status.clone().unwrap().0;
    assert!(text.contains("3 packages moved (1 waiting)"), "{text}");
}

#[test]
fn merge_can_be_cancelled_at_each_step() {
    let mut m = model(Role::Admin);
    update(&mut m, ctrl('g'));
    assert!(update(&mut m, key(KeyCode::Esc)).is_empty());
    assert!(matches!(m.recipients_admin.mode, Mode::Browse));
    assert_eq!(
        m.screen,
        Screen::Recipients,
        "Esc ends the merge, not the screen"
    );
    update(&mut m, ctrl('g'));
    update(&mut m, key(KeyCode::Down));
    update(&mut m, key(KeyCode::Enter));
    msg(&mut m, AdminMsg::MergePreview(Ok(preview(7, 9))));
    assert!(update(&mut m, key(KeyCode::Char('n'))).is_empty());
    assert!(matches!(m.recipients_admin.mode, Mode::Browse));
    assert!(m.status.clone().unwrap().0.contains("nothing changed"));
    // A late preview after cancelling is ignored.
    msg(&mut m, AdminMsg::MergePreview(Ok(preview(7, 9))));
    assert!(matches!(m.recipients_admin.mode, Mode::Browse));
}

const CSV: &str = "name,unit,email,phone,aliases\n\
                   Ada Lovelace,A-101,ada@example.org,,\n\
                   Bob,B-1,bad-email,,\n\
                   Carol,C-1,,,\n";

fn planned() -> Plan {
    let parsed = crate::admin::import::parse(CSV.as_bytes(), 100).unwrap();
    plan(parsed, &[recipient(7, "Ada Lovelace", "A-101")])
}

#[test]
fn import_paste_preview_confirm_progress_summary() {
    let mut m = model(Role::Admin);
    assert!(update(&mut m, ctrl('o')).is_empty());
    // Enter before any paste: nothing to preview.
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert!(update(&mut m, Msg::Paste(CSV.into())).is_empty());
    let Mode::Import(state) = &m.recipients_admin.mode else {
        panic!("import expected");
    };
    assert_eq!(state.lines, 4);
    let fx = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        admin_effect(&fx),
        &AdminEffect::PlanImport {
            csv: CSV.into(),
            options: Default::default()
        },
        "the plain header needs no columns step"
    );
    let p = planned();
    assert_eq!(
        p.counts(),
        Counts {
            added: 1,
            updated: 1,
            unchanged: 0,
            rejected: 1,
            moved_out: None,
        },
        "Ada differs (no phone, no alias): updated; Carol is new; Bob is rejected"
    );
    msg(&mut m, AdminMsg::ImportPlan(Ok(p.clone())));
    let fx = update(&mut m, key(KeyCode::Enter));
    assert_eq!(admin_effect(&fx), &AdminEffect::ApplyImport(p));
    msg(&mut m, AdminMsg::ImportProgress { done: 1, total: 2 });
    let Mode::Import(ImportState {
        step: ImportStep::Applying { done, total, .. },
        ..
    }) = &m.recipients_admin.mode
    else {
        panic!("applying expected");
    };
    assert_eq!((*done, *total), (1, 2));
    // Esc cannot stop a running import.
    update(&mut m, key(KeyCode::Esc));
    assert!(matches!(
        &m.recipients_admin.mode,
        Mode::Import(ImportState {
            step: ImportStep::Applying { .. },
            ..
        })
    ));
    let counts = Counts {
        added: 1,
        updated: 1,
        unchanged: 0,
        rejected: 1,
        moved_out: None,
    };
    msg(&mut m, AdminMsg::ImportDone(Ok(counts)));
    assert!(matches!(
        &m.recipients_admin.mode,
        Mode::Import(ImportState {
            step: ImportStep::Done(Ok(_)),
            ..
        })
    ));
    let fx = update(&mut m, key(KeyCode::Enter));
    assert!(matches!(fx.as_slice(), [Effect::Search { .. }]));
    assert!(matches!(m.recipients_admin.mode, Mode::Browse));
}

#[test]
fn import_esc_before_confirm_writes_nothing() {
    for at_preview in [false, true] {
        let mut m = model(Role::Admin);
        update(&mut m, ctrl('o'));
        update(&mut m, Msg::Paste(CSV.into()));
        update(&mut m, key(KeyCode::Enter));
        if at_preview {
            msg(&mut m, AdminMsg::ImportPlan(Ok(planned())));
        }
        assert!(update(&mut m, key(KeyCode::Esc)).is_empty());
        assert!(matches!(m.recipients_admin.mode, Mode::Browse));
        assert!(m.status.clone().unwrap().0.contains("nothing written"));
        // A late plan answer does not reopen anything.
        assert!(msg(&mut m, AdminMsg::ImportPlan(Ok(planned()))).is_empty());
        assert!(matches!(m.recipients_admin.mode, Mode::Browse));
    }
}

#[test]
fn import_bad_header_returns_to_paste_with_the_reason() {
    let mut m = model(Role::Admin);
    update(&mut m, ctrl('o'));
    // No unit column: the columns step says what is missing, and nothing is asked for.
    update(&mut m, Msg::Paste("name,email\nA,a@b.co\n".into()));
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert!(m.status.clone().unwrap().0.contains("column for the unit"));
    update(&mut m, ctrl('u'));
    // The server refuses the paste (here: too large): back to the paste with the reason.
    update(&mut m, Msg::Paste(CSV.into()));
    update(&mut m, key(KeyCode::Enter));
    msg(
        &mut m,
        AdminMsg::ImportPlan(Err(Failure::new(
            FailureKind::Invalid,
            "the CSV is 40000000 bytes; the limit is 33554432 bytes: split it",
        ))),
    );
    let Mode::Import(state) = &m.recipients_admin.mode else {
        panic!("import expected");
    };
    assert!(matches!(state.step, ImportStep::Paste));
    assert!(state.error.as_deref().unwrap().contains("split it"));
    // Ctrl-U clears for a new paste.
    update(&mut m, ctrl('u'));
    let Mode::Import(state) = &m.recipients_admin.mode else {
        panic!("import expected");
    };
    assert!(state.text.is_empty() && state.error.is_none());
}

#[test]
fn import_pastes_in_parts_and_a_cut_paste_drops_its_partial_line() {
    let mut m = model(Role::Admin);
    update(&mut m, ctrl('o'));
    update(
        &mut m,
        Msg::Paste("name,unit,email,phone,aliases\nA,1,,,".into()),
    );
    // The second part repeats the header: it is skipped.
    update(
        &mut m,
        Msg::Paste("NAME,unit,email,phone,aliases\nB,2,,,\n".into()),
    );
    let Mode::Import(state) = &m.recipients_admin.mode else {
        panic!("import expected");
    };
    assert_eq!(
        state.text,
        "name,unit,email,phone,aliases\nA,1,,,\nB,2,,,\n"
    );
    assert_eq!(state.pastes, 2);
    // A paste at the input limit was cut: the last partial line must not be imported.
    let mut big = String::new();
    let mut i = 0;
    while big.len() < PASTE_CAP - 10 {
        big.push_str(&format!("P{i},{i},p{i}@example.org,,\n"));
        i += 1;
    }
    big.truncate(PASTE_CAP - 2);
    let partial = big.rsplit('\n').next().unwrap().to_string();
    assert!(!partial.is_empty());
    update(&mut m, Msg::Paste(big));
    let Mode::Import(state) = &m.recipients_admin.mode else {
        panic!("import expected");
    };
    assert!(state.text.ends_with('\n'));
    assert!(!state.text.contains(&format!("\n{partial}\n")));
    assert!(
        state
            .cut
            .as_deref()
            .unwrap()
            .contains("paste the rest next")
    );
    assert_eq!(m.status.clone().unwrap().1, Tone::Warning);
}

#[test]
fn masks() {
    assert_eq!(mask_email("ada@example.org"), "a***@example.org");
    assert_eq!(mask_phone("+15550101234"), "***34");
    assert_eq!(mask_phone("1"), "***1");
}

#[test]
fn plan_marks_rows_against_current_recipients() {
    let existing = vec![recipient(7, "Ada Lovelace", "A-101")];
    let rows = vec![
        NewRecipient {
            name: "ada lovelace".into(),
            unit: "a-101".into(),
            email: Some("ada@example.org".into()),
            phone: Some("+15550101234".into()),
            aliases: vec!["Ada".into()],
        },
        NewRecipient {
            name: "New".into(),
            unit: String::new(),
            email: None,
            phone: None,
            aliases: vec![],
        },
    ];
    let p = plan(
        crate::admin::import::Parsed {
            rows,
            rejected: vec![Rejected {
                line: 4,
                reason: "x".into(),
            }],
            ..Default::default()
        },
        &existing,
    );
    assert_eq!(p.changes, vec![Upserted::Unchanged, Upserted::Added]);
    assert_eq!(p.writes(), 1);
    let mut inactive = existing[0].clone();
    inactive.active = false;
    let p2 = plan(
        crate::admin::import::Parsed {
            rows: p.rows.clone(),
            rejected: vec![],
            ..Default::default()
        },
        &[inactive],
    );
    assert_eq!(p2.changes[0], Upserted::Updated, "an import reactivates");
}
