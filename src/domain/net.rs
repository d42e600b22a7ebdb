//! IP networks, which addresses are not the public internet, and how a URL is shown. Shared by the PROXY
//! protocol's trusted load balancers (`ssh::server::proxy`) and the addresses notifications
//! may connect to (`notify::egress`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An address or network: `10.0.0.0/8`, `127.0.0.1`, `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

/// The first `bits` bits of `a` and `b` are equal.
fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let full = usize::from(bits / 8);
    let rest = bits % 8;
    if a.get(..full) != b.get(..full) {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    match (a.get(full), b.get(full)) {
        (Some(x), Some(y)) => x & mask == y & mask,
        _ => false,
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or network (a.b.c.d/n)"))?;
        // An IPv4-mapped entry means the IPv4 address; peers are compared the same way.
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0..={max}"))?,
        };
        Ok(Self { addr, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A comma-separated list of addresses and networks, e.g. `10.0.0.0/8,127.0.0.1`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nets(pub Vec<Cidr>);

impl Nets {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }
}

impl FromStr for Nets {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let nets = s
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(Cidr::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        if nets.is_empty() {
            return Err("no address or network given".into());
        }
        Ok(Self(nets))
    }
}

impl fmt::Display for Nets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// Whether a URL carries parts that are shown nowhere: user name, password, query or
/// fragment (an SMS provider's key often travels in one of them).
pub fn hides_parts(url: &url::Url) -> bool {
    !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
}

/// A URL as it may be shown and audited: without user name, password, query or fragment.
pub fn shown_url(url: &url::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    if hides_parts(url) {
        format!("{u} (credentials and query hidden)")
    } else {
        u.to_string()
    }
}

/// What kind of address `ip` is when it is not a public internet address: loopback (this
/// host's own services: the metrics endpoint, PostgreSQL), private and shared networks (the
/// LAN, a cloud VPC), link-local (cloud metadata at 169.254.169.254), and the special and
/// reserved ranges. IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4) are judged
/// by that address. `None`: a public address.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (127, ..) => "a loopback address",
        (0, ..) => "the unspecified network 0.0.0.0/8 (this host)",
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => "a private network address",
        (100, 64..=127, _) => "a shared (carrier-grade NAT) address",
        (169, 254, _) => "a link-local address (cloud metadata lives there)",
        (192, 0, 0) => "an IETF protocol address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, ..) => "a multicast address",
        (240..=255, ..) => "a reserved or broadcast address",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    Some(match s {
        [0, 0, 0, 0, 0, 0, 0, 0] => "the unspecified address (this host)",
        [0, 0, 0, 0, 0, 0, 0, 1] => "a loopback address",
        // IPv4-compatible (deprecated), NAT64 and 6to4 reach the IPv4 address inside.
        [0, 0, 0, 0, 0, 0, ..] => {
            return non_public_v4(embedded(s[6], s[7])).or(Some("an IPv4-compatible address"));
        }
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => return non_public_v4(embedded(s[6], s[7])),
        [0x2002, hi, lo, ..] => return non_public_v4(embedded(hi, lo)),
        [0x64, 0xff9b, 1, ..] => "a local NAT64 address",
        [0x100, 0, 0, 0, ..] => "a discard address",
        [0x2001, 0, ..] => "a Teredo tunnel address",
        [0x2001, 0xdb8, ..] => "a documentation address",
        [x, ..] if x & 0xfe00 == 0xfc00 => "a private (unique local) address",
        [x, ..] if x & 0xffc0 == 0xfe80 => "a link-local address",
        [x, ..] if x & 0xffc0 == 0xfec0 => "a site-local address",
        [x, ..] if x & 0xff00 == 0xff00 => "a multicast address",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
