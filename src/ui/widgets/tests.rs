//! Ages and highlighted search matches.

use super::*;

#[test]
fn ages() {
    assert_eq!(age(30), "0m");
    assert_eq!(age(7200), "2h");
    assert_eq!(age(3 * 86_400 + 5), "3d");
}

#[test]
fn highlight_runs() {
    let base = Style::default();
    let m = Style::default().add_modifier(ratatui::style::Modifier::BOLD);
    let spans = highlighted("Ada", &[0, 2], base, m);
    assert_eq!(spans.len(), 3);
    assert_eq!(spans[0].content, "A");
    assert_eq!(spans[0].style, m);
    assert_eq!(spans[1].content, "d");
}
