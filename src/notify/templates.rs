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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parcel() -> Parcel {
        Parcel::from_payload(&json!({
            "package": {
                "id": 7, "tracking": "1Z999AA10123456784", "carrier": "ups",
                "status": "waiting", "location": "Shelf <B>", "pickup_code": "042917",
                "received_at": "2026-03-01T09:30:00.123456Z", "picked_up_at": null
            }
        }))
    }

    #[test]
    fn intake_email_has_the_essentials_in_both_parts() {
        let p = parcel();
        assert_eq!(p.id, 7);
        let e = email("intake", "North Hall", "Ada <Lovelace>", &p);
        assert_eq!(e.subject, "A parcel is waiting for you");
        for part in [&e.text, &e.html] {
            assert!(part.contains("UPS"), "{part}");
            assert!(part.contains("042917"), "{part}");
            assert!(part.contains("2026-03-01 09:30 UTC"), "{part}");
        }
        assert!(e.text.contains("Hello Ada <Lovelace>,"));
        assert!(e.text.contains("Shelf <B>"));
        assert!(e.html.contains("Ada &lt;Lovelace&gt;"));
        assert!(e.html.contains("Shelf &lt;B&gt;"));
        assert!(!e.html.contains("<Lovelace>"));
    }

    #[test]
    fn pickup_and_reminder() {
        let mut p = parcel();
        p.picked_up_at = "2026-03-02T18:05:00Z".parse().ok();
        let e = email("pickup", "North Hall", "Ada", &p);
        assert_eq!(e.subject, "Your parcel was picked up");
        assert!(e.text.contains("2026-03-02 18:05 UTC"));
        assert!(
            !e.text.contains("042917"),
            "a receipt does not repeat the code"
        );
        let r = email("reminder", "North Hall", "Ada", &p);
        assert!(r.subject.starts_with("Reminder"));
        assert!(r.text.contains("042917"));
        assert_eq!(
            sms("intake", "North Hall", &parcel()),
            "North Hall: a UPS parcel is waiting for you (Shelf <B>). Pickup code 042917."
        );
        assert!(sms("pickup", "North Hall", &p).contains("picked up 2026-03-02 18:05 UTC"));
        assert!(sms("reminder", "North Hall", &p).starts_with("North Hall: reminder"));
    }

    #[test]
    fn disregard_says_little() {
        let e = email("disregard", "North Hall", "Ada", &parcel());
        assert_eq!(e.subject, "Please disregard our parcel notice");
        for part in [&e.text, &e.html] {
            assert!(part.contains("1Z999AA10123456784"), "{part}");
            assert!(!part.contains("042917"), "no pickup code: {part}");
            assert!(!part.contains("Shelf"), "no location: {part}");
        }
        assert_eq!(
            sms("disregard", "North Hall", &parcel()),
            "North Hall: please disregard our message about a UPS parcel; it was not for you."
        );
        let r = email("reassigned", "North Hall", "Ada", &parcel());
        assert_eq!(r.subject, "A parcel is waiting for you");
    }

    #[test]
    fn missing_fields_still_render() {
        let p = Parcel::from_payload(&json!({}));
        let e = email("intake", "F", "R", &p);
        assert!(e.text.contains("Unknown carrier"));
        assert!(e.text.contains("the mailroom"));
    }
}
