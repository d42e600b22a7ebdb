//! The TOTP tab: enroll a member (a QR code and a confirming first code), reset with a
//! reason (never yourself), and set a kiosk PIN.

use super::{AdminEffect, AdminMsg, fx, move_cursor};
use crate::app::effect::Effect;
use crate::app::event_state::{Consumed, EventState, NotConsumed};
use crate::app::failure::Failure;
use crate::app::keymap::Action;
use crate::app::model::{Model, Tone};
use crate::app::text::TextField;
use crate::ops_admin::{REASON_MAX, TotpEnrollment};
use crate::term::input::{KeyCode, KeyEvent};

#[derive(Debug, Clone, PartialEq)]
pub enum TotpMode {
    Browse,
    /// Waiting for the server's fresh secret.
    Starting,
    /// Showing the QR code; the first code confirms.
    Enroll {
        enrollment: Box<TotpEnrollment>,
        code: TextField,
        busy: bool,
    },
    /// Resetting: the reason is required.
    Reset {
        user_id: i64,
        login: String,
        reason: TextField,
        busy: bool,
    },
    /// Setting the member's kiosk unlock PIN (6 to 12 digits, shown as dots).
    Pin {
        user_id: i64,
        login: String,
        pin: TextField,
        busy: bool,
    },
}

#[derive(Debug, Clone)]
pub struct TotpTab {
    pub cursor: usize,
    pub mode: TotpMode,
}

impl Default for TotpTab {
    fn default() -> Self {
        Self {
            cursor: 0,
            mode: TotpMode::Browse,
        }
    }
}

impl TotpMode {
    /// The member a reset or PIN dialog is for.
    fn member_login(&self) -> String {
        match self {
            TotpMode::Reset { login, .. } | TotpMode::Pin { login, .. } => login.clone(),
            _ => String::new(),
        }
    }
}

/// The answer to a reset or PIN dialog: done (back to the list; the caller says what
/// happened), or the error shown and the dialog given back for another try.
fn dialog_answered(m: &mut Model, res: Result<(), Failure>, failed: &str) -> bool {
    match res {
        Ok(()) => {
            m.admin.totp.mode = TotpMode::Browse;
            true
        }
        Err(e) => {
            if let TotpMode::Reset { busy, .. } | TotpMode::Pin { busy, .. } =
                &mut m.admin.totp.mode
            {
                *busy = false;
            }
            m.note(format!("{failed}: {e}"), Tone::Error);
            false
        }
    }
}

impl TotpTab {
    pub fn typing(&self) -> bool {
        matches!(
            self.mode,
            TotpMode::Enroll { .. } | TotpMode::Reset { .. } | TotpMode::Pin { .. }
        )
    }
}

pub fn on_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> EventState {
    let members = m.admin.members.len();
    let me = m.me.login.clone();
    let t = &mut m.admin.totp;
    // The member list may have shrunk since the cursor moved.
    t.cursor = t.cursor.min(members.saturating_sub(1));
    match &mut t.mode {
        TotpMode::Starting => EventState::DONE,
        TotpMode::Browse => match action {
            Some(Action::Up | Action::Down) => {
                move_cursor(&mut t.cursor, members, action);
                EventState::DONE
            }
            Some(Action::AdminAdd) => {
                let Some(mem) = m.admin.members.get(t.cursor) else {
                    return EventState::DONE;
                };
                if mem.disabled {
                    m.note(
                        format!("{} is disabled: enable the membership first", mem.login),
                        Tone::Warning,
                    );
                    return EventState::DONE;
                }
                let user_id = mem.user_id;
                t.mode = TotpMode::Starting;
                Consumed(vec![fx(AdminEffect::TotpBegin(user_id))])
            }
            Some(Action::AdminRemove) => {
                let Some(mem) = m.admin.members.get(t.cursor) else {
                    return EventState::DONE;
                };
                if !mem.has_totp {
                    m.note(format!("{} has no TOTP enrolled", mem.login), Tone::Info);
                } else if mem.login == me {
                    m.note(
                        "you cannot reset your own TOTP; enroll a new one instead (n)",
                        Tone::Warning,
                    );
                } else {
                    t.mode = TotpMode::Reset {
                        user_id: mem.user_id,
                        login: mem.login.clone(),
                        reason: TextField::new(REASON_MAX),
                        busy: false,
                    };
                    m.note(
                        "why? type the reason, Enter: reset TOTP · Esc: cancel",
                        Tone::Warning,
                    );
                }
                EventState::DONE
            }
            Some(Action::SetPin) => {
                let Some(mem) = m.admin.members.get(t.cursor) else {
                    return EventState::DONE;
                };
                if mem.disabled {
                    m.note(
                        format!("{} is disabled: enable the membership first", mem.login),
                        Tone::Warning,
                    );
                    return EventState::DONE;
                }
                t.mode = TotpMode::Pin {
                    user_id: mem.user_id,
                    login: mem.login.clone(),
                    pin: TextField::new(PIN_MAX),
                    busy: false,
                };
                m.note(
                    "type the new kiosk PIN (4-12 digits), Enter: set · Esc: cancel",
                    Tone::Info,
                );
                EventState::DONE
            }
            _ => NotConsumed,
        },
        TotpMode::Pin {
            user_id, pin, busy, ..
        } => {
            if *busy {
                return EventState::DONE;
            }
            match (action, key.code) {
                (Some(Action::Back), _) => {
                    t.mode = TotpMode::Browse;
                    m.note("kiosk PIN unchanged", Tone::Info);
                }
                (Some(Action::Confirm), _) => {
                    let p = pin.text();
                    if let Err(e) = crate::domain::pin::check(&p) {
                        m.note(e.to_string(), Tone::Warning);
                    } else {
                        *busy = true;
                        let e = fx(AdminEffect::SetPin {
                            user_id: *user_id,
                            pin: PinText(p),
                        });
                        pin.clear();
                        return Consumed(vec![e]);
                    }
                }
                (_, KeyCode::Char(c)) if !c.is_ascii_digit() => {}
                _ => {
                    pin.edit(key);
                }
            }
            EventState::DONE
        }
        TotpMode::Enroll {
            enrollment,
            code,
            busy,
        } => {
            if *busy {
                return EventState::DONE;
            }
            match (action, key.code) {
                (Some(Action::Back), _) => {
                    t.mode = TotpMode::Browse;
                    m.note("enrollment cancelled: nothing changed", Tone::Info);
                }
                (Some(Action::Confirm), _) => {
                    let c = code.text();
                    if c.len() != 6 || !c.bytes().all(|b| b.is_ascii_digit()) {
                        m.note(
                            "type the 6-digit code the authenticator shows for this account",
                            Tone::Warning,
                        );
                    } else {
                        *busy = true;
                        let e = fx(AdminEffect::TotpConfirm {
                            user_id: enrollment.user_id,
                            sealed: enrollment.sealed.clone(),
                            code: c,
                        });
                        code.clear();
                        return Consumed(vec![e]);
                    }
                }
                (_, KeyCode::Char(c)) if !c.is_ascii_digit() => {}
                _ => {
                    code.edit(key);
                }
            }
            EventState::DONE
        }
        TotpMode::Reset {
            user_id,
            reason,
            busy,
            ..
        } => {
            if *busy {
                return EventState::DONE;
            }
            match action {
                Some(Action::Back) => {
                    t.mode = TotpMode::Browse;
                    m.note("TOTP kept", Tone::Info);
                }
                Some(Action::Confirm) => {
                    let r = reason.text();
                    if r.trim().is_empty() {
                        m.note("a reason is required to reset TOTP", Tone::Warning);
                    } else {
                        *busy = true;
                        return Consumed(vec![fx(AdminEffect::TotpReset {
                            user_id: *user_id,
                            reason: r.trim().to_string(),
                        })]);
                    }
                }
                _ => {
                    reason.edit(key);
                }
            }
            EventState::DONE
        }
    }
}

/// A PIN on its way to be hashed; its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct PinText(pub String);

impl std::fmt::Debug for PinText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinText(…)")
    }
}

/// The longest kiosk PIN (the rule is `domain::pin::check`, as for the CLI's `user set-pin`).
pub const PIN_MAX: usize = crate::domain::pin::PIN_MAX;

/// A pasted code (digits only) or reason.
pub fn on_paste(m: &mut Model, text: &str) -> Vec<Effect> {
    let first = text.lines().next().unwrap_or("").trim();
    match &mut m.admin.totp.mode {
        TotpMode::Enroll { code, busy, .. } if !*busy => {
            let digits: String = first.chars().filter(char::is_ascii_digit).take(6).collect();
            code.set(&digits);
        }
        TotpMode::Reset { reason, busy, .. } if !*busy => reason.insert_str(first),
        TotpMode::Pin { pin, busy, .. } if !*busy => {
            let digits: String = first
                .chars()
                .filter(char::is_ascii_digit)
                .take(PIN_MAX)
                .collect();
            pin.set(&digits);
        }
        _ => {}
    }
    vec![]
}

/// The TOTP tab's answers.
pub fn on_msg(m: &mut Model, msg: AdminMsg) -> Vec<Effect> {
    match msg {
        AdminMsg::TotpStarted(res) => {
            match res {
                Ok(enrollment) => {
                    m.note(
                        format!(
                            "scan with the authenticator of {}, then type its 6-digit code and Enter",
                            enrollment.login
                        ),
                        Tone::Info,
                    );
                    m.admin.totp.mode = TotpMode::Enroll {
                        enrollment,
                        code: TextField::new(6),
                        busy: false,
                    };
                }
                Err(e) => {
                    m.admin.totp.mode = TotpMode::Browse;
                    m.note(format!("cannot enroll: {e}"), Tone::Error);
                }
            }
            vec![]
        }
        AdminMsg::TotpConfirmed(res) => {
            let TotpMode::Enroll {
                enrollment, busy, ..
            } = &mut m.admin.totp.mode
            else {
                return vec![];
            };
            match res {
                Ok(()) => {
                    let login = enrollment.login.clone();
                    m.admin.totp.mode = TotpMode::Browse;
                    m.note(
                        format!("TOTP enrolled for {login}: it is in effect now"),
                        Tone::Success,
                    );
                    vec![Effect::LoadMembers]
                }
                Err(e) => {
                    // Keep the QR code up: the next code may well work.
                    *busy = false;
                    m.note(format!("not enrolled: {e}"), Tone::Error);
                    vec![]
                }
            }
        }
        AdminMsg::PinSet(res) => {
            let login = m.admin.totp.mode.member_login();
            if dialog_answered(m, res, "PIN not set") {
                m.note(
                    format!("kiosk PIN of {login} set for this facility's kiosks"),
                    Tone::Success,
                );
            }
            vec![]
        }
        AdminMsg::TotpReset(res) => {
            let login = m.admin.totp.mode.member_login();
            if dialog_answered(m, res, "not reset") {
                m.note(
                    format!("TOTP of {login} reset, their password+TOTP sessions ended"),
                    Tone::Success,
                );
                vec![Effect::LoadMembers]
            } else {
                vec![]
            }
        }
        _ => vec![],
    }
}
