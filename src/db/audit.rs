//! The hash-chained audit log. Rows are chained by a trigger (see the schema), one chain
//! per facility; `verify` recomputes every digest and checks the links.

use futures_util::TryStreamExt;
use serde_json::Value;
use sqlx::PgPool;

use super::TenantTx;
use crate::error::DbError;

/// Appends one audit row in the caller's transaction, so the trail and the change it
/// describes commit or roll back together.
pub async fn record(
    tx: &mut TenantTx<'_>,
    action: &str,
    target: &str,
    detail: Value,
) -> Result<(), DbError> {
    let facility = tx.facility().0;
    let actor = tx.actor_label().to_string();
    sqlx::query(
        "INSERT INTO audit_log (facility_id, actor, action, target, detail) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(facility)
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(detail)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Why an entry does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub id: i64,
    pub facility: String,
    pub seq: i64,
    pub reason: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "audit entry id {} (facility {}, seq {}) does not verify: {}",
            self.id, self.facility, self.seq, self.reason
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub facilities: usize,
    pub entries: u64,
}

/// Walks every chain in order (as the owner, which sees all facilities) and reports the
/// first entry whose digest, sequence number or link to its predecessor is wrong. Edits,
/// deletions inside a chain and reordering are all caught.
pub async fn verify(owner: &PgPool) -> Result<Result<Verified, Broken>, DbError> {
    let mut rows = sqlx::query_as::<_, (i64, i64, String, i64, Vec<u8>, Vec<u8>, Vec<u8>)>(
        "SELECT a.id, a.facility_id, f.slug, a.seq, a.prev_hash, a.hash, \
                audit_digest(a.prev_hash, a.facility_id, a.seq, a.at, a.actor, a.action, \
                             a.target, a.detail) \
         FROM audit_log a JOIN facilities f ON f.id = a.facility_id \
         ORDER BY a.facility_id, a.seq, a.id",
    )
    .fetch(owner);
    let mut current: Option<i64> = None;
    let mut expected_seq = 1;
    let mut last_hash: Vec<u8> = Vec::new();
    let mut last_id = 0;
    let mut facilities = 0;
    let mut entries = 0u64;
    while let Some((id, facility_id, slug, seq, prev, hash, computed)) = rows.try_next().await? {
        if current != Some(facility_id) {
            current = Some(facility_id);
            facilities += 1;
            expected_seq = 1;
            last_hash.clear();
            last_id = 0;
        }
        let broken = |reason: &str| Broken {
            id,
            facility: slug.clone(),
            seq,
            reason: reason.to_string(),
        };
        if seq != expected_seq {
            return Ok(Err(broken(&format!(
                "expected sequence number {expected_seq} (an entry is missing or renumbered)"
            ))));
        }
        if prev != last_hash {
            return Ok(Err(broken(
                "does not link to the previous entry (deleted or reordered)",
            )));
        }
        if hash != computed {
            return Ok(Err(broken("content does not match its hash (edited)")));
        }
        if id <= last_id {
            return Ok(Err(broken("out of insertion order (reordered)")));
        }
        last_hash = hash;
        last_id = id;
        expected_seq += 1;
        entries += 1;
    }
    Ok(Ok(Verified {
        facilities,
        entries,
    }))
}
