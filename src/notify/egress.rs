//! Where notifications may connect (SSRF defence). A facility admin sets SMTP, SMS and
//! webhook URLs from the console, so a URL is no longer only the host owner's word: pointed
//! at this host's own services (the metrics endpoint, PostgreSQL), the LAN or the cloud
//! metadata address it would make the server a proxy into them. Every address that is not
//! public internet (`domain::net::non_public`) is refused unless the host allowed it with
//! `serve --notify-allow-private` (an on-prem relay).
//!
//! Checked where the connection is made, on the address actually connected to, so a name
//! that resolved to a public address when the URL was saved and to a private one now (DNS
//! rebinding) is refused too: reqwest resolves names through [`Egress`] (a
//! `reqwest::dns::Resolve` that drops refused addresses) and connects to IP literals
//! without a resolver, so [`Egress::check_url`] refuses those before each request; SMTP
//! resolves through [`Egress::resolve`] and connects to the address it returned.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::DeliveryError;
use crate::domain::net::{Nets, non_public};

/// How long a save waits for a name to resolve before it lets the URL through (each send
/// checks again).
pub const VET_TIMEOUT: Duration = Duration::from_secs(3);

/// The addresses notifications may reach: public ones, and the non-public networks the
/// host allowed. `Default` allows no non-public address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Egress {
    allowed: Arc<Nets>,
}

impl Egress {
    /// Also allows these non-public networks (`serve --notify-allow-private`).
    pub fn allowing(nets: Nets) -> Self {
        Self {
            allowed: Arc::new(nets),
        }
    }

    /// The networks allowed besides public addresses.
    pub fn allowed(&self) -> &Nets {
        &self.allowed
    }

    /// Why a connection to `ip` is refused, if it is.
    pub fn refusal(&self, ip: IpAddr) -> Option<&'static str> {
        let why = non_public(ip)?;
        (!self.allowed.contains(ip)).then_some(why)
    }

    fn refused(host: &str, ip: IpAddr, why: &str) -> DeliveryError {
        let shown = if host == ip.to_string() {
            ip.to_string()
        } else {
            format!("{host} ({ip})")
        };
        // Transient: the host may allow the network, or the name change back, before the
        // row's last attempt.
        DeliveryError::transient(format!(
            "refused: {shown} is {why}; notifications go to public addresses only, unless \
             the server's host allows that network (serve --notify-allow-private)"
        ))
    }

    /// Refuses a URL whose host is an IP literal that may not be reached (HTTP clients
    /// connect to those without asking a resolver). Names pass: they are checked when
    /// resolved.
    pub fn check_url(&self, url: &url::Url) -> Result<(), DeliveryError> {
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            // smtp:// is not a special scheme: an IPv4 address comes as a domain.
            Some(url::Host::Domain(d)) => match d.parse::<IpAddr>() {
                Ok(ip) => ip,
                Err(_) => return Ok(()),
            },
            None => return Ok(()),
        };
        match self.refusal(ip) {
            Some(why) => Err(Self::refused(&ip.to_string(), ip, why)),
            None => Ok(()),
        }
    }

    /// The addresses of `host` that may be reached (at least one), or why none may. A name
    /// with both public and refused addresses keeps only the public ones.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, DeliveryError> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let all: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((bare, port))
                .await
                .map_err(|e| DeliveryError::transient(format!("cannot resolve {bare}: {e}")))?
                .collect(),
        };
        let mut first_refusal = None;
        let ok: Vec<SocketAddr> = all
            .into_iter()
            .filter(|a| match self.refusal(a.ip()) {
                Some(why) => {
                    first_refusal.get_or_insert((a.ip(), why));
                    false
                }
                None => true,
            })
            .collect();
        match (ok.is_empty(), first_refusal) {
            (false, _) => Ok(ok),
            (true, Some((ip, why))) => Err(Self::refused(bare, ip, why)),
            (true, None) => Err(DeliveryError::transient(format!("{bare} has no address"))),
        }
    }

    /// The check when a URL is saved: a literal address, or every address the name has now,
    /// must be reachable. A name that does not resolve (yet, or not from here) within
    /// [`VET_TIMEOUT`] passes: every send resolves and checks again.
    pub async fn vet(&self, host: &str, port: u16) -> Result<(), String> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return match self.refusal(ip) {
                Some(why) => Err(Self::refused(bare, ip, why).message),
                None => Ok(()),
            };
        }
        let Ok(Ok(addrs)) =
            tokio::time::timeout(VET_TIMEOUT, tokio::net::lookup_host((bare, port))).await
        else {
            return Ok(());
        };
        for a in addrs {
            if let Some(why) = self.refusal(a.ip()) {
                return Err(Self::refused(bare, a.ip(), why).message);
            }
        }
        Ok(())
    }
}

/// reqwest asks this for every name it connects to: the name's addresses less the refused
/// ones, or an error naming the refusal (the request then fails as "cannot connect").
impl reqwest::dns::Resolve for Egress {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let egress = self.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0: reqwest puts in the URL's (or the scheme's) port.
            match egress.resolve(&host, 0).await {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs),
                Err(e) => Err(e.message.into()),
            }
        })
    }
}

#[cfg(test)]
mod tests;
