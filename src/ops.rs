//! Operations on a facility's mailroom, shared by the exec commands and the interactive
//! interface: the same code paths and the same permission checks for both.

use std::sync::Arc;

use crate::config::USER_CODE_THRESHOLD;
use crate::db::Db;
use crate::db::guesses;
use crate::db::packages::{self, Handover, Intake, NewPackage, Package};
use crate::db::recipients::{self, Recipient};
use crate::domain::limits::TRACKING_MAX;
use crate::domain::text::{self, Lines};
use crate::domain::{AddressedTo, FieldError, Flags, Location, Note, PickupCode, Principal};
use crate::error::AppError;

mod bulk;
mod cache;
mod channels;
mod members;
mod proxies;
mod recipients_admin;
mod search;

pub use bulk::Bulk;
pub use channels::{ChannelForm, TestOutcome};
pub use members::{FirstCredential, NewMember, PASSWORD_MAX};
pub use proxies::proxy_name;
pub use recipients_admin::{MergePreview, RecipientFields};
pub use search::{DEFAULT_INDEX_MEMORY, Directory, DirectoryStats, Found, Slot};

/// Package statuses, as the contract spells them.
pub const STATUSES: [&str; 4] = ["waiting", "picked_up", "returned", "lost"];

/// Most rows any list returns.
pub const MAX_LIST: i64 = 5000;

/// Intake as requested by a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntakeRequest {
    /// What was scanned or typed.
    pub tracking: String,
    pub recipient_id: Option<i64>,
    /// As typed; checked into a [`Location`] and a [`Note`] by [`Ops::intake`].
    pub location: String,
    pub flags: Flags,
    pub note: String,
    /// For an unmatched parcel: the name typed in the recipient search, as typed; cleaned
    /// into an [`AddressedTo`] by [`Ops::intake`] (ignored when a recipient is chosen).
    pub addressed_to: String,
}

// The dashboard's counts are the database's answer; re-exported for the interface.
pub use crate::db::packages::{RecentEvent, Stats};

/// The answer once a user typed too many wrong pickup codes.
pub const WRONG_CODES: &str =
    "too many wrong pickup codes; wait 15 minutes, or scan the parcel or search the recipient";

#[derive(Clone)]
pub struct Ops {
    db: Db,
    directory: Arc<Directory>,
    /// Seals TOTP secrets enrolled from the admin console and integration secrets set
    /// there (`None`: both refused).
    secrets: Option<crate::secrets::SecretsKey>,
    /// Where integration URLs may point and an admin's test messages may go.
    egress: crate::notify::egress::Egress,
    /// Bound on an admin's test message (connect, TLS, send, answer).
    test_timeout: std::time::Duration,
}

impl Ops {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            directory: Arc::default(),
            secrets: None,
            egress: Default::default(),
            test_timeout: channels::TEST_TIMEOUT,
        }
    }

    /// With another bound on an admin's test message.
    pub fn with_test_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.test_timeout = timeout;
        self
    }

    /// With the non-public networks the host allows notifications to reach
    /// (`serve --notify-allow-private`).
    pub fn with_egress(mut self, egress: crate::notify::egress::Egress) -> Self {
        self.egress = egress;
        self
    }

    /// With the key that seals TOTP secrets (the admin console enrolls TOTP).
    pub fn with_secrets(mut self, secrets: crate::secrets::SecretsKey) -> Self {
        self.secrets = Some(secrets);
        self
    }

    pub fn secrets(&self) -> Option<&crate::secrets::SecretsKey> {
        self.secrets.as_ref()
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    fn require_handler(p: &Principal) -> Result<(), AppError> {
        if p.role().can_handle_packages() {
            Ok(())
        } else {
            Err(AppError::PermissionDenied)
        }
    }

    /// Records that `p` was shown these recipients' full contact data (exec `--reveal`),
    /// as opening the edit form does: admins only, never at a kiosk. Called before the data
    /// is shown, so a failed audit shows nothing.
    pub async fn reveal_recipients(
        &self,
        p: &Principal,
        ids: &[i64],
        purpose: &str,
    ) -> Result<(), AppError> {
        Self::require_recipient_admin(p)?;
        let target = match ids {
            [one] => format!("recipient:{one}"),
            _ => format!("recipients:{}", ids.len()),
        };
        self.db
            .scoped(p, async |tx| {
                crate::db::audit::record(
                    tx,
                    "recipient.reveal",
                    &target,
                    serde_json::json!({ "for": purpose, "ids": ids }),
                )
                .await
            })
            .await
    }

    pub async fn recipient(&self, p: &Principal, id: i64) -> Result<Recipient, AppError> {
        self.db
            .scoped(p, async |tx| recipients::get(tx, id).await)
            .await
    }

    pub async fn list_packages(
        &self,
        p: &Principal,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Package>, AppError> {
        let q = packages::ListQuery {
            status,
            limit,
            ..Default::default()
        };
        self.find_packages(p, &q).await
    }

    /// The package list's query: a status, a text search, an order; the limit is clamped.
    pub async fn find_packages(
        &self,
        p: &Principal,
        q: &packages::ListQuery<'_>,
    ) -> Result<Vec<Package>, AppError> {
        let q = list_query(q)?;
        let list = self
            .db
            .scoped(p, async |tx| packages::find(tx, &q).await)
            .await?;
        Ok(codes_for(p, list))
    }

    /// [`Ops::list_packages`] with how many match in all (exact up to
    /// [`packages::COUNT_CAP`]), so a cut list can say so.
    pub async fn list_packages_counted(
        &self,
        p: &Principal,
        status: Option<&str>,
        limit: i64,
    ) -> Result<(Vec<Package>, packages::Total), AppError> {
        let q = packages::ListQuery {
            status,
            limit,
            ..Default::default()
        };
        self.find_packages_counted(p, &q).await
    }

    /// [`Ops::find_packages`] with how many match in all, counted in the same statement.
    pub async fn find_packages_counted(
        &self,
        p: &Principal,
        q: &packages::ListQuery<'_>,
    ) -> Result<(Vec<Package>, packages::Total), AppError> {
        let q = list_query(q)?;
        let (list, total) = self
            .db
            .scoped(p, async |tx| packages::find_counted(tx, &q).await)
            .await?;
        Ok((codes_for(p, list), total))
    }

    pub async fn package(
        &self,
        p: &Principal,
        id: i64,
    ) -> Result<(Package, Vec<packages::Event>), AppError> {
        let (pkg, events) = self
            .db
            .scoped(p, async |tx| {
                let mut pkg = packages::get(tx, id).await?;
                pkg.handling = Some(packages::handling(tx, id).await?);
                let events = packages::events(tx, id).await?;
                Ok::<_, AppError>((pkg, events))
            })
            .await?;
        Ok((code_for(p, pkg), events))
    }

    /// Records a parcel. A tracking number already waiting returns that package.
    pub async fn intake(&self, p: &Principal, req: &IntakeRequest) -> Result<Intake, AppError> {
        Self::require_handler(p)?;
        // No tracking number on the parcel: an internal id to write on it.
        let (tracking, carrier) = if req.tracking.trim().is_empty() {
            (internal_id(), None)
        } else {
            normalize_tracking(&req.tracking)?
        };
        let new = NewPackage {
            tracking,
            carrier,
            recipient_id: req.recipient_id,
            addressed_to: req
                .recipient_id
                .is_none()
                .then(|| AddressedTo::clean(&req.addressed_to))
                .flatten(),
            location: Location::new(&req.location).map_err(invalid)?,
            flags: req.flags,
            note: Note::new(&req.note).map_err(invalid)?,
        };
        self.db
            .scoped(p, async |tx| packages::intake(tx, &new).await)
            .await
    }

    /// A transaction and the waiting package with this pickup code. Codes are bearer
    /// secrets: guessing them is rate limited per user, like the kiosk's per device (the
    /// interface and `packages pickup --code` alike). A wrong code is recorded (and that
    /// transaction committed) before the answer "not found".
    async fn open_code<'p>(
        &self,
        p: &'p Principal,
        code: &str,
    ) -> Result<(crate::db::TenantTx<'p>, Package), AppError> {
        let code = PickupCode::parse(code).map_err(invalid)?;
        let code = &code;
        let mut tx = self.db.tenant(p).await?;
        let user = p.user().0;
        if guesses::user_code_failures(&mut tx, user).await? >= USER_CODE_THRESHOLD {
            tx.rollback().await?;
            tracing::warn!(login = %p.login(), facility = %p.slug(),
                "pickup code refused: too many wrong codes");
            return Err(AppError::Invalid(WRONG_CODES.into()));
        }
        match packages::find_by_code(&mut tx, code).await? {
            Some(pkg) => Ok((tx, pkg)),
            None => {
                // The parcel was just handed over (two counters, one code): not a guess.
                let window = crate::config::LOCKOUT_WINDOW;
                if !packages::code_recently_picked_up(&mut tx, code, window).await? {
                    guesses::record_user_code_failure(&mut tx, user).await?;
                }
                tx.commit().await?;
                Err(AppError::NotFound)
            }
        }
    }

    /// The waiting package with a pickup code, and the recipient's other waiting packages.
    /// After [`USER_CODE_THRESHOLD`] wrong codes within the lockout window the user's code
    /// lookups are refused (scan the parcel or search the recipient instead).
    pub async fn find_for_pickup(
        &self,
        p: &Principal,
        code: &str,
    ) -> Result<Vec<Package>, AppError> {
        let (mut tx, pkg) = self.open_code(p, code).await?;
        let mut list = match pkg.recipient_id {
            Some(r) => packages::waiting_for(&mut tx, r).await?,
            None => vec![pkg],
        };
        packages::with_handling(&mut tx, &mut list).await?;
        tx.commit().await?;
        Ok(codes_for(p, list))
    }

    /// The waiting parcel with this tracking number and its recipient's other ones.
    pub async fn find_for_pickup_by_tracking(
        &self,
        p: &Principal,
        tracking: &str,
    ) -> Result<Vec<Package>, AppError> {
        let list = self
            .db
            .scoped(p, async |tx| {
                let pkg = packages::find_waiting(tx, tracking)
                    .await?
                    .ok_or(AppError::NotFound)?;
                let mut list = match pkg.recipient_id {
                    Some(r) => packages::waiting_for(tx, r).await?,
                    None => vec![pkg],
                };
                packages::with_handling(tx, &mut list).await?;
                Ok::<_, AppError>(list)
            })
            .await?;
        Ok(codes_for(p, list))
    }

    pub async fn find_waiting(
        &self,
        p: &Principal,
        tracking: &str,
    ) -> Result<Option<Package>, AppError> {
        let found = self
            .db
            .scoped(p, async |tx| packages::find_waiting(tx, tracking).await)
            .await?;
        Ok(found.map(|pkg| code_for(p, pkg)))
    }

    pub async fn waiting_for(
        &self,
        p: &Principal,
        recipient: i64,
    ) -> Result<Vec<Package>, AppError> {
        let list = self
            .db
            .scoped(p, async |tx| {
                let mut list = packages::waiting_for(tx, recipient).await?;
                packages::with_handling(tx, &mut list).await?;
                Ok::<_, AppError>(list)
            })
            .await?;
        Ok(codes_for(p, list))
    }

    /// Hands packages over, all or nothing.
    pub async fn pickup(
        &self,
        p: &Principal,
        ids: &[i64],
        handover: &Handover,
    ) -> Result<Vec<Package>, AppError> {
        Self::require_handler(p)?;
        checked("receiver name", handover.receiver.trim(), Lines::One)?;
        self.db
            .scoped(p, async |tx| packages::pickup(tx, ids, handover).await)
            .await
    }

    /// Hands over the one waiting package with this pickup code, in one transaction:
    /// `receiver` defaults to the recipient's name. A code that is not (or no longer)
    /// waiting answers "not found", also when another counter handed the parcel over
    /// between our lookup and our row lock; a viewer is refused before any lookup, so the
    /// answer never tells them whether a code exists.
    pub async fn pickup_by_code(
        &self,
        p: &Principal,
        code: &str,
        receiver: Option<String>,
    ) -> Result<Vec<Package>, AppError> {
        Self::require_handler(p)?;
        let (mut tx, pkg) = self.open_code(p, code).await?;
        let receiver = receiver
            .or(pkg.recipient_name)
            .unwrap_or_else(|| "unknown".into());
        checked("receiver name", receiver.trim(), Lines::One)?;
        let handover = Handover {
            receiver,
            proxy: false,
        };
        let done = match packages::pickup(&mut tx, &[pkg.id], &handover).await {
            // Picked up since we looked: the row lock saw it no longer waiting.
            Err(AppError::Conflict(_)) => Err(AppError::NotFound),
            other => other,
        }?;
        tx.commit().await?;
        Ok(done)
    }

    pub async fn assign(
        &self,
        p: &Principal,
        id: i64,
        recipient_id: i64,
    ) -> Result<Package, AppError> {
        Self::require_handler(p)?;
        self.db
            .scoped(p, async |tx| packages::assign(tx, id, recipient_id).await)
            .await
    }

    /// Moves, returns or writes off a waiting package (operators and admins).
    pub async fn change(
        &self,
        p: &Principal,
        id: i64,
        change: &packages::Change,
        reason: &str,
    ) -> Result<Package, AppError> {
        Self::require_handler(p)?;
        checked("reason", reason.trim(), Lines::One)?;
        self.db
            .scoped(p, async |tx| packages::change(tx, id, change, reason).await)
            .await
    }

    /// Corrects a waiting parcel's recipient, flags or note (operators and admins): the new
    /// recipient is notified, the previous one told to disregard the earlier notice.
    pub async fn correct(
        &self,
        p: &Principal,
        id: i64,
        edit: &packages::Edit,
    ) -> Result<Package, AppError> {
        Self::require_handler(p)?;
        let pkg = self
            .db
            .scoped(p, async |tx| packages::correct(tx, id, edit).await)
            .await?;
        Ok(code_for(p, pkg))
    }

    pub async fn stats(&self, p: &Principal) -> Result<Stats, AppError> {
        self.db
            .scoped(p, async |tx| packages::stats(tx).await)
            .await
    }
}

/// A package list's query as asked, checked (status, search text) and its limit clamped.
fn list_query<'a>(q: &packages::ListQuery<'a>) -> Result<packages::ListQuery<'a>, AppError> {
    if let Some(s) = q.status
        && !STATUSES.contains(&s)
        && s != "unmatched"
    {
        return Err(AppError::Invalid(format!(
            "unknown status `{s}` (expected one of {})",
            STATUSES.join(", ")
        )));
    }
    checked("search", q.search, Lines::One)?;
    Ok(packages::ListQuery {
        limit: q.limit.clamp(1, MAX_LIST),
        ..*q
    })
}

/// A free-text field as the user gave it, refused (with the field's name) when it holds a
/// control character or a bidi override. Every stored free-text field goes through this or
/// [`text::check`] before it is written.
pub fn checked(field: &'static str, value: &str, lines: Lines) -> Result<(), AppError> {
    text::check(field, value, lines).map_err(|e| AppError::Invalid(e.to_string()))
}

/// A parcel field the domain type refused, as the user's error.
pub fn invalid(e: FieldError) -> AppError {
    AppError::Invalid(e.0)
}

/// Pickup codes are bearer secrets: whoever holds one can collect the parcel at a kiosk.
/// Only those who hand parcels over (operators, admins) see them; a viewer gets none.
fn code_for(p: &Principal, mut pkg: Package) -> Package {
    if !p.role().can_handle_packages() {
        pkg.pickup_code = None;
    }
    pkg
}

fn codes_for(p: &Principal, list: Vec<Package>) -> Vec<Package> {
    list.into_iter().map(|pkg| code_for(p, pkg)).collect()
}

/// `PT-` and 8 characters from an alphabet without look-alikes (no 0/O, 1/I).
pub fn internal_id() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let bytes = crate::secrets::random_bytes::<8>();
    let tail: String = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!("PT-{tail}")
}

/// What a scanned label becomes in the database: the carrier's tracking number when the
/// text is one, otherwise the normalised text (internal ids, unknown carriers).
pub fn normalize_tracking(text: &str) -> Result<(String, Option<String>), AppError> {
    let parsed = crate::label::parse(text);
    if let Some(carrier) = parsed.carrier {
        return Ok((parsed.tracking, Some(carrier.to_string())));
    }
    let t = crate::label::normalize(text);
    if t.is_empty() {
        return Err(AppError::Invalid("the tracking number is empty".into()));
    }
    if t.len() > TRACKING_MAX || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(AppError::Invalid(format!(
            "`{}` is not a tracking number: use letters, digits and '-', at most {TRACKING_MAX}",
            text.trim()
        )));
    }
    Ok((t, None))
}

#[cfg(test)]
mod tests;
