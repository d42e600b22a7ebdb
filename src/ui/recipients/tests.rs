//! Snapshots of the recipients admin: the form, the merge confirmation, the import preview
//! with rejected rows, its progress and summary; at 80x24, 60x20 and in monochrome.

use std::collections::HashMap;

use crate::admin::import::{
    ColumnMap, Columns, Counts, ImportOptions, MovedOut, Parsed, Rejected, Target, parse_with,
    plan, plan_with,
};
use crate::app::model::{Model, Screen};
use crate::app::recipients::admin::{ImportState, ImportStep, Mode, RecipientForm};
use crate::db::recipients::{NewRecipient, Recipient};
use crate::domain::Role;
use crate::ops::{Found, MergePreview};
use crate::search::{Field, Hit};
use crate::term::ColorDepth;
use crate::ui::testing::{assert_mono, assert_snapshot_as, model_as, render};

fn recipient(
    id: i64,
    name: &str,
    unit: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> Recipient {
    Recipient {
        id,
        name: name.into(),
        unit: unit.into(),
        email: email.map(str::to_string),
        phone: phone.map(str::to_string),
        aliases: vec!["Ada".into()],
        active: true,
    }
}

fn model(role: Role) -> Model {
    let mut m = model_as("boss", role);
    m.screen = Screen::Recipients;
    m.search.query.set("ada");
    m.search.results = [
        recipient(
            1,
            "Ada Lovelace",
            "A-101",
            Some("ada@example.org"),
            Some("+15550101234"),
        ),
        recipient(9, "Ada Lovelace", "A101", None, Some("5550109")),
        recipient(4, "Adam Smith", "B-204", Some("adam@example.net"), None),
    ]
    .into_iter()
    .map(|r| Found {
        hit: Hit {
            id: r.id,
            score: 100,
            field: Field::Name,
            indices: vec![0, 1, 2],
            suggested: false,
        },
        recipient: r,
    })
    .collect();
    m
}

/// 80x24, 60x20 and mono (80x24), named `NAME_80x24` etc.
fn snapshots(name: &str, m: &Model) {
    snap(
        format!("{name}_80x24"),
        render(m, 80, 24, ColorDepth::Ansi256),
    );
    snap(
        format!("{name}_60x20"),
        render(m, 60, 20, ColorDepth::Ansi256),
    );
    snap(format!("{name}_mono"), render(m, 80, 24, ColorDepth::Mono));
    assert_mono(m, name);
}

#[test]
fn admin_list_masks_contact_data() {
    let m = model(Role::Admin);
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("a***@example.org"), "{s}");
    assert!(!s.contains("ada@example.org"), "{s}");
    assert!(!s.contains("0101234"), "{s}");
    assert!(s.contains("^G merge"), "{s}");
    snap("recipients_admin_list_80x24", s);
    let op = render(&model(Role::Operator), 80, 24, ColorDepth::Ansi256);
    assert!(!op.contains("^N"), "operators get no admin hints: {op}");
    assert!(!op.contains("ada@example.org"), "{op}");
    assert!(
        !op.contains("a***@example.org") && !op.contains("***34"),
        "operators see no contact data, not even masked: {op}"
    );
}

#[test]
fn form_with_a_field_error() {
    let mut m = model(Role::Admin);
    let mut form = RecipientForm::new(Some(9));
    form.loading = false;
    let values = [
        "Ada Lovelace",
        "A101",
        "ada@example",
        "5550109",
        "Ada; A. Lovelace",
    ];
    for (f, v) in form.fields.iter_mut().zip(values) {
        f.set(v);
    }
    form.focus = 2;
    form.error = Some((
        Some(crate::admin::import::FieldName::Email),
        "email `ada@example` is not a valid address".into(),
    ));
    m.recipients_admin.mode = Mode::Form(form);
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(
        s.contains("Edit recipient #9") && s.contains("not a valid address"),
        "{s}"
    );
    snapshots("recipient_form", &m);
}

#[test]
fn merge_confirmation() {
    let mut m = model(Role::Admin);
    m.recipients_admin.mode = Mode::ConfirmMerge {
        preview: MergePreview {
            keep: recipient(1, "Ada Lovelace", "A-101", None, None),
            duplicate: recipient(9, "Ada Lovelace", "A101", None, None),
            waiting: 2,
            total: 5,
        },
        busy: false,
    };
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(
        s.contains("5 move to the kept recipient (2 waiting)"),
        "{s}"
    );
    snapshots("recipient_merge", &m);
}

fn import_model(step: ImportStep) -> Model {
    let mut m = model(Role::Admin);
    m.recipients_admin.mode = Mode::Import(ImportState {
        text: "name,unit,email,phone,aliases\n".into(),
        lines: 14,
        pastes: 1,
        step,
        ..ImportState::default()
    });
    m
}

fn preview_plan() -> crate::admin::import::Plan {
    let row = |name: &str, unit: &str| NewRecipient {
        name: name.into(),
        unit: unit.into(),
        email: None,
        phone: None,
        aliases: vec![],
    };
    plan(
        Parsed {
            rows: vec![
                row("Ada Lovelace", "A-101"),
                row("Grace Hopper", "B-2"),
                row("Alan Turing", "C-3"),
            ],
            rejected: vec![
                Rejected {
                    line: 4,
                    reason: "email `bob@` is not a valid address".into(),
                },
                Rejected {
                    line: 7,
                    reason: "name is required".into(),
                },
                Rejected {
                    line: 9,
                    reason: "duplicate of line 2 (same name and unit `A-101`)".into(),
                },
            ],
            lines: vec![2, 3, 5],
            ..Default::default()
        },
        &[recipient(1, "Ada Lovelace", "A-101", None, None)],
    )
}

#[test]
fn import_paste_preview_progress_and_summary() {
    let m = import_model(ImportStep::Paste);
    snapshots("import_paste", &m);
    let m = import_model(ImportStep::Preview(Box::new(preview_plan())));
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(
        s.contains("line     4  rejected  email `bob@` is not a valid address"),
        "{s}"
    );
    assert!(s.contains("2 to add") && s.contains("1 to update"), "{s}");
    assert!(s.contains("3 rejected"), "{s}");
    assert!(
        s.contains("line     3  new       Grace Hopper, unit B-2"),
        "{s}"
    );
    snapshots("import_preview", &m);
    let planned = preview_plan().counts();
    let m = import_model(ImportStep::Applying {
        planned,
        done: 1500,
        total: 3000,
    });
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("1500 / 3000 rows"), "{s}");
    snapshots("import_progress", &m);
    let m = import_model(ImportStep::Done(Ok(Counts {
        added: 2,
        updated: 1,
        unchanged: 0,
        rejected: 3,
        moved_out: None,
    })));
    snapshots("import_summary", &m);
}

fn columns_model(deactivate: bool) -> Model {
    let header: Vec<String> = "Unit Number,Resident,E-mail,Mobile,Balance,Lease End,Move-in Date"
        .split(',')
        .map(str::to_string)
        .collect();
    let mut columns = Columns::guess(&header);
    columns.set(Target::Unit, None);
    let mut m = import_model(ImportStep::Columns);
    let Mode::Import(state) = &mut m.recipients_admin.mode else {
        unreachable!()
    };
    state.columns = Some(columns);
    state.field = 3;
    state.deactivate_missing = deactivate;
    m
}

#[test]
fn import_columns_step() {
    let m = columns_model(true);
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    for want in [
        "▸ Unit        — none: required, choose a column",
        "  Name        ← Resident",
        "  First name  — not needed: the name column",
        "  Email       ← E-mail",
        "  Aliases     — none: kept as stored",
        "Ignored: `Unit Number`, `Balance`, `Lease End`, `Move-in Date`",
        "[x] deactivate residents not in this file (move-outs)",
        "←/→ column",
    ] {
        assert!(s.contains(want), "{want}: {s}");
    }
    snapshots("import_columns", &m);
}

/// 12 active residents; the file has Ada and a new one: 11 missing, Grace with packages.
fn move_out_plan(requested: bool, allow_mass: bool) -> crate::admin::import::Plan {
    let csv = "Apt,First Name,Last Name,Balance\nA-101,Ada,Lovelace,0\nD-4,Alan,Turing,0\n";
    let parsed = parse_with(csv.as_bytes(), 100, &ColumnMap::default()).unwrap();
    let mut existing = vec![
        recipient(1, "Ada Lovelace", "A-101", None, None),
        recipient(2, "Grace Hopper", "B-2", None, None),
    ];
    existing.extend((3..=12).map(|i| recipient(i, &format!("Resident {i}"), "C", None, None)));
    plan_with(
        parsed,
        &existing,
        &HashMap::from([(2, 3)]),
        &ImportOptions {
            deactivate_missing: requested,
            allow_mass_deactivate: allow_mass,
            ..ImportOptions::default()
        },
    )
}

#[test]
fn import_preview_with_move_outs() {
    let m = import_model(ImportStep::Preview(Box::new(move_out_plan(true, false))));
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(
        s.contains("move-outs refused: the file leaves out 11 of 12 active residents"),
        "{s}"
    );
    assert!(s.contains("Ctrl-Y to confirm"), "{s}");
    assert!(s.contains("Ctrl-Y confirm move-outs"), "{s}");
    assert!(
        s.contains("Columns: first ← First Name, last ← Last Name, unit ← Apt"),
        "{s}"
    );
    assert!(
        s.contains("line     3  new       Alan Turing, unit D-4"),
        "{s}"
    );
    assert!(s.contains("move out  Resident 3, unit C"), "{s}");
    snapshots("import_preview_mass_move_out", &m);
    // Confirmed and scrolled to the end: who is kept, and why.
    let mut m = import_model(ImportStep::Preview(Box::new(move_out_plan(true, true))));
    if let Mode::Import(state) = &mut m.recipients_admin.mode {
        state.scroll = 11;
    }
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(
        s.contains("Move-outs: 10 to deactivate of 12 active; 1 kept active: packages waiting"),
        "{s}"
    );
    assert!(
        s.contains("keep      Grace Hopper, unit B-2 (3 packages waiting)"),
        "{s}"
    );
    snapshots("import_preview_move_outs_confirmed", &m);
    // Off: the count of who is not in the file, and how to switch it on.
    let m = import_model(ImportStep::Preview(Box::new(move_out_plan(false, false))));
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(
        s.contains("Move-outs off (Ctrl-D): 11 active residents not in the file stay active"),
        "{s}"
    );
    assert!(!s.contains("move out "), "{s}");
}

#[test]
fn import_summary_with_move_outs() {
    let m = import_model(ImportStep::Done(Ok(Counts {
        added: 1,
        unchanged: 1,
        moved_out: Some(MovedOut {
            deactivated: 10,
            kept: 1,
        }),
        ..Counts::default()
    })));
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("deactivated 10 (moved out)"), "{s}");
    assert!(s.contains("kept active 1 (packages waiting)"), "{s}");
    snap("import_summary_move_outs_80x24", s);
}

#[test]
fn merge_pick_duplicate_title() {
    let mut m = model(Role::Admin);
    m.recipients_admin.mode = Mode::PickDuplicate {
        keep: recipient(1, "Ada Lovelace", "A-101", None, None),
        checking: false,
    };
    m.search.cursor = 1;
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(
        s.contains("Merge into Ada Lovelace (A-101): select the duplicate"),
        "{s}"
    );
    assert!(s.contains("Enter pick duplicate"), "{s}");
    snap("recipient_merge_pick_80x24", s);
}

/// The intake's recipient step after "kowalsky": the fuzzy match found only a scattered
/// e-mail match, the typo fallback Kowalskis. Each suggestion says "did you mean?" and
/// highlights the corrected word; the weak hit follows unmarked.
#[test]
fn suggestions_are_marked_did_you_mean() {
    use crate::app::model::IntakeStep;
    let mut m = model_as("clerk", Role::Operator);
    m.screen = Screen::Intake;
    m.intake.step = IntakeStep::Recipient;
    m.intake.tracking.set("1Z5R89390357567127");
    m.intake.parsed = Some(crate::label::parse("1Z5R89390357567127"));
    m.search.query.set("kowalsky");
    let mut yuki = recipient(5, "Yuki Sato", "D-2", None, None);
    yuki.aliases.clear();
    m.search.results = [
        (recipient(1, "Aria Kowalski", "C-307", None, None), true),
        (recipient(2, "Jan Kowalski", "B-1204", None, None), true),
        (recipient(3, "Ola Kowalsky-Nowak", "A-12", None, None), true),
        (yuki, false),
    ]
    .into_iter()
    .map(|(r, suggested)| Found {
        hit: Hit {
            id: r.id,
            score: if suggested { 0 } else { 90 },
            field: if suggested { Field::Name } else { Field::Email },
            indices: if r.id == 1 || r.id == 2 {
                (r.name.find('K').unwrap() as u32..r.name.len() as u32).collect()
            } else {
                vec![]
            },
            suggested,
        },
        recipient: r,
    })
    .collect();
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    let row = |name: &str| {
        s.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} not shown:\n{s}"))
            .to_string()
    };
    assert!(row("Aria Kowalski").starts_with("│▶ Aria Kowalski"), "{s}");
    for name in ["Aria Kowalski", "Jan Kowalski", "Ola Kowalsky-Nowak"] {
        assert!(row(name).contains("did you mean?"), "{s}");
    }
    assert!(!row("Yuki Sato").contains("did you mean"), "{s}");
    // The whole row fits 80 columns.
    assert!(
        row("Jan Kowalski")
            .trim_end_matches('│')
            .trim_end()
            .ends_with("did you mean?"),
        "{s}"
    );
    snapshots("intake_suggestions", &m);
    // Narrow: still marked.
    let narrow = render(&m, 60, 20, ColorDepth::Ansi256);
    assert_eq!(narrow.matches("did you mean?").count(), 3, "{narrow}");
}

/// Snapshot files keep the names they had as `ui::recipients_tests`.
fn snap(name: impl AsRef<str>, text: impl AsRef<str>) {
    assert_snapshot_as("recipients_tests", name.as_ref(), text.as_ref());
}

/// A resident's authorised proxies, one highlighted, a new name being typed.
#[test]
fn authorised_proxies() {
    use crate::app::recipients::proxies::ProxiesState;
    let mut m = model(Role::Operator);
    let mut input = crate::app::text::TextField::new(80);
    input.set("Jo Bloggs (neighbour)");
    m.recipients_admin.mode = Mode::Proxies(ProxiesState {
        recipient: recipient(1, "Ada Lovelace", "A-101", None, None),
        names: Some(vec!["Sam Lee (partner)".into(), "Kim Park".into()]),
        cursor: 1,
        input,
        busy: false,
    });
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(
        s.contains("Authorised proxies of Ada Lovelace (A-101)"),
        "{s}"
    );
    assert!(s.contains("> Kim Park"), "{s}");
    assert!(s.contains("Jo Bloggs (neighbour)"), "{s}");
    snapshots("authorised_proxies", &m);
}
