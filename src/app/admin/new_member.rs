//! The Members tab's "new member" form: login, name, role, and how they first sign in — a
//! password (typed twice; password logins also need TOTP, so the TOTP enrollment opens as
//! soon as the member exists) or their public key (valid in this facility only). The same
//! rules as the admin CLI's `user add` are checked here for a quick answer and again on
//! the server, which alone decides.

use super::form::{SecretField, step};
use super::{AdminEffect, AdminMsg, AdminTab, fx};
use crate::app::effect::Effect;
use crate::app::model::{Model, Tone};
use crate::app::text::TextField;
use crate::domain::Role;
use crate::domain::limits::{LOGIN_MAX, NAME_MAX, PASSWORD_MIN};
use crate::ops::{FirstCredential, NewMember};
use crate::term::input::{KeyCode, KeyEvent, Mods};

/// How the new member first signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Password, then TOTP (keyboard-interactive asks for both).
    Password,
    /// A public key pasted from the member's `id_ed25519.pub` (or similar).
    Key,
}

/// The form's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Login,
    Name,
    Role,
    Method,
    Password,
    Repeat,
    Key,
}

impl Field {
    pub fn label(self) -> &'static str {
        match self {
            Field::Login => "Login",
            Field::Name => "Name",
            Field::Role => "Role",
            Field::Method => "Sign-in",
            Field::Password => "Password",
            Field::Repeat => "Repeat",
            Field::Key => "Public key",
        }
    }
}

const ROLES: [Role; 3] = [Role::Operator, Role::Viewer, Role::Admin];

#[derive(Debug, Clone, PartialEq)]
pub struct MemberForm {
    pub login: TextField,
    pub name: TextField,
    pub role: Role,
    pub method: Method,
    pub password: SecretField,
    pub repeat: SecretField,
    pub key: TextField,
    pub focus: usize,
    /// Sent; waiting for the answer.
    pub busy: bool,
    /// What is wrong, shown in the form.
    pub error: Option<String>,
}

impl Default for MemberForm {
    fn default() -> Self {
        Self {
            login: TextField::new(LOGIN_MAX),
            name: TextField::new(NAME_MAX),
            role: Role::Operator,
            method: Method::Password,
            password: SecretField::new(crate::ops::PASSWORD_MAX),
            repeat: SecretField::new(crate::ops::PASSWORD_MAX),
            key: TextField::new(super::keys::KEY_LINE_MAX),
            focus: 0,
            busy: false,
            error: None,
        }
    }
}

impl MemberForm {
    pub fn fields(&self) -> &'static [Field] {
        match self.method {
            Method::Password => &[
                Field::Login,
                Field::Name,
                Field::Role,
                Field::Method,
                Field::Password,
                Field::Repeat,
            ],
            Method::Key => &[
                Field::Login,
                Field::Name,
                Field::Role,
                Field::Method,
                Field::Key,
            ],
        }
    }

    pub fn field(&self) -> Field {
        let f = self.fields();
        f[self.focus.min(f.len() - 1)]
    }

    /// What would be sent, or why not yet (the server checks all of it again).
    pub fn request(&self) -> Result<NewMember, (Field, String)> {
        let login = self.login.text().trim().to_string();
        if let Some(problem) = crate::domain::login_problem(&login) {
            return Err((Field::Login, problem));
        }
        let credential = match self.method {
            Method::Password => {
                let pw = self.password.reveal();
                if pw.chars().count() < PASSWORD_MIN {
                    return Err((
                        Field::Password,
                        format!("the password needs at least {PASSWORD_MIN} characters"),
                    ));
                }
                if pw != self.repeat.reveal() {
                    return Err((Field::Repeat, "the two passwords differ".into()));
                }
                FirstCredential::Password(pw)
            }
            Method::Key => {
                let line = self.key.text();
                crate::auth::pubkey::parse_line(&line).map_err(|e| (Field::Key, e))?;
                FirstCredential::Key(line)
            }
        };
        Ok(NewMember {
            login,
            name: self.name.text().trim().to_string(),
            role: self.role,
            credential,
        })
    }

    fn cycle(&mut self, forward: bool) {
        match self.field() {
            Field::Role => {
                let i = ROLES.iter().position(|r| *r == self.role).unwrap_or(0);
                let mut j = i;
                step(&mut j, ROLES.len(), forward);
                self.role = ROLES[j];
            }
            Field::Method => {
                self.method = match self.method {
                    Method::Password => Method::Key,
                    Method::Key => Method::Password,
                };
            }
            _ => {}
        }
    }
}

/// `n` on the Members tab: an empty form.
pub fn open(m: &mut Model) {
    m.admin.new_member = Some(MemberForm::default());
    m.note(
        "new member: Tab next field · Space changes role and sign-in · Ctrl-S creates",
        Tone::Info,
    );
}

/// Every key while the form is open.
pub fn on_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let Some(f) = &mut m.admin.new_member else {
        return vec![];
    };
    if f.busy {
        return vec![];
    }
    let n = f.fields().len();
    let field = f.field();
    let choice = matches!(field, Field::Role | Field::Method);
    let ctrl = key.mods.contains(Mods::CTRL);
    match key.code {
        KeyCode::Esc => {
            m.admin.new_member = None;
            m.note("no member added", Tone::Info);
        }
        KeyCode::Char('s') if ctrl => return submit(m),
        KeyCode::Tab | KeyCode::Down => step(&mut f.focus, n, true),
        KeyCode::BackTab | KeyCode::Up => step(&mut f.focus, n, false),
        KeyCode::Enter if f.focus + 1 == n => return submit(m),
        KeyCode::Enter => step(&mut f.focus, n, true),
        KeyCode::Char(' ') | KeyCode::Right if choice => f.cycle(true),
        KeyCode::Left if choice => f.cycle(false),
        _ => {
            let changed = match field {
                Field::Login => f.login.edit(key),
                Field::Name => f.name.edit(key),
                Field::Password => f.password.edit(key),
                Field::Repeat => f.repeat.edit(key),
                Field::Key => f.key.edit(key),
                Field::Role | Field::Method => false,
            };
            if changed {
                f.error = None;
            }
        }
    }
    vec![]
}

fn submit(m: &mut Model) -> Vec<Effect> {
    let Some(f) = &mut m.admin.new_member else {
        return vec![];
    };
    match f.request() {
        Ok(req) => {
            f.busy = true;
            f.error = None;
            m.note(format!("adding {}…", req.login), Tone::Info);
            vec![fx(AdminEffect::AddMember(Box::new(req)))]
        }
        Err((field, why)) => {
            f.focus = f.fields().iter().position(|x| *x == field).unwrap_or(0);
            f.error = Some(why.clone());
            m.note(why, Tone::Warning);
            vec![]
        }
    }
}

/// A paste: the first line into the field in focus (a key line is one line).
pub fn on_paste(m: &mut Model, text: &str) -> Vec<Effect> {
    let Some(f) = &mut m.admin.new_member else {
        return vec![];
    };
    if f.busy {
        return vec![];
    }
    let first = text.lines().next().unwrap_or("").trim();
    match f.field() {
        Field::Login => f.login.insert_str(first),
        Field::Name => f.name.insert_str(first),
        Field::Password => f.password.insert_str(first),
        Field::Repeat => f.repeat.insert_str(first),
        Field::Key => f.key.set(first),
        Field::Role | Field::Method => {}
    }
    f.error = None;
    vec![]
}

/// The answer: the member exists now. A password member goes on to TOTP enrollment (the
/// QR code and the member's first code, as on the TOTP tab); a key member is done.
pub fn on_msg(m: &mut Model, msg: AdminMsg) -> Vec<Effect> {
    let AdminMsg::MemberAdded(res) = msg else {
        return vec![];
    };
    let Some(f) = &mut m.admin.new_member else {
        return vec![Effect::LoadMembers];
    };
    f.busy = false;
    match res {
        Ok(user_id) => {
            let login = f.login.text().trim().to_string();
            let role = f.role;
            let method = f.method;
            m.admin.new_member = None;
            match method {
                Method::Password => {
                    m.note(
                        format!(
                            "{login} added as {role}: now their TOTP (password logins need it)"
                        ),
                        Tone::Success,
                    );
                    m.admin.tab = AdminTab::Totp;
                    m.admin.totp.mode = super::totp::TotpMode::Starting;
                    vec![Effect::LoadMembers, fx(AdminEffect::TotpBegin(user_id))]
                }
                Method::Key => {
                    m.note(
                        format!("{login} added as {role}: they log in here with their key"),
                        Tone::Success,
                    );
                    vec![Effect::LoadMembers]
                }
            }
        }
        Err(e) => {
            if e.kind == crate::app::FailureKind::Conflict {
                f.focus = 0;
            }
            f.error = Some(e.text.clone());
            m.note(format!("not added: {e}"), Tone::Error);
            vec![]
        }
    }
}

#[cfg(test)]
mod tests;
