//! The PROXY protocol (v1 text, v2 binary) for nodes behind a TCP load balancer.
//!
//! Off unless trusted proxy addresses are configured. A trusted peer must open with a valid
//! header, read here before any SSH byte with a deadline and a size cap; the header's source
//! address then stands for the client everywhere (limits, lockouts, logs). Any other peer is
//! the client itself, and a header from it would be a spoofed address: [`Sniff`] refuses it.
//! Parsing is `ppp`'s; the framing (how many bytes belong to the header) is ours, so not a
//! byte of the SSH stream is consumed.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::str::FromStr;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// How long a trusted proxy has to send its header. Load balancers send it at once, with
/// the connection; this only bounds a peer that does not.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// The v1 header's longest form, CRLF included (the specification's bound).
const V1_MAX: usize = 107;
/// The v2 fixed part: signature, version/command, family/protocol, length.
const V2_FIXED: usize = 16;
/// Addresses plus TLVs we take in a v2 header. Load balancers add a few short TLVs (an
/// endpoint id, a unique id); anything far longer is not a header we want to buffer.
const V2_MAX_BODY: usize = 2048;
const V1_PREFIX: &[u8] = b"PROXY ";
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

// The trusted list's entries: an address or network (`10.0.0.0/8`, `127.0.0.1`, `fd00::/8`).
pub use crate::domain::net::Cidr;
use crate::domain::net::Nets;

/// The load balancers allowed to send PROXY headers: a comma-separated list of addresses and
/// networks, e.g. `10.0.0.0/8,127.0.0.1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedProxies(Nets);

impl TrustedProxies {
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.contains(ip)
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.split(',').all(|p| p.trim().is_empty()) {
            return Err("no proxy address given".into());
        }
        Nets::from_str(s).map(Self)
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a trusted peer's connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadHeader {
    /// The connection closed or failed before a whole header arrived.
    Closed,
    /// The first bytes are not a PROXY header (e.g. a client reaching the node directly).
    Missing,
    /// Longer than we accept.
    TooLong,
    /// It looked like one but does not parse.
    Malformed,
}

impl BadHeader {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed before a complete PROXY header",
            Self::Missing => "no PROXY header",
            Self::TooLong => "PROXY header too long",
            Self::Malformed => "malformed PROXY header",
        }
    }
}

/// Reads one PROXY header, exactly: the bytes after it (the client's SSH identification)
/// stay unread. `Some(addr)`: the client the proxy speaks for. `None`: a v2 LOCAL command
/// (the proxy's own health check) or an unknown/unspecified family, which stand for the
/// proxy's own connection.
pub async fn read_header<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<SocketAddr>, BadHeader> {
    let mut buf = vec![0u8; V1_PREFIX.len()];
    read_exact(r, &mut buf).await?;
    if buf == V1_PREFIX {
        // Byte by byte up to the CRLF, so nothing past the header is taken from the socket.
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n") {
            if buf.len() >= V1_MAX {
                return Err(BadHeader::TooLong);
            }
            read_exact(r, &mut byte).await?;
            buf.push(byte[0]);
        }
        let header = ppp::v1::Header::try_from(buf.as_slice()).map_err(|_| BadHeader::Malformed)?;
        return Ok(match header.addresses {
            ppp::v1::Addresses::Tcp4(a) => {
                Some(SocketAddr::new(IpAddr::V4(a.source_address), a.source_port))
            }
            ppp::v1::Addresses::Tcp6(a) => {
                Some(SocketAddr::new(IpAddr::V6(a.source_address), a.source_port))
            }
            ppp::v1::Addresses::Unknown => None,
        });
    }
    if buf[..] != V2_SIGNATURE[..V1_PREFIX.len()] {
        return Err(BadHeader::Missing);
    }
    buf.resize(V2_FIXED, 0);
    read_exact(r, &mut buf[V1_PREFIX.len()..]).await?;
    if buf[..V2_SIGNATURE.len()] != V2_SIGNATURE[..] {
        return Err(BadHeader::Missing);
    }
    let body = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    if body > V2_MAX_BODY {
        return Err(BadHeader::TooLong);
    }
    buf.resize(V2_FIXED + body, 0);
    read_exact(r, &mut buf[V2_FIXED..]).await?;
    let header = ppp::v2::Header::try_from(buf.as_slice()).map_err(|_| BadHeader::Malformed)?;
    if header.command == ppp::v2::Command::Local {
        return Ok(None);
    }
    Ok(match header.addresses {
        ppp::v2::Addresses::IPv4(a) => {
            Some(SocketAddr::new(IpAddr::V4(a.source_address), a.source_port))
        }
        ppp::v2::Addresses::IPv6(a) => {
            Some(SocketAddr::new(IpAddr::V6(a.source_address), a.source_port))
        }
        // The specification: use the connection's own addresses.
        ppp::v2::Addresses::Unspecified | ppp::v2::Addresses::Unix(_) => None,
    })
}

async fn read_exact<R: AsyncRead + Unpin>(r: &mut R, buf: &mut [u8]) -> Result<(), BadHeader> {
    r.read_exact(buf)
        .await
        .map(|_| ())
        .map_err(|_| BadHeader::Closed)
}

/// The stream of a peer that may not send PROXY headers, watching its first bytes: one
/// that starts like a header is cut (read error) before russh could take anything for an
/// identification line, and logged, since it is either a spoofing attempt or a load
/// balancer missing from the trusted list.
pub struct Sniff<S> {
    pub inner: S,
    pub peer: SocketAddr,
    /// The first bytes seen, until they cannot be the start of a header.
    seen: Option<Vec<u8>>,
}

impl<S> Sniff<S> {
    pub fn new(inner: S, peer: SocketAddr) -> Self {
        Self {
            inner,
            peer,
            seen: Some(Vec::new()),
        }
    }

    /// Watching nothing: the protocol is off, or the header was read already.
    pub fn off(inner: S, peer: SocketAddr) -> Self {
        Self {
            inner,
            peer,
            seen: None,
        }
    }
}

/// What the first bytes of a stream say so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Start {
    /// Could still become a PROXY header.
    Undecided,
    /// A PROXY header signature.
    Header,
    /// Cannot be one.
    Other,
}

pub fn classify(seen: &[u8]) -> Start {
    let mut undecided = false;
    for sig in [V1_PREFIX, &V2_SIGNATURE[..]] {
        let n = seen.len().min(sig.len());
        if seen[..n] == sig[..n] {
            if n == sig.len() {
                return Start::Header;
            }
            undecided = true;
        }
    }
    if undecided {
        Start::Undecided
    } else {
        Start::Other
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Sniff<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let Some(seen) = this.seen.as_mut() else {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        };
        let before = buf.filled().len();
        let res = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &res {
            seen.extend_from_slice(&buf.filled()[before..]);
            match classify(seen) {
                Start::Undecided => {}
                Start::Other => this.seen = None,
                Start::Header => {
                    tracing::warn!(
                        peer = %this.peer,
                        "connection refused: PROXY header from an address not in --proxy-protocol-from"
                    );
                    // Not handed on: russh never sees the header.
                    buf.set_filled(before);
                    return Poll::Ready(Err(std::io::ErrorKind::PermissionDenied.into()));
                }
            }
        }
        res
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Sniff<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests;
