//! The plaintext inside the age stream: length-prefixed frames, written in one pass (see the
//! module doc of [`crate::backup`]). The reader tracks which part it is in, so every error
//! names it.

use std::io::{Read, Write};

use sha2::{Digest, Sha256};

use super::{BackupError, CHECKPOINTS_PART, Info, Manifest, PartInfo};

const MAGIC: &[u8; 16] = b"packtrack-bkp\0\0\x01";
/// Data frames carry at most this much (the reader refuses more).
pub const MAX_DATA: usize = 1 << 20;
/// The info and manifest frames (JSON) are small; a manifest lists a few tables and the
/// facilities.
const MAX_JSON: usize = 64 << 20;

const INFO: u8 = b'I';
const PART: u8 = b'P';
const DATA: u8 = b'D';
const END: u8 = b'E';
const MANIFEST: u8 = b'M';
const FINISH: u8 = b'Z';

/// Writes frames to `W` (the age stream).
pub struct Writer<W: Write> {
    out: W,
    part: Option<(String, Sha256, u64)>,
    parts: Vec<PartInfo>,
}

impl<W: Write> Writer<W> {
    pub fn new(mut out: W, info: &Info) -> std::io::Result<Self> {
        out.write_all(MAGIC)?;
        let mut w = Self {
            out,
            part: None,
            parts: Vec::new(),
        };
        w.frame(
            INFO,
            &serde_json::to_vec(info).map_err(std::io::Error::other)?,
        )?;
        Ok(w)
    }

    fn frame(&mut self, tag: u8, payload: &[u8]) -> std::io::Result<()> {
        let len = u32::try_from(payload.len()).map_err(std::io::Error::other)?;
        self.out.write_all(&[tag])?;
        self.out.write_all(&len.to_be_bytes())?;
        self.out.write_all(payload)
    }

    pub fn begin(&mut self, name: &str) -> std::io::Result<()> {
        debug_assert!(self.part.is_none());
        self.frame(PART, name.as_bytes())?;
        self.part = Some((name.to_string(), Sha256::new(), 0));
        Ok(())
    }

    /// Appends bytes to the current part (any length; split into frames here).
    pub fn data(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        while !bytes.is_empty() {
            let n = bytes.len().min(MAX_DATA);
            let (chunk, rest) = bytes.split_at(n);
            if let Some((_, h, size)) = &mut self.part {
                h.update(chunk);
                *size += n as u64;
            }
            self.frame(DATA, chunk)?;
            bytes = rest;
        }
        Ok(())
    }

    pub fn end(&mut self) -> std::io::Result<()> {
        let Some((name, h, size)) = self.part.take() else {
            return Ok(());
        };
        let digest = h.finalize();
        let mut payload = size.to_be_bytes().to_vec();
        payload.extend_from_slice(&digest);
        self.frame(END, &payload)?;
        self.parts.push(PartInfo {
            name,
            size,
            sha256: hex::encode(digest),
        });
        Ok(())
    }

    /// The parts written so far, for the manifest.
    pub fn parts(&self) -> &[PartInfo] {
        &self.parts
    }

    /// Writes the manifest and the end mark; returns the inner writer (to finish age).
    pub fn finish(mut self, manifest: &Manifest) -> std::io::Result<W> {
        self.frame(
            MANIFEST,
            &serde_json::to_vec(manifest).map_err(std::io::Error::other)?,
        )?;
        self.frame(FINISH, &[])?;
        Ok(self.out)
    }
}

/// What the reader found next.
pub enum Item {
    /// A part begins; its bytes follow through [`Reader::read_data`].
    Part(String),
    Manifest(Box<Manifest>),
}

/// Reads frames, hashing each part and checking it against its end frame.
pub struct Reader<R: Read> {
    input: R,
    /// Where we are, for error messages: `header`, `info`, a part name, `manifest`.
    at: String,
    info: Option<Info>,
    in_part: Option<(Sha256, u64)>,
    pending: usize,
    parts: Vec<PartInfo>,
    buf: Vec<u8>,
}

impl<R: Read> Reader<R> {
    pub(super) fn new(input: R) -> Result<Self, BackupError> {
        let mut r = Self {
            input,
            at: "header".into(),
            info: None,
            in_part: None,
            pending: 0,
            parts: Vec::new(),
            buf: Vec::new(),
        };
        let mut magic = [0u8; 16];
        r.exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(r.damaged("not a packtrack backup (unknown container)".into()));
        }
        r.at = "info".into();
        let (tag, len) = r.frame_head()?;
        if tag != INFO || len > MAX_JSON {
            return Err(r.damaged("the info frame is missing".into()));
        }
        let bytes = r.payload(len)?;
        let info: Info = serde_json::from_slice(&bytes)
            .map_err(|e| r.damaged(format!("unreadable info: {e}")))?;
        if info.format != super::FORMAT {
            return Err(r.damaged(format!(
                "format {} (this packtrack reads format {})",
                info.format,
                super::FORMAT
            )));
        }
        r.info = Some(info);
        Ok(r)
    }

    /// The same reader over a boxed input (a nameable type to keep between steps).
    pub fn boxed(self) -> Reader<Box<dyn Read + Send>>
    where
        R: Send + 'static,
    {
        Reader {
            input: Box::new(self.input),
            at: self.at,
            info: self.info,
            in_part: self.in_part,
            pending: self.pending,
            parts: self.parts,
            buf: self.buf,
        }
    }

    pub fn info(&self) -> &Info {
        self.info.as_ref().expect("read in new")
    }

    /// The part (or section) being read: what an error is about.
    pub fn at(&self) -> &str {
        &self.at
    }

    pub fn damaged(&self, reason: String) -> BackupError {
        BackupError::Damaged {
            part: self.at.clone(),
            reason,
        }
    }

    fn exact(&mut self, buf: &mut [u8]) -> Result<(), BackupError> {
        self.input.read_exact(buf).map_err(|e| {
            let reason = match e.kind() {
                std::io::ErrorKind::UnexpectedEof => "the file ends early (truncated)".into(),
                // age reports a chunk that fails authentication as InvalidData.
                std::io::ErrorKind::InvalidData => {
                    format!("does not decrypt: the file was modified or truncated ({e})")
                }
                _ => e.to_string(),
            };
            self.damaged(reason)
        })
    }

    fn frame_head(&mut self) -> Result<(u8, usize), BackupError> {
        let mut head = [0u8; 5];
        self.exact(&mut head)?;
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        Ok((head[0], len))
    }

    fn payload(&mut self, len: usize) -> Result<Vec<u8>, BackupError> {
        let mut v = vec![0u8; len];
        self.exact(&mut v)?;
        Ok(v)
    }

    /// The next part or the manifest. Call only between parts.
    pub fn next_item(&mut self) -> Result<Item, BackupError> {
        let (tag, len) = self.frame_head()?;
        match tag {
            PART if len <= 256 => {
                let name = self.payload(len)?;
                let name = String::from_utf8(name)
                    .map_err(|_| self.damaged("a part name is not UTF-8".into()))?;
                self.at = name.clone();
                self.in_part = Some((Sha256::new(), 0));
                Ok(Item::Part(name))
            }
            MANIFEST if len <= MAX_JSON => {
                self.at = "manifest".into();
                let bytes = self.payload(len)?;
                let manifest: Manifest = serde_json::from_slice(&bytes)
                    .map_err(|e| self.damaged(format!("unreadable manifest: {e}")))?;
                let (tag, len) = self.frame_head()?;
                if tag != FINISH || len != 0 {
                    return Err(self.damaged("no end mark after the manifest".into()));
                }
                let mut extra = [0u8; 1];
                match self.input.read(&mut extra) {
                    Ok(0) => {}
                    Ok(_) => return Err(self.damaged("data after the end mark".into())),
                    Err(e) => return Err(self.damaged(format!("does not decrypt: {e}"))),
                }
                self.check_manifest(&manifest)?;
                Ok(Item::Manifest(Box::new(manifest)))
            }
            other => Err(self.damaged(format!("unexpected frame {other:#04x}"))),
        }
    }

    /// Reads the current part's bytes into `buf`; `Ok(0)` at its end (after checking its
    /// size and hash against the end frame).
    pub fn read_data(&mut self, buf: &mut [u8]) -> Result<usize, BackupError> {
        if self.in_part.is_none() {
            return Ok(0);
        }
        while self.pending == 0 {
            let (tag, len) = self.frame_head()?;
            match tag {
                DATA if len <= MAX_DATA => self.pending = len,
                END if len == 40 => {
                    let p = self.payload(40)?;
                    let (h, size) = self.in_part.take().expect("in a part");
                    let digest = h.finalize();
                    let want_size = u64::from_be_bytes(p[..8].try_into().expect("8 bytes"));
                    if size != want_size || digest.as_slice() != &p[8..] {
                        return Err(self
                            .damaged("size or SHA-256 does not match the part's end mark".into()));
                    }
                    self.parts.push(PartInfo {
                        name: self.at.clone(),
                        size,
                        sha256: hex::encode(digest),
                    });
                    return Ok(0);
                }
                other => return Err(self.damaged(format!("unexpected frame {other:#04x}"))),
            }
        }
        let n = buf.len().min(self.pending);
        self.exact(&mut buf[..n])?;
        self.pending -= n;
        if let Some((h, size)) = &mut self.in_part {
            h.update(&buf[..n]);
            *size += n as u64;
        }
        Ok(n)
    }

    /// Reads the whole current part into memory (small parts only), at most `max` bytes.
    pub fn read_part_to_vec(&mut self, max: usize) -> Result<Vec<u8>, BackupError> {
        self.buf.clear();
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            let n = self.read_data(&mut chunk)?;
            if n == 0 {
                return Ok(std::mem::take(&mut self.buf));
            }
            if self.buf.len() + n > max {
                return Err(self.damaged(format!("larger than {max} bytes")));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Skips the rest of the current part (still hashing it).
    pub fn skip_part(&mut self) -> Result<(), BackupError> {
        let mut chunk = vec![0u8; 64 << 10];
        while self.read_data(&mut chunk)? > 0 {}
        Ok(())
    }

    /// The parts after the main one up to the manifest (checked): the audit checkpoints when
    /// there are any; any other part (from a newer packtrack) is still hashed and checked.
    pub fn checkpoints_then_manifest(
        &mut self,
    ) -> Result<(Manifest, Option<Vec<u8>>), BackupError> {
        let mut checkpoints = None;
        loop {
            match self.next_item()? {
                Item::Part(name) if name == CHECKPOINTS_PART => {
                    checkpoints = Some(self.read_part_to_vec(64 << 20)?);
                }
                Item::Part(_) => self.skip_part()?,
                Item::Manifest(m) => return Ok((*m, checkpoints)),
            }
        }
    }

    /// Every part read must be listed in the manifest with the same size and hash, and the
    /// manifest must list no part that was not there.
    fn check_manifest(&self, manifest: &Manifest) -> Result<(), BackupError> {
        if Some(&manifest.info) != self.info.as_ref() {
            return Err(self.damaged("the info frame and the manifest disagree".into()));
        }
        for want in &manifest.parts {
            match self.parts.iter().find(|p| p.name == want.name) {
                Some(got) if got == want => {}
                Some(_) => {
                    return Err(BackupError::Damaged {
                        part: want.name.clone(),
                        reason: "SHA-256 or size does not match the manifest".into(),
                    });
                }
                None => {
                    return Err(BackupError::Damaged {
                        part: want.name.clone(),
                        reason: "listed in the manifest but not in the file".into(),
                    });
                }
            }
        }
        if let Some(extra) = self
            .parts
            .iter()
            .find(|p| !manifest.parts.iter().any(|w| w.name == p.name))
        {
            return Err(BackupError::Damaged {
                part: extra.name.clone(),
                reason: "in the file but not in the manifest".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
