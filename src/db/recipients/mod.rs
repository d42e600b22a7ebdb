//! Recipients of one facility; the CSV import's writes in [`import`].

use serde::Serialize;

use super::TenantTx;
use crate::error::{AppError, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Recipient {
    pub id: i64,
    pub name: String,
    pub unit: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub aliases: Vec<String>,
    pub active: bool,
}

/// A validated recipient as written by the CSV import or the admin console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecipient {
    pub name: String,
    pub unit: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub aliases: Vec<String>,
}

/// What an upsert did to the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Added,
    Updated,
    Unchanged,
}

macro_rules! columns {
    () => {
        "id, name, unit, email, phone, aliases, active"
    };
}

mod import;
pub mod proxies;
pub use import::{Counts, IMPORT_BATCH, ImportWrite, Imported, MovedOut, import, waiting_counts};

pub async fn get(tx: &mut TenantTx<'_>, id: i64) -> Result<Recipient, AppError> {
    fetch_one_row(tx, id, false).await
}

/// One recipient by id, locked for the rest of the transaction when `lock`. RLS hides other
/// facilities' rows, so their ids answer exactly like missing ones.
async fn fetch_one_row(tx: &mut TenantTx<'_>, id: i64, lock: bool) -> Result<Recipient, AppError> {
    const SELECT: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM recipients WHERE facility_id = $1 AND id = $2"
    );
    const SELECT_FOR_UPDATE: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM recipients WHERE facility_id = $1 AND id = $2 FOR UPDATE"
    );
    sqlx::query_as(if lock { SELECT_FOR_UPDATE } else { SELECT })
        .bind(tx.facility().0)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(AppError::NotFound)
}

/// All recipients of the facility (for the in-memory search index), active ones first.
pub async fn all(tx: &mut TenantTx<'_>) -> Result<Vec<Recipient>, DbError> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM recipients WHERE facility_id = $1 ORDER BY NOT active, name, id"
    ))
    .bind(tx.facility().0)
    .fetch_all(tx.conn())
    .await?)
}

/// These recipients of the facility, those that exist (for reloading changed rows into the
/// search index).
pub async fn by_ids(tx: &mut TenantTx<'_>, ids: &[i64]) -> Result<Vec<Recipient>, DbError> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM recipients WHERE facility_id = $1 AND id = ANY($2)"
    ))
    .bind(tx.facility().0)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?)
}

/// Inserts a recipient or updates the one with the same name and unit (case-insensitive);
/// re-running an import therefore changes nothing.
pub async fn upsert(tx: &mut TenantTx<'_>, r: &NewRecipient) -> Result<Upserted, DbError> {
    Ok(upsert_row(tx, r).await?.0)
}

#[derive(sqlx::FromRow)]
struct UpsertRow {
    added: bool,
    #[sqlx(flatten)]
    recipient: Recipient,
}

/// Binds a recipient's editable fields in column order (name, unit, email, phone, aliases),
/// the order every statement that writes them lists them in after its keys.
trait BindRecipient<'q> {
    fn bind_recipient(self, r: &'q NewRecipient) -> Self;
}

impl<'q, O> BindRecipient<'q>
    for sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>
{
    fn bind_recipient(self, r: &'q NewRecipient) -> Self {
        self.bind(&r.name)
            .bind(&r.unit)
            .bind(&r.email)
            .bind(&r.phone)
            .bind(&r.aliases)
    }
}

/// Which of the optional fields an import's file has a column for. A field without a column
/// keeps what is stored (a roster export without aliases must not wipe the aliases added at
/// the desk); a column with an empty cell clears the field, as the plain header always has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provided {
    pub email: bool,
    pub phone: bool,
    pub aliases: bool,
}

impl Default for Provided {
    /// The plain header has every column.
    fn default() -> Self {
        Self {
            email: true,
            phone: true,
            aliases: true,
        }
    }
}

/// [`upsert`], also returning the row as stored when it was added or updated.
pub async fn upsert_row(
    tx: &mut TenantTx<'_>,
    r: &NewRecipient,
) -> Result<(Upserted, Option<Recipient>), DbError> {
    upsert_provided(tx, r, Provided::default()).await
}

/// [`upsert_row`] writing only the optional fields the file `provided` (a new row gets
/// empty ones for the others).
pub async fn upsert_provided(
    tx: &mut TenantTx<'_>,
    r: &NewRecipient,
    provided: Provided,
) -> Result<(Upserted, Option<Recipient>), DbError> {
    let row: Option<UpsertRow> = sqlx::query_as(concat!(
        "INSERT INTO recipients AS r (facility_id, name, unit, email, phone, aliases) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (facility_id, lower(name), lower(unit)) DO UPDATE \
            SET email = CASE WHEN $7 THEN EXCLUDED.email ELSE r.email END, \
                phone = CASE WHEN $8 THEN EXCLUDED.phone ELSE r.phone END, \
                aliases = CASE WHEN $9 THEN EXCLUDED.aliases ELSE r.aliases END, \
                active = true, updated_at = now() \
            WHERE (r.email, r.phone, r.aliases, r.active) IS DISTINCT FROM \
                  (CASE WHEN $7 THEN EXCLUDED.email ELSE r.email END, \
                   CASE WHEN $8 THEN EXCLUDED.phone ELSE r.phone END, \
                   CASE WHEN $9 THEN EXCLUDED.aliases ELSE r.aliases END, true) \
         RETURNING (xmax = 0) AS added, ",
        columns!()
    ))
    .bind(tx.facility().0)
    .bind_recipient(r)
    .bind(provided.email)
    .bind(provided.phone)
    .bind(provided.aliases)
    .fetch_optional(tx.conn())
    .await?;
    Ok(match row {
        Some(UpsertRow {
            added: true,
            recipient,
        }) => (Upserted::Added, Some(recipient)),
        Some(UpsertRow { recipient, .. }) => (Upserted::Updated, Some(recipient)),
        None => (Upserted::Unchanged, None),
    })
}

pub async fn count(tx: &mut TenantTx<'_>) -> Result<i64, DbError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM recipients WHERE facility_id = $1")
            .bind(tx.facility().0)
            .fetch_one(tx.conn())
            .await?,
    )
}

// ---------------------------------------------------------------------------------------
// Admin writes: create, edit, (de)activate, merge, import. Each records an audit row in
// the same transaction. Audit details name the fields that changed, never their values
// (recipients' contact data is PII; the audit trail is read by every admin).
// ---------------------------------------------------------------------------------------

/// The unique index on (facility, lower(name), lower(unit)) as a user-facing conflict.
fn name_taken(e: sqlx::Error, r: &NewRecipient) -> AppError {
    if e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "23505")
    {
        AppError::Conflict(if r.unit.is_empty() {
            format!(
                "a recipient named `{}` without a unit already exists",
                r.name
            )
        } else {
            format!(
                "a recipient named `{}` in unit `{}` already exists",
                r.name, r.unit
            )
        })
    } else {
        e.into()
    }
}

/// Locks one recipient row for the rest of the transaction.
async fn get_for_update(tx: &mut TenantTx<'_>, id: i64) -> Result<Recipient, AppError> {
    fetch_one_row(tx, id, true).await
}

/// The names of the fields that differ.
fn changed_fields(old: &Recipient, new: &NewRecipient) -> Vec<&'static str> {
    let mut out = Vec::new();
    if old.name != new.name {
        out.push("name");
    }
    if old.unit != new.unit {
        out.push("unit");
    }
    if old.email != new.email {
        out.push("email");
    }
    if old.phone != new.phone {
        out.push("phone");
    }
    if old.aliases != new.aliases {
        out.push("aliases");
    }
    out
}

pub async fn create(tx: &mut TenantTx<'_>, r: &NewRecipient) -> Result<Recipient, AppError> {
    let created: Recipient = sqlx::query_as(concat!(
        "INSERT INTO recipients (facility_id, name, unit, email, phone, aliases) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
        columns!()
    ))
    .bind(tx.facility().0)
    .bind_recipient(r)
    .fetch_one(tx.conn())
    .await
    .map_err(|e| name_taken(e, r))?;
    super::audit::record(
        tx,
        "recipient.create",
        &format!("recipient:{}", created.id),
        serde_json::json!({
            "unit": created.unit,
            "email": created.email.is_some(),
            "phone": created.phone.is_some(),
            "aliases": created.aliases.len(),
        }),
    )
    .await?;
    Ok(created)
}

/// Replaces a recipient's fields. Nothing changed: no write, no audit row.
pub async fn update(
    tx: &mut TenantTx<'_>,
    id: i64,
    r: &NewRecipient,
) -> Result<Recipient, AppError> {
    let old = get_for_update(tx, id).await?;
    let fields = changed_fields(&old, r);
    if fields.is_empty() {
        return Ok(old);
    }
    let updated: Recipient = sqlx::query_as(concat!(
        "UPDATE recipients SET name = $3, unit = $4, email = $5, phone = $6, aliases = $7, \
             updated_at = now() \
         WHERE facility_id = $1 AND id = $2 RETURNING ",
        columns!()
    ))
    .bind(tx.facility().0)
    .bind(id)
    .bind_recipient(r)
    .fetch_one(tx.conn())
    .await
    .map_err(|e| name_taken(e, r))?;
    super::audit::record(
        tx,
        "recipient.update",
        &format!("recipient:{id}"),
        serde_json::json!({ "fields": fields }),
    )
    .await?;
    Ok(updated)
}

/// Deactivates (hidden from search, keeps its history) or reactivates a recipient.
/// Returns the recipient and how many packages are still waiting for it.
pub async fn set_active(
    tx: &mut TenantTx<'_>,
    id: i64,
    active: bool,
) -> Result<(Recipient, i64), AppError> {
    let old = get_for_update(tx, id).await?;
    if old.active == active {
        return Err(AppError::Conflict(format!(
            "{} is already {}",
            old.name,
            if active { "active" } else { "inactive" }
        )));
    }
    let r: Recipient = sqlx::query_as(concat!(
        "UPDATE recipients SET active = $3, updated_at = now() \
         WHERE facility_id = $1 AND id = $2 RETURNING ",
        columns!()
    ))
    .bind(tx.facility().0)
    .bind(id)
    .bind(active)
    .fetch_one(tx.conn())
    .await?;
    let waiting = package_counts(tx, id).await?.0;
    super::audit::record(
        tx,
        if active {
            "recipient.reactivate"
        } else {
            "recipient.deactivate"
        },
        &format!("recipient:{id}"),
        serde_json::json!({ "waiting": waiting }),
    )
    .await?;
    Ok((r, waiting))
}

/// (waiting, all) packages of a recipient.
pub async fn package_counts(tx: &mut TenantTx<'_>, id: i64) -> Result<(i64, i64), DbError> {
    Ok(sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'waiting'), count(*) FROM packages \
         WHERE facility_id = $1 AND recipient_id = $2",
    )
    .bind(tx.facility().0)
    .bind(id)
    .fetch_one(tx.conn())
    .await?)
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub kept: Recipient,
    pub duplicate: Recipient,
    /// Packages moved from the duplicate to the kept recipient.
    pub moved: Vec<i64>,
    pub waiting_moved: i64,
}

/// Merges a duplicate into the recipient to keep, in the caller's transaction: the
/// duplicate's packages (waiting and past) move to the kept recipient with an `updated`
/// custody event each; its name (when different) and aliases become aliases of the kept
/// one, whose empty email or phone are filled from the duplicate; the duplicate is
/// deactivated. Audited once.
pub async fn merge(tx: &mut TenantTx<'_>, keep: i64, duplicate: i64) -> Result<Merged, AppError> {
    if keep == duplicate {
        return Err(AppError::Invalid(
            "pick two different recipients to merge".into(),
        ));
    }
    // Lock in id order so two merges of the same pair cannot deadlock.
    let (first, second) = (keep.min(duplicate), keep.max(duplicate));
    let a = get_for_update(tx, first).await?;
    let b = get_for_update(tx, second).await?;
    let (kept, dup) = if a.id == keep { (a, b) } else { (b, a) };
    if !kept.active {
        return Err(AppError::Conflict(format!(
            "{} is inactive; reactivate the recipient to keep first",
            kept.name
        )));
    }
    let mut aliases = kept.aliases.clone();
    let mut add_alias = |a: &str| {
        if !a.eq_ignore_ascii_case(&kept.name) && !aliases.iter().any(|x| x.eq_ignore_ascii_case(a))
        {
            aliases.push(a.to_string());
        }
    };
    add_alias(&dup.name);
    for a in &dup.aliases {
        add_alias(a);
    }
    let email = kept.email.clone().or_else(|| dup.email.clone());
    let phone = kept.phone.clone().or_else(|| dup.phone.clone());
    let facility = tx.facility().0;
    let moved: Vec<(i64, String)> = sqlx::query_as(
        "UPDATE packages SET recipient_id = $3 WHERE facility_id = $1 AND recipient_id = $2 \
         RETURNING id, status",
    )
    .bind(facility)
    .bind(dup.id)
    .bind(kept.id)
    .fetch_all(tx.conn())
    .await?;
    let mut ids: Vec<i64> = moved.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    let waiting_moved = moved.iter().filter(|(_, s)| s == "waiting").count() as i64;
    if !ids.is_empty() {
        super::packages::record_event(
            tx,
            &ids,
            "updated",
            None,
            serde_json::json!({
                "recipient_id": kept.id,
                "from_recipient_id": dup.id,
                "reason": "merged duplicate recipient",
            }),
        )
        .await?;
        super::packages::notify(tx, "updated", &ids).await?;
    }
    sqlx::query(
        "UPDATE recipients SET active = false, updated_at = now() \
         WHERE facility_id = $1 AND id = $2",
    )
    .bind(facility)
    .bind(dup.id)
    .execute(tx.conn())
    .await?;
    let kept_after: Recipient = sqlx::query_as(concat!(
        "UPDATE recipients SET aliases = $3, email = $4, phone = $5, updated_at = now() \
         WHERE facility_id = $1 AND id = $2 RETURNING ",
        columns!()
    ))
    .bind(facility)
    .bind(kept.id)
    .bind(&aliases)
    .bind(&email)
    .bind(&phone)
    .fetch_one(tx.conn())
    .await?;
    let dup_after = get(tx, dup.id).await?;
    super::audit::record(
        tx,
        "recipient.merge",
        &format!("recipient:{}", kept.id),
        serde_json::json!({
            "duplicate": dup.id,
            "packages": ids.len(),
            "waiting": waiting_moved,
            "aliases_added": aliases.len() - kept.aliases.len(),
        }),
    )
    .await?;
    Ok(Merged {
        kept: kept_after,
        duplicate: dup_after,
        moved: ids,
        waiting_moved,
    })
}
