use super::*;

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

// ---- generated numbers ----------------------------------------------------------------
//
// Check digits here are computed by straightforward re-implementations of the spec's
// rules, independent of checksum.rs, so a slip in either shows up.

/// Small deterministic LCG (Knuth's MMIX constants) so runs are reproducible.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    fn digit_in(&mut self, set: &str) -> char {
        let b = set.as_bytes();
        char::from(b[self.below(b.len() as u64) as usize])
    }
    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.below(options.len() as u64) as usize]
    }
}

fn vals(s: &str) -> Vec<u32> {
    s.bytes()
        .map(|b| match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => (u32::from(b) - 3) % 10,
            _ => panic!("bad char {b}"),
        })
        .collect()
}

fn t_gs1(s: &str) -> u32 {
    let sum: u32 = vals(s)
        .iter()
        .rev()
        .zip([3, 1].iter().cycle())
        .map(|(v, w)| v * w)
        .sum();
    (10 - sum % 10) % 10
}

fn t_alt(s: &str, w: [u32; 2]) -> u32 {
    let sum: u32 = vals(s)
        .iter()
        .zip(w.iter().cycle())
        .map(|(v, w)| v * w)
        .sum();
    (10 - sum % 10) % 10
}

fn t_fedex11(s: &str) -> u32 {
    let sum: u32 = vals(s)
        .iter()
        .rev()
        .zip([1, 3, 7].iter().cycle())
        .map(|(v, w)| v * w)
        .sum();
    sum % 11 % 10
}

fn t_mod7(s: &str) -> u32 {
    (s.parse::<u64>().expect("digits") % 7) as u32
}

fn t_s10(s: &str) -> u32 {
    let sum: u32 = vals(s)
        .iter()
        .zip([8, 6, 4, 2, 3, 5, 9, 7])
        .map(|(v, w)| v * w)
        .sum();
    match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c,
    }
}

fn d(n: u32) -> char {
    char::from_digit(n, 10).expect("digit")
}

/// A check digit that none of `valid` equals.
fn wrong(rng: &mut Lcg, valid: &[u32]) -> char {
    let start = rng.below(10) as u32;
    let n = (0..10)
        .map(|i| (start + i) % 10)
        .find(|n| !valid.contains(n));
    d(n.expect("some digit is wrong"))
}

/// `input` must list `carrier` as verified with `tracking`.
#[track_caller]
fn assert_valid(input: &str, carrier: &str, tracking: &str) -> Parsed {
    let p = parse(input);
    let c = cand(&p, carrier).unwrap_or_else(|| panic!("{input}: no {carrier}: {p:?}"));
    assert_eq!(c.checksum, Checksum::Valid, "{input}: {p:?}");
    assert_eq!(c.tracking, tracking, "{input}");
    p
}

/// `input` must list `carrier`, but with a failed check digit.
#[track_caller]
fn assert_invalid(input: &str, carrier: &str) -> Parsed {
    let p = parse(input);
    let c = cand(&p, carrier).unwrap_or_else(|| panic!("{input}: no {carrier}: {p:?}"));
    assert_eq!(c.checksum, Checksum::Invalid, "{input}: {p:?}");
    p
}

/// Builds an IMpb number: AI, service type, mailer id (9 digits starting 9, or 6 starting
/// 0–8), serial to reach `len`, GS1 check digit.
fn impb(rng: &mut Lcg, len: usize, mid9: bool) -> String {
    let ai = if len == 30 {
        "94"
    } else if mid9 {
        rng.pick(&["92", "94", "95"])
    } else {
        rng.pick(&["93", "94", "95"])
    };
    // Service codes ending in 9 could make a `420`+ZIP+26 string also read as ZIP+4+22;
    // that tie has its own test.
    let svc = format!("{}{}", rng.digits(2), rng.digit_in("012345678"));
    let mid = if mid9 {
        format!("9{}", rng.digits(8))
    } else {
        format!("{}{}", rng.digit_in("012345678"), rng.digits(5))
    };
    let head = format!("{ai}{svc}{mid}");
    let body = format!("{head}{}", rng.digits(len - 1 - head.len()));
    format!("{body}{}", d(t_gs1(&body)))
}

fn flip_last(rng: &mut Lcg, s: &str, valid: &[u32]) -> String {
    format!("{}{}", &s[..s.len() - 1], wrong(rng, valid))
}

#[test]
fn generated_usps_impb() {
    let mut rng = Lcg(0x5eed_0001);
    for _ in 0..200 {
        for (len, mid9) in [(22, true), (26, true), (30, true), (22, false), (26, false)] {
            let n = impb(&mut rng, len, mid9);
            let p = assert_valid(&n, "usps", &n);
            assert_eq!(ids(&p), ["usps"], "{n}");
            assert_eq!(p.tracking, n);
            let check = n.as_bytes()[len - 1] - b'0';
            let bad = flip_last(&mut rng, &n, &[u32::from(check)]);
            let p = assert_invalid(&bad, "usps");
            assert_eq!(ids(&p), ["usps"], "{bad}");
            // A mailer id of the wrong kind for AI 92/93 is not IMpb at all.
            let swapped = match &n[..2] {
                "92" => format!("93{}", &n[2..]),
                "93" => format!("92{}", &n[2..]),
                _ => continue,
            };
            assert!(parse(&swapped).candidates.is_empty(), "{swapped}");
        }
    }
}

#[test]
fn generated_usps_routing_prefix() {
    let mut rng = Lcg(0x5eed_0002);
    for _ in 0..200 {
        let zip = rng.digits(5);
        let plus4 = rng.digits(4);
        for (len, mid9) in [(22, true), (26, true), (22, false), (26, false)] {
            let n = impb(&mut rng, len, mid9);
            let with_zip = format!("420{zip}{n}");
            let p = assert_valid(&with_zip, "usps", &n);
            assert_eq!(p.carrier, Some("usps"), "{with_zip}");
            assert_eq!(p.tracking, n);
            // Spaces, as printed under the barcode.
            let spaced = format!("420 {zip} {} {}", &n[..4], &n[4..]);
            assert_eq!(parse(&spaced).tracking, n);
            // The prefix is outside the check digit: changing the ZIP changes nothing.
            let other = format!("420{}{n}", rng.digits(5));
            assert_valid(&other, "usps", &n);
            if len == 22 {
                let with_zip4 = format!("420{zip}{plus4}{n}");
                // 34 digits: FedEx Express's layout fits too, USPS leads when valid.
                let p = assert_valid(&with_zip4, "usps", &n);
                assert_eq!(p.carrier, Some("usps"), "{with_zip4}");
                assert_eq!(p.tracking, n);
                assert!(cand(&p, "fedex").is_some(), "{with_zip4}");
            } else {
                // ZIP+4 may only precede a 22-digit number.
                let p = parse(&format!("420{zip}{plus4}{n}"));
                assert!(cand(&p, "usps").is_none(), "{p:?}");
            }
        }
        // The 30-digit layout takes no prefix.
        let n30 = impb(&mut rng, 30, true);
        assert!(parse(&format!("420{zip}{n30}")).candidates.is_empty());
    }
}

#[test]
fn generated_usps_20_and_legacy() {
    let mut rng = Lcg(0x5eed_0003);
    for _ in 0..300 {
        let mut body = rng.digits(19);
        if body.starts_with("91") {
            body.replace_range(..1, "0");
        }
        let plain = t_gs1(&body);
        let with91 = t_gs1(&format!("91{body}"));
        // The two readings differ by 2 mod 10: the 91 adds 1·1 + 9·3 = 28 to the sum.
        assert_eq!((with91 + 10 - plain) % 10, 2, "{body}");
        for check in [plain, with91] {
            let n = format!("{body}{}", d(check));
            let p = assert_valid(&n, "usps", &n);
            assert_eq!(ids(&p), ["usps"]);
        }
        // Behind a routing prefix only the 91 reading is allowed (as in the reference).
        let n = format!("{body}{}", d(with91));
        let zip = rng.digits(5);
        assert_valid(&format!("420{zip}{n}"), "usps", &n);
        assert_valid(&format!("420{zip}{}{n}", rng.digits(4)), "usps", &n);
        assert_invalid(&format!("420{zip}{body}{}", d(plain)), "usps");
        let bad = format!("{body}{}", wrong(&mut rng, &[plain, with91]));
        assert_invalid(&bad, "usps");
        // With the 91 written out only the 91 reading applies.
        let n22 = format!("91{body}{}", d(with91));
        assert_valid(&n22, "usps", &n22);
        assert_valid(&format!("420{}{n22}", rng.digits(5)), "usps", &n22);
        let bad22 = format!("91{body}{}", wrong(&mut rng, &[with91]));
        assert_invalid(&bad22, "usps");
    }
}

#[test]
fn generated_ontrac() {
    let mut rng = Lcg(0x5eed_0004);
    for _ in 0..300 {
        for (letter, value) in [('C', "4"), ('D', "5")] {
            let serial = rng.digits(13);
            // Spec: the letter counts as its value in front of the serial.
            let check = t_alt(&format!("{value}{serial}"), [1, 2]);
            let n = format!("{letter}{serial}{}", d(check));
            let p = assert_valid(&n, "ontrac", &n);
            assert_eq!(ids(&p), ["ontrac"]);
            let lower = format!(" {} \r\n", n.to_lowercase());
            assert_valid(&lower, "ontrac", &n);
            // The reference's variant for serials already starting with 4 (5).
            let mut ok = vec![check];
            if serial.starts_with(value) {
                ok.push(t_alt(&serial, [1, 2]));
            }
            let bad = format!("{letter}{serial}{}", wrong(&mut rng, &ok));
            assert_invalid(&bad, "ontrac");
        }
    }
    // Serials starting with the letter's value: both readings verify.
    let serial = "5001134598301";
    let spec = t_alt(&format!("5{serial}"), [1, 2]);
    let reference = t_alt(serial, [1, 2]);
    assert_ne!(spec, reference);
    for check in [spec, reference] {
        let n = format!("D{serial}{}", d(check));
        assert_valid(&n, "ontrac", &n);
    }
}

#[test]
fn generated_fedex() {
    let mut rng = Lcg(0x5eed_0005);
    for _ in 0..300 {
        // Express 34: one digit 0–8 (not 4, so no USPS reading), 14, ZIP, 13, check.
        let body = rng.digits(13);
        let head = format!(
            "{}{}{}",
            rng.digit_in("01235678"),
            rng.digits(14),
            rng.digits(5)
        );
        let c = t_fedex11(&body);
        let n = format!("{head}{body}{}", d(c));
        let p = assert_valid(&n, "fedex", &n);
        assert_eq!(ids(&p), ["fedex"], "{n}");
        assert_invalid(&format!("{head}{body}{}", wrong(&mut rng, &[c])), "fedex");
        // Ground GSN (34): 96, SCNC, 5, shipper number, 1, 13, check.
        let scnc = rng.pick(&["22", "32"]);
        let g = format!("96{scnc}{}{}", rng.digits(16), body);
        let n = format!("{g}{}", d(c));
        assert_eq!(ids(&assert_valid(&n, "fedex", &n)), ["fedex"]);
        assert_invalid(&format!("{g}{}", wrong(&mut rng, &[c])), "fedex");
        // Express 12.
        let b12 = rng.digits(11);
        let n = format!("{b12}{}", d(t_fedex11(&b12)));
        assert_eq!(ids(&assert_valid(&n, "fedex", &n)), ["fedex"]);
        // Ground 15 and its 22-digit `96` form.
        let b14 = rng.digits(14);
        let c15 = t_alt(&b14, [1, 3]);
        let n = format!("{b14}{}", d(c15));
        assert_eq!(ids(&assert_valid(&n, "fedex", &n)), ["fedex"]);
        assert_invalid(&format!("{b14}{}", wrong(&mut rng, &[c15])), "fedex");
        let n = format!("96{}{b14}{}", rng.digits(5), d(c15));
        assert_eq!(ids(&assert_valid(&n, "fedex", &n)), ["fedex"]);
        // ASTRA 32.
        let b11 = rng.digits(11);
        let n = format!(
            "3{}{b11}{}{}",
            rng.digits(15),
            d(t_fedex11(&b11)),
            rng.digits(4)
        );
        assert_valid(&n, "fedex", &n);
    }
}

#[test]
fn generated_ups_dhl_s10() {
    let mut rng = Lcg(0x5eed_0006);
    const ALNUM: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for _ in 0..300 {
        let body: String = (0..15).map(|_| rng.digit_in(ALNUM)).collect();
        let c = t_alt(&body, [1, 2]);
        let n = format!("1Z{body}{}", d(c));
        assert_eq!(ids(&assert_valid(&n, "ups", &n)), ["ups"]);
        assert_invalid(&format!("1Z{body}{}", wrong(&mut rng, &[c])), "ups");

        let serial = rng.digits(9);
        let c = t_alt(&serial, [1, 2]);
        let n = format!("{}{serial}{}", rng.digit_in("HJKTV"), d(c));
        assert_eq!(ids(&assert_valid(&n, "ups", &n)), ["ups"]);

        let len = 9 + rng.below(2) as usize;
        let serial = rng.digits(len);
        let c = t_mod7(&serial);
        let n = format!("{serial}{}", d(c));
        assert_eq!(ids(&assert_valid(&n, "dhl", &n)), ["dhl"]);
        assert_invalid(&format!("{serial}{}", wrong(&mut rng, &[c])), "dhl");

        let svc: String = (0..2).map(|_| rng.digit_in(UPPER)).collect();
        let country = rng.pick(&["US", "GB", "CN", "DE", "JP", "CH", "AU"]);
        let serial = rng.digits(8);
        let c = t_s10(&serial);
        let n = format!("{svc}{serial}{}{country}", d(c));
        let p = assert_valid(&n, "s10", &n);
        assert_eq!(p.carrier, Some("s10"), "{n}");
        assert_invalid(
            &format!("{svc}{serial}{}{country}", wrong(&mut rng, &[c])),
            "s10",
        );
        assert!(cand(&parse(&format!("{svc}{serial}{}XX", d(c))), "s10").is_none());
    }
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
