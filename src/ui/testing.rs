//! Test fixtures shared by the views' snapshot tests: a model at a fixed instant, a frame
//! rendered to text, the monochrome check, and snapshots that keep their file names.

use chrono::{DateTime, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::{Theme, view};
use crate::app::model::{Me, Model};
use crate::domain::Role;
use crate::term::ColorDepth;

/// The instant every view test draws at: 2026-11-24 15:00 UTC.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

/// An 80x24 session of `login` with `role` at "Demo Mailroom".
pub(crate) fn model_as(login: &str, role: Role) -> Model {
    Model::new(
        Me {
            login: login.into(),
            slug: "demo".into(),
            facility_name: "Demo Mailroom".into(),
            role,
        },
        80,
        24,
        now(),
    )
}

/// The frame as text, one line per row, trailing blanks trimmed.
pub(crate) fn render(m: &Model, w: u16, h: u16, depth: ColorDepth) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view(f, m, &Theme::for_depth(depth))).unwrap();
    let buf = t.backend().buffer().clone();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The monochrome theme sets no colour anywhere on an 80x24 frame of `m`.
pub(crate) fn assert_mono(m: &Model, what: &str) {
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| view(f, m, &Theme::for_depth(ColorDepth::Mono)))
        .unwrap();
    for cell in t.backend().buffer().content() {
        assert_eq!(
            cell.fg,
            ratatui::style::Color::Reset,
            "{what}: mono sets a color"
        );
        assert_eq!(
            cell.bg,
            ratatui::style::Color::Reset,
            "{what}: mono sets a color"
        );
    }
}

/// A snapshot under the name it had before its test moved next to its view:
/// `src/ui/snapshots/packtrack__ui__<was>__<name>.snap`, so the files stay as they are.
pub(crate) fn assert_snapshot_as(was: &str, name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::assert_snapshot!(format!("packtrack__ui__{was}__{name}"), text);
    });
}
