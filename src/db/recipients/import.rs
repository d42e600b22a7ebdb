//! The recipients CSV import's writes: upserts with only the columns the file has, the
//! move-outs (residents missing from the roster) deactivated unless packages wait for them,
//! one audit row with the counts.

use super::{NewRecipient, Provided, Recipient, TenantTx, Upserted, upsert_provided};
use crate::error::DbError;

/// Packages waiting per recipient of the facility (recipients with none are left out).
pub async fn waiting_counts(
    tx: &mut TenantTx<'_>,
) -> Result<std::collections::HashMap<i64, i64>, DbError> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT recipient_id, count(*) FROM packages \
         WHERE facility_id = $1 AND status = 'waiting' AND recipient_id IS NOT NULL \
         GROUP BY recipient_id",
    )
    .bind(tx.facility().0)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().collect())
}

/// What [`import`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    pub counts: Counts,
    /// Added and updated recipients as now stored (to keep a search index current).
    pub changed: Vec<Recipient>,
    /// Recipients the import deactivated (move-outs), as now stored.
    pub deactivated: Vec<Recipient>,
}

/// Rows per progress report of [`import`].
pub const IMPORT_BATCH: usize = 500;

/// One import to write: the validated rows, how many were rejected, the optional fields the
/// file has, and the move-outs to deactivate (`None`: not asked for).
#[derive(Debug, Clone, Copy)]
pub struct ImportWrite<'a> {
    pub rows: &'a [NewRecipient],
    pub rejected: usize,
    pub provided: Provided,
    pub deactivate: Option<&'a [i64]>,
    /// Residents missing from the file that the plan keeps active for their waiting
    /// packages (counted with those found waiting here).
    pub held: usize,
    /// Where the audit log says the import came from.
    pub source: &'a str,
}

/// Writes validated import rows (the CLI and the admin console share this): each row is
/// upserted on its name and unit, `progress(done, total)` is called after every batch of
/// [`IMPORT_BATCH`] rows, then the move-outs are deactivated, and one audit row records
/// the counts. All in the caller's transaction: an import is written whole or not at all.
pub async fn import(
    tx: &mut TenantTx<'_>,
    w: ImportWrite<'_>,
    mut progress: impl FnMut(usize, usize),
) -> Result<Imported, DbError> {
    let mut out = Imported::default();
    out.counts.rejected = w.rejected;
    for (i, r) in w.rows.iter().enumerate() {
        let (change, row) = upsert_provided(tx, r, w.provided).await?;
        out.counts.count(change);
        out.changed.extend(row);
        if (i + 1) % IMPORT_BATCH == 0 || i + 1 == w.rows.len() {
            progress(i + 1, w.rows.len());
        }
    }
    let mut detail = serde_json::json!({
        "added": out.counts.added, "updated": out.counts.updated,
        "unchanged": out.counts.unchanged, "rejected": out.counts.rejected,
    });
    if let Some(ids) = w.deactivate {
        let (deactivated, kept) = deactivate_unless_waiting(tx, ids).await?;
        let kept = kept + w.held;
        out.counts.moved_out = Some(MovedOut {
            deactivated: deactivated.len(),
            kept,
        });
        // Ids, not names: the audit trail is read by every admin and holds no PII.
        let ids: Vec<i64> = deactivated.iter().map(|r| r.id).collect();
        detail["deactivated"] = ids.len().into();
        detail["kept_waiting"] = kept.into();
        detail["deactivated_ids"] = ids.into();
        out.deactivated = deactivated;
    }
    crate::db::audit::record(tx, "recipients.import", w.source, detail).await?;
    Ok(out)
}

/// Deactivates these recipients of the facility that are still active and have no package
/// waiting; returns them and how many were kept active for their waiting packages.
///
/// The rows are locked first (`FOR UPDATE`, in id order): an intake that is writing a
/// package for one of them holds a key-share lock on it, so this waits for that intake and
/// then sees its package; an intake that starts later waits for this transaction.
async fn deactivate_unless_waiting(
    tx: &mut TenantTx<'_>,
    ids: &[i64],
) -> Result<(Vec<Recipient>, usize), DbError> {
    if ids.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let facility = tx.facility().0;
    let locked: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM recipients WHERE facility_id = $1 AND id = ANY($2) AND active \
         ORDER BY id FOR UPDATE",
    )
    .bind(facility)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    let deactivated: Vec<Recipient> = sqlx::query_as(concat!(
        "UPDATE recipients r SET active = false, updated_at = now() \
         WHERE r.facility_id = $1 AND r.id = ANY($2) AND r.active \
           AND NOT EXISTS (SELECT 1 FROM packages p WHERE p.facility_id = $1 \
                           AND p.recipient_id = r.id AND p.status = 'waiting') \
         RETURNING ",
        columns!()
    ))
    .bind(facility)
    .bind(&locked)
    .fetch_all(tx.conn())
    .await?;
    let kept = locked.len() - deactivated.len();
    Ok((deactivated, kept))
}

/// Counts of an import, planned or done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
    /// Move-outs, when the import was asked to deactivate residents missing from the file.
    pub moved_out: Option<MovedOut>,
}

/// Residents missing from an imported roster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MovedOut {
    pub deactivated: usize,
    /// Left active because packages are waiting for them.
    pub kept: usize,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "added {}, updated {}, unchanged {}, rejected {}",
            self.added, self.updated, self.unchanged, self.rejected
        )?;
        if let Some(m) = self.moved_out {
            write!(f, ", deactivated {}", m.deactivated)?;
            if m.kept > 0 {
                write!(f, ", kept active {} (packages waiting)", m.kept)?;
            }
        }
        Ok(())
    }
}

impl Counts {
    pub fn count(&mut self, change: Upserted) {
        match change {
            Upserted::Added => self.added += 1,
            Upserted::Updated => self.updated += 1,
            Upserted::Unchanged => self.unchanged += 1,
        }
    }
}
