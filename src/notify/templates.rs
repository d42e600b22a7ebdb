//! What recipients read: subject, plain-text and HTML bodies of the e-mails and the SMS
//! text, per event (`intake`, `pickup`, `reminder`, `disregard`; `reassigned` reads as
//! `intake`). Small fixed templates; every value
//! that comes from the database is HTML-escaped in the HTML part.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

/// The package as the outbox payload carries it (see [`crate::notify::enqueue`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Parcel {
    pub id: i64,
    pub tracking: String,
    pub carrier: Option<String>,
    pub location: String,
    pub pickup_code: Option<String>,
    pub received_at: Option<DateTime<Utc>>,
    pub picked_up_at: Option<DateTime<Utc>>,
}

impl Parcel {
    pub fn from_payload(payload: &Value) -> Self {
        payload
            .get("package")
            .and_then(|p| serde_json::from_value(p.clone()).ok())
            .unwrap_or_default()
    }
}

/// A rendered e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The carrier's name as people write it.
pub fn carrier_name(id: Option<&str>) -> &str {
    match id {
        Some("ups") => "UPS",
        Some("usps") => "USPS",
        Some("fedex") => "FedEx",
        Some("dhl") => "DHL",
        Some("ontrac") => "OnTrac",
        Some("amazon") => "Amazon",
        Some("lasership") => "LaserShip",
        Some("s10") => "Postal service (international)",
        Some(other) if !other.is_empty() => other,
        _ => "Unknown carrier",
    }
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".into())
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The e-mail for `event` about `parcel`, to `name`, from the mailroom `facility`.
pub fn email(event: &str, facility: &str, name: &str, parcel: &Parcel) -> Email {
    let carrier = carrier_name(parcel.carrier.as_deref());
    let location = if parcel.location.trim().is_empty() {
        "the mailroom"
    } else {
        parcel.location.trim()
    };
    let code = parcel.pickup_code.as_deref().unwrap_or("—");
    let (subject, intro, rows, outro): (String, String, Vec<(&str, String)>, &str) = match event {
        "pickup" => (
            "Your parcel was picked up".into(),
            format!("This is your receipt: your parcel was collected from {facility}."),
            vec![
                ("Carrier", carrier.to_string()),
                ("Tracking", parcel.tracking.clone()),
                ("Received", when(parcel.received_at)),
                ("Picked up", when(parcel.picked_up_at)),
            ],
            "If you did not collect this parcel, please contact the mailroom.",
        ),
        "reminder" => (
            "Reminder: a parcel is still waiting for you".into(),
            format!(
                "A parcel has been waiting for you at {facility} since {}.",
                when(parcel.received_at)
            ),
            vec![
                ("Carrier", carrier.to_string()),
                ("Tracking", parcel.tracking.clone()),
                ("Location", location.to_string()),
                ("Pickup code", code.to_string()),
            ],
            "Please collect it soon; show the pickup code at the mailroom.",
        ),
        // The parcel was logged to the wrong resident: as little as lets them match the
        // earlier notice; where it is and its code now belong to someone else.
        "disregard" => (
            "Please disregard our parcel notice".into(),
            format!(
                "We told you a parcel was waiting for you at {facility}. It was not for you: \
                 please disregard that notice."
            ),
            vec![
                ("Carrier", carrier.to_string()),
                ("Tracking", parcel.tracking.clone()),
            ],
            "Sorry for the mix-up.",
        ),
        // "intake", "reassigned", and any event added later: the parcel is here.
        _ => (
            "A parcel is waiting for you".into(),
            format!("A parcel is waiting for you at {facility}."),
            vec![
                ("Carrier", carrier.to_string()),
                ("Tracking", parcel.tracking.clone()),
                ("Location", location.to_string()),
                ("Received", when(parcel.received_at)),
                ("Pickup code", code.to_string()),
            ],
            "Show the pickup code at the mailroom to collect it.",
        ),
    };
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    let mut text = format!("Hello {name},\n\n{intro}\n\n");
    for (k, v) in &rows {
        text.push_str(&format!("  {:<width$} {v}\n", format!("{k}:")));
    }
    text.push_str(&format!("\n{outro}\n\n-- \n{facility} mailroom\n"));

    let mut html = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family: sans-serif\">\n",
    );
    html.push_str(&format!(
        "<p>Hello {},</p>\n<p>{}</p>\n<table>\n",
        escape_html(name),
        escape_html(&intro)
    ));
    for (k, v) in &rows {
        let v = if *k == "Pickup code" {
            format!(
                "<strong style=\"font-size: 1.4em\">{}</strong>",
                escape_html(v)
            )
        } else {
            escape_html(v)
        };
        // Short lines: plain 7-bit parts for ordinary values.
        html.push_str(&format!(
            "<tr><th align=\"left\">{}</th>\n<td>{v}</td></tr>\n",
            escape_html(k)
        ));
    }
    html.push_str(&format!(
        "</table>\n<p>{}</p>\n<p style=\"color: #666\">{} mailroom</p>\n</body></html>\n",
        escape_html(outro),
        escape_html(facility)
    ));
    Email {
        subject,
        text,
        html,
    }
}

/// The SMS text for `event`: one short line.
pub fn sms(event: &str, facility: &str, parcel: &Parcel) -> String {
    let carrier = carrier_name(parcel.carrier.as_deref());
    let code = parcel.pickup_code.as_deref().unwrap_or("-");
    let at = if parcel.location.trim().is_empty() {
        String::new()
    } else {
        format!(" ({})", parcel.location.trim())
    };
    match event {
        "pickup" => format!(
            "{facility}: your {carrier} parcel was picked up {}.",
            when(parcel.picked_up_at)
        ),
        "reminder" => format!(
            "{facility}: reminder, a {carrier} parcel has been waiting for you since {}{at}. Pickup code {code}.",
            when(parcel.received_at)
        ),
        "disregard" => format!(
            "{facility}: please disregard our message about a {carrier} parcel; it was not for you."
        ),
        _ => format!("{facility}: a {carrier} parcel is waiting for you{at}. Pickup code {code}."),
    }
}

/// The e-mail an admin's "send test" sends: says what it is and asks for nothing.
pub fn test_email(facility: &str) -> Email {
    let line = format!(
        "This is a test message from the {facility} mailroom: its e-mail notifications work."
    );
    Email {
        subject: format!("Test message from {facility}"),
        text: format!("{line}\n\nNo action is needed.\n\n-- \n{facility} mailroom\n"),
        html: format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\
             <body style=\"font-family: sans-serif\">\n<p>{}</p>\n<p>No action is needed.</p>\n\
             </body></html>\n",
            escape_html(&line)
        ),
    }
}

/// The SMS an admin's "send test" sends.
pub fn test_sms(facility: &str) -> String {
    format!("{facility}: test message, SMS notifications work. No action needed.")
}

#[cfg(test)]
mod tests;
