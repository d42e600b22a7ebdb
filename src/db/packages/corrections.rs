//! Correcting a waiting parcel: its recipient, its flags, its note. A parcel logged to the
//! wrong resident is fixed in one transaction that also writes the custody event (who, old →
//! new), the new recipient's arrival notice and the old one's "please disregard" notice, so
//! the notices exist exactly when the change does.

use super::*;

/// What the clerk saw on the box besides the contract's columns; shown on the detail screen,
/// never in the exec JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Handling {
    pub flags: Flags,
    pub note: Note,
}

/// The parcel's flags and note.
pub async fn handling(tx: &mut TenantTx<'_>, id: i64) -> Result<Handling, AppError> {
    let row: Option<(bool, bool, bool, bool, String)> = sqlx::query_as(
        "SELECT perishable, oversized, damaged, signature_required, note FROM packages \
         WHERE facility_id = $1 AND id = $2",
    )
    .bind(tx.facility().0)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let (perishable, oversized, damaged, signature_required, note) =
        row.ok_or(AppError::NotFound)?;
    Ok(Handling {
        flags: Flags {
            perishable,
            oversized,
            damaged,
            signature_required,
        },
        note: Note::stored(note),
    })
}

/// A correction to a waiting parcel: each part that is `Some` replaces what is recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edit {
    pub recipient_id: Option<i64>,
    pub flags: Option<Flags>,
    pub note: Option<Note>,
}

/// The outbox event a parcel's new recipient gets: rendered like the arrival notice, named
/// apart so a webhook can tell a reassignment from a second intake.
pub const REASSIGNED: &str = "reassigned";
/// The outbox event its previous recipient gets: the earlier notice was not for them.
pub const DISREGARD: &str = "disregard";

/// Applies `edit` to waiting package `id`. Another facility's package or recipient is not
/// found, like a missing one (RLS hides them); a package that left the mailroom is refused.
/// A new recipient gets a new pickup code: the previous one was sent to someone else.
pub async fn correct(tx: &mut TenantTx<'_>, id: i64, edit: &Edit) -> Result<Package, AppError> {
    let facility = tx.facility().0;
    let row: Option<(String, Option<i64>)> = sqlx::query_as(
        "SELECT status, recipient_id FROM packages WHERE facility_id = $1 AND id = $2 \
         FOR UPDATE",
    )
    .bind(facility)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let (status, old_recipient) = row.ok_or(AppError::NotFound)?;
    if status != "waiting" {
        return Err(AppError::Conflict(format!(
            "package {id} is {}: only a waiting parcel can be corrected",
            status.replace('_', " ")
        )));
    }
    let before = handling(tx, id).await?;
    let recipient = edit.recipient_id.filter(|r| Some(*r) != old_recipient);
    if let Some(r) = recipient {
        super::super::recipients::get(tx, r).await?;
    }
    let flags = edit.flags.filter(|f| *f != before.flags);
    let note = edit.note.as_ref().filter(|n| **n != before.note);
    if recipient.is_none() && flags.is_none() && note.is_none() {
        return Err(AppError::Invalid("nothing to change".into()));
    }
    let code = match recipient {
        Some(_) => Some(unused_code(tx).await?),
        None => None,
    };
    sqlx::query(
        "UPDATE packages SET recipient_id = COALESCE($3, recipient_id), \
             perishable = COALESCE($4, perishable), oversized = COALESCE($5, oversized), \
             damaged = COALESCE($6, damaged), \
             signature_required = COALESCE($7, signature_required), \
             note = COALESCE($8, note), pickup_code = COALESCE($9, pickup_code) \
         WHERE facility_id = $1 AND id = $2",
    )
    .bind(facility)
    .bind(id)
    .bind(recipient)
    .bind(flags.map(|f| f.perishable))
    .bind(flags.map(|f| f.oversized))
    .bind(flags.map(|f| f.damaged))
    .bind(flags.map(|f| f.signature_required))
    .bind(note.map(Note::as_str))
    .bind(code.as_ref().map(PickupCode::as_str))
    .execute(tx.conn())
    .await?;
    // The timeline names residents by id, never by name or contact, and a note's text stays
    // on the package: the custody chain says that it changed.
    let mut changes = serde_json::Map::new();
    if let Some(r) = recipient {
        changes.insert(
            "recipient_id".into(),
            json!({ "from": old_recipient, "to": r }),
        );
    }
    if let Some(f) = flags {
        changes.insert(
            "flags".into(),
            json!({ "from": before.flags.label(), "to": f.label() }),
        );
    }
    if note.is_some() {
        changes.insert("note".into(), json!("changed"));
    }
    record_event(
        tx,
        &[id],
        "updated",
        None,
        json!({ "changes": changes, "reason": "corrected" }),
    )
    .await?;
    let package = get(tx, id).await?;
    if recipient.is_some() {
        super::super::outbox::enqueue(tx, REASSIGNED, &package).await?;
        if let Some(old) = old_recipient {
            super::super::outbox::enqueue_disregard(tx, &package, old).await?;
        }
    }
    notify(tx, "updated", &[id]).await?;
    Ok(package)
}

/// A pickup code no waiting parcel of the facility has. (A concurrent intake drawing the same
/// code in the same instant fails on the unique index and is retried by the user.)
async fn unused_code(tx: &mut TenantTx<'_>) -> Result<PickupCode, AppError> {
    for _ in 0..16 {
        let code = random_pickup_code();
        let taken: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM packages WHERE facility_id = $1 \
                 AND pickup_code = $2 AND status = 'waiting')",
        )
        .bind(tx.facility().0)
        .bind(code.as_str())
        .fetch_one(tx.conn())
        .await?;
        if !taken {
            return Ok(code);
        }
    }
    Err(AppError::Conflict(
        "could not allocate a unique pickup code; too many packages waiting".into(),
    ))
}
