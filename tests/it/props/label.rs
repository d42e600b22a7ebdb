//! The label parser (`label::parse`, fed by scanners and by `packtrack label`): any text
//! parses without a panic into one line of JSON; a well-formed number of each carrier with a
//! check digit parses to that carrier with the check digit verified, and any other check
//! digit fails it; whitespace, scanner noise and case do not change the result.
//!
//! The check digits are computed here from the carriers' published rules, independently of
//! src/label/checksum.rs, so a slip in either shows up.

use packtrack::label::{Checksum, normalize, parse};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use super::config;

/// Character values of UPS/OnTrac: digits as themselves, letters (ASCII − 3) mod 10.
fn value(c: u8) -> u32 {
    match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        _ => (u32::from(c) - 3) % 10,
    }
}

/// Weights `w[0], w[1], …` from the left; (10 − sum mod 10) mod 10.
fn alternating(body: &str, w: [u32; 2]) -> u32 {
    let sum: u32 = body
        .bytes()
        .zip(w.iter().cycle())
        .map(|(c, w)| value(c) * w)
        .sum();
    (10 - sum % 10) % 10
}

/// GS1: weight 3 next to the check digit, then 1, 3, … going left.
fn gs1(body: &str) -> u32 {
    let sum: u32 = body
        .bytes()
        .rev()
        .zip([3, 1].iter().cycle())
        .map(|(c, w)| value(c) * w)
        .sum();
    (10 - sum % 10) % 10
}

/// FedEx: weights 1, 3, 7 from the right; (sum mod 11) mod 10.
fn fedex(body: &str) -> u32 {
    let sum: u32 = body
        .bytes()
        .rev()
        .zip([1, 3, 7].iter().cycle())
        .map(|(c, w)| value(c) * w)
        .sum();
    sum % 11 % 10
}

/// DHL Express: the serial mod 7.
fn mod7(body: &str) -> u32 {
    body.bytes().fold(0, |r, c| (r * 10 + value(c)) % 7)
}

/// UPU S10: weights 8 6 4 2 3 5 9 7; 11 − sum mod 11, 10 → 0, 11 → 5.
fn s10(body: &str) -> u32 {
    let sum: u32 = body
        .bytes()
        .zip([8, 6, 4, 2, 3, 5, 9, 7])
        .map(|(c, w)| value(c) * w)
        .sum();
    match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c,
    }
}

/// A generated number: its carrier, the text before the check digit, the check digits any
/// reading of the layout accepts (the first is the one printed), the text after it.
#[derive(Debug, Clone)]
struct Number {
    carrier: &'static str,
    head: String,
    checks: Vec<u32>,
    tail: String,
}

impl Number {
    fn with_check(&self, d: u32) -> String {
        format!("{}{d}{}", self.head, self.tail)
    }

    fn text(&self) -> String {
        self.with_check(self.checks[0])
    }
}

fn digits(n: usize) -> BoxedStrategy<String> {
    proptest::string::string_regex(&format!("[0-9]{{{n}}}"))
        .expect("regex")
        .boxed()
}

/// One valid number of every carrier layout that has a check digit, in shapes that fit
/// that carrier alone (the unit tests cover the layouts that overlap on purpose).
fn number() -> impl Strategy<Value = Number> {
    let ups_1z = "[0-9A-Z]{15}".prop_map(|b| Number {
        carrier: "ups",
        checks: vec![alternating(&b, [1, 2])],
        head: format!("1Z{b}"),
        tail: String::new(),
    });
    let ups_waybill = ("[HJKTV]", digits(9)).prop_map(|(l, b)| Number {
        carrier: "ups",
        checks: vec![alternating(&b, [1, 2])],
        head: format!("{l}{b}"),
        tail: String::new(),
    });
    // IMpb: AI, service type (not ending in 9), mailer id (9 digits from 9, or 6 from 0–8).
    let impb = (
        select(vec![
            (22, true),
            (26, true),
            (30, true),
            (22, false),
            (26, false),
        ]),
        "[0-9]{2}[0-8]",
        digits(30),
        0usize..3,
    )
        .prop_map(|((len, mid9), svc, pool, ai)| {
            let ai = match (len, mid9) {
                (30, _) => "94",
                (_, true) => ["92", "94", "95"][ai],
                _ => ["93", "94", "95"][ai],
            };
            let mid = if mid9 {
                format!("9{}", &pool[..8])
            } else {
                format!(
                    "{}{}",
                    u32::from(pool.as_bytes()[0] - b'0') % 9,
                    &pool[1..6]
                )
            };
            let head = format!("{ai}{svc}{mid}");
            let body = format!("{head}{}", &pool[..len - 1 - head.len()]);
            Number {
                carrier: "usps",
                checks: vec![gs1(&body)],
                head: body,
                tail: String::new(),
            }
        });
    // 20 digits: read with and without the implied `91`; either check digit verifies.
    let usps_20 = digits(19)
        .prop_filter("91… is the 22-digit layout", |b| !b.starts_with("91"))
        .prop_map(|b| Number {
            carrier: "usps",
            checks: vec![gs1(&b), gs1(&format!("91{b}"))],
            head: b,
            tail: String::new(),
        });
    let fedex_12 = digits(11).prop_map(|b| Number {
        carrier: "fedex",
        checks: vec![fedex(&b)],
        head: b,
        tail: String::new(),
    });
    let fedex_15 = digits(14).prop_map(|b| Number {
        carrier: "fedex",
        checks: vec![alternating(&b, [1, 3])],
        head: b,
        tail: String::new(),
    });
    // Express 34: first digit not 4 (a `420` would read as a USPS routing prefix).
    let fedex_34 = ("[01235678][0-9]{19}", digits(13)).prop_map(|(h, b)| Number {
        carrier: "fedex",
        checks: vec![fedex(&b)],
        head: format!("{h}{b}"),
        tail: String::new(),
    });
    let dhl = prop_oneof![digits(9), digits(10)].prop_map(|b| Number {
        carrier: "dhl",
        checks: vec![mod7(&b)],
        head: b,
        tail: String::new(),
    });
    let s10_number = (
        "[A-Z]{2}",
        digits(8),
        select(vec!["US", "GB", "CN", "DE", "JP", "CH", "AU", "FR"]),
    )
        .prop_map(|(svc, b, country)| Number {
            carrier: "s10",
            checks: vec![s10(&b)],
            head: format!("{svc}{b}"),
            tail: country.to_string(),
        });
    // OnTrac: the letter counts as 4 (C) or 5 (D) in front of the serial; the reference's
    // reading (no letter value when the serial already starts with it) is accepted too.
    let ontrac = (select(vec![('C', "4"), ('D', "5")]), digits(13)).prop_map(|((l, v), b)| {
        let mut checks = vec![alternating(&format!("{v}{b}"), [1, 2])];
        if b.starts_with(v) {
            checks.push(alternating(&b, [1, 2]));
        }
        Number {
            carrier: "ontrac",
            checks,
            head: format!("{l}{b}"),
            tail: String::new(),
        }
    });
    prop_oneof![
        ups_1z,
        ups_waybill,
        impb,
        usps_20,
        fedex_12,
        fedex_15,
        fedex_34,
        dhl,
        s10_number,
        ontrac,
    ]
}

/// Characters a scanner or a copy-paste puts between the characters of a number.
fn noise() -> impl Strategy<Value = String> {
    vec(
        select(vec![
            " ", "  ", "\t", "\r\n", "\n", "\u{a0}", "\u{200b}", "\u{feff}", "\u{1d}",
        ]),
        0..3,
    )
    .prop_map(|v| v.concat())
}

/// `text` with `noise[i]` before its i-th character (the rest after the end), lower-cased
/// where `lower` says so.
fn smudge(text: &str, noise: &[String], lower: &[bool]) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        out.push_str(noise.get(i).map_or("", String::as_str));
        if lower.get(i).copied().unwrap_or(false) {
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    for n in noise.iter().skip(text.chars().count()) {
        out.push_str(n);
    }
    out
}

proptest! {
    #![proptest_config(config(1))]

    /// Any text at all: no panic, and the contract's one-line JSON object that echoes it.
    #[test]
    fn label_parser_accepts_any_text(
        text in prop_oneof![
            any::<String>(),
            "[0-9A-Z \\-\\]\\x1d]{0,60}",
            "(\\]C1|420|1Z|TBA|LX|96|91|\\-1|[0-9]{4}| ){0,12}",
        ],
    ) {
        let p = parse(&text);
        prop_assert_eq!(&p.input, &text);
        prop_assert_eq!(p.carrier, p.candidates.first().map(|c| c.carrier));
        prop_assert!(p.tracking.chars().count() <= 3 * text.chars().count());
        let json = p.to_json();
        prop_assert!(!json.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        prop_assert_eq!(v["input"].as_str(), Some(text.as_str()));
    }

    /// A valid number of each carrier with a check digit parses to that carrier, verified,
    /// reporting the number itself; every other check digit fails it.
    #[test]
    fn valid_tracking_numbers_verify_and_a_changed_check_digit_fails(
        n in number(),
        other in 0u32..10,
    ) {
        let text = n.text();
        let p = parse(&text);
        prop_assert_eq!(p.carrier, Some(n.carrier), "{} → {:?}", text, p);
        prop_assert_eq!(p.checksum, Checksum::Valid, "{}", text);
        prop_assert_eq!(&p.tracking, &text);
        if !n.checks.contains(&other) {
            let bad = n.with_check(other);
            let p = parse(&bad);
            let c = p.candidates.iter().find(|c| c.carrier == n.carrier);
            prop_assert!(c.is_some(), "{} lost {}: {:?}", bad, n.carrier, p);
            prop_assert_eq!(c.map(|c| c.checksum), Some(Checksum::Invalid), "{}", bad);
        }
    }

    /// Spaces, line breaks, NBSP, zero-width and GS1 separators anywhere, and lower case,
    /// are what scanners and copy-paste add: the parse is the same as of the clean number.
    #[test]
    fn whitespace_noise_and_case_do_not_change_a_parse(
        n in number(),
        noise in vec(noise(), 0..40),
        lower in vec(any::<bool>(), 0..40),
    ) {
        let text = n.text();
        let messy = smudge(&text, &noise, &lower);
        prop_assert_eq!(normalize(&messy), text.clone());
        let (clean, messy_p) = (parse(&text), parse(&messy));
        prop_assert_eq!(&messy_p.candidates, &clean.candidates);
        prop_assert_eq!(&messy_p.tracking, &clean.tracking);
        prop_assert_eq!(messy_p.checksum, clean.checksum);
    }
}
