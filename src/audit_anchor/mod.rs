//! Anchors every facility's audit chain head outside the database, so that deleting the
//! newest entries of a chain, or a whole chain, no longer verifies as intact.
//!
//! The anchor is an append-only file, `DATA_DIR/audit-checkpoints`, one checkpoint per
//! line: for each facility its id, slug, newest `seq` and that entry's hash. Each line
//! carries the SHA-256 of the line before it (so the file is a chain too) and an
//! HMAC-SHA256 under a key derived from the secrets key in `KEYS_DIR`: whoever owns the
//! database (or can write the data dir) but has no keys dir cannot write a checkpoint that
//! verifies. The file lives in the data dir whether the database is the embedded cluster or
//! `DATABASE_URL`: it is this installation's memory of what its database held.
//!
//! The server appends a checkpoint at start, every minute when a chain moved, and at
//! shutdown; the admin CLI after every command that writes and after a clean `audit
//! verify`. A checkpoint never moves a facility's anchor backwards: when a chain no longer
//! holds its anchored entry, the writer keeps the old anchor (and logs it), so a truncation
//! stays visible to `audit verify` however many checkpoints follow.
//!
//! Line format: `{json body}` TAB `hex(hmac(body))`; the body names the key by its id, so
//! checkpoints written before `admin secrets rotate` still check while the key ring holds
//! their key. Only the newest line's HMAC matters: every older line is covered by the chain
//! of `prev` hashes leading up to it.
//!
//! Here: the types, checkpoint and verify, and the server's loop; `file` (the checkpoint file's
//! lines, locks and syncs), `compare` (heads against a checkpoint, pure).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use hmac::{Hmac, Mac};
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::db::audit::{self, Broken, Head, Verified};
use crate::error::DbError;
use crate::secrets::SecretsKey;

mod compare;
mod file;
use compare::*;

/// The checkpoint file's name in the data dir.
pub const FILE: &str = "audit-checkpoints";
/// How often the server looks for moved chain heads.
pub const INTERVAL: Duration = Duration::from_secs(60);
/// What the HMAC key is derived for; a new purpose string makes a new, unrelated key.
const PURPOSE: &str = "packtrack audit checkpoints v1";
/// A file this large is not ours (it is rotated long before).
const MAX_FILE: u64 = 1 << 30;
/// Past this size the next checkpoint starts a new file and the old one is kept as
/// `audit-checkpoints.1` (replacing the one before): bounded disk, and a bounded read per
/// checkpoint (a line is ~120 bytes per facility; measured by scripts/audit-anchor-cost.sh).
const ROTATE_AT: u64 = 8 << 20;

#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("audit checkpoint file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("audit checkpoint file {path}, line {line}: {reason}")]
    Corrupt {
        path: String,
        line: usize,
        reason: String,
    },
    #[error(
        "audit checkpoint {n} in {path} is not authentic: forged, or signed with a key that \
         is not in the keys directory"
    )]
    Forged { path: String, n: u64 },
    #[error("no key in the keys directory to sign audit checkpoints with")]
    NoKey,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// One checkpoint: every anchored chain head at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// 1 for the first line of the file, then +1 per line.
    pub n: u64,
    pub at: DateTime<Utc>,
    pub heads: Vec<Head>,
    /// SHA-256 of the whole line: the next checkpoint's `prev`.
    line_hash: [u8; 32],
}

/// What `audit verify` found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// An entry inside a chain does not verify (edited, deleted from the middle, reordered).
    Entry(Broken),
    /// The facility's chain ends before the anchored entry: its newest entries are gone.
    Truncated {
        facility: String,
        anchored_seq: i64,
        head_seq: i64,
        checkpoint: u64,
    },
    /// The facility has no entries left, but a checkpoint recorded some.
    ChainGone {
        facility: String,
        anchored_seq: i64,
        checkpoint: u64,
    },
    /// The chain holds an entry at the anchored position, but not the anchored one (the
    /// tail was deleted and written again, or the chain recomputed).
    Rewritten {
        facility: String,
        anchored_seq: i64,
        checkpoint: u64,
    },
    /// The checkpoint file itself does not check.
    Checkpoints(String),
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Entry(b) => b.fmt(f),
            Finding::Truncated {
                facility,
                anchored_seq,
                head_seq,
                checkpoint,
            } => write!(
                f,
                "audit chain of facility {facility} was truncated: it ends at seq {head_seq}, \
                 but checkpoint {checkpoint} recorded seq {anchored_seq} (entries deleted)"
            ),
            Finding::ChainGone {
                facility,
                anchored_seq,
                checkpoint,
            } => write!(
                f,
                "audit chain of facility {facility} is gone: it has no entries, but checkpoint \
                 {checkpoint} recorded seq {anchored_seq} (chain deleted)"
            ),
            Finding::Rewritten {
                facility,
                anchored_seq,
                checkpoint,
            } => write!(
                f,
                "audit chain of facility {facility} was rewritten: entry seq {anchored_seq} is \
                 not the one checkpoint {checkpoint} recorded (entries deleted and replaced)"
            ),
            Finding::Checkpoints(reason) => f.write_str(reason),
        }
    }
}

/// A clean verification: the chains, and the checkpoint they were checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub verified: Verified,
    /// `None` when no checkpoint has been written yet.
    pub checkpoint: Option<(u64, DateTime<Utc>)>,
}

/// A facility whose chain no longer holds its anchored entry, found while checkpointing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regression {
    pub facility: String,
    pub anchored_seq: i64,
}

/// What one checkpoint run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The newest checkpoint after the run; `None` when there is nothing to anchor yet.
    pub n: Option<u64>,
    /// Whether a line was appended (nothing is written when no chain moved).
    pub appended: bool,
    /// Facilities whose anchor was kept because their chain lost the anchored entry.
    pub regressed: Vec<Regression>,
}

/// The checkpoint file of one data dir, and the key that signs it.
#[derive(Debug, Clone)]
pub struct Anchor {
    path: PathBuf,
    keys: SecretsKey,
}

#[derive(Serialize, Deserialize)]
struct Body {
    n: u64,
    at: String,
    /// Hex SHA-256 of the previous line; empty for the first.
    prev: String,
    /// Hex id of the secrets key the HMAC key was derived from.
    key: String,
    heads: Vec<HeadJson>,
}

#[derive(Serialize, Deserialize)]
struct HeadJson {
    facility: i64,
    slug: String,
    seq: i64,
    hash: String,
}

type HmacSha256 = Hmac<Sha256>;

impl Anchor {
    pub fn new(data_dir: &Path, keys: SecretsKey) -> Self {
        Self {
            path: data_dir.join(FILE),
            keys,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Anchors the current chain heads: reads them (one query), checks that every chain
    /// still holds its anchored entry (one query), and appends a checkpoint when a head
    /// moved. A chain that lost its anchored entry keeps its old anchor.
    pub async fn checkpoint(&self, owner: &PgPool) -> Result<Written, AnchorError> {
        let this = self.clone();
        let (mut file, latest, complete) = blocking(move || {
            let mut file = this.lock(true)?.expect("exclusive lock creates the file");
            let (latest, complete) = this.read(&mut file)?;
            Ok((file, latest, complete))
        })
        .await?;
        let anchored = latest.as_ref().map(|c| c.heads.clone()).unwrap_or_default();
        let current = audit::heads(owner).await?;
        let positions: Vec<(i64, i64)> = anchored.iter().map(|h| (h.facility, h.seq)).collect();
        let found = audit::hashes_at(owner, &positions).await?;
        let (heads, regressed) = plan(&anchored, &current, &found);
        if heads.is_empty() || latest.as_ref().is_some_and(|c| c.heads == heads) {
            return Ok(Written {
                n: latest.map(|c| c.n),
                appended: false,
                regressed,
            });
        }
        let this = self.clone();
        let written = blocking(move || {
            let c = this.append(&mut file, complete, latest.as_ref(), heads)?;
            drop(file);
            Ok(c)
        })
        .await?;
        Ok(Written {
            n: Some(written.n),
            appended: true,
            regressed,
        })
    }

    /// Everything `admin audit verify` checks: every chain on its own (digests, links,
    /// sequence), then every chain against the newest checkpoint.
    pub async fn verify(&self, owner: &PgPool) -> Result<Result<Report, Vec<Finding>>, DbError> {
        let verified = match audit::verify(owner).await? {
            Ok(v) => v,
            Err(broken) => return Ok(Err(vec![Finding::Entry(broken)])),
        };
        let this = self.clone();
        let latest = match blocking(move || this.latest()).await {
            Ok(latest) => latest,
            Err(AnchorError::Db(e)) => return Err(e),
            Err(e) => return Ok(Err(vec![Finding::Checkpoints(e.to_string())])),
        };
        let Some(checkpoint) = latest else {
            return Ok(Ok(Report {
                verified,
                checkpoint: None,
            }));
        };
        let current = audit::heads(owner).await?;
        let positions: Vec<(i64, i64)> = checkpoint
            .heads
            .iter()
            .map(|h| (h.facility, h.seq))
            .collect();
        let found = audit::hashes_at(owner, &positions).await?;
        let findings = compare(&checkpoint, &current, &found);
        if !findings.is_empty() {
            return Ok(Err(findings));
        }
        Ok(Ok(Report {
            verified,
            checkpoint: Some((checkpoint.n, checkpoint.at)),
        }))
    }
}

/// Runs file work off the async worker threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AnchorError> + Send + 'static,
) -> Result<T, AnchorError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AnchorError::Io {
            path: FILE.to_string(),
            source: std::io::Error::other(format!("checkpoint task failed: {e}")),
        })?
}

/// The server's checkpoint loop: one at start, one every [`INTERVAL`] when a chain moved,
/// one when `stop` turns true. Errors are logged, never fatal: the server keeps serving.
pub async fn run(owner: PgPool, anchor: Anchor, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut reported = std::collections::HashSet::new();
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.changed() => true,
        };
        match anchor.checkpoint(&owner).await {
            Ok(w) => {
                for r in w.regressed {
                    // Once per facility and process: the anchor stays put, so every
                    // minute would say the same.
                    if reported.insert(r.facility.clone()) {
                        tracing::error!(
                            facility = %r.facility,
                            anchored_seq = r.anchored_seq,
                            "audit chain no longer holds its checkpointed entry: entries were \
                             deleted or rewritten; run `packtrack admin audit verify`"
                        );
                    }
                }
                if w.appended {
                    tracing::debug!(checkpoint = w.n, "audit checkpoint written");
                }
            }
            Err(e) => tracing::error!(error = %e, "audit checkpoint not written"),
        }
        if stopping || *stop.borrow() {
            break;
        }
    }
}

#[cfg(test)]
mod tests;
