//! The russh server: our own accept loop (limits before any SSH bytes), one handler per
//! connection, one task per session channel, graceful shutdown.
//!
//! Here: the accept loop, per-connection setup and shutdown; `config` (algorithms), `killable`
//! (the cuttable stream), `conn` (a connection's state and tasks), `handler` (the russh callbacks),
//! `proxy` (the PROXY protocol header of a trusted load balancer, read before the limits).

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use russh::keys::{Algorithm, EcdsaCurve, HashAlg, PrivateKey, PublicKey};
use russh::server::{
    self, Auth, ChannelOpenHandle, Handler, Msg, PublicKeyOffer, Response, Session,
};
use russh::{
    Channel, ChannelId, ChannelWriteHalf, Disconnect, MethodKind, MethodSet, Preferred, Pty,
    cipher, compression, kex, mac,
};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::limits::{ConnectionLimiter, Limits, Slot};
use super::session::{self, Input};
use crate::auth::login::{Authenticator, Failure, SshUser};
use crate::auth::pubkey;
use crate::domain::Principal;
use crate::metrics::Metrics;

mod config;
mod conn;
mod handler;
mod killable;
mod proxy;
pub use config::preferred;
use config::*;
use conn::*;
use killable::*;
pub use proxy::{BadHeader, Cidr, TrustedProxies};

/// Everything the connections share.
struct Shared {
    auth: Authenticator,
    ops: crate::ops::Ops,
    live: crate::live::LiveHub,
    limits: Limits,
    metrics: Arc<Metrics>,
    shutdown: watch::Receiver<bool>,
    /// PROXY protocol: off (`None`), or the load balancers whose headers are believed.
    proxy: Option<TrustedProxies>,
}

/// A running server.
pub struct ServerHandle {
    pub addr: SocketAddr,
    pub host_key: PublicKey,
    pub metrics: Arc<Metrics>,
    limiter: ConnectionLimiter,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ServerHandle {
    /// Open TCP connections (authenticated or not).
    pub fn connections(&self) -> usize {
        self.limiter.active()
    }

    pub fn active_sessions(&self) -> u64 {
        self.metrics.sessions_active.load(Ordering::Relaxed)
    }

    /// Stops accepting, tells every session (which restores its terminal), and waits for
    /// them (at most a few seconds).
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Starts serving on `listener`, clients connecting directly.
pub fn start(
    listener: TcpListener,
    auth: Authenticator,
    host_key: PrivateKey,
    limits: Limits,
) -> std::io::Result<ServerHandle> {
    start_with(listener, auth, host_key, limits, None)
}

/// Starts serving on `listener`; with `proxy`, connections from those addresses are a load
/// balancer's and open with a PROXY protocol header naming the client.
pub fn start_with(
    listener: TcpListener,
    auth: Authenticator,
    host_key: PrivateKey,
    limits: Limits,
    proxy: Option<TrustedProxies>,
) -> std::io::Result<ServerHandle> {
    let addr = listener.local_addr()?;
    // Compute the dummy hash now, not on the first unknown login (which would then take
    // one extra hash longer than any other failure).
    std::sync::LazyLock::force(&crate::auth::password::DUMMY_HASH);
    let public = host_key.public_key().clone();
    tracing::info!(fingerprint = %pubkey::fingerprint(&public), "host key");
    if let Some(p) = &proxy {
        tracing::info!(trusted = %p, "PROXY protocol on");
    }
    let config = Arc::new(config(host_key, &limits));
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let metrics = Arc::new(Metrics::default());
    let limiter = ConnectionLimiter::new(&limits);
    let ops = crate::ops::Ops::new(auth.db().clone())
        .with_secrets(auth.secrets().clone())
        .with_index_memory(limits.index_memory)
        .with_egress(limits.egress.clone());
    let live = crate::live::LiveHub::start(auth.db());
    // The search indexes drop what other processes changed (issue 17).
    ops.follow(&live);
    metrics.watch_indexes(ops.clone());
    let shared = Arc::new(Shared {
        ops,
        live,
        auth,
        limits,
        metrics: metrics.clone(),
        shutdown: shutdown_rx,
        proxy,
    });
    let task = tokio::spawn(accept_loop(listener, config, shared, limiter.clone()));
    Ok(ServerHandle {
        addr,
        host_key: public,
        metrics,
        limiter,
        shutdown: shutdown_tx,
        task,
    })
}

async fn accept_loop(
    listener: TcpListener,
    config: Arc<server::Config>,
    shared: Arc<Shared>,
    limiter: ConnectionLimiter,
) {
    let mut shutdown = shared.shutdown.clone();
    let mut connections = JoinSet::new();
    // Connections of a trusted proxy waiting for their header hold no slot yet (the limits
    // apply to the client it names): this bounds them instead, each for HEADER_TIMEOUT at most.
    let headers = Arc::new(tokio::sync::Semaphore::new(
        shared.limits.max_connections.max(1),
    ));
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (socket, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                Metrics::inc(&shared.metrics.connections);
                let _ = socket.set_nodelay(true);
                let trusted = shared.proxy.as_ref().map(|p| p.trusts(peer.ip()));
                if trusted == Some(true) {
                    let Ok(permit) = headers.clone().try_acquire_owned() else {
                        Metrics::inc(&shared.metrics.refused);
                        tracing::warn!(%peer, "connection refused: too many PROXY headers pending");
                        continue;
                    };
                    connections.spawn(proxied(
                        socket,
                        peer,
                        permit,
                        limiter.clone(),
                        config.clone(),
                        shared.clone(),
                    ));
                    continue;
                }
                let slot = match limiter.try_acquire(peer.ip()) {
                    Ok(slot) => slot,
                    Err(why) => {
                        Metrics::inc(&shared.metrics.refused);
                        tracing::warn!(%peer, limit = ?why, "connection refused: limit reached");
                        // Closed before any SSH bytes: the client sees a clean EOF.
                        drop(socket);
                        continue;
                    }
                };
                // With the protocol on, a header from anyone else would be a spoofed address.
                let sniff = trusted.is_some();
                connections.spawn(connection(socket, peer, sniff, slot, config.clone(), shared.clone()));
            }
        }
    }
    drop(listener);
    let grace = tokio::time::sleep(Duration::from_secs(5));
    tokio::pin!(grace);
    loop {
        tokio::select! {
            next = connections.join_next() => if next.is_none() { break },
            () = &mut grace => {
                connections.abort_all();
                break;
            }
        }
    }
}

/// A trusted load balancer's connection: its PROXY header first (before any SSH byte, with a
/// deadline), then the limits and everything else on the client address the header names.
async fn proxied(
    mut socket: tokio::net::TcpStream,
    proxy: SocketAddr,
    permit: tokio::sync::OwnedSemaphorePermit,
    limiter: ConnectionLimiter,
    config: Arc<server::Config>,
    shared: Arc<Shared>,
) {
    let header = tokio::time::timeout(proxy::HEADER_TIMEOUT, proxy::read_header(&mut socket)).await;
    drop(permit);
    let peer = match header {
        Ok(Ok(Some(client))) => client,
        // A LOCAL command (the balancer's own health check) or an unknown family.
        Ok(Ok(None)) => proxy,
        Ok(Err(BadHeader::Closed)) => {
            // Usually a plain TCP health check: connect, close.
            tracing::debug!(%proxy, "closed before a PROXY header");
            return;
        }
        Ok(Err(bad)) => {
            Metrics::inc(&shared.metrics.refused);
            tracing::warn!(%proxy, reason = bad.as_str(), "connection refused: a trusted proxy must send a PROXY header");
            return;
        }
        Err(_) => {
            Metrics::inc(&shared.metrics.refused);
            tracing::warn!(%proxy, "connection refused: no PROXY header in time");
            return;
        }
    };
    let slot = match limiter.try_acquire(peer.ip()) {
        Ok(slot) => slot,
        Err(why) => {
            Metrics::inc(&shared.metrics.refused);
            tracing::warn!(%peer, via = %proxy, limit = ?why, "connection refused: limit reached");
            return;
        }
    };
    if peer != proxy {
        tracing::debug!(%peer, via = %proxy, "client address from PROXY header");
    }
    connection(socket, peer, false, slot, config, shared).await;
}

/// One TCP connection: the SSH session, a pre-authentication deadline, shutdown. `peer` is
/// the client: the TCP peer, or the address a trusted proxy's header named. `sniff`: refuse
/// a PROXY header (the protocol is on, and this peer is not a trusted proxy).
async fn connection(
    socket: tokio::net::TcpStream,
    peer: SocketAddr,
    sniff: bool,
    slot: Slot,
    config: Arc<server::Config>,
    shared: Arc<Shared>,
) {
    let authed = Arc::new(AtomicBool::new(false));
    let kill = Arc::new(tokio::sync::Notify::new());
    let unavailable = Arc::new(tokio::sync::Notify::new());
    let handler = Conn {
        unavailable: unavailable.clone(),
        shared: shared.clone(),
        peer,
        slot,
        authed: authed.clone(),
        principal: None,
        unbound: None,
        kiosk: None,
        method: String::new(),
        kbd: Kbd::Idle,
        channels: HashMap::new(),
        kill: kill.clone(),
        dropped_warned: None,
    };
    // One deadline from the TCP connect: a slow identification line does not restart it.
    let deadline = tokio::time::Instant::now() + shared.limits.pre_auth;
    // russh runs the session in a task of its own, which does not act on a disconnect
    // during key exchange and otherwise lives until its inactivity timeout: when this
    // function returns, `_kill` drops and the stream fails, ending that task too.
    let (_kill, killed) = tokio::sync::oneshot::channel::<()>();
    let stream = Killable {
        inner: socket,
        killed: Some(killed),
    };
    let stream = if sniff {
        proxy::Sniff::new(stream, peer)
    } else {
        proxy::Sniff::off(stream, peer)
    };
    let session = match tokio::time::timeout_at(
        deadline,
        server::run_stream(config, stream, handler),
    )
    .await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "ssh handshake failed");
            return;
        }
        Err(_) => {
            tracing::info!(%peer, "closed: no SSH handshake before the deadline");
            return;
        }
    };
    let handle = session.handle();
    tokio::pin!(session);
    let pre_auth = tokio::time::sleep_until(deadline);
    tokio::pin!(pre_auth);
    let mut deadline_armed = true;
    let mut shutdown = shared.shutdown.clone();
    loop {
        tokio::select! {
            res = &mut session => {
                if let Err(e) = res {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = &mut pre_auth, if deadline_armed => {
                deadline_armed = false;
                if !authed.load(Ordering::Acquire) {
                    tracing::info!(%peer, "closed: not authenticated before the deadline");
                    disconnect(&handle, "authentication timeout").await;
                    let _ = tokio::time::timeout(Duration::from_secs(2), &mut session).await;
                    return;
                }
            }
            () = kill.notified() => {
                // A session's client stopped reading its output: nothing more can reach it,
                // and its unread data holds server memory. Dropping the stream (`_kill`)
                // ends russh's task too, even when it is blocked writing.
                tracing::info!(%peer, "closed: the client stopped reading");
                return;
            }
            () = unavailable.notified() => {
                // Authentication could not be checked (the database is not answering):
                // not a refusal, and not the client's fault. Say so instead of letting it
                // look like a wrong key.
                tracing::warn!(%peer, "closed: authentication unavailable (database error)");
                disconnect(&handle, "service temporarily unavailable; try again in a moment")
                    .await;
                let _ = tokio::time::timeout(Duration::from_secs(2), &mut session).await;
                return;
            }
            _ = shutdown.changed() => {
                // Sessions restore their terminals on the same signal; give them a moment.
                // A finished session future must not be polled again (it panics).
                if tokio::time::timeout(Duration::from_secs(2), &mut session).await.is_err() {
                    disconnect(&handle, "server shutting down").await;
                    let _ = tokio::time::timeout(Duration::from_secs(2), &mut session).await;
                }
                return;
            }
        }
    }
}

/// Sends a DISCONNECT, bounded: a session whose queue is full must not hold us up.
async fn disconnect(handle: &server::Handle, reason: &str) {
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        handle.disconnect(Disconnect::ByApplication, reason.into(), "en".into()),
    )
    .await;
}

#[cfg(test)]
mod tests;
