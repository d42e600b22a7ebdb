//! Per-address shares of the password-hashing pool, so one address cannot starve the rest.

use super::*;

/// Password verifications one peer address may have queued or running at once. The
/// hashing pool is small (a core or two); one address flooding logins must leave room for
/// everyone else.
pub(super) const HASHES_PER_PEER: usize = 2;

/// Per-address share of the hashing pool.
#[derive(Clone, Default)]
pub(super) struct HashShares(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One claimed share; given back when dropped.
pub(super) struct HashShare {
    pub(super) shares: HashShares,
    pub(super) peer: IpAddr,
}

impl HashShares {
    pub(super) fn claim(&self, peer: IpAddr) -> Result<HashShare, Failure> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(peer).or_insert(0);
        if *n >= HASHES_PER_PEER {
            return Err(Failure::Busy);
        }
        *n += 1;
        Ok(HashShare {
            shares: self.clone(),
            peer,
        })
    }
}

impl Drop for HashShare {
    fn drop(&mut self) {
        let mut map = self.shares.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.peer);
            }
        }
    }
}
