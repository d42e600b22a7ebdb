//! Recipients management for facility admins: create, edit, (de)activate, merge
//! duplicates and import a CSV with a preview. Admins only, never from a kiosk terminal;
//! every write is audited in its transaction and keeps the facility's search index
//! current without a rebuild.

use crate::admin::import::{self, ImportOptions, Plan};
use crate::config;
use crate::db::recipients::{self, ImportWrite, Imported, Merged, Recipient};
use crate::domain::{FacilityId, Principal};
use crate::error::AppError;

use super::Ops;

/// A recipient's fields as typed in the admin form (validated by [`Ops`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipientFields {
    pub name: String,
    pub unit: String,
    pub email: String,
    pub phone: String,
    /// Separated by `;`.
    pub aliases: String,
}

impl RecipientFields {
    pub fn of(r: &Recipient) -> Self {
        Self {
            name: r.name.clone(),
            unit: r.unit.clone(),
            email: r.email.clone().unwrap_or_default(),
            phone: r.phone.clone().unwrap_or_default(),
            aliases: r.aliases.join("; "),
        }
    }

    pub fn validate(&self) -> Result<recipients::NewRecipient, import::FieldError> {
        import::validate_fields(
            &self.name,
            &self.unit,
            &self.email,
            &self.phone,
            &self.aliases,
        )
    }
}

/// Two recipients about to be merged and what the merge would move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergePreview {
    pub keep: Recipient,
    pub duplicate: Recipient,
    pub waiting: i64,
    pub total: i64,
}

/// Up to this many changed rows (per import, or pending from other processes) a facility's
/// search index is updated in place, in one pass (`RecipientIndex::apply`: the changed
/// records plus a merge of the name order, about a tenth of a 100k-recipient rebuild for
/// 10,000 rows); beyond it the index is rebuilt beside the one in use. Migration 0018's
/// trigger lists changed ids up to the same count per facility and transaction (100 ids per
/// notification, so at most 100 notifications).
pub(super) const INDEX_UPDATE_MAX: usize = 10_000;

impl Ops {
    /// Recipients management: admins, and not at a kiosk (a shared counter terminal never
    /// reaches the admin functions, whoever unlocked it).
    pub(crate) fn require_recipient_admin(p: &Principal) -> Result<(), AppError> {
        if p.may_administer() {
            Ok(())
        } else {
            Err(AppError::PermissionDenied)
        }
    }

    /// Updates a built search index with changed recipients (no rebuild).
    async fn recipients_changed(&self, facility: FacilityId, changed: Vec<Recipient>) {
        if changed.len() > INDEX_UPDATE_MAX {
            self.directory.mark_stale(facility);
            return;
        }
        let slot = self.directory.slot(facility);
        let mut guard = slot.write().await;
        if let Some(index) = guard.as_mut() {
            index.apply(changed, &[]);
        }
    }

    /// One recipient with its full contact data, for the admin's edit form. Audited: the
    /// lists show contact data masked, and this is where it is revealed.
    pub async fn recipient_for_edit(&self, p: &Principal, id: i64) -> Result<Recipient, AppError> {
        Self::require_recipient_admin(p)?;
        self.db
            .scoped(p, async |tx| {
                let r = recipients::get(tx, id).await?;
                crate::db::audit::record(
                    tx,
                    "recipient.reveal",
                    &format!("recipient:{id}"),
                    serde_json::json!({ "for": "edit" }),
                )
                .await?;
                Ok::<_, AppError>(r)
            })
            .await
    }

    pub async fn create_recipient(
        &self,
        p: &Principal,
        fields: &RecipientFields,
    ) -> Result<Recipient, AppError> {
        self.save_recipient(p, None, fields).await
    }

    pub async fn update_recipient(
        &self,
        p: &Principal,
        id: i64,
        fields: &RecipientFields,
    ) -> Result<Recipient, AppError> {
        self.save_recipient(p, Some(id), fields).await
    }

    /// Create (`id` None) or update: the same check, validation and change notice either way.
    async fn save_recipient(
        &self,
        p: &Principal,
        id: Option<i64>,
        fields: &RecipientFields,
    ) -> Result<Recipient, AppError> {
        Self::require_recipient_admin(p)?;
        let new = fields
            .validate()
            .map_err(|e| AppError::Invalid(e.message))?;
        let r = self
            .db
            .scoped(p, async |tx| match id {
                None => recipients::create(tx, &new).await,
                Some(id) => recipients::update(tx, id, &new).await,
            })
            .await?;
        self.recipients_changed(p.facility(), vec![r.clone()]).await;
        Ok(r)
    }

    /// Deactivates or reactivates; also answers how many packages still wait for them.
    pub async fn set_recipient_active(
        &self,
        p: &Principal,
        id: i64,
        active: bool,
    ) -> Result<(Recipient, i64), AppError> {
        Self::require_recipient_admin(p)?;
        let (r, waiting) = self
            .db
            .scoped(p, async |tx| recipients::set_active(tx, id, active).await)
            .await?;
        self.recipients_changed(p.facility(), vec![r.clone()]).await;
        Ok((r, waiting))
    }

    /// What merging `duplicate` into `keep` would move, for the confirmation.
    pub async fn merge_preview(
        &self,
        p: &Principal,
        keep: i64,
        duplicate: i64,
    ) -> Result<MergePreview, AppError> {
        Self::require_recipient_admin(p)?;
        if keep == duplicate {
            return Err(AppError::Invalid(
                "that is the recipient to keep; pick its duplicate".into(),
            ));
        }
        self.db
            .scoped(p, async |tx| {
                let k = recipients::get(tx, keep).await?;
                let d = recipients::get(tx, duplicate).await?;
                let (waiting, total) = recipients::package_counts(tx, duplicate).await?;
                Ok::<_, AppError>(MergePreview {
                    keep: k,
                    duplicate: d,
                    waiting,
                    total,
                })
            })
            .await
    }

    /// Merges a duplicate into the recipient to keep, in one transaction.
    pub async fn merge_recipients(
        &self,
        p: &Principal,
        keep: i64,
        duplicate: i64,
    ) -> Result<Merged, AppError> {
        Self::require_recipient_admin(p)?;
        let merged = self
            .db
            .scoped(p, async |tx| recipients::merge(tx, keep, duplicate).await)
            .await?;
        self.recipients_changed(
            p.facility(),
            vec![merged.kept.clone(), merged.duplicate.clone()],
        )
        .await;
        Ok(merged)
    }

    /// Parses and validates a CSV (plain or recognisable header) and classifies each row
    /// against the facility's current recipients. Writes nothing.
    pub async fn plan_import(&self, p: &Principal, csv: &[u8]) -> Result<Plan, AppError> {
        self.plan_import_with(p, csv, &ImportOptions::default())
            .await
    }

    /// [`Self::plan_import`] with a column map and the move-outs as `options` ask: the
    /// facility's active residents missing from the file, with their waiting packages.
    pub async fn plan_import_with(
        &self,
        p: &Principal,
        csv: &[u8],
        options: &ImportOptions,
    ) -> Result<Plan, AppError> {
        Self::require_recipient_admin(p)?;
        if csv.len() as u64 > config::MAX_IMPORT_BYTES {
            return Err(AppError::Invalid(format!(
                "the CSV is {} bytes; the limit is {} bytes: split it",
                csv.len(),
                config::MAX_IMPORT_BYTES
            )));
        }
        let parsed = import::parse_with(csv, config::MAX_IMPORT_ROWS, &options.map)
            .map_err(AppError::Invalid)?;
        let (existing, waiting) = self
            .db
            .scoped(p, async |tx| {
                let all = recipients::all(tx).await?;
                let waiting = recipients::waiting_counts(tx).await?;
                Ok::<_, AppError>((all, waiting))
            })
            .await?;
        Ok(import::plan_with(parsed, &existing, &waiting, options))
    }

    /// Writes a planned import in one transaction, calling `progress(done, total)` after
    /// each batch; then brings the search index up to date. Move-outs the plan refuses (a
    /// mass deactivation not confirmed, unreadable lines) refuse the whole import: nothing
    /// is written. Deactivation stays inside the principal's facility whatever ids the plan
    /// holds (the queries are scoped, and RLS backs them).
    pub async fn apply_import(
        &self,
        p: &Principal,
        plan: &Plan,
        source: &str,
        progress: impl FnMut(usize, usize),
    ) -> Result<Imported, AppError> {
        Self::require_recipient_admin(p)?;
        if plan.rows.len() > config::MAX_IMPORT_ROWS {
            return Err(AppError::Invalid(format!(
                "more than {} rows; split the file",
                config::MAX_IMPORT_ROWS
            )));
        }
        if let Some(refusal) = plan.move_outs.refusal() {
            return Err(AppError::Invalid(
                refusal.message("confirm the mass deactivation"),
            ));
        }
        let ids = plan.move_outs.ids();
        let write = ImportWrite {
            rows: &plan.rows,
            rejected: plan.rejected.len(),
            provided: plan.provided,
            deactivate: ids.as_deref(),
            held: plan.move_outs.held.len(),
            source,
        };
        let mut done = self
            .db
            .scoped(p, async |tx| recipients::import(tx, write, progress).await)
            .await?;
        let mut changed = std::mem::take(&mut done.changed);
        changed.extend(done.deactivated.iter().cloned());
        self.recipients_changed(p.facility(), changed).await;
        Ok(done)
    }
}
