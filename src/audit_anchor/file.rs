//! The checkpoint file: locking, reading and authenticating its lines, appending, syncing.

use super::*;

impl Anchor {
    pub(super) fn shown(&self) -> String {
        self.path.display().to_string()
    }

    pub(super) fn io(&self, source: std::io::Error) -> AnchorError {
        AnchorError::Io {
            path: self.shown(),
            source,
        }
    }

    /// Opens the file under an advisory lock (shared to read, exclusive to append), so a
    /// reader never sees half a line and two writers (server and CLI) chain in turn.
    pub(super) fn lock(&self, exclusive: bool) -> Result<Option<Flock<File>>, AnchorError> {
        use std::os::unix::fs::MetadataExt;
        loop {
            let file = if exclusive {
                if let Some(dir) = self.path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| self.io(e))?;
                }
                OpenOptions::new()
                    .read(true)
                    .append(true)
                    .create(true)
                    .mode(0o600)
                    .open(&self.path)
            } else {
                File::open(&self.path)
            };
            let file = match file {
                Ok(f) => f,
                Err(e) if !exclusive && e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(None);
                }
                Err(e) => return Err(self.io(e)),
            };
            let arg = if exclusive {
                FlockArg::LockExclusive
            } else {
                FlockArg::LockShared
            };
            let file = Flock::lock(file, arg).map_err(|(_, errno)| self.io(errno.into()))?;
            // A writer may have rotated the file while we waited: lock the current one.
            let held = file.metadata().map_err(|e| self.io(e))?;
            match std::fs::metadata(&self.path) {
                Ok(now) if now.ino() == held.ino() && now.dev() == held.dev() => {
                    return Ok(Some(file));
                }
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(self.io(e)),
            }
        }
    }

    /// The newest checkpoint, after checking the file's chain of lines and the newest
    /// line's HMAC. `None` when there is no file or it is empty.
    pub fn latest(&self) -> Result<Option<Checkpoint>, AnchorError> {
        match self.lock(false)? {
            None => Ok(None),
            Some(mut file) => Ok(self.read(&mut file)?.0),
        }
    }

    /// Reads and checks the whole file; also returns the length of its complete lines (a
    /// crash during an append can leave a torn last line without its newline).
    pub(super) fn read(&self, file: &mut File) -> Result<(Option<Checkpoint>, u64), AnchorError> {
        let len = file.metadata().map_err(|e| self.io(e))?.len();
        if len > MAX_FILE {
            return Err(AnchorError::Corrupt {
                path: self.shown(),
                line: 0,
                reason: format!("{len} bytes is larger than a checkpoint file grows"),
            });
        }
        let mut bytes = Vec::with_capacity(len as usize);
        file.seek(SeekFrom::Start(0)).map_err(|e| self.io(e))?;
        file.read_to_end(&mut bytes).map_err(|e| self.io(e))?;
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let mut latest: Option<(Checkpoint, Body, &[u8])> = None;
        for (i, line) in bytes[..complete]
            .split(|&b| b == b'\n')
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
        {
            let corrupt = |reason: &str| AnchorError::Corrupt {
                path: self.shown(),
                line: i + 1,
                reason: reason.to_string(),
            };
            let (body_bytes, _) = split_line(line).ok_or_else(|| corrupt("not a checkpoint"))?;
            let body: Body =
                serde_json::from_slice(body_bytes).map_err(|_| corrupt("not a checkpoint"))?;
            let follows = match &latest {
                // The first line of a rotated file continues the previous file's chain.
                None => body.n > 1 || body.prev.is_empty(),
                Some((c, _, _)) => body.n == c.n + 1 && body.prev == hex::encode(c.line_hash),
            };
            if !follows {
                return Err(corrupt(
                    "does not follow the line before it (lines removed, reordered or edited)",
                ));
            }
            let checkpoint = to_checkpoint(&body, line).ok_or_else(|| corrupt("bad field"))?;
            latest = Some((checkpoint, body, line));
        }
        let Some((checkpoint, body, line)) = latest else {
            return Ok((None, complete as u64));
        };
        // The newest line vouches for every line before it through the `prev` chain.
        if !self.authentic(&body, line) {
            return Err(AnchorError::Forged {
                path: self.shown(),
                n: checkpoint.n,
            });
        }
        Ok((Some(checkpoint), complete as u64))
    }

    pub(super) fn authentic(&self, body: &Body, line: &[u8]) -> bool {
        let Some((body_bytes, mac)) = split_line(line) else {
            return false;
        };
        let Some(id) = hex::decode(&body.key)
            .ok()
            .and_then(|id| <[u8; 4]>::try_from(id).ok())
        else {
            return false;
        };
        let Some((_, key)) = self.keys.derive(PURPOSE, Some(id)) else {
            return false;
        };
        let Ok(mac) = hex::decode(mac) else {
            return false;
        };
        let mut m = <HmacSha256 as Mac>::new_from_slice(&key).expect("HMAC takes any key");
        m.update(body_bytes);
        m.verify_slice(&mac).is_ok()
    }

    /// Appends a checkpoint of `heads` after `prev` and syncs it to disk. The caller holds
    /// the exclusive lock and has read the file (`complete` bytes of whole lines).
    pub(super) fn append(
        &self,
        file: &mut File,
        complete: u64,
        prev: Option<&Checkpoint>,
        heads: Vec<Head>,
    ) -> Result<Checkpoint, AnchorError> {
        let (id, key) = self.keys.derive(PURPOSE, None).ok_or(AnchorError::NoKey)?;
        // Microseconds, as written: the checkpoint returned equals the one read back.
        let at = Utc::now().trunc_subsecs(6);
        let body = Body {
            n: prev.map_or(1, |p| p.n + 1),
            at: at.to_rfc3339_opts(SecondsFormat::Micros, true),
            prev: prev.map(|p| hex::encode(p.line_hash)).unwrap_or_default(),
            key: hex::encode(id),
            heads: heads
                .iter()
                .map(|h| HeadJson {
                    facility: h.facility,
                    slug: h.slug.clone(),
                    seq: h.seq,
                    hash: hex::encode(&h.hash),
                })
                .collect(),
        };
        let json = serde_json::to_vec(&body).expect("a checkpoint serialises");
        let mut m = <HmacSha256 as Mac>::new_from_slice(&key).expect("HMAC takes any key");
        m.update(&json);
        let mut line = json;
        line.push(b'\t');
        line.extend_from_slice(hex::encode(m.finalize().into_bytes()).as_bytes());
        let checkpoint = Checkpoint {
            n: body.n,
            at,
            heads,
            line_hash: Sha256::digest(&line).into(),
        };
        line.push(b'\n');
        let len = file.metadata().map_err(|e| self.io(e))?.len();
        if len >= ROTATE_AT {
            // The new file's first line links to this file's last one. Writers waiting for
            // the lock on the old file notice the rename and lock the new one.
            let mut old = self.path.clone().into_os_string();
            old.push(".1");
            std::fs::rename(&self.path, &old).map_err(|e| self.io(e))?;
            let mut new = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&self.path)
                .map_err(|e| self.io(e))?;
            new.write_all(&line).map_err(|e| self.io(e))?;
            new.sync_all().map_err(|e| self.io(e))?;
            self.sync_dir()?;
            return Ok(checkpoint);
        }
        // Drop a torn line left by a crash, so the new line starts a line of its own.
        if len != complete {
            file.set_len(complete).map_err(|e| self.io(e))?;
        }
        file.write_all(&line).map_err(|e| self.io(e))?;
        file.sync_all().map_err(|e| self.io(e))?;
        if complete == 0 {
            // A new file: make its directory entry durable too.
            self.sync_dir()?;
        }
        Ok(checkpoint)
    }

    pub(super) fn sync_dir(&self) -> Result<(), AnchorError> {
        match self.path.parent() {
            Some(dir) => File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| self.io(e)),
            None => Ok(()),
        }
    }
}

pub(super) fn split_line(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let tab = line.iter().rposition(|&b| b == b'\t')?;
    Some((&line[..tab], &line[tab + 1..]))
}

pub(super) fn to_checkpoint(body: &Body, line: &[u8]) -> Option<Checkpoint> {
    let at = DateTime::parse_from_rfc3339(&body.at)
        .ok()?
        .with_timezone(&Utc);
    let heads = body
        .heads
        .iter()
        .map(|h| {
            Some(Head {
                facility: h.facility,
                // Printed in findings: only what a slug may hold (the database checks it).
                slug: crate::domain::valid_slug(&h.slug).then(|| h.slug.clone())?,
                seq: h.seq,
                hash: hex::decode(&h.hash).ok()?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Checkpoint {
        n: body.n,
        at,
        heads,
        line_hash: Sha256::digest(line).into(),
    })
}
