//! The admin console's member operations: list, add, role and access changes, the audit
//! trail and the security scorecard; admins only.

use super::Ops;
use crate::db::members;
use crate::domain::limits::{NAME_MAX, PASSWORD_MIN};
use crate::domain::text::Lines;
use crate::domain::{Principal, Role};
use crate::error::AppError;

/// Most characters in a password typed into the console (argon2 takes any length; this
/// bounds what a form holds and the hashing queue hashes).
pub const PASSWORD_MAX: usize = 128;

/// How a new member first signs in.
#[derive(Clone, PartialEq, Eq)]
pub enum FirstCredential {
    /// A password (with TOTP enrolled next: password logins need both).
    Password(String),
    /// A pasted OpenSSH public key line, valid in this facility only.
    Key(String),
}

impl std::fmt::Debug for FirstCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FirstCredential::Password(_) => f.write_str("Password(…)"),
            FirstCredential::Key(line) => f.debug_tuple("Key").field(line).finish(),
        }
    }
}

/// The console's "new member" form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMember {
    pub login: String,
    /// Display name (empty: the login).
    pub name: String,
    pub role: Role,
    pub credential: FirstCredential,
}

impl Ops {
    pub(super) fn require_admin(p: &Principal) -> Result<(), AppError> {
        if p.may_administer() {
            Ok(())
        } else {
            Err(AppError::PermissionDenied)
        }
    }

    pub async fn members(&self, p: &Principal) -> Result<Vec<members::Member>, AppError> {
        Self::require_admin(p)?;
        self.db.scoped(p, async |tx| members::list(tx).await).await
    }

    /// Adds a new person to this facility, as the admin CLI's `user add` does (the same
    /// login rules, password minimum and argon2id hashing; a key goes through the CLI's
    /// parser), but only for a login nobody has yet: an existing person is never taken over
    /// from a console. Audited as `user.add` (and `key.add`). Returns the new user's id.
    pub async fn add_member(&self, p: &Principal, m: &NewMember) -> Result<i64, AppError> {
        Self::require_admin(p)?;
        let login = m.login.trim();
        if let Some(problem) = crate::domain::login_problem(login) {
            return Err(AppError::Invalid(problem));
        }
        let name = match m.name.trim() {
            "" => login,
            n => n,
        };
        super::checked("name", name, Lines::One)?;
        if name.chars().count() > NAME_MAX {
            return Err(AppError::Invalid(format!(
                "the name is longer than {NAME_MAX} characters"
            )));
        }
        let (hash, key) = match &m.credential {
            FirstCredential::Password(pw) => {
                let n = pw.chars().count();
                if n < PASSWORD_MIN {
                    return Err(AppError::Invalid(format!(
                        "password must be at least {PASSWORD_MIN} characters"
                    )));
                }
                if n > PASSWORD_MAX {
                    return Err(AppError::Invalid(format!(
                        "password must be at most {PASSWORD_MAX} characters"
                    )));
                }
                (Some(crate::auth::password::hash(pw.clone()).await), None)
            }
            FirstCredential::Key(line) => (
                None,
                Some(crate::auth::pubkey::parse_line(line).map_err(AppError::Invalid)?),
            ),
        };
        self.db
            .scoped(p, async |tx| {
                members::add(tx, login, name, m.role, hash.as_deref(), key.as_ref()).await
            })
            .await
    }

    pub async fn update_member(
        &self,
        p: &Principal,
        user_id: i64,
        role: Option<crate::domain::Role>,
        disabled: Option<bool>,
    ) -> Result<(), AppError> {
        Self::require_admin(p)?;
        self.db
            .scoped(p, async |tx| {
                members::update(tx, user_id, role, disabled).await
            })
            .await
    }

    pub async fn audit(
        &self,
        p: &Principal,
        filter: &str,
    ) -> Result<Vec<members::AuditRow>, AppError> {
        Self::require_admin(p)?;
        self.db
            .scoped(p, async |tx| members::audit(tx, filter, 200).await)
            .await
    }

    pub async fn scorecard(&self, p: &Principal) -> Result<members::Scorecard, AppError> {
        Self::require_admin(p)?;
        self.db
            .scoped(p, async |tx| members::scorecard(tx).await)
            .await
    }
}
