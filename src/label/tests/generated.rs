//! Generated numbers: check digits computed by re-implementations of the spec's rules,
//! independent of checksum.rs, valid and flipped, for every carrier with a check digit.

use super::*;

// ---- generated numbers ----------------------------------------------------------------
//
// Check digits here are computed by straightforward re-implementations of the spec's
// rules, independent of checksum.rs, so a slip in either shows up.

/// Small deterministic LCG (Knuth's MMIX constants) so runs are reproducible.
pub(super) struct Lcg(pub(super) u64);

impl Lcg {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub(super) fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    pub(super) fn digit_in(&mut self, set: &str) -> char {
        let b = set.as_bytes();
        char::from(b[self.below(b.len() as u64) as usize])
    }
    pub(super) fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.below(options.len() as u64) as usize]
    }
}

pub(super) fn vals(s: &str) -> Vec<u32> {
    s.bytes()
        .map(|b| match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => (u32::from(b) - 3) % 10,
            _ => panic!("bad char {b}"),
        })
        .collect()
}

pub(super) fn t_gs1(s: &str) -> u32 {
    let sum: u32 = vals(s)
        .iter()
        .rev()
        .zip([3, 1].iter().cycle())
        .map(|(v, w)| v * w)
        .sum();
    (10 - sum % 10) % 10
}

pub(super) fn t_alt(s: &str, w: [u32; 2]) -> u32 {
    let sum: u32 = vals(s)
        .iter()
        .zip(w.iter().cycle())
        .map(|(v, w)| v * w)
        .sum();
    (10 - sum % 10) % 10
}

pub(super) fn t_fedex11(s: &str) -> u32 {
    let sum: u32 = vals(s)
        .iter()
        .rev()
        .zip([1, 3, 7].iter().cycle())
        .map(|(v, w)| v * w)
        .sum();
    sum % 11 % 10
}

pub(super) fn t_mod7(s: &str) -> u32 {
    (s.parse::<u64>().expect("digits") % 7) as u32
}

pub(super) fn t_s10(s: &str) -> u32 {
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

pub(super) fn d(n: u32) -> char {
    char::from_digit(n, 10).expect("digit")
}

/// A check digit that none of `valid` equals.
pub(super) fn wrong(rng: &mut Lcg, valid: &[u32]) -> char {
    let start = rng.below(10) as u32;
    let n = (0..10)
        .map(|i| (start + i) % 10)
        .find(|n| !valid.contains(n));
    d(n.expect("some digit is wrong"))
}

/// `input` must list `carrier` as verified with `tracking`.
#[track_caller]
pub(super) fn assert_valid(input: &str, carrier: &str, tracking: &str) -> Parsed {
    let p = parse(input);
    let c = cand(&p, carrier).unwrap_or_else(|| panic!("{input}: no {carrier}: {p:?}"));
    assert_eq!(c.checksum, Checksum::Valid, "{input}: {p:?}");
    assert_eq!(c.tracking, tracking, "{input}");
    p
}

/// `input` must list `carrier`, but with a failed check digit.
#[track_caller]
pub(super) fn assert_invalid(input: &str, carrier: &str) -> Parsed {
    let p = parse(input);
    let c = cand(&p, carrier).unwrap_or_else(|| panic!("{input}: no {carrier}: {p:?}"));
    assert_eq!(c.checksum, Checksum::Invalid, "{input}: {p:?}");
    p
}

/// Builds an IMpb number: AI, service type, mailer id (9 digits starting 9, or 6 starting
/// 0–8), serial to reach `len`, GS1 check digit.
pub(super) fn impb(rng: &mut Lcg, len: usize, mid9: bool) -> String {
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

pub(super) fn flip_last(rng: &mut Lcg, s: &str, valid: &[u32]) -> String {
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
