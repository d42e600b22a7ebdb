//! The kiosk lock screen: staff unlock with login and PIN (and their TOTP code when the
//! facility asks for it); on a self-service terminal a recipient types their pickup code,
//! sees their waiting packages (masked) and a staff member confirms the handover with
//! their PIN, without unlocking the terminal.

use super::effect::Effect;
use super::failure::Failure;
use super::model::{Me, Model, Screen, Tone};
use super::text::TextField;
use crate::db::kiosk::MaskedPackage;
use crate::term::input::{KeyCode, KeyEvent, Mods};

/// The field that has focus on the lock screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockField {
    /// Self-service: the recipient's pickup code.
    PickupCode,
    Login,
    Pin,
    /// The staff member's TOTP code (facility setting `kiosk_pin_totp`).
    Totp,
}

/// A pickup code's packages, shown masked, waiting for a staff member to confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPickup {
    pub code: String,
    pub packages: Vec<MaskedPackage>,
}

impl PendingPickup {
    pub fn ids(&self) -> Vec<i64> {
        self.packages.iter().map(|p| p.id).collect()
    }
}

/// A kiosk terminal's lock: a shared counter terminal is usable only after a staff member
/// unlocks it with their PIN, and locks again when idle or on Ctrl-L.
#[derive(Debug, Clone)]
pub struct Kiosk {
    pub device: String,
    pub locked: bool,
    pub login: TextField,
    pub pin: TextField,
    pub totp: TextField,
    pub pickup_code: TextField,
    pub focus: LockField,
    /// A check is running (PIN, code lookup, handover): keys wait.
    pub busy: bool,
    /// Unlocking asks for a TOTP code after the PIN.
    pub pin_totp: bool,
    /// Recipients may look up their pickup code here.
    pub self_service: bool,
    pub pending: Option<PendingPickup>,
}

impl Kiosk {
    pub fn new(device: &str) -> Self {
        Self {
            device: device.to_string(),
            locked: true,
            login: TextField::new(crate::domain::limits::LOGIN_MAX),
            pin: TextField::new(12),
            totp: TextField::new(6),
            pickup_code: TextField::new(6),
            focus: LockField::Login,
            busy: false,
            pin_totp: false,
            self_service: false,
            pending: None,
        }
    }

    /// Where focus starts: the pickup code on a self-service terminal, else the login.
    pub fn home(&self) -> LockField {
        if self.self_service {
            LockField::PickupCode
        } else {
            LockField::Login
        }
    }

    /// Applies the settings the session read (at start and at every unlock).
    pub fn apply_settings(&mut self, pin_totp: bool, self_service: bool) {
        let was_home = self.focus == self.home();
        self.pin_totp = pin_totp;
        self.self_service = self_service;
        if !pin_totp {
            self.totp.clear();
            if self.focus == LockField::Totp {
                self.focus = LockField::Pin;
            }
        }
        if !self_service {
            self.pending = None;
            self.pickup_code.clear();
            if self.focus == LockField::PickupCode {
                self.focus = LockField::Login;
            }
        }
        let untouched = self.login.is_empty() && self.pickup_code.is_empty();
        if was_home && untouched && self.pending.is_none() {
            self.focus = self.home();
        }
    }

    /// Forgets everything typed and found: the screen as the next person should see it.
    fn reset(&mut self) {
        self.login.clear();
        self.pin.clear();
        self.totp.clear();
        self.pickup_code.clear();
        self.pending = None;
        self.busy = false;
        self.focus = self.home();
    }

    /// A staff check answered (unlock or handover): not busy any more, and the secrets typed
    /// for it are gone whatever the answer.
    fn answered(&mut self) {
        self.busy = false;
        self.pin.clear();
        self.totp.clear();
    }

    /// Whether anything typed or found is on the lock screen (the idle timer clears it).
    pub fn has_input(&self) -> bool {
        self.pending.is_some()
            || !self.login.is_empty()
            || !self.pin.is_empty()
            || !self.totp.is_empty()
            || !self.pickup_code.is_empty()
    }

    fn totp_answer(&self) -> Option<String> {
        self.pin_totp.then(|| self.totp.text())
    }
}

impl Model {
    /// Whether a locked kiosk shows something typed or found that idleness should clear.
    pub fn lock_screen_has_input(&self) -> bool {
        // Not while a check runs: its answer belongs to what is on screen.
        self.kiosk
            .as_ref()
            .is_some_and(|k| k.locked && !k.busy && k.has_input())
    }
}

fn plain(key: &KeyEvent) -> bool {
    !key.mods.contains(Mods::CTRL) && !key.mods.contains(Mods::ALT)
}

/// Keys on the kiosk lock screen.
pub fn lock_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let Some(k) = m.kiosk.as_mut() else {
        return vec![];
    };
    if k.busy {
        return vec![];
    }
    if key.code == KeyCode::Esc {
        // With packages on screen, Esc withdraws them; otherwise it clears the fields.
        k.reset();
        m.status = None;
        return vec![];
    }
    match (k.focus, key.code) {
        (LockField::PickupCode, KeyCode::Enter) => {
            let code = k.pickup_code.text();
            if code.len() != 6 {
                m.note("a pickup code is 6 digits", Tone::Warning);
                return vec![];
            }
            k.busy = true;
            m.status = None;
            vec![Effect::LookupPickupCode(code)]
        }
        (LockField::PickupCode, KeyCode::Tab) => {
            k.focus = LockField::Login;
            vec![]
        }
        // A staff member starts typing their login: letters are never part of a code.
        (LockField::PickupCode, KeyCode::Char(c)) if plain(&key) && !c.is_ascii_digit() => {
            k.pickup_code.clear();
            k.focus = LockField::Login;
            k.login.edit(key);
            vec![]
        }
        (LockField::PickupCode, _) => {
            k.pickup_code.edit(key);
            vec![]
        }
        (LockField::Login, KeyCode::Enter | KeyCode::Tab) => {
            if !k.login.is_empty() {
                k.focus = LockField::Pin;
            }
            vec![]
        }
        (LockField::Login, KeyCode::BackTab) => {
            if k.self_service && k.pending.is_none() {
                k.focus = LockField::PickupCode;
            }
            vec![]
        }
        (LockField::Pin, KeyCode::Tab) if k.pin_totp => {
            k.focus = LockField::Totp;
            vec![]
        }
        (LockField::Pin, KeyCode::Enter) if k.pin_totp => {
            if !k.pin.is_empty() {
                k.focus = LockField::Totp;
            }
            vec![]
        }
        (LockField::Pin, KeyCode::Enter) | (LockField::Totp, KeyCode::Enter) => submit(m),
        (LockField::Pin, KeyCode::Tab | KeyCode::BackTab) => {
            k.focus = LockField::Login;
            vec![]
        }
        (LockField::Totp, KeyCode::Tab | KeyCode::BackTab) => {
            k.focus = LockField::Pin;
            vec![]
        }
        (LockField::Pin | LockField::Totp, KeyCode::Char(c)) if !c.is_ascii_digit() => vec![],
        (LockField::Pin, _) => {
            k.pin.edit(key);
            vec![]
        }
        (LockField::Totp, _) => {
            k.totp.edit(key);
            vec![]
        }
        (LockField::Login, _) => {
            k.login.edit(key);
            vec![]
        }
    }
}

/// Login, PIN (and code) complete: unlock, or confirm the pending self-service pickup.
fn submit(m: &mut Model) -> Vec<Effect> {
    let Some(k) = m.kiosk.as_mut() else {
        return vec![];
    };
    if k.login.is_empty() || k.pin.is_empty() || (k.pin_totp && k.totp.text().len() != 6) {
        let pin_totp = k.pin_totp;
        m.note(
            if pin_totp {
                "enter your login, PIN and the 6-digit code from your authenticator"
            } else {
                "enter your login and PIN"
            },
            Tone::Warning,
        );
        return vec![];
    }
    k.busy = true;
    m.status = None;
    let (login, pin, totp) = (k.login.text(), k.pin.text(), k.totp_answer());
    match &k.pending {
        Some(p) => vec![Effect::ConfirmPickup {
            login,
            pin,
            totp,
            code: p.code.clone(),
            ids: p.ids(),
        }],
        None => vec![Effect::Unlock { login, pin, totp }],
    }
}

/// The answer to an unlock.
pub fn on_unlocked(m: &mut Model, res: Result<Me, Failure>) -> Vec<Effect> {
    let Some(k) = m.kiosk.as_mut() else {
        return vec![];
    };
    k.answered();
    match res {
        Ok(me) => {
            k.locked = false;
            k.reset();
            let who = me.login.clone();
            m.me = me;
            m.screen = Screen::Dashboard;
            m.note(format!("unlocked for {who} · Ctrl-L locks"), Tone::Success);
            vec![Effect::LoadStats]
        }
        Err(e) => {
            if k.pin_totp {
                k.focus = LockField::Pin;
            }
            m.note(e, Tone::Error);
            vec![]
        }
    }
}

/// The settings the session read: the lock screen follows them at once.
pub fn on_settings(m: &mut Model, pin_totp: bool, self_service: bool) -> Vec<Effect> {
    if let Some(k) = m.kiosk.as_mut() {
        k.apply_settings(pin_totp, self_service);
    }
    vec![]
}

/// What a pickup code found.
pub fn on_code_found(m: &mut Model, res: Result<Vec<MaskedPackage>, Failure>) -> Vec<Effect> {
    let Some(k) = m.kiosk.as_mut() else {
        return vec![];
    };
    k.busy = false;
    let code = k.pickup_code.text();
    k.pickup_code.clear();
    match res {
        Ok(list) if !list.is_empty() => {
            let n = list.len();
            k.pending = Some(PendingPickup {
                code,
                packages: list,
            });
            k.login.clear();
            k.pin.clear();
            k.totp.clear();
            k.focus = LockField::Login;
            m.note(
                format!(
                    "{n} package{} waiting: a staff member confirms the handover",
                    if n == 1 { "" } else { "s" }
                ),
                Tone::Success,
            );
        }
        Ok(_) => m.note(crate::db::kiosk::NO_MATCH, Tone::Warning),
        Err(e) => m.note(e, Tone::Error),
    }
    vec![]
}

/// The handover a staff member confirmed: `(staff login, packages handed over)`.
pub fn on_pickup_confirmed(m: &mut Model, res: Result<(String, usize), Failure>) -> Vec<Effect> {
    let Some(k) = m.kiosk.as_mut() else {
        return vec![];
    };
    k.answered();
    match res {
        Ok((staff, n)) => {
            k.reset();
            m.note(
                format!(
                    "{n} package{} handed over · confirmed by {staff}",
                    if n == 1 { "" } else { "s" }
                ),
                Tone::Success,
            );
        }
        Err(e) => {
            k.focus = LockField::Pin;
            m.note(e, Tone::Error);
        }
    }
    vec![]
}

/// Locks a kiosk: everything the last staff member had open is dropped; the terminal's
/// settings stay.
pub fn lock(m: &mut Model) -> Vec<Effect> {
    let Some(k) = &m.kiosk else {
        return vec![];
    };
    let (pin_totp, self_service) = (k.pin_totp, k.self_service);
    let mut fresh = Model::new_kiosk(
        &m.me.facility_name,
        &m.me.slug,
        &k.device,
        m.cols,
        m.rows,
        m.now,
    );
    if let Some(k) = fresh.kiosk.as_mut() {
        k.apply_settings(pin_totp, self_service);
        k.focus = k.home();
    }
    *m = fresh;
    vec![Effect::Lock]
}

#[cfg(test)]
mod tests;
