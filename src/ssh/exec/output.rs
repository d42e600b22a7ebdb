//! The last pass over everything an exec command writes: control characters and bidi
//! overrides become visible `\uXXXX` escapes. Input is refused at intake now, but rows stored
//! before that (or written behind the application's back) must not drive the terminal of
//! whoever lists them. Line breaks and tabs stay (they are the output's layout); JSON stays
//! valid JSON, because serde already escapes C0 and the rest occurs only inside strings.

use tokio::sync::mpsc;

use super::Output;
use crate::domain::text;

/// What exec output may keep as it is.
const KEEP: [char; 2] = ['\n', '\t'];

/// Chunks a streaming command may send ahead of the relay (as the server's own channel).
const RELAY_DEPTH: usize = 4;

impl Output {
    /// This output with its text escaped.
    pub(super) fn cleaned(self) -> Self {
        Self {
            stdout: text::escape(&self.stdout, &KEEP),
            stderr: text::escape(&self.stderr, &KEEP),
            status: self.status,
        }
    }
}

/// A sender for a streaming command whose chunks reach `out` escaped. A chunk may end in the
/// middle of a character: those bytes wait for the next chunk. The relay ends when the
/// command drops its sender, or when `out` is closed (the client went away), which closes
/// the command's sender in turn.
pub(super) fn clean_stream(out: mpsc::Sender<Vec<u8>>) -> mpsc::Sender<Vec<u8>> {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(RELAY_DEPTH);
    tokio::spawn(async move {
        let mut carry = Vec::new();
        while let Some(chunk) = rx.recv().await {
            carry.extend_from_slice(&chunk);
            let clean = clean_prefix(&mut carry);
            if !clean.is_empty() && out.send(clean.into_bytes()).await.is_err() {
                return;
            }
        }
        if !carry.is_empty() {
            let rest = text::escape(&String::from_utf8_lossy(&carry), &KEEP);
            let _ = out.send(rest.into_bytes()).await;
        }
    });
    tx
}

/// Escapes the complete characters at the start of `buf` and leaves in it only an
/// incomplete UTF-8 sequence at its end (invalid bytes become U+FFFD).
fn clean_prefix(buf: &mut Vec<u8>) -> String {
    let mut out = String::with_capacity(buf.len());
    let mut rest: &[u8] = buf;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(&text::escape(s, &KEEP));
                rest = &[];
                break;
            }
            Err(e) => {
                let (valid, tail) = rest.split_at(e.valid_up_to());
                // `valid` is UTF-8 by the error's own account.
                out.push_str(&text::escape(&String::from_utf8_lossy(valid), &KEEP));
                match e.error_len() {
                    // Incomplete at the end: wait for the rest.
                    None => {
                        rest = tail;
                        break;
                    }
                    Some(n) => {
                        out.push(char::REPLACEMENT_CHARACTER);
                        rest = &tail[n..];
                    }
                }
            }
        }
    }
    let keep = rest.to_vec();
    *buf = keep;
    out
}

#[cfg(test)]
mod tests;
