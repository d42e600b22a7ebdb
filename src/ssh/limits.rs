//! Connection limits: overall and per peer address, as RAII slots.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Longest exec command line taken (OpenSSH allows far more; no command needs it).
pub const MAX_COMMAND_LINE: usize = 8 * 1024;

/// Tunable limits of the SSH server.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub max_per_ip: usize,
    /// Connections not yet authenticated, per peer address (OpenSSH's `PerSourceMaxStartups`):
    /// one address cannot hold the handshake and password work of the whole server.
    pub max_startups_per_ip: usize,
    /// Connections not yet authenticated in all (OpenSSH's `MaxStartups start:rate:full`
    /// with a rate of 30 %): from `full * 3 / 10` on, new ones are refused at random with a
    /// chance rising to 100 % at `full`.
    pub max_startups: usize,
    /// A connection that has not authenticated by then is closed.
    pub pre_auth: Duration,
    pub max_auth_attempts: usize,
    /// A PTY session without input for this long is ended (output does not count).
    pub idle: Duration,
    pub max_channels: usize,
    /// Input chunks queued for a session before further input is dropped.
    pub input_queue: usize,
    /// A client that does not read its output for this long is disconnected.
    pub write_stall: Duration,
    pub keepalive: Duration,
    /// Fixed delay before every authentication failure reply.
    pub auth_rejection: Duration,
    /// An unlocked kiosk locks itself after this long without input.
    pub kiosk_relock: Duration,
    /// Every PTY session re-reads its access (key, TOTP, membership, role, kiosk device)
    /// this often, so a revocation whose notification was lost still takes effect.
    pub recheck: Duration,
    /// Bytes of recipient search index kept in memory; least recently searched facilities
    /// are evicted beyond it (`serve --index-memory`).
    pub index_memory: usize,
    /// Where the admin console's integration URLs may point and its test messages may go
    /// (`serve --notify-allow-private`; public addresses only by default).
    pub egress: crate::notify::egress::Egress,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // A mailroom's terminals, kiosks and admins, with room for a campus; one office
            // NAT address may carry a whole building's terminals.
            max_connections: 1000,
            max_per_ip: 100,
            max_startups_per_ip: 10,
            max_startups: 100,
            pre_auth: Duration::from_secs(30),
            max_auth_attempts: 6,
            idle: Duration::from_secs(600),
            max_channels: 4,
            input_queue: 256,
            write_stall: Duration::from_secs(30),
            keepalive: Duration::from_secs(30),
            auth_rejection: Duration::from_millis(1000),
            kiosk_relock: Duration::from_secs(120),
            recheck: Duration::from_secs(30),
            index_memory: crate::ops::DEFAULT_INDEX_MEMORY,
            egress: Default::default(),
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    /// Per address: (connections, of which not yet authenticated).
    per_ip: HashMap<IpAddr, (usize, usize)>,
    pending: usize,
}

/// Hands out connection slots; a slot is given back when dropped.
#[derive(Debug, Clone, Default)]
pub struct ConnectionLimiter {
    counts: Arc<Mutex<Counts>>,
    max_total: usize,
    max_per_ip: usize,
    max_startups_per_ip: usize,
    max_startups: usize,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Total,
    PerIp,
    /// Too many unauthenticated connections from this address.
    StartupsPerIp,
    /// Too many unauthenticated connections in all (random early drop).
    Startups,
}

/// One connection's place in the counts; counted as unauthenticated until
/// [`Slot::authenticated`], given back when dropped.
pub struct Slot {
    ip: IpAddr,
    pending: bool,
    counts: Arc<Mutex<Counts>>,
}

impl ConnectionLimiter {
    pub fn new(limits: &Limits) -> Self {
        Self {
            counts: Arc::default(),
            max_total: limits.max_connections,
            max_per_ip: limits.max_per_ip,
            max_startups_per_ip: limits.max_startups_per_ip,
            max_startups: limits.max_startups,
        }
    }

    pub fn try_acquire(&self, ip: IpAddr) -> Result<Slot, Refusal> {
        self.try_acquire_with(ip, random_percent())
    }

    /// `roll`: a number in 0..100 for the random early drop.
    fn try_acquire_with(&self, ip: IpAddr, roll: u32) -> Result<Slot, Refusal> {
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if c.total >= self.max_total {
            return Err(Refusal::Total);
        }
        if early_drop(c.pending, self.max_startups, roll) {
            return Err(Refusal::Startups);
        }
        let (n, pending) = c.per_ip.get(&ip).copied().unwrap_or((0, 0));
        if n >= self.max_per_ip {
            return Err(Refusal::PerIp);
        }
        if pending >= self.max_startups_per_ip {
            return Err(Refusal::StartupsPerIp);
        }
        c.per_ip.insert(ip, (n + 1, pending + 1));
        c.total += 1;
        c.pending += 1;
        Ok(Slot {
            ip,
            pending: true,
            counts: self.counts.clone(),
        })
    }

    pub fn active(&self) -> usize {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).total
    }

    /// Connections not yet authenticated.
    pub fn pending(&self) -> usize {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pending
    }
}

/// MaxStartups' random early drop with a 30 % start rate: nothing below 30 % of `full`,
/// then a refusal chance from 30 % rising linearly to 100 % at `full`.
fn early_drop(pending: usize, full: usize, roll: u32) -> bool {
    let start = full * 3 / 10;
    if pending < start {
        return false;
    }
    if pending >= full {
        return true;
    }
    let chance = 30 + 70 * (pending - start) / (full - start).max(1);
    (roll as usize) < chance
}

fn random_percent() -> u32 {
    getrandom::u32().unwrap_or(0) % 100
}

impl Slot {
    /// The connection authenticated: it no longer counts against the startup limits.
    pub fn authenticated(&mut self) {
        if std::mem::take(&mut self.pending) {
            let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            c.pending = c.pending.saturating_sub(1);
            if let Some((_, p)) = c.per_ip.get_mut(&self.ip) {
                *p = p.saturating_sub(1);
            }
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.authenticated();
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some((n, _)) = c.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                c.per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests;
