//! Label recognition against the carriers' reference data, the spec's examples, ranking,
//! garbage and the JSON output; `generated` covers generated numbers.

use super::*;

mod generated;
use generated::*;

const COURIERS: [&str; 8] = [
    "ups",
    "usps",
    "fedex",
    "dhl",
    "ontrac",
    "amazon",
    "lasership",
    "s10",
];

fn fixture(courier: &str) -> serde_json::Value {
    let path = format!(
        "{}{courier}.json",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/tracking_number_data/couriers/"
        )
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn cand<'a>(p: &'a Parsed, carrier: &str) -> Option<&'a Candidate> {
    p.candidates.iter().find(|c| c.carrier == carrier)
}

fn ids(p: &Parsed) -> Vec<&'static str> {
    p.candidates.iter().map(|c| c.carrier).collect()
}

// ---- the reference data -------------------------------------------------------------

/// Every test number of the eight carriers' reference files: a valid one must give that
/// carrier with a verified check digit (or, for formats without one, a match); an
/// invalid one must not be accepted for that carrier.
#[test]
fn reference_test_numbers() {
    let mut checked = 0;
    for courier in COURIERS {
        let data = fixture(courier);
        assert_eq!(data["courier_code"], courier);
        let formats = data["tracking_numbers"]
            .as_array()
            .expect("tracking_numbers");
        assert!(!formats.is_empty());
        for format in formats {
            let name = &format["name"];
            let has_check = format["validation"].get("checksum").is_some();
            let numbers = &format["test_numbers"];
            for v in numbers["valid"].as_array().expect("valid") {
                let v = v.as_str().expect("string");
                let p = parse(v);
                let c = cand(&p, courier)
                    .unwrap_or_else(|| panic!("{name}: valid {v:?} not {courier}: {p:?}"));
                if has_check {
                    assert_eq!(c.checksum, Checksum::Valid, "{name}: valid {v:?}: {p:?}");
                } else {
                    assert_ne!(c.checksum, Checksum::Invalid, "{name}: {v:?}: {p:?}");
                }
                checked += 1;
            }
            for v in numbers["invalid"].as_array().expect("invalid") {
                let v = v.as_str().expect("string");
                let p = parse(v);
                if let Some(c) = cand(&p, courier) {
                    assert_eq!(
                        c.checksum,
                        Checksum::Invalid,
                        "{name}: invalid {v:?}: {p:?}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 200, "only {checked} reference numbers checked");
}

/// Reference valid numbers that carry a USPS routing prefix report the number without it.
#[test]
fn reference_usps_prefix_stripped() {
    for (input, tracking) in [
        ("420787459400111206206406260787", "9400111206206406260787"),
        (
            "4201002334249200190132607600833457",
            "9200190132607600833457",
        ),
        (
            "4201028200009261290113185417468510",
            "9261290113185417468510",
        ),
        (
            "420 11213 92 6129098349792366623 8",
            "9261290983497923666238",
        ),
        ("420 22153 9101026837331000039521", "9101026837331000039521"),
        ("420902459261290336128704042634", "9261290336128704042634"),
    ] {
        let p = parse(input);
        assert_eq!(p.carrier, Some("usps"), "{input}: {p:?}");
        assert_eq!(p.checksum, Checksum::Valid, "{input}");
        assert_eq!(p.tracking, tracking, "{input}");
    }
}

/// The examples quoted in carriers.md, with the carrier they must lead with.
#[test]
fn spec_examples() {
    for (input, carrier) in [
        ("1Z5R89390357567127", "ups"),
        ("1Z879E930346834440", "ups"),
        ("K1506235620", "ups"),
        ("0307 1790 0005 2348 3741", "usps"),
        ("9101 1234 5678 9000 0000 13", "usps"),
        ("7196 9010 7560 0307 7385", "usps"),
        ("9400 1112 0108 0805 4830 16", "usps"),
        ("9261292700768711948021", "usps"),
        ("92748931507708513018050063", "usps"),
        ("9361 2898 7870 0317 6337 95", "usps"),
        ("986578788855", "fedex"),
        ("477179081230", "fedex"),
        ("0414 4176 0228 964", "fedex"),
        ("9611020987654312345672", "fedex"),
        ("1001921334250001000300779017972697", "fedex"),
        ("9622001900000000000000776632517510", "fedex"),
        ("3318810025", "dhl"),
        ("8487135506", "dhl"),
        ("C11031500001879", "ontrac"),
        ("D10011354453707", "ontrac"),
        ("RB123456785GB", "s10"),
        ("RB123456785US", "s10"),
        ("RR123456785CN", "s10"),
    ] {
        let p = parse(input);
        assert_eq!(p.carrier, Some(carrier), "{input}: {p:?}");
        assert_eq!(p.checksum, Checksum::Valid, "{input}: {p:?}");
    }
    for (input, carrier) in [
        ("JJD0099999999", "dhl"),
        ("GM2951173225174494", "dhl"),
        ("60120172242323", "dhl"),
        ("TBM502887274000", "amazon"),
        ("TBC 000000000000", "amazon"),
        ("C1004444443", "amazon"),
        ("LX17635036", "lasership"),
        ("LH13830790", "lasership"),
        ("1LS717793482164", "lasership"),
        ("1LS7119013618127-1", "lasership"),
        ("1LSCXVE005BUEFX", "lasership"),
    ] {
        let p = parse(input);
        assert_eq!(p.carrier, Some(carrier), "{input}: {p:?}");
        assert_eq!(p.checksum, Checksum::None, "{input}: {p:?}");
        assert_eq!(ids(&p), [carrier], "{input}");
    }
    assert_eq!(
        parse("1Z5R89390357567127").service.as_deref(),
        Some("UPS United States Ground")
    );
    assert_eq!(
        parse("1ZXX3150YW44070023").service.as_deref(),
        Some("UPS SurePost - Delivered by the USPS")
    );
    assert_eq!(
        parse("RB123456785GB").service.as_deref(),
        Some("Letter Post Registered")
    );
    assert_eq!(parse("RB123456785XX").carrier, None);
}

/// The table itself: anchored patterns that compile, check groups where a rule needs them,
/// lookup groups that exist, only the eight carrier ids.
#[test]
fn table_is_well_formed() {
    assert_eq!(COMPILED.len(), FORMATS.len());
    for c in COMPILED.iter() {
        let f = c.format;
        assert!(COURIERS.contains(&f.carrier), "{}", f.id);
        assert!(
            f.pattern.starts_with('^') && f.pattern.ends_with('$'),
            "{}",
            f.id
        );
        let names: Vec<&str> = c.re.capture_names().flatten().collect();
        let checked = f.rule != Rule::None;
        assert_eq!(names.contains(&"body"), checked, "{}", f.id);
        assert_eq!(names.contains(&"check"), checked, "{}", f.id);
        assert!(checked || f.prepend.is_none(), "{}", f.id);
        for l in f.services {
            assert!(names.contains(&l.group), "{}: {}", f.id, l.group);
        }
    }
    let mut ids: Vec<&str> = FORMATS.iter().map(|f| f.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), FORMATS.len(), "duplicate format id");
}

// ---- normalisation ------------------------------------------------------------------

#[test]
fn normalisation() {
    assert_eq!(normalize("1z5r 8939 0357 5671 27"), "1Z5R89390357567127");
    assert_eq!(normalize("\t1Z5R89390357567127\r\n"), "1Z5R89390357567127");
    assert_eq!(
        normalize("]C1420787459400111206206406260787"),
        "420787459400111206206406260787"
    );
    assert_eq!(normalize("]d2tba000000000000"), "TBA000000000000");
    assert_eq!(
        normalize("42078745\u{1d}9400111206206406260787"),
        "420787459400111206206406260787"
    );
    assert_eq!(normalize("\u{feff}c1004444443\u{a0}"), "C1004444443");
    assert_eq!(normalize("]"), "]");
    assert_eq!(normalize(""), "");

    let p = parse(" 1z5r 8939 0357 5671 27\r\n");
    assert_eq!(p.input, " 1z5r 8939 0357 5671 27\r\n");
    assert_eq!(p.tracking, "1Z5R89390357567127");
    assert_eq!(p.carrier, Some("ups"));
    assert_eq!(p.checksum, Checksum::Valid);

    // A GS1-128 scan: symbology id, routing AI, GS after the ZIP.
    let p = parse("]C142078745\u{1d}9400111206206406260787\r");
    assert_eq!(p.tracking, "9400111206206406260787");
    assert_eq!(p.carrier, Some("usps"));
    assert_eq!(p.checksum, Checksum::Valid);
    assert_eq!(p.service.as_deref(), Some("Online or vendor label"));

    // The LaserShip hyphen is part of the number and survives.
    assert_eq!(parse("1ls7119013618127-1").tracking, "1LS7119013618127-1");
}

// ---- ranking ------------------------------------------------------------------------

#[test]
fn ambiguity_ordering() {
    // `A` + 10 digits: UPS waybill (check digit) and Amazon International (none).
    let p = parse("A0490119172");
    assert_eq!(ids(&p), ["ups", "amazon"]);
    assert_eq!(p.checksum, Checksum::Valid);
    let p = parse("A0490119173");
    assert_eq!(ids(&p), ["amazon", "ups"]);
    assert_eq!(p.carrier, Some("amazon"));
    assert_eq!(p.checksum, Checksum::None);
    assert_eq!(p.candidates[1].checksum, Checksum::Invalid);

    // S10 with a DHL eCommerce prefix.
    let p = parse("LX123456785US");
    assert_eq!(ids(&p), ["s10", "dhl"]);
    assert_eq!(p.checksum, Checksum::Valid);
    let p = parse("LX123456784US");
    assert_eq!(ids(&p), ["dhl", "s10"]);
    assert_eq!(p.checksum, Checksum::None);

    // A check digit that fails everywhere still names the likely carrier.
    let p = parse("1Z5R89390357567128");
    assert_eq!(ids(&p), ["ups"]);
    assert_eq!(p.checksum, Checksum::Invalid);
    assert_eq!(p.tracking, "1Z5R89390357567128");

    // 34 digits `420` + ZIP+4 + IMpb also fit FedEx Express 34.
    let usps = "4201002334249200190132607600833457";
    let p = parse(usps);
    assert_eq!(p.carrier, Some("usps"));
    assert!(ids(&p).contains(&"fedex"));
    assert_eq!(p.tracking, "9200190132607600833457");
    // Give it the FedEx check digit instead: FedEx verifies, USPS fails, FedEx leads.
    let body = &usps[..33];
    let fx = t_fedex11(&body[20..]);
    let us = t_gs1(&body[12..]);
    assert_ne!(fx, us);
    let p = parse(&format!("{body}{}", d(fx)));
    assert_eq!(ids(&p), ["fedex", "usps"]);
    assert_eq!(p.tracking, format!("{body}{}", d(fx)));
    assert_eq!(
        p.candidates[1].tracking,
        format!("{}{}", &usps[12..33], d(fx))
    );
}

/// A 34-digit `420…` string that reads both as ZIP+4 + 22 and as ZIP + 26: the reference
/// takes ZIP+4 + 22 when both verify, and the verified reading wins otherwise.
#[test]
fn usps_zip4_versus_zip() {
    let mut found_both = false;
    let mut found_one = false;
    let mut rng = Lcg(0x5eed_0007);
    for _ in 0..2000 {
        // ZIP + 26 (AI 93, 6-digit mailer) whose service code ends in 9 and whose mailer
        // starts 2–5, so the 22 digits after a ZIP+4 begin with an IMpb AI `9[2-5]`.
        let body = format!(
            "93{}9{}{}",
            rng.digits(2),
            rng.digit_in("2345"),
            rng.digits(19)
        );
        let n26 = format!("{body}{}", d(t_gs1(&body)));
        let s = format!("420{}{n26}", rng.digits(5));
        let n22 = &s[12..];
        // AI 92 needs a 9-digit mailer (starting 9), 93 a 6-digit one.
        let n22_is_impb = match &n22[..2] {
            "92" => &n22[5..6] == "9",
            "93" => &n22[5..6] != "9",
            _ => true,
        };
        let n22_verifies = t_gs1(&n22[..21]) == t_gs1(&body);
        let p = parse(&s);
        let usps = cand(&p, "usps").expect("usps");
        assert_eq!(usps.checksum, Checksum::Valid, "{s}");
        if n22_is_impb && n22_verifies {
            assert_eq!(usps.tracking, n22, "{s}");
            found_both = true;
        } else {
            assert_eq!(usps.tracking, n26, "{s}");
            found_one = true;
        }
    }
    assert!(found_both && found_one);
}

// ---- garbage ------------------------------------------------------------------------

#[test]
fn garbage() {
    let long_digits = "9".repeat(10_000);
    let long_mixed = "1Z".repeat(5_000);
    for input in [
        "",
        "   ",
        "\r\n",
        "hello",
        "💩📦",
        "]C1",
        "\u{1d}\u{1d}",
        "1Z",
        "TBA",
        "000",
        "1Z5R89390357567127X",
        "X1Z5R89390357567127",
        "1Z5R8939035756712",
        "2Z5R89390357567127",
        "9400111206206406260787 9400111206206406260787",
        "TBA00000000000O",
        "D1234567890",
        "RB123456785XX",
        "4200000000000000000000000000000000000",
        long_digits.as_str(),
        long_mixed.as_str(),
    ] {
        let p = parse(input);
        assert_eq!(p.carrier, None, "{input:?}: {p:?}");
        assert!(p.candidates.is_empty(), "{input:?}");
        assert_eq!(p.checksum, Checksum::None, "{input:?}");
        assert_eq!(p.service, None, "{input:?}");
        assert_eq!(p.tracking, normalize(input));
        assert_eq!(p.input, input);
    }
}

// ---- JSON ---------------------------------------------------------------------------

#[test]
fn json_output() {
    assert_eq!(
        parse("1z5r 8939 0357 5671 27\n").to_json(),
        r#"{"input":"1z5r 8939 0357 5671 27\n","tracking":"1Z5R89390357567127","carrier":"ups","service":"UPS United States Ground","checksum":"valid","candidates":["ups"]}"#
    );
    assert_eq!(
        parse("hello").to_json(),
        r#"{"input":"hello","tracking":"HELLO","carrier":null,"service":null,"checksum":"none","candidates":[]}"#
    );
    assert_eq!(
        parse("A0490119173").to_json(),
        r#"{"input":"A0490119173","tracking":"A0490119173","carrier":"amazon","service":"Amazon International","checksum":"none","candidates":["amazon","ups"]}"#
    );
    let j = parse("LX123456784US").to_json();
    assert!(!j.contains('\n'));
    let v: serde_json::Value = serde_json::from_str(&j).expect("json");
    assert_eq!(v["candidates"], serde_json::json!(["dhl", "s10"]));
    assert_eq!(v["checksum"], "none");
}
