//! The e-mail channel: SMTP with lettre's async tokio transport over rustls.
//!
//! `smtps://HOST[:PORT]` speaks TLS from the first byte (port 465 by default).
//! `smtp://HOST[:PORT]` (port 587 by default) requires STARTTLS: a server that does not offer
//! it (or a network that strips the offer) gets no mail, rather than mail in clear text.
//! `smtp://HOST[:PORT]?tls=none` is the explicit way to talk plain SMTP to a local relay
//! (a Postfix on this machine or the LAN); it is refused with credentials unless the host is
//! this machine, so a password never crosses a network in clear text.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncTransport, Message, Tokio1Executor};

use super::DeliveryError;
use super::egress::Egress;
use super::templates::Email;

/// Where and how a facility's mail goes out.
#[derive(Clone)]
pub struct SmtpServer<'a> {
    pub url: &'a str,
    /// The integration's user name; with a password and no user name, the From address.
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
    pub sender: &'a str,
    pub timeout: Duration,
    /// The addresses the connection may go to.
    pub egress: &'a Egress,
}

impl std::fmt::Debug for SmtpServer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpServer")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.map(|_| "[sealed]"))
            .field("egress", &self.egress)
            .finish()
    }
}

/// The TLS mode a URL asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS from the first byte (`smtps://`).
    Wrapper,
    /// STARTTLS, or fail (`smtp://`).
    Required,
    /// No TLS at all: asked for with `smtp://…?tls=none`, for a local relay.
    None,
}

/// Host, port and TLS mode of an SMTP URL (the checks `admin smtp set` makes, and the worker
/// again on every delivery).
pub fn endpoint(url: &str, has_credentials: bool) -> Result<(String, u16, TlsMode), DeliveryError> {
    let parsed =
        url::Url::parse(url).map_err(|_| DeliveryError::permanent("the SMTP URL is not valid"))?;
    let (host, loopback) = match parsed.host() {
        // smtp is not a "special" scheme to the URL parser: an IPv4 address is a domain.
        Some(url::Host::Domain(d)) => (
            d.to_string(),
            d.eq_ignore_ascii_case("localhost")
                || d.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()),
        ),
        Some(url::Host::Ipv4(ip)) => (ip.to_string(), ip.is_loopback()),
        Some(url::Host::Ipv6(ip)) => (ip.to_string(), ip.is_loopback()),
        None => return Err(DeliveryError::permanent("the SMTP URL has no host")),
    };
    // The one option: `tls=none` (or the default, `tls=starttls`). Anything else is a typo
    // we must not silently read as "plain".
    let mut plain = false;
    for (k, v) in parsed.query_pairs() {
        match (k.as_ref(), v.as_ref()) {
            ("tls", "none") => plain = true,
            ("tls", "starttls") => plain = false,
            _ => {
                return Err(DeliveryError::permanent(
                    "the SMTP URL's only option is tls=none (plain SMTP to a local relay) \
                     or tls=starttls",
                ));
            }
        }
    }
    match parsed.scheme() {
        "smtps" if plain => Err(DeliveryError::permanent(
            "smtps:// is TLS from the first byte; for plain SMTP use smtp://HOST:PORT?tls=none",
        )),
        "smtps" => Ok((host, parsed.port().unwrap_or(465), TlsMode::Wrapper)),
        "smtp" if plain && has_credentials && !loopback => Err(DeliveryError::permanent(
            "tls=none with a password is allowed only to a relay on this machine \
             (localhost); use smtp:// (STARTTLS) or smtps://",
        )),
        "smtp" if plain => Ok((host, parsed.port().unwrap_or(25), TlsMode::None)),
        "smtp" => Ok((host, parsed.port().unwrap_or(587), TlsMode::Required)),
        _ => Err(DeliveryError::permanent(
            "the SMTP URL must start with smtp:// or smtps://",
        )),
    }
}

/// This machine's name for EHLO (an address literal when it cannot be read).
fn hello_name() -> ClientId {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty() && h.parse::<IpAddr>().is_err())
        .map(ClientId::Domain)
        .unwrap_or_default()
}

/// How long TLS parameters are reused before the system trust store is read again.
const TLS_REUSE: Duration = Duration::from_secs(3600);

/// The TLS parameters for `host`, built at most once an hour per host. Building them reads
/// and parses the whole system trust store (rustls-platform-verifier does on Linux), which
/// cost more than the rest of a delivery to a local receiver: measured with
/// `examples/notify_bench.rs`, a worker managed about 50 mails/s that way, busy parsing
/// certificates even while the mail server refused every connection.
fn tls_parameters(host: &str) -> Result<TlsParameters, DeliveryError> {
    static CACHE: OnceLock<Mutex<HashMap<String, (Instant, TlsParameters)>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Ok(map) = cache.lock()
        && let Some((built, params)) = map.get(host)
        && built.elapsed() < TLS_REUSE
    {
        return Ok(params.clone());
    }
    let params = TlsParameters::new(host.to_string())
        .map_err(|e| DeliveryError::transient(format!("TLS setup: {e}")))?;
    if let Ok(mut map) = cache.lock() {
        // Bounded: a facility has one SMTP host; drop everything should many appear.
        if map.len() >= 64 {
            map.clear();
        }
        map.insert(host.to_string(), (Instant::now(), params.clone()));
    }
    Ok(params)
}

/// The transport for one delivery (lettre opens a connection per send without its pool).
/// The server's name is resolved here, through `egress`, and lettre is given the address to
/// connect to (the certificate is still checked against the name): the address connected
/// to is the address checked.
pub async fn transport(
    server: &SmtpServer<'_>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, DeliveryError> {
    let user = server
        .username
        .filter(|u| !u.is_empty())
        .or(server.password.map(|_| server.sender));
    let (host, port, mode) = endpoint(server.url, user.is_some())?;
    // The first address the resolver prefers (RFC 6724 order) among those allowed.
    let addr = server
        .egress
        .resolve(&host, port)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| DeliveryError::transient(format!("{host} has no address")))?;
    let tls = match mode {
        TlsMode::Wrapper => Tls::Wrapper(tls_parameters(&host)?),
        TlsMode::Required => Tls::Required(tls_parameters(&host)?),
        TlsMode::None => Tls::None,
    };
    let mut builder =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(addr.ip().to_string())
            .port(port)
            .tls(tls)
            .hello_name(hello_name())
            .timeout(Some(server.timeout));
    if let Some(user) = user {
        builder = builder.credentials(Credentials::new(
            user.to_string(),
            server.password.unwrap_or_default().to_string(),
        ));
    }
    Ok(builder.build())
}

/// The message: From the facility's sender, To the recipient, plain text and HTML as
/// alternatives, the delivery id in the Message-ID (a retry carries the same one).
pub fn message(
    sender: &str,
    to_name: &str,
    to_email: &str,
    mail: &Email,
    delivery_id: &str,
) -> Result<Message, DeliveryError> {
    let from: Mailbox = sender
        .parse()
        .map_err(|_| DeliveryError::permanent("the SMTP From address is not valid"))?;
    let address: Address = to_email
        .parse()
        .map_err(|_| DeliveryError::permanent("the recipient's e-mail address is not valid"))?;
    let name = (!to_name.trim().is_empty()).then(|| to_name.trim().to_string());
    let domain = from.email.domain().to_string();
    Message::builder()
        .from(from)
        .to(Mailbox::new(name, address))
        .subject(mail.subject.clone())
        .message_id(Some(format!("<{delivery_id}@{domain}>")))
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|e| DeliveryError::permanent(format!("cannot build the message: {e}")))
}

/// Sends `msg` through `server`.
pub async fn send(server: &SmtpServer<'_>, msg: Message) -> Result<(), DeliveryError> {
    let transport = transport(server).await?;
    match transport.send(msg).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_timeout() => Err(DeliveryError::transient("SMTP timed out")),
        Err(e) => Err(DeliveryError::transient(format!("SMTP: {e}"))),
    }
}

#[cfg(test)]
mod tests;
