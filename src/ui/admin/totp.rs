//! The admin console's TOTP tab: members and their second factor, the reset and PIN
//! dialogs, and the enrollment drawn over the whole body (QR code and code field).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::keys::cut;
use crate::app::admin::totp::{PIN_MAX, TotpMode};
use crate::app::model::Model;
use crate::app::text::TextField;
use crate::ui::theme::Theme;
use crate::ui::widgets::field;

pub fn draw_totp(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let tab = &m.admin.totp;
    if let TotpMode::Enroll { .. } = &tab.mode {
        return; // drawn over the whole body by `draw_enrollment`
    }
    let panel = if matches!(tab.mode, TotpMode::Reset { .. } | TotpMode::Pin { .. }) {
        2
    } else {
        0
    };
    let [list, bottom] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(panel)]).areas(area);
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{:<16} {:<9} {:<9} {:<9} {:<5}",
            "Login", "Role", "TOTP", "Password", "Keys"
        ),
        t.title,
    ))];
    let rows = list.height.saturating_sub(1) as usize;
    let start = tab.cursor.saturating_sub(rows.saturating_sub(1));
    for (i, mem) in m.admin.members.iter().enumerate().skip(start).take(rows) {
        let style = if i == tab.cursor {
            t.selected
        } else if !mem.has_totp && !mem.disabled {
            t.warning
        } else {
            t.text
        };
        let me = if mem.login == m.me.login {
            " (you)"
        } else {
            ""
        };
        lines.push(Line::from(Span::styled(
            format!(
                "{:<16} {:<9} {:<9} {:<9} {:<5}{}",
                cut(&mem.login, 16),
                mem.role,
                if mem.has_totp { "enrolled" } else { "none" },
                if mem.has_password { "set" } else { "—" },
                mem.keys,
                if mem.disabled { " disabled" } else { me }
            ),
            style,
        )));
    }
    if matches!(tab.mode, TotpMode::Starting) {
        lines.push(Line::from(Span::styled("creating a secret…", t.dim)));
    }
    f.render_widget(Paragraph::new(lines), list);
    if let TotpMode::Reset { login, reason, .. } = &tab.mode {
        let w = bottom.width as usize;
        let lines = vec![
            Line::from(Span::styled(
                format!("Reset the TOTP of {login} · Enter: reset · Esc: cancel"),
                t.warning,
            )),
            field("Reason", reason, true, w.saturating_sub(12), t),
        ];
        f.render_widget(Paragraph::new(lines), bottom);
    }
    if let TotpMode::Pin { login, pin, .. } = &tab.mode {
        // Dots only: an admin's screen may be in view of others.
        let dots = TextField::with_text(PIN_MAX, &"•".repeat(pin.text().chars().count()));
        let lines = vec![
            Line::from(Span::styled(
                format!("Kiosk PIN for {login} at this facility's kiosks · Enter: set"),
                t.warning,
            )),
            field("PIN", &dots, true, PIN_MAX, t),
        ];
        f.render_widget(Paragraph::new(lines), bottom);
    }
}

/// The enrollment: the QR code at the left, what to do at the right. Needs the whole body
/// (the admin frame would cost the two lines a 24-line terminal does not have).
pub fn draw_enrollment(f: &mut Frame, area: Rect, m: &Model, t: &Theme) -> bool {
    let TotpMode::Enroll {
        enrollment, code, ..
    } = &m.admin.totp.mode
    else {
        return false;
    };
    f.render_widget(Clear, area);
    let qr = enrollment.qr.as_ref().map(|q| q.half_blocks(1));
    let qr_w = qr
        .as_ref()
        .and_then(|l| l.first())
        .map_or(0, |l| l.chars().count() as u16);
    let qr_h = qr.as_ref().map_or(0, |l| l.len() as u16);
    let text_w = 30u16;
    let fits = qr.is_some() && qr_h <= area.height && qr_w + 1 + text_w <= area.width;
    let manual: String = enrollment
        .manual
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut info = vec![
        Line::from(Span::styled("Enroll TOTP", t.title)),
        Line::from(Span::raw(format!("for {}", enrollment.login))),
        Line::from(""),
    ];
    if fits {
        info.push(Line::from(Span::raw(
            "1. Scan the code with an authenticator app.",
        )));
    } else {
        // The body is the terminal less its header, status and key lines.
        info.push(Line::from(Span::styled(
            format!(
                "1. The QR code does not fit: enlarge the terminal to at least {}x{}.",
                (qr_w + 1 + text_w).max(crate::ui::MIN_WIDTH),
                qr_h + 3
            ),
            t.warning,
        )));
    }
    info.extend([
        Line::from(Span::raw("Or type this key into the authenticator:")),
        Line::from(Span::styled(manual, t.text)),
        Line::from(Span::styled(
            format!("account {}", enrollment.account),
            t.dim,
        )),
        Line::from(""),
        Line::from(Span::raw("2. Type the 6-digit code it shows:")),
        field("Code", code, true, 8, t),
        Line::from(""),
        Line::from(Span::styled(
            "Nothing changes until the code is confirmed.",
            t.dim,
        )),
        Line::from(Span::styled("Enter: confirm · Esc: cancel", t.dim)),
    ]);
    let wrap = Wrap { trim: true };
    if fits {
        let [left, right] =
            Layout::horizontal([Constraint::Length(qr_w + 1), Constraint::Min(1)]).areas(area);
        let lines: Vec<Line> = qr
            .unwrap_or_default()
            .into_iter()
            .map(|l| Line::from(Span::styled(l, t.text)))
            .collect();
        f.render_widget(Paragraph::new(lines), left);
        f.render_widget(Paragraph::new(info).wrap(wrap), right);
    } else {
        f.render_widget(Paragraph::new(info).wrap(wrap), area);
    }
    true
}
