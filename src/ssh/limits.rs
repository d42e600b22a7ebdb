//! Connection limits: overall and per peer address, as RAII slots.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Tunable limits of the SSH server.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub max_per_ip: usize,
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
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 2000,
            max_per_ip: 1100,
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
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// Hands out connection slots; a slot is given back when dropped.
#[derive(Debug, Clone, Default)]
pub struct ConnectionLimiter {
    counts: Arc<Mutex<Counts>>,
    max_total: usize,
    max_per_ip: usize,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Total,
    PerIp,
}

pub struct Slot {
    ip: IpAddr,
    counts: Arc<Mutex<Counts>>,
}

impl ConnectionLimiter {
    pub fn new(max_total: usize, max_per_ip: usize) -> Self {
        Self {
            counts: Arc::default(),
            max_total,
            max_per_ip,
        }
    }

    pub fn try_acquire(&self, ip: IpAddr) -> Result<Slot, Refusal> {
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if c.total >= self.max_total {
            return Err(Refusal::Total);
        }
        let n = c.per_ip.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            return Err(Refusal::PerIp);
        }
        *n += 1;
        c.total += 1;
        Ok(Slot {
            ip,
            counts: self.counts.clone(),
        })
    }

    pub fn active(&self) -> usize {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                c.per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_ip_and_total_limits_release_on_drop() {
        let l = ConnectionLimiter::new(3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let s1 = l.try_acquire(a).unwrap();
        let _s2 = l.try_acquire(a).unwrap();
        assert_eq!(l.try_acquire(a).err(), Some(Refusal::PerIp));
        let _s3 = l.try_acquire(b).unwrap();
        assert_eq!(l.try_acquire(b).err(), Some(Refusal::Total));
        drop(s1);
        let _s4 = l.try_acquire(a).unwrap();
        assert_eq!(l.active(), 3);
    }
}
