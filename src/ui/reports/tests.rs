//! Number formats of the reports screen.

#[test]
fn numbers_read_well() {
    assert_eq!(super::thousands(0), "0");
    assert_eq!(super::thousands(999), "999");
    assert_eq!(super::thousands(1000), "1,000");
    assert_eq!(super::thousands(1_234_567), "1,234,567");
    assert_eq!(super::human_hours(5.25), "5.2h");
    assert_eq!(super::human_hours(37.5), "1d 13.5h");
}

mod parcels {
    //! The Parcels tab at 80x24, 60x20 and in mono; the export line; stored text that
    //! holds an escape sequence.

    use chrono::{Duration, NaiveDate, TimeZone, Utc};

    use crate::app::model::{Model, Screen};
    use crate::app::reports_screen::day::visible_rows;
    use crate::domain::Role;
    use crate::reports::{DayExport, DayPage, DayTotals, ParcelRow, Report};
    use crate::term::ColorDepth;
    use crate::ui::testing::{assert_mono, model_as, render};

    fn at(h: u32, mi: u32) -> chrono::DateTime<Utc> {
        // 2026-11-24 in New York (UTC-5).
        Utc.with_ymd_and_hms(2026, 11, 24, h + 5, mi, 0).unwrap()
    }

    fn parcel(
        id: i64,
        tracking: &str,
        who: Option<(&str, &str)>,
        received: chrono::DateTime<Utc>,
    ) -> ParcelRow {
        ParcelRow {
            id,
            tracking: tracking.into(),
            carrier: None,
            recipient: who.map(|(n, _)| n.to_string()),
            unit: who.map(|(_, u)| u.to_string()),
            status: "waiting".into(),
            location: "Shelf A".into(),
            received_at: received,
            picked_up_at: None,
            collected_by: None,
            proxy: false,
            received_by: Some("clerk".into()),
            handed_over_by: None,
        }
    }

    fn picked(mut p: ParcelRow, when: chrono::DateTime<Utc>, by: &str, proxy: bool) -> ParcelRow {
        p.status = "picked_up".into();
        p.picked_up_at = Some(when);
        p.collected_by = Some(by.into());
        p.proxy = proxy;
        p
    }

    /// A day of 41 parcels, the first eighteen loaded: intakes and pickups of that day, one
    /// received four days before, one unmatched, one returned.
    fn day_page() -> DayPage {
        let mut rows = vec![
            picked(
                parcel(
                    1,
                    "9400100000000000000005",
                    Some(("Alan Turing", "B-2")),
                    at(0, 0) - Duration::days(4),
                ),
                at(8, 5),
                "Joan Clarke",
                true,
            ),
            picked(
                parcel(
                    2,
                    "1Z5R89390357567127",
                    Some(("Ada Lovelace", "A-101")),
                    at(8, 12),
                ),
                at(14, 5),
                "Ada Lovelace",
                false,
            ),
            parcel(
                3,
                "986578788855",
                Some(("Grace Brewster Murray Hopper", "C-1204")),
                at(9, 1),
            ),
            parcel(4, "PT-7KQ2M9XD", None, at(9, 40)),
        ];
        rows[2].status = "waiting".into();
        let mut returned = parcel(
            5,
            "420100019400111899223344556677",
            Some(("Edsger Dijkstra", "D-7")),
            at(10, 15),
        );
        returned.status = "returned".into();
        rows.push(returned);
        for i in 6..=18 {
            rows.push(parcel(
                i,
                &format!("1Z999AA1012345{i:04}"),
                Some(("Barbara Liskov", "E-3")),
                at(10, 30 + i as u32),
            ));
        }
        DayPage {
            day: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            today: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            time_zone: "America/New_York".into(),
            totals: DayTotals {
                listed: 41,
                received: 40,
                picked_up: 12,
                waiting: 27,
            },
            offset: 0,
            rows,
        }
    }

    fn model(role: Role) -> Model {
        let mut m = model_as("boss", role);
        m.screen = Screen::Reports;
        m.reports.tab = Report::Parcels;
        m.reports.day.page = Some(day_page());
        m.reports.day.cursor = 1;
        m
    }

    #[test]
    fn the_days_parcels_at_80x24_60x20_and_mono() {
        let m = model(Role::Operator);
        let s = render(&m, 80, 24, ColorDepth::Ansi256);
        for want in [
            " 2026-11-24 · received 40 · picked up 12 · 27 still waiting · America/New_York",
            "Parcels of Tue 2026-11-24 · 41",
            "1–16 of 41",
            "11-20 …0000000005 Alan Turing · B-2",
            "08:05 Joan Clarke (proxy)",
            "14:05 Ada Lovelace",
            "(unmatched)",
            "returned",
        ] {
            assert!(s.contains(want), "{want}:\n{s}");
        }
        assert_eq!(visible_rows(24), 16);
        assert!(!s.contains("export CSV"), "operators do not export:\n{s}");
        insta::assert_snapshot!("reports_parcels_80x24", s);
        let s = render(&m, 60, 20, ColorDepth::Ansi256);
        assert!(s.contains("1–12 of 41"), "{s}");
        insta::assert_snapshot!("reports_parcels_60x20", s);
        assert_mono(&m, "parcels");
        // Rows not loaded yet show as such, not as blanks or someone else's.
        let mut m = model(Role::Admin);
        m.reports.day.cursor = 20;
        m.reports.day.top = 10;
        let s = render(&m, 80, 24, ColorDepth::Ansi256);
        assert!(s.contains("11–26 of 41") && s.contains("│ …      "), "{s}");
        assert!(
            s.contains("e export CSV"),
            "admins see the export key:\n{s}"
        );
    }

    #[test]
    fn the_export_answer_shows_one_line_to_copy() {
        let mut m = model(Role::Admin);
        m.reports.day.export = Some(DayExport {
            day: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            rows: 41,
        });
        let s = render(&m, 80, 24, ColorDepth::Ansi256);
        // On a line of its own from the first column: it copies whole.
        let line = "ssh boss+demo@HOST reports parcels --day 2026-11-24 --csv > parcels.csv";
        assert!(s.lines().any(|l| l == line), "{s}");
        assert!(s.contains("41 parcels · recorded in the audit log"), "{s}");
        insta::assert_snapshot!("reports_parcels_export_80x24", s);
        // Wider: the date in the file name.
        let s = render(&m, 100, 24, ColorDepth::Ansi256);
        let line =
            "ssh boss+demo@HOST reports parcels --day 2026-11-24 --csv > parcels-2026-11-24.csv";
        assert!(s.lines().any(|l| l == line), "{s}");
        // Narrower than the line: it wraps rather than being cut (nothing of it is lost).
        let s = render(&m, 60, 20, ColorDepth::Ansi256);
        let joined: String = s.lines().map(str::trim_end).collect::<Vec<_>>().join(" ");
        assert!(
            joined.contains(
                "ssh boss+demo@HOST reports parcels --day 2026-11-24 --csv > parcels.csv"
            ),
            "{s}"
        );
        insta::assert_snapshot!("reports_parcels_export_60x20", s);
    }

    /// A recipient name or receiver holding an escape sequence (stored before the text
    /// checks, or written around them) is shown as text, never sent to the terminal.
    #[test]
    fn day_list_never_writes_a_stored_escape_sequence() {
        let mut m = model(Role::Operator);
        let page = m.reports.day.page.as_mut().unwrap();
        page.rows[1].recipient = Some("Eve\u{1b}]0;pwned\u{7}".into());
        page.rows[1].collected_by = Some("Mallory\u{1b}[2J".into());
        page.rows[1].tracking = "\u{202e}1Z5R89390357567127".into();
        let s = render(&m, 80, 24, ColorDepth::Ansi256);
        assert!(
            !s.contains('\u{1b}') && !s.contains('\u{7}') && !s.contains('\u{202e}'),
            "{s:?}"
        );
        assert!(
            s.contains("Eve\\u001b]0;p") && s.contains("Mallory\\u001b[2J"),
            "{s}"
        );
    }
}
