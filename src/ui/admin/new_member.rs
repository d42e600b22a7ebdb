//! The Members tab's "new member" form, drawn over the member list: login, name, role,
//! sign-in method, then the password twice (dots only) or the public key with what it
//! would register.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::channels::clean;
use super::keys::short_algorithm;
use crate::app::admin::new_member::{Field, MemberForm, Method};
use crate::ui::theme::Theme;
use crate::ui::widgets::field;

/// What to type into the field in focus.
fn help(form: &MemberForm) -> &'static str {
    match form.field() {
        Field::Login => "lower-case letters, digits, . _ - (they log in as LOGIN+FACILITY)",
        Field::Name => "as shown in lists; empty: the login",
        Field::Role => "Space: operator (intake, pickup) · viewer (looks) · admin (all)",
        Field::Method => "Space: a password (then TOTP) or the member's public key",
        Field::Password => "at least 8 characters; tell it to the member, not in writing",
        Field::Repeat => "the same password again",
        Field::Key => "paste the line from the member's id_ed25519.pub (or similar)",
    }
}

pub fn draw(f: &mut Frame, area: Rect, form: &MemberForm, t: &Theme) {
    let w = area.width as usize;
    let value_w = w.saturating_sub(13);
    let mut lines = vec![Line::from(Span::styled(
        "New member of this facility",
        t.title,
    ))];
    let mut focus_line = 0;
    for (i, fl) in form.fields().iter().enumerate() {
        let focused = i == form.focus && !form.busy;
        let choice = |text: String| {
            let style = if focused { t.selected } else { t.text };
            Line::from(vec![
                Span::styled(format!("{:<11}", fl.label()), t.title),
                Span::styled(format!("‹ {text} ›"), style),
            ])
        };
        let line = match fl {
            Field::Login => field(fl.label(), &form.login, focused, value_w, t),
            Field::Name => field(fl.label(), &form.name, focused, value_w, t),
            Field::Role => choice(form.role.to_string()),
            Field::Method => choice(
                match form.method {
                    Method::Password => "password + TOTP",
                    Method::Key => "public key",
                }
                .to_string(),
            ),
            Field::Password => field(fl.label(), &form.password.dots(), focused, value_w, t),
            Field::Repeat => field(fl.label(), &form.repeat.dots(), focused, value_w, t),
            Field::Key => field(fl.label(), &form.key, focused, value_w, t),
        };
        if i == form.focus {
            focus_line = lines.len();
        }
        lines.push(line);
        if i == form.focus {
            lines.push(Line::from(Span::styled(
                clean(&format!("{:11}{}", "", help(form)), w),
                t.dim,
            )));
        }
    }
    if form.method == Method::Key && !form.key.is_empty() {
        lines.push(match crate::auth::pubkey::parse_line(&form.key.text()) {
            Ok(info) => Line::from(Span::styled(
                clean(
                    &format!(
                        "{:11}{} {} {}",
                        "",
                        short_algorithm(&info.algorithm),
                        info.fingerprint,
                        info.comment
                    ),
                    w,
                ),
                t.success,
            )),
            Err(e) => Line::from(Span::styled(clean(&format!("{:11}{e}", ""), w), t.error)),
        });
    }
    lines.push(Line::from(""));
    if let Some(e) = &form.error {
        lines.push(Line::from(Span::styled(clean(e, w), t.error)));
    } else if form.busy {
        lines.push(Line::from(Span::styled("adding…", t.info)));
    } else if form.method == Method::Password {
        lines.push(Line::from(Span::styled(
            "Next: their TOTP (QR code), so the password logs in.",
            t.dim,
        )));
    } else {
        lines.push(Line::from(Span::styled(
            "The key logs in to this facility only.",
            t.dim,
        )));
    }
    let rows = area.height as usize;
    let skip = (focus_line + 2).saturating_sub(rows);
    let lines: Vec<Line> = lines.into_iter().skip(skip).collect();
    f.render_widget(Paragraph::new(lines), area);
}
