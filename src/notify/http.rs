//! The HTTP channels: SMS through a generic JSON API and signed webhooks. One
//! `reqwest` client (rustls with the ring provider, the system trust store), no
//! redirects (a 3xx is a failure, a POST is never silently turned into a GET), no proxy
//! from the environment.

use std::time::Duration;

use std::sync::Arc;

use serde_json::{Value, json};

use super::DeliveryError;
use super::egress::Egress;

/// The client every HTTP delivery uses, with the addresses it may connect to.
#[derive(Clone)]
pub struct Client {
    inner: reqwest::Client,
    egress: Egress,
}

/// The client for HTTP deliveries; `timeout` bounds a whole request. Names resolve through
/// `egress`, which drops the addresses notifications may not reach.
pub fn client(timeout: Duration, egress: &Egress) -> Result<Client, String> {
    // reqwest and lettre both take the process-wide rustls provider when one is installed;
    // ring is the one we build (russh uses it too). A second install is refused, harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let inner = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(egress.clone()))
        .user_agent(concat!("packtrack/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("http client: {}", root_cause(&e)))?;
    Ok(Client {
        inner,
        egress: egress.clone(),
    })
}

/// The innermost error of a chain (`connection refused`, not `error sending request`).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

fn request_error(e: reqwest::Error) -> DeliveryError {
    // Without the URL: it may carry an API key in its query string.
    let e = e.without_url();
    if e.is_timeout() {
        DeliveryError::transient("timed out")
    } else if e.is_connect() {
        DeliveryError::transient(format!("cannot connect: {}", root_cause(&e)))
    } else {
        DeliveryError::transient(format!("request failed: {}", root_cause(&e)))
    }
}

/// How a request proves who sends it.
enum Auth<'a> {
    None,
    Bearer(&'a str),
    Basic { user: &'a str, password: &'a str },
}

/// POSTs `body` as JSON; a 2xx answer is a delivery, anything else a failure whose
/// message names the status and the start of the answer (with `secret` blanked out
/// should a receiver echo it). The URL's host, when it is an IP literal, must be one
/// notifications may reach; names are checked as they resolve.
async fn post(
    client: &Client,
    url: &str,
    body: Vec<u8>,
    headers: &[(&str, String)],
    auth: Auth<'_>,
    secret: Option<&str>,
) -> Result<(), DeliveryError> {
    let parsed =
        url::Url::parse(url).map_err(|_| DeliveryError::permanent("the URL is not valid"))?;
    client.egress.check_url(&parsed)?;
    let mut req = client
        .inner
        .post(parsed)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body);
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    req = match auth {
        Auth::None => req,
        Auth::Bearer(token) => req.bearer_auth(token),
        Auth::Basic { user, password } => req.basic_auth(user, Some(password)),
    };
    let resp = req.send().await.map_err(request_error)?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let text = error_body(resp).await;
    let mut snippet: String = text.chars().take(120).collect();
    if let Some(s) = secret.filter(|s| !s.is_empty()) {
        snippet = snippet.replace(s, "[secret]");
    }
    let snippet = snippet.trim();
    Err(DeliveryError::transient(if snippet.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {snippet}")
    }))
}

/// Most of an error answer's body that is read (its start goes into the error message).
pub const ERROR_BODY_MAX: usize = 64 * 1024;

/// The start of an error answer's body, at most [`ERROR_BODY_MAX`] bytes: a receiver that
/// streams without end (or a huge page) costs the worker no more memory or time than that,
/// and the connection is dropped instead of drained.
async fn error_body(mut resp: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_MAX {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = ERROR_BODY_MAX - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// Sends an SMS through the facility's API: `POST url` with `{"to", "message"}`, and with a
/// token `Authorization: Bearer <token>`, or with an account too HTTP Basic
/// `account:token` (the account id and key most providers give).
pub async fn send_sms(
    client: &Client,
    url: &str,
    account: Option<&str>,
    token: Option<&str>,
    to: &str,
    message: &str,
) -> Result<(), DeliveryError> {
    let body = serde_json::to_vec(&json!({ "to": to, "message": message }))
        .map_err(|e| DeliveryError::permanent(format!("cannot encode the SMS: {e}")))?;
    let token = token.filter(|t| !t.is_empty());
    let auth = match (account.filter(|a| !a.is_empty()), token) {
        (Some(user), password) => Auth::Basic {
            user,
            password: password.unwrap_or_default(),
        },
        (None, Some(t)) => Auth::Bearer(t),
        (None, None) => Auth::None,
    };
    post(client, url, body, &[], auth, token).await
}

/// The webhook body: the delivery id (idempotency key), the event, the facility slug, the
/// package and who it is for — the recipient's id, name and unit, never contact details.
/// The package's pickup code (a bearer secret) only with `include_pickup_code`, which the
/// webhook was added with; otherwise `pickup_code` is null.
pub fn webhook_body(
    delivery_id: &str,
    event: &str,
    facility: &str,
    payload: &Value,
    include_pickup_code: bool,
) -> Vec<u8> {
    let recipient = payload
        .get("recipient")
        .filter(|r| r.is_object())
        .map(|r| json!({ "id": r.get("id"), "name": r.get("name"), "unit": r.get("unit") }))
        .unwrap_or(Value::Null);
    let mut package = payload.get("package").cloned().unwrap_or(Value::Null);
    if !include_pickup_code && let Some(p) = package.as_object_mut() {
        p.insert("pickup_code".into(), Value::Null);
    }
    let body = json!({
        "delivery_id": delivery_id,
        "event": event,
        "facility": facility,
        "package": package,
        "recipient": recipient,
    });
    // Serialising a `Value` cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Delivers one webhook: the body signed with the integration's secret at `now_unix`.
pub async fn send_webhook(
    client: &Client,
    url: &str,
    secret: &[u8],
    delivery_id: &str,
    body: Vec<u8>,
    now_unix: i64,
) -> Result<(), DeliveryError> {
    let signature = super::sign::sign(secret, now_unix, &body);
    let headers = [
        ("x-packtrack-timestamp", now_unix.to_string()),
        ("x-packtrack-signature", signature),
        ("x-packtrack-delivery", delivery_id.to_string()),
    ];
    let secret = std::str::from_utf8(secret).ok();
    post(client, url, body, &headers, Auth::None, secret).await
}

#[cfg(test)]
mod tests;
