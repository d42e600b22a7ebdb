//! The hash-chained audit log. Rows are chained by a trigger (see the schema), one chain
//! per facility; `verify` recomputes every digest and checks the links. The chain heads
//! are anchored outside the database by `crate::audit_anchor`, which reads them here.

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
    type Row = (
        i64,
        i64,
        String,
        i64,
        i16,
        Vec<u8>,
        Vec<u8>,
        Option<Vec<u8>>,
    );
    let mut rows = sqlx::query_as::<_, Row>(
        "SELECT a.id, a.facility_id, f.slug, a.seq, a.digest, a.prev_hash, a.hash, \
                audit_entry_digest(a.digest, a.prev_hash, a.facility_id, a.seq, a.at, \
                                   a.actor, a.action, a.target, a.detail) \
         FROM audit_log a JOIN facilities f ON f.id = a.facility_id \
         ORDER BY a.facility_id, a.seq, a.id",
    )
    .fetch(owner);
    let mut current: Option<i64> = None;
    let mut expected_seq = 1;
    let mut last_hash: Vec<u8> = Vec::new();
    let mut last_id = 0;
    let mut last_digest = 1;
    let mut facilities = 0;
    let mut entries = 0u64;
    while let Some((id, facility_id, slug, seq, digest, prev, hash, computed)) =
        rows.try_next().await?
    {
        if current != Some(facility_id) {
            current = Some(facility_id);
            facilities += 1;
            expected_seq = 1;
            last_hash.clear();
            last_id = 0;
            last_digest = 1;
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
        // Once a chain uses the length-prefixed digest it never goes back: relabelling a
        // row as version 1 would let its fields be re-split under the old digest.
        if digest < last_digest {
            return Ok(Err(broken(
                "uses an older digest version than the entry before it (relabelled)",
            )));
        }
        match computed {
            None => return Ok(Err(broken(&format!("unknown digest version {digest}")))),
            Some(computed) if computed != hash => {
                return Ok(Err(broken("content does not match its hash (edited)")));
            }
            Some(_) => {}
        }
        if id <= last_id {
            return Ok(Err(broken("out of insertion order (reordered)")));
        }
        last_hash = hash;
        last_id = id;
        last_digest = digest;
        expected_seq += 1;
        entries += 1;
    }
    Ok(Ok(Verified {
        facilities,
        entries,
    }))
}

/// The newest entry of one facility's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub facility: i64,
    pub slug: String,
    pub seq: i64,
    pub hash: Vec<u8>,
}

/// Every chain's newest entry (facilities without entries are left out). One index probe
/// per facility on `(facility_id, seq)`, so the server can ask every minute.
pub async fn heads(owner: &PgPool) -> Result<Vec<Head>, DbError> {
    let rows = sqlx::query_as::<_, (i64, String, i64, Vec<u8>)>(
        "SELECT f.id, f.slug, h.seq, h.hash FROM facilities f \
         CROSS JOIN LATERAL (SELECT a.seq, a.hash FROM audit_log a \
                             WHERE a.facility_id = f.id ORDER BY a.seq DESC LIMIT 1) h \
         ORDER BY f.id",
    )
    .fetch_all(owner)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(facility, slug, seq, hash)| Head {
            facility,
            slug,
            seq,
            hash,
        })
        .collect())
}

/// The hash each chain holds now at the given `(facility, seq)` positions, in the same
/// order; `None` where that entry no longer exists.
pub async fn hashes_at(
    owner: &PgPool,
    positions: &[(i64, i64)],
) -> Result<Vec<Option<Vec<u8>>>, DbError> {
    let (facilities, seqs): (Vec<i64>, Vec<i64>) = positions.iter().copied().unzip();
    let rows = sqlx::query_as::<_, (i64, Option<Vec<u8>>)>(
        "SELECT c.ord, a.hash \
         FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS c(facility_id, seq, ord) \
         LEFT JOIN audit_log a ON a.facility_id = c.facility_id AND a.seq = c.seq \
         ORDER BY c.ord",
    )
    .bind(&facilities)
    .bind(&seqs)
    .fetch_all(owner)
    .await?;
    Ok(rows.into_iter().map(|(_, hash)| hash).collect())
}
