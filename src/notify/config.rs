//! What an integration may be set to: the checks the admin CLI (`admin smtp|sms|webhook`) and
//! the admin console's Channels tab both make before anything is stored. Where the URL may
//! point (public addresses only, by default) is `egress`'s business, at save and at send.

use url::Url;

use crate::domain::limits::WEBHOOK_SECRET_MIN;

/// Longest integration URL (the column's check).
pub const URL_MAX: usize = 500;

fn parse(url: &str, schemes: &[&str]) -> Option<Url> {
    let url = url.trim();
    if url.is_empty() || url.len() > URL_MAX {
        return None;
    }
    Url::parse(url)
        .ok()
        .filter(|u| schemes.contains(&u.scheme()) && u.host_str().is_some_and(|h| !h.is_empty()))
}

/// An SMTP server URL, with the TLS rules the worker applies on every delivery checked now
/// (`has_credentials`: a user name or password will be sent).
pub fn smtp_url(url: &str, has_credentials: bool) -> Result<Url, String> {
    let parsed = parse(url, &["smtp", "smtps"]).ok_or_else(|| {
        format!(
            "`{}` is not an smtp:// or smtps:// URL with a host",
            crate::domain::text::escape(url.trim(), &[])
        )
    })?;
    super::email::endpoint(parsed.as_str(), has_credentials).map_err(|e| e.message)?;
    Ok(parsed)
}

/// An SMS provider's or a webhook's URL: http:// or https:// with a host.
pub fn http_url(url: &str) -> Result<Url, String> {
    parse(url, &["http", "https"]).ok_or_else(|| {
        format!(
            "`{}` is not an http:// or https:// URL with a host",
            crate::domain::text::escape(url.trim(), &[])
        )
    })
}

/// The From address of the facility's e-mail.
pub fn from_address(from: &str) -> Result<(), String> {
    match crate::admin::import::valid_email(from.trim()) {
        Some(_) => Ok(()),
        None => Err(format!(
            "`{}` is not a valid From address",
            crate::domain::text::escape(from.trim(), &[])
        )),
    }
}

/// A webhook signing secret: long enough to be worth signing with.
pub fn webhook_secret(secret: &str) -> Result<(), String> {
    if secret.len() < WEBHOOK_SECRET_MIN {
        return Err(format!(
            "the webhook secret must be at least {WEBHOOK_SECRET_MIN} characters"
        ));
    }
    Ok(())
}

// How a URL is shown and audited (pure, so the database layer lists URLs the same way).
pub use crate::domain::net::{hides_parts, shown_url};

/// Where a URL connects: host and port (SMTP's default port by its TLS mode).
pub fn host_port(url: &Url) -> Option<(String, u16)> {
    let host = url.host_str()?.to_string();
    let port = match url.scheme() {
        "smtp" | "smtps" => super::email::endpoint(url.as_str(), false).ok()?.1,
        _ => url.port_or_known_default()?,
    };
    Some((host, port))
}

#[cfg(test)]
mod tests;
