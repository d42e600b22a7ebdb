use super::*;
use crate::admin::import::{Parsed, parse, parse_with};

fn header(s: &str) -> Vec<String> {
    s.split(',').map(str::to_string).collect()
}

fn map(s: &str) -> ColumnMap {
    s.parse().unwrap()
}

fn parse_str(s: &str) -> Result<Parsed, String> {
    parse(s.as_bytes(), 1000)
}

#[test]
fn synonyms_are_recognised_without_case_spaces_or_punctuation() {
    for (h, want) in [
        ("Unit", Target::Unit),
        ("APT", Target::Unit),
        ("Apt.", Target::Unit),
        ("Apartment", Target::Unit),
        ("Unit Number", Target::Unit),
        ("unit_number", Target::Unit),
        ("Unit #", Target::Unit),
        ("Suite", Target::Unit),
        ("First Name", Target::First),
        ("given name", Target::First),
        ("Last", Target::Last),
        ("Surname", Target::Last),
        ("Family-Name", Target::Last),
        ("Resident", Target::Name),
        ("Resident Name", Target::Name),
        ("Full Name", Target::Name),
        ("E-mail", Target::Email),
        ("Email Address", Target::Email),
        ("Mobile", Target::Phone),
        ("Cell", Target::Phone),
        ("Phone Number", Target::Phone),
        ("Nickname", Target::Aliases),
        ("aliases", Target::Aliases),
    ] {
        assert_eq!(Target::recognise(h), Some(want), "{h}");
    }
    for h in ["Balance", "Lease End", "Move-in Date", "Building", ""] {
        assert_eq!(Target::recognise(h), None, "{h}");
    }
}

#[test]
fn the_plain_header_maps_onto_itself() {
    let c = Columns::resolve(
        &header("name,unit,email,phone,aliases"),
        &ColumnMap::default(),
    )
    .unwrap();
    assert!(c.is_plain());
    assert_eq!(c.ignored(), Vec::<String>::new());
    assert_eq!(c.provided(), Provided::default());
}

#[test]
fn first_and_last_are_joined_in_either_order() {
    let p = parse_str(
        "Unit,First Name,Last Name,Email,Phone\n\
         101,Ada,Lovelace,ada@example.org,555-0101\n\
         102,  Grace , Hopper ,,\n\
         103,,Turing,,\n",
    )
    .unwrap();
    let names: Vec<(&str, &str)> = p
        .rows
        .iter()
        .map(|r| (r.name.as_str(), r.unit.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("Ada Lovelace", "101"),
            ("Grace Hopper", "102"),
            ("Turing", "103")
        ]
    );
    assert_eq!(p.rows[0].phone.as_deref(), Some("5550101"));
    assert_eq!(p.lines, vec![2, 3, 4]);
    // `Apt,Last,First`: the order of the columns does not matter.
    let p = parse_str("Apt,Last,First\n2B,Hopper,Grace\n").unwrap();
    assert_eq!(p.rows[0].name, "Grace Hopper");
    assert_eq!(p.rows[0].unit, "2B");
}

#[test]
fn unknown_columns_are_ignored_and_named() {
    let p = parse_str(
        "Unit Number,Resident Name,E-mail,Mobile,Balance,Lease End\n\
         4C,Ada Lovelace,ada@example.org,+1 555 010 1234,$0.00,2026-01-31\n",
    )
    .unwrap();
    assert_eq!(p.rows.len(), 1, "{:?}", p.rejected);
    assert_eq!(p.rows[0].phone.as_deref(), Some("+15550101234"));
    assert_eq!(p.ignored, vec!["Balance", "Lease End"]);
    assert_eq!(
        p.mapped,
        vec![
            (Target::Name, "Resident Name".into()),
            (Target::Unit, "Unit Number".into()),
            (Target::Email, "E-mail".into()),
            (Target::Phone, "Mobile".into()),
        ]
    );
    // No aliases column: stored aliases are kept, not cleared.
    assert_eq!(
        p.provided,
        Provided {
            email: true,
            phone: true,
            aliases: false
        }
    );
}

#[test]
fn a_full_name_column_wins_over_first_and_last() {
    let c = Columns::guess(&header("Unit,First Name,Last Name,Resident Name"));
    assert_eq!(c.column(Target::Name), Some(3));
    assert_eq!(c.column(Target::First), None);
    assert_eq!(c.ignored(), vec!["First Name", "Last Name"]);
    // The first of two phone columns is read; the second is ignored.
    let c = Columns::guess(&header("Unit,Name,Phone,Mobile"));
    assert_eq!(c.column(Target::Phone), Some(2));
    assert_eq!(c.ignored(), vec!["Mobile"]);
}

#[test]
fn a_byte_order_mark_before_an_export_header_is_not_part_of_it() {
    let p = parse_str("\u{feff}Unit,First Name,Last Name\n1,Ada,Lovelace\n").unwrap();
    assert_eq!(p.rows[0].unit, "1");
    assert_eq!(p.rows[0].name, "Ada Lovelace");
    assert_eq!(
        read_header("\u{feff}Apt , Name\n".as_bytes()).unwrap(),
        vec!["Apt", "Name"]
    );
}

#[test]
fn an_explicit_map_overrides_the_guess() {
    let csv = "Bldg,Door,Occupant Label,Contact\nN,12,Ada Lovelace,ada@example.org\n";
    // Nothing recognisable as a unit or a name: refused, naming what the file has.
    let e = parse_str(csv).unwrap_err();
    assert!(e.starts_with("line 1: expected the header"), "{e}");
    assert!(
        e.contains("no name or unit column among `Bldg`, `Door`, `Occupant Label`, `Contact`"),
        "{e}"
    );
    let p = parse_with(
        csv.as_bytes(),
        100,
        &map("unit=Door, name = occupant label ,email=#4"),
    )
    .unwrap();
    assert_eq!(p.rows[0].name, "Ada Lovelace");
    assert_eq!(p.rows[0].unit, "12");
    assert_eq!(p.rows[0].email.as_deref(), Some("ada@example.org"));
    assert_eq!(p.ignored, vec!["Bldg"]);
    // `field=` leaves a recognised column out: its stored values are kept.
    let p = parse_with(
        b"name,unit,email,phone,aliases\nAda,1,ada@example.org,5550101,\n",
        100,
        &map("phone="),
    )
    .unwrap();
    assert_eq!(p.rows[0].phone, None);
    assert!(!p.provided.phone && p.provided.email);
    assert_eq!(p.ignored, vec!["phone"]);
    // Naming first and last replaces a guessed name column.
    let c = Columns::resolve(
        &header("Name,Unit,Given,Family"),
        &map("first=Given,last=Family"),
    )
    .unwrap();
    assert_eq!(
        (c.column(Target::Name), c.column(Target::First)),
        (None, Some(2))
    );
}

#[test]
fn bad_maps_are_refused_with_what_to_write() {
    for (spec, want) in [
        ("name", "expected FIELD=COLUMN"),
        (
            "flat=Apt",
            "unknown field `flat`; fields: name, first, last, unit",
        ),
        ("unit=A,unit=B", "unit is mapped twice"),
        ("name=A,first=B", "either name or first and last"),
        ("unit=#0", "#1 to #256"),
        ("unit=#x", "#1 to #256"),
    ] {
        let e = spec.parse::<ColumnMap>().unwrap_err();
        assert!(e.contains(want), "{spec}: {e}");
    }
    let h = header("Unit,Name,Phone,Phone");
    let e = Columns::resolve(&h, &map("unit=Apt")).unwrap_err();
    assert!(e.contains("no column `Apt`; the file has `Unit`"), "{e}");
    let e = Columns::resolve(&h, &map("unit=#9")).unwrap_err();
    assert!(e.contains("the file has 4 columns"), "{e}");
    let e = Columns::resolve(&h, &map("phone=phone")).unwrap_err();
    assert!(e.contains("e.g. phone=#4"), "{e}");
    assert_eq!(
        Columns::resolve(&h, &map("phone=#4"))
            .unwrap()
            .column(Target::Phone),
        Some(3)
    );
}

#[test]
fn a_file_without_a_unit_or_name_column_is_refused_naming_its_columns() {
    let e = parse_str("Resident,E-mail\nAda,ada@example.org\n").unwrap_err();
    assert!(
        e.contains("no unit column among `Resident`, `E-mail`: map one, e.g. --map unit=COLUMN"),
        "{e}"
    );
    let e = parse_str("Apt,E-mail\n1,ada@example.org\n").unwrap_err();
    assert!(e.contains("no name column among `Apt`, `E-mail`"), "{e}");
    assert!(e.contains("--map name=COLUMN"), "{e}");
    // A long header is listed in part.
    let many: Vec<String> = (0..60).map(|i| format!("Column {i}")).collect();
    let e = parse_str(&format!("{}\n", many.join(","))).unwrap_err();
    assert!(e.contains("more"), "{e}");
    assert!(e.chars().count() < 300, "{} chars: {e}", e.chars().count());
    let e = parse_str(&format!("{}\n", vec!["x"; MAX_COLUMNS + 1].join(","))).unwrap_err();
    assert!(e.contains("at most 256"), "{e}");
}

#[test]
fn exports_rows_keep_the_field_count_rule() {
    let p = parse_str("Unit,First,Last,Balance\n1,Ada,Lovelace,0\n2,Grace\n").unwrap();
    assert_eq!(p.rows.len(), 1);
    assert_eq!(p.rejected[0].line, 3);
    assert_eq!(p.rejected[0].reason, "expected 4 fields, found 2");
}

#[test]
fn the_console_choices_round_trip_as_a_map() {
    let h = header("Apt,Person,Notes,Cell");
    let mut c = Columns::guess(&h);
    assert_eq!(c.check(), Err("name"));
    c.set(Target::Name, Some(1));
    c.set(Target::Aliases, Some(2));
    c.set(Target::Phone, None);
    assert_eq!(c.check(), Ok(()));
    let again = Columns::resolve(&h, &c.to_map()).unwrap();
    assert_eq!(again, c);
    // Choosing a first name replaces the name column, as an explicit map does.
    c.set(Target::First, Some(1));
    assert_eq!(c.column(Target::Name), None);
    // A column that does not exist is no choice.
    c.set(Target::Unit, Some(99));
    assert_eq!(c.check(), Err("unit"));
}

#[test]
fn header_names_are_shown_escaped_and_cut() {
    let c = Columns::guess(&[
        "Unit".into(),
        "Name".into(),
        "evil\u{1b}[2J".into(),
        "x".repeat(200),
        String::new(),
    ]);
    let ignored = c.ignored();
    assert!(ignored[0].starts_with("evil\\u001b[2J"), "{}", ignored[0]);
    assert!(ignored[1].chars().count() <= 41, "{}", ignored[1]);
    assert_eq!(ignored[2], "column 5");
}
