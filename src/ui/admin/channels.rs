//! The admin console's Channels tab: the list of integrations (where each sends, whether a
//! secret is set, on or off, how it last went), and a channel's form with its test result.
//! Secrets show as dots while typed and as "set" once stored; everything the server sent is
//! drawn escaped (`domain::text::escape`), so a stored control character cannot act.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::admin::channels::{Busy, Editor, Entry, Field};
use crate::app::model::Model;
use crate::db::integrations::{ChannelKind, ChannelRow};
use crate::ui::theme::Theme;
use crate::ui::widgets::{age, field};

/// Text from the server as it may be drawn: forbidden characters escaped, at most `n`.
pub(super) fn clean(s: &str, n: usize) -> String {
    crate::domain::text::escape(s, &[])
        .chars()
        .take(n)
        .collect()
}

pub fn draw(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let c = &m.admin.channels;
    if let Some(e) = &c.editor {
        draw_editor(f, area, m, e, t);
        return;
    }
    if !c.loaded {
        f.render_widget(Paragraph::new(Span::styled("loading…", t.dim)), area);
        return;
    }
    let w = area.width as usize;
    let url_w = w.saturating_sub(15 + 7 + 17).max(10);
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{:<14} {:<url_w$} {:<6} {}",
            "Channel", "Sends to", "Secret", "State"
        ),
        t.title,
    ))];
    let entries = c.entries();
    for (i, entry) in entries.iter().enumerate() {
        let selected = i == c.cursor;
        let (label, row) = match entry {
            Entry::Smtp(r) => ("E-mail (SMTP)".to_string(), *r),
            Entry::Sms(r) => ("SMS".to_string(), *r),
            Entry::Webhook(r) => (format!("Webhook #{}", r.id), Some(*r)),
            Entry::NewWebhook => {
                let style = if selected { t.selected } else { t.dim };
                lines.push(Line::from(Span::styled("+ add a webhook", style)));
                continue;
            }
        };
        let style = if selected { t.selected } else { t.text };
        let text = match row {
            None => format!("{label:<14} {:<url_w$}", "not set up"),
            Some(r) => format!(
                "{label:<14} {:<url_w$} {:<6} {}",
                clean(&r.url, url_w),
                if r.secret_set { "set" } else { "—" },
                state(m, r)
            ),
        };
        let style = if row.is_none() && !selected {
            t.dim
        } else {
            style
        };
        lines.push(Line::from(Span::styled(clean(&text, w), style)));
    }
    // The selected channel's last error, in full as far as it fits.
    if let Some(Entry::Smtp(Some(r)) | Entry::Sms(Some(r)) | Entry::Webhook(r)) =
        entries.get(c.cursor)
        && let Some(e) = &r.last_error
    {
        lines.push(Line::from(""));
        let when = r
            .last_error_at
            .map(|at| format!(" {} ago", age((m.now - at).num_seconds())))
            .unwrap_or_default();
        lines.push(Line::from(Span::styled(
            clean(&format!("Last error{when}: {e}"), w),
            t.warning,
        )));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "Enter: set up or edit · n: new webhook · on/off: Settings tab",
        t.dim,
    )));
    f.render_widget(Paragraph::new(lines), area);
}

/// "on · sent 2h ago", "off", "on · failing".
fn state(m: &Model, r: &ChannelRow) -> String {
    let on = if r.enabled { "on" } else { "off" };
    match (r.last_success_at, r.last_error_at) {
        (_, Some(err)) if r.last_success_at.is_none_or(|ok| err > ok) => format!("{on} · failing"),
        (Some(ok), _) => format!("{on} · sent {} ago", age((m.now - ok).num_seconds())),
        _ => on.to_string(),
    }
}

/// What to type into the field in focus.
fn help(e: &Editor) -> String {
    let secret_kept = e.secret_set && e.secret.is_empty();
    match (e.field(), e.kind) {
        (Field::Url, _) if e.url.is_empty() && e.url_kept.is_some() => {
            "leave empty to keep the URL (its hidden parts are kept too)".into()
        }
        (Field::Url, ChannelKind::Smtp) => {
            "smtps://HOST (TLS) · smtp://HOST:587 (STARTTLS) · ?tls=none: local relay".into()
        }
        (Field::Url, ChannelKind::Sms) => {
            "gets a JSON POST {\"to\", \"message\"} per text message".into()
        }
        (Field::Url, ChannelKind::Webhook) => {
            "gets a JSON POST per event, signed (x-packtrack-signature)".into()
        }
        (Field::Sender, _) => "the address the notices come from".into(),
        (Field::Username, ChannelKind::Sms) => {
            "with it: HTTP Basic account:token; without: Bearer token".into()
        }
        (Field::Username, _) => "empty: log in as the From address (with a password)".into(),
        (Field::Secret, _) if secret_kept => "set, never shown: leave empty to keep it".into(),
        (Field::Secret, ChannelKind::Webhook) => format!(
            "signs every POST: at least {} characters",
            crate::domain::limits::WEBHOOK_SECRET_MIN
        ),
        (Field::Secret, _) => "optional; sealed when saved, never shown again".into(),
        (Field::PickupCodes, _) => {
            "Space: switch · whoever holds a pickup code can collect the parcel".into()
        }
        (Field::TestTo, ChannelKind::Sms) => "a phone number · Enter: send a test".into(),
        (Field::TestTo, _) => "an e-mail address · Enter: send a test".into(),
    }
}

fn draw_editor(f: &mut Frame, area: Rect, m: &Model, e: &Editor, t: &Theme) {
    let w = area.width as usize;
    let value_w = w.saturating_sub(13);
    let stored =
        e.id.and_then(|id| m.admin.channels.rows.iter().find(|r| r.id == id));
    let on = match stored {
        Some(r) if r.enabled => " · on",
        Some(_) => " · off (switch it on in Settings)",
        None => " · not saved yet",
    };
    let mut lines = vec![Line::from(Span::styled(
        clean(&format!("{}{on}", e.title()), w),
        t.title,
    ))];
    let mut focus_line = 0;
    for (i, fl) in e.fields().iter().enumerate() {
        let focused = i == e.focus && e.busy.is_none();
        let label = fl.label(e.kind);
        let line = match fl {
            Field::Url if e.url.is_empty() && !focused && e.url_kept.is_some() => value(
                label,
                &format!("kept: {}", e.url_kept.as_deref().unwrap_or("")),
                value_w,
                t.dim,
                t,
            ),
            Field::Url => field(label, &e.url, focused, value_w, t),
            Field::Sender => field(label, &e.sender, focused, value_w, t),
            Field::Username => field(label, &e.username, focused, value_w, t),
            Field::Secret if e.secret.is_empty() && !focused => {
                let (text, style) = if e.secret_set {
                    ("set · type to replace", t.success)
                } else {
                    ("not set", t.dim)
                };
                value(label, text, value_w, style, t)
            }
            Field::Secret => field(label, &e.secret.dots(), focused, value_w, t),
            Field::PickupCodes => {
                let (text, style) = if e.include_pickup_code {
                    ("codes included", t.warning)
                } else {
                    ("codes left out", t.text)
                };
                let style = if focused { t.selected } else { style };
                value(label, text, value_w, style, t)
            }
            Field::TestTo => field(label, &e.test_to, focused, value_w, t),
        };
        if i == e.focus {
            focus_line = lines.len();
        }
        lines.push(line);
        if i == e.focus {
            lines.push(Line::from(Span::styled(
                clean(&format!("{:11}{}", "", help(e)), w),
                t.dim,
            )));
        }
    }
    lines.push(Line::from(""));
    let test = match (&e.busy, &e.test) {
        (Some(Busy::Testing), _) => Some(("sending a test message…".to_string(), t.info)),
        (Some(Busy::Saving), _) => Some(("saving…".to_string(), t.info)),
        (None, Some(Ok(()))) => {
            Some(("test sent: the receiver accepted it".to_string(), t.success))
        }
        (None, Some(Err(why))) => Some((format!("test failed: {why}"), t.error)),
        (None, None) => None,
    };
    if let Some((text, style)) = test {
        // The receiver's answer may be long: wrapped at words, at most 4 lines.
        for l in wrap(&crate::domain::text::escape(&text, &[]), w)
            .into_iter()
            .take(4)
        {
            lines.push(Line::from(Span::styled(l, style)));
        }
    } else if e.kind == ChannelKind::Webhook && e.id.is_some() {
        lines.push(Line::from(Span::styled(
            "Ctrl-T sends a signed test event to the URL.",
            t.dim,
        )));
    }
    // A short terminal scrolls the form so the field in focus stays in view.
    let rows = area.height as usize;
    let skip = (focus_line + 2).saturating_sub(rows);
    let lines: Vec<Line> = lines.into_iter().skip(skip).collect();
    f.render_widget(Paragraph::new(lines), area);
}

/// `text` in lines of at most `width` characters, broken at spaces where it can be.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        // A word longer than a line is cut.
        while word.len() > width {
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            out.push(word.drain(..width).collect());
        }
        let word: String = word.into_iter().collect();
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if needed > width && !line.is_empty() {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// A label and a value that is not a text field (a switch, a placeholder).
fn value<'a>(
    label: &'a str,
    text: &str,
    width: usize,
    style: ratatui::style::Style,
    t: &Theme,
) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:<11}"), t.title),
        Span::styled(clean(text, width), style),
    ])
}

#[cfg(test)]
mod tests;
