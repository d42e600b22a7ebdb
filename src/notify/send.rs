//! One message out through one integration: the worker's deliveries and an admin's "send
//! test" both come here, so a test exercises exactly the path real notifications take
//! (URL checks, the addresses they may reach, TLS rules, authentication, signatures).

use std::time::Duration;

use super::egress::Egress;
use super::email::{self, SmtpServer};
use super::templates::Email;
use super::{DeliveryError, http};

/// An integration as stored, with its secret opened. No `Debug`: it holds the secret.
pub struct Route<'a> {
    /// `smtp`, `sms` or `webhook`.
    pub kind: &'a str,
    pub url: &'a str,
    /// SMTP From address.
    pub sender: Option<&'a str>,
    /// SMTP user name, SMS account.
    pub username: Option<&'a str>,
    pub secret: Option<&'a [u8]>,
}

/// What goes out.
pub enum Outgoing<'a> {
    Email {
        to_name: &'a str,
        to: &'a str,
        mail: &'a Email,
        delivery_id: &'a str,
    },
    Sms {
        to: &'a str,
        text: &'a str,
    },
    Webhook {
        delivery_id: &'a str,
        body: Vec<u8>,
        now_unix: i64,
    },
}

impl Outgoing<'_> {
    /// The outbox channel this message belongs to.
    pub fn channel(&self) -> &'static str {
        match self {
            Outgoing::Email { .. } => "email",
            Outgoing::Sms { .. } => "sms",
            Outgoing::Webhook { .. } => "webhook",
        }
    }
}

/// Sends `out` through `route`. `smtp_timeout` bounds the SMTP conversation (HTTP requests
/// are bounded by the client's timeout); the caller bounds the whole send as well.
pub async fn send(
    route: &Route<'_>,
    out: Outgoing<'_>,
    http: &http::Client,
    egress: &Egress,
    smtp_timeout: Duration,
) -> Result<(), DeliveryError> {
    // A password or token is text; a webhook's signing key is bytes.
    let secret_text = || match route.secret {
        Some(s) => std::str::from_utf8(s)
            .map(Some)
            .map_err(|_| DeliveryError::permanent("the stored secret is not text")),
        None => Ok(None),
    };
    match (out, route.kind) {
        (
            Outgoing::Email {
                to_name,
                to,
                mail,
                delivery_id,
            },
            "smtp",
        ) => {
            let sender = route
                .sender
                .ok_or_else(|| DeliveryError::permanent("SMTP has no From address"))?;
            let msg = email::message(sender, to_name, to, mail, delivery_id)?;
            let server = SmtpServer {
                url: route.url,
                username: route.username,
                password: secret_text()?,
                sender,
                timeout: smtp_timeout,
                egress,
            };
            email::send(&server, msg).await
        }
        (Outgoing::Sms { to, text }, "sms") => {
            http::send_sms(http, route.url, route.username, secret_text()?, to, text).await
        }
        (
            Outgoing::Webhook {
                delivery_id,
                body,
                now_unix,
            },
            "webhook",
        ) => {
            let secret = route
                .secret
                .ok_or_else(|| DeliveryError::permanent("the webhook has no secret"))?;
            http::send_webhook(http, route.url, secret, delivery_id, body, now_unix).await
        }
        (out, kind) => Err(DeliveryError::permanent(format!(
            "channel {} does not match a {kind} integration",
            out.channel()
        ))),
    }
}

/// A fresh delivery id in the UUID text form (receivers deduplicate by it).
pub fn new_delivery_id() -> String {
    let b = crate::secrets::random_bytes::<16>();
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
