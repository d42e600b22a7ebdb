//! The format table: one row per tracking-number layout, transcribed from the reference data
//! (jkeen/tracking_number_data 2.0.0, MIT; copies in tests/fixtures/tracking_number_data).
//!
//! The reference regexes rely on look-around, which the `regex` crate does not offer, and
//! allow whitespace between every character; here patterns run on the already normalised
//! text (no whitespace, upper case), are anchored, and the look-around constraints are
//! spelled out as separate rows instead. Named groups a pattern may use:
//!
//! * `tn`: the tracking number to report (default: the whole text). Lets USPS drop the GS1
//!   `420` + ZIP routing prefix, which its check digit does not cover.
//! * `body` / `check`: the characters the check digit covers, and the check digit itself.
//! * any group named in `services`: a code looked up for the service description.
//!
//! Row order is the tie-break when two rows rank equally (see `mod.rs`).

/// Which check-digit rule a row uses (implemented in `checksum.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// No check digit: the layout alone decides.
    None,
    /// Alternating mod 10 with these two weights from the left.
    Alternating(u32, u32),
    /// GS1 mod 10 (weight 3 next to the check digit).
    Gs1,
    /// FedEx mod 11 (weights 1, 3, 7 from the right).
    FedexMod11,
    /// DHL Express: serial mod 7.
    Mod7,
    /// UPU S10 mod 11.
    S10,
}

/// The reference's `serial_number_format.prepend_if`: put `content` in front of the body
/// before computing the check digit, unless the body already starts with `unless`.
#[derive(Debug, Clone, Copy)]
pub struct Prepend {
    pub unless: &'static str,
    pub content: &'static str,
}

/// A service lookup: the text captured by `group` is matched (whole) against each regex in
/// `entries` in order; the first hit names the service.
#[derive(Debug)]
pub struct Lookup {
    pub group: &'static str,
    pub entries: &'static [(&'static str, &'static str)],
}

#[derive(Debug)]
pub struct Format {
    /// Stable id, the reference's where it has one.
    pub id: &'static str,
    pub carrier: &'static str,
    /// Human name, reported as the service when no lookup names one.
    pub name: &'static str,
    pub pattern: &'static str,
    pub rule: Rule,
    pub prepend: Option<Prepend>,
    /// Tried in order; the first lookup that names the captured code wins.
    pub services: &'static [Lookup],
}

const NO_SERVICES: &[Lookup] = &[];

/// UPS 1Z service codes (ups.json).
const UPS_1Z_SERVICE: &[(&str, &str)] = &[
    ("01", "UPS United States Next Day Air (Red)"),
    ("02", "UPS United States Second Day Air (Blue)"),
    ("03", "UPS United States Ground"),
    ("12", "UPS United States Third Day Select"),
    ("13", "UPS United States Next Day Air Saver (Red Saver)"),
    ("15", "UPS United States Next Day Air Early A.M."),
    (
        "22",
        "UPS United States Ground - Returns Plus - Three Pickup Attempts",
    ),
    ("32", "UPS United States Next Day Air Early A.M. - COD"),
    (
        "33",
        "UPS United States Next Day Air Early A.M. - Saturday Delivery, COD",
    ),
    (
        "41",
        "UPS United States Next Day Air Early A.M. - Saturday Delivery",
    ),
    ("42", "UPS United States Ground - Signature Required"),
    ("44", "UPS United States Next Day Air - Saturday Delivery"),
    ("66", "UPS United States Worldwide Express"),
    ("72", "UPS United States Ground - Collect on Delivery"),
    (
        "78",
        "UPS United States Ground - Returns Plus - One Pickup Attempt",
    ),
    (
        "90",
        "UPS United States Ground - Returns - UPS Prints and Mails Label",
    ),
    (
        "A0",
        "UPS United States Next Day Air Early A.M. - Adult Signature Required",
    ),
    (
        "A1",
        "UPS United States Next Day Air Early A.M. - Saturday Delivery, Adult Signature Required",
    ),
    (
        "A2",
        "UPS United States Next Day Air - Adult Signature Required",
    ),
    ("A8", "UPS United States Ground - Adult Signature Required"),
    (
        "A9",
        "UPS United States Next Day Air Early A.M. - Adult Signature Required, COD",
    ),
    (
        "AA",
        "UPS United States Next Day Air Early A.M. - Saturday Delivery, Adult Signature Required, COD",
    ),
    ("YW", "UPS SurePost - Delivered by the USPS"),
];

const UPS_WAYBILL_SERVICE: &[(&str, &str)] = &[
    ("J", "UPS Next Day Express"),
    ("K", "UPS Ground"),
    ("V", "UPS WorldWide Express Saver"),
];

/// USPS 20 / legacy service codes (usps.json, identical in both rows there).
const USPS_SERVICE: &[(&str, &str)] = &[
    ("0[1-8]|14", "Delivery Confirmation"),
    ("2[1-6]|34", "Signature Confirmation"),
    ("50", "Electronic File Header"),
    ("56", "Passive Enroute Scan"),
    ("73", "Insured Mail"),
    ("8[235]", "Merchandise Return"),
];

/// IMpb: the reference names only one service type code, then falls back on the
/// application identifier.
const USPS_IMPB_SERVICE: &[(&str, &str)] = &[("612", "Parcel Select")];
const USPS_IMPB_AI: &[(&str, &str)] = &[
    ("92", "Commercial mailer"),
    ("93", "Commercial mailer"),
    ("94", "Online or vendor label"),
    ("95", "USPS Retail"),
];
const USPS_IMPB_LOOKUPS: &[Lookup] = &[
    Lookup {
        group: "svc",
        entries: USPS_IMPB_SERVICE,
    },
    Lookup {
        group: "ai",
        entries: USPS_IMPB_AI,
    },
];
const USPS_LOOKUPS: &[Lookup] = &[Lookup {
    group: "svc",
    entries: USPS_SERVICE,
}];

const FEDEX_SSCC_SERVICE: &[(&str, &str)] = &[
    ("00", "case/carton"),
    ("01", "pallet"),
    ("02", "larger than a pallet"),
    ("04", "internally defined for intra-company use"),
];

/// S10 service indicators (s10.json).
const S10_SERVICE: &[(&str, &str)] = &[
    ("E[A-Z]", "EMS"),
    ("L[A-Z]", "Letter Post Express"),
    ("M[A-Z]", "Letter Post M-bag"),
    ("Q[A-M]", "Letter Post IBRS"),
    ("R[A-Z]", "Letter Post Registered"),
    ("U[A-Z]", "Letter Post Misc"),
    ("V[A-Z]", "Letter Post Insured"),
    ("C[A-Z]", "Parcel Post"),
    ("H[A-Z]", "Parcel Post (e-commerce)"),
    ("[BDNPZ][A-Z]|A[V-Z]|G[AD]", "Domestic"),
];

/// The issuing posts s10.json knows; any other country code (e.g. `XX`) is not an S10 number.
macro_rules! s10_countries {
    () => {
        "AF|AL|DZ|AO|AG|AR|AM|AU|AT|AZ|BS|BH|BD|BB|BY|BE|BZ|BJ|BT|BO|BA|BW|BR|BN|BG|BF|BI|KH|CM|CA|CV|CF|TD|CL|CN|HK|CO|KM|CG|CR|HR|CU|CY|CZ|CI|KP|CD|DK|DJ|DM|DO|EC|EG|SV|GQ|ER|EE|ET|FJ|FI|FR|GA|GM|GE|DE|GH|GB|GR|GD|GT|GN|GW|GY|HT|HN|HU|IS|IN|ID|IR|IQ|IE|IL|IT|JM|JP|JO|KZ|KE|KI|KR|KW|KG|LA|LV|LB|LS|LR|LY|LI|LT|LU|MG|MW|MY|MV|ML|MT|MR|MU|MX|MD|MC|MN|ME|MA|MZ|MM|NA|NR|NP|NL|NZ|NI|NE|NG|NO|OM|PK|PA|PG|PY|PE|PH|PL|PT|QA|RO|RU|RW|KN|LC|VC|WS|SM|ST|SA|SN|RS|SC|SL|SG|SK|SI|SB|SO|ZA|SS|ES|LK|SD|SR|SZ|SE|CH|SY|TJ|TZ|TH|MK|TL|TG|TO|TT|TN|TR|TM|TV|UG|UA|AE|US|UY|UZ|VU|VA|VE|VN|YE|ZM|ZW"
    };
}

/// GS1 routing prefix (`420` + ZIP, or + ZIP+4) allowed before 22-digit USPS numbers.
macro_rules! route_zip_or_zip4 {
    () => {
        "(?:420[0-9]{5}(?:[0-9]{4})?)?"
    };
}

pub static FORMATS: &[Format] = &[
    // ---- USPS. First, so that on a tie with FedEx's 34-digit layout (every `420` + ZIP+4
    // + 22-digit USPS barcode fits it) USPS, which the prefix names, leads.
    //
    // IMpb (Publication 199): AI, 3-digit service type, mailer id (9 digits starting with 9,
    // else 6), serial, GS1 check. AI 92 is for 9-digit mailers only, 93 for 6-digit ones,
    // 94/95 for both; 30 digits exist for 94 with a 9-digit mailer only. ZIP+4 may only
    // precede a 22-digit number; the ZIP+4 + 22 reading comes before ZIP + 26 so it wins ties
    // on a 34-digit `420…` string, as in the reference.
    Format {
        id: "usps_impb_22_mid9",
        carrier: "usps",
        name: "USPS IMpb",
        pattern: concat!(
            "^",
            route_zip_or_zip4!(),
            "(?P<tn>(?P<body>(?P<ai>9[245])(?P<svc>[0-9]{3})9[0-9]{15})(?P<check>[0-9]))$"
        ),
        rule: Rule::Gs1,
        prepend: None,
        services: USPS_IMPB_LOOKUPS,
    },
    Format {
        id: "usps_impb_22_mid6",
        carrier: "usps",
        name: "USPS IMpb",
        pattern: concat!(
            "^",
            route_zip_or_zip4!(),
            "(?P<tn>(?P<body>(?P<ai>9[345])(?P<svc>[0-9]{3})[0-8][0-9]{15})(?P<check>[0-9]))$"
        ),
        rule: Rule::Gs1,
        prepend: None,
        services: USPS_IMPB_LOOKUPS,
    },
    Format {
        id: "usps_impb_26_mid9",
        carrier: "usps",
        name: "USPS IMpb",
        pattern: "^(?:420[0-9]{5})?(?P<tn>(?P<body>(?P<ai>9[245])(?P<svc>[0-9]{3})9[0-9]{19})(?P<check>[0-9]))$",
        rule: Rule::Gs1,
        prepend: None,
        services: USPS_IMPB_LOOKUPS,
    },
    Format {
        id: "usps_impb_26_mid6",
        carrier: "usps",
        name: "USPS IMpb",
        pattern: "^(?:420[0-9]{5})?(?P<tn>(?P<body>(?P<ai>9[345])(?P<svc>[0-9]{3})[0-8][0-9]{19})(?P<check>[0-9]))$",
        rule: Rule::Gs1,
        prepend: None,
        services: USPS_IMPB_LOOKUPS,
    },
    Format {
        // The reference allows no routing prefix before the 30-digit layout.
        id: "usps_impb_30",
        carrier: "usps",
        name: "USPS IMpb",
        pattern: "^(?P<tn>(?P<body>(?P<ai>94)(?P<svc>[0-9]{3})9[0-9]{23})(?P<check>[0-9]))$",
        rule: Rule::Gs1,
        prepend: None,
        services: USPS_IMPB_LOOKUPS,
    },
    // Legacy confirmation numbers with the `91` application identifier (22 digits).
    Format {
        id: "usps_legacy",
        carrier: "usps",
        name: "USPS Delivery/Signature Confirmation",
        pattern: concat!(
            "^",
            route_zip_or_zip4!(),
            "(?P<tn>(?P<body>91(?P<svc>[0-9]{2})[0-9]{17})(?P<check>[0-9]))$"
        ),
        rule: Rule::Gs1,
        prepend: None,
        services: USPS_LOOKUPS,
    },
    // The same numbers printed as 20 digits without the `91`: the check digit is still
    // computed as if `91` were there (the reference skips that when the body already starts
    // with 91, and so do we).
    Format {
        id: "usps_legacy_20",
        carrier: "usps",
        name: "USPS Delivery/Signature Confirmation",
        pattern: concat!(
            "^",
            route_zip_or_zip4!(),
            "(?P<tn>(?P<body>(?P<svc>[0-9]{2})[0-9]{17})(?P<check>[0-9]))$"
        ),
        rule: Rule::Gs1,
        prepend: Some(Prepend {
            unless: "91",
            content: "91",
        }),
        services: USPS_LOOKUPS,
    },
    // 20 digits read on their own (the other reading of the same layout).
    Format {
        id: "usps_20",
        carrier: "usps",
        name: "USPS Delivery/Signature Confirmation",
        pattern: "^(?P<body>(?P<svc>[0-9]{2})[0-9]{17})(?P<check>[0-9])$",
        rule: Rule::Gs1,
        prepend: None,
        services: USPS_LOOKUPS,
    },
    // ---- UPS
    Format {
        id: "ups",
        carrier: "ups",
        name: "UPS",
        pattern: "^1Z(?P<body>[A-Z0-9]{6}(?P<svc>[A-Z0-9]{2})[A-Z0-9]{7})(?P<check>[0-9])$",
        rule: Rule::Alternating(1, 2),
        prepend: None,
        services: &[Lookup {
            group: "svc",
            entries: UPS_1Z_SERVICE,
        }],
    },
    Format {
        id: "ups_waybill",
        carrier: "ups",
        name: "UPS Waybill",
        pattern: "^(?P<svc>[AHJKTV])(?P<body>[0-9]{9})(?P<check>[0-9])$",
        rule: Rule::Alternating(1, 2),
        prepend: None,
        services: &[Lookup {
            group: "svc",
            entries: UPS_WAYBILL_SERVICE,
        }],
    },
    // ---- FedEx
    Format {
        id: "fedex_12",
        carrier: "fedex",
        name: "FedEx Express",
        pattern: "^(?P<body>[0-9]{11})(?P<check>[0-9])$",
        rule: Rule::FedexMod11,
        prepend: None,
        services: NO_SERVICES,
    },
    Format {
        id: "fedex_ground",
        carrier: "fedex",
        name: "FedEx Ground",
        pattern: "^(?P<body>[0-9]{14})(?P<check>[0-9])$",
        rule: Rule::Alternating(1, 3),
        prepend: None,
        services: NO_SERVICES,
    },
    Format {
        // `96`, SCNC, service, then a Ground number: the check covers the 14-digit serial.
        id: "fedex_ground_96",
        carrier: "fedex",
        name: "FedEx Ground",
        pattern: "^96[0-9]{2}[0-9]{3}(?P<body>[0-9]{14})(?P<check>[0-9])$",
        rule: Rule::Alternating(1, 3),
        prepend: None,
        services: NO_SERVICES,
    },
    Format {
        id: "fedex_34",
        carrier: "fedex",
        name: "FedEx Express",
        pattern: "^[0-8][0-9]{14}[0-9]{5}(?P<body>[0-9]{13})(?P<check>[0-9])$",
        rule: Rule::FedexMod11,
        prepend: None,
        services: NO_SERVICES,
    },
    Format {
        // The reference's regex takes any two-digit SCNC (the spec names 22 and 32); the
        // reference wins.
        id: "fedex_ground_gsn",
        carrier: "fedex",
        name: "FedEx Ground",
        pattern: "^96[0-9]{2}[0-9]{5}[0-9]{10}[0-9](?P<body>[0-9]{13})(?P<check>[0-9])$",
        rule: Rule::FedexMod11,
        prepend: None,
        services: NO_SERVICES,
    },
    Format {
        id: "fedex_astra_32",
        carrier: "fedex",
        name: "FedEx Express (ASTRA)",
        pattern: "^3[0-9]{15}(?P<body>[0-9]{11})(?P<check>[0-9])[0-9]{4}$",
        rule: Rule::FedexMod11,
        prepend: None,
        services: NO_SERVICES,
    },
    Format {
        // The reference checks the 15-digit serial only, not the container type.
        id: "fedex_ground_sscc_18",
        carrier: "fedex",
        name: "FedEx Ground (SSCC-18)",
        pattern: "^(?P<svc>[0-9]{2})(?P<body>[0-9]{15})(?P<check>[0-9])$",
        rule: Rule::Alternating(3, 1),
        prepend: None,
        services: &[Lookup {
            group: "svc",
            entries: FEDEX_SSCC_SERVICE,
        }],
    },
    // ---- UPU S10. The country must be a known post, so `XX` does not match at all.
    Format {
        id: "s10",
        carrier: "s10",
        name: "UPU S10",
        pattern: concat!(
            "^(?P<svc>[A-Z]{2})(?P<body>[0-9]{8})(?P<check>[0-9])(?:",
            s10_countries!(),
            ")$"
        ),
        rule: Rule::S10,
        prepend: None,
        services: &[Lookup {
            group: "svc",
            entries: S10_SERVICE,
        }],
    },
    // ---- OnTrac. Spec: weights 1,2 over the letter's value (C=4, D=5) and the 13 digits,
    // which is the first row. The reference instead prepends 4 (5) to the serial unless it
    // already starts with 4 (5); the two agree except for such serials, so both rows are
    // kept and either verifying counts (like USPS's two 20-digit readings).
    Format {
        id: "ontrac",
        carrier: "ontrac",
        name: "OnTrac",
        pattern: "^(?P<body>[CD][0-9]{13})(?P<check>[0-9])$",
        rule: Rule::Alternating(1, 2),
        prepend: None,
        services: NO_SERVICES,
    },
    Format {
        id: "ontrac_c",
        carrier: "ontrac",
        name: "OnTrac",
        pattern: "^C(?P<body>[0-9]{13})(?P<check>[0-9])$",
        rule: Rule::Alternating(1, 2),
        prepend: Some(Prepend {
            unless: "4",
            content: "4",
        }),
        services: NO_SERVICES,
    },
    Format {
        id: "ontrac_d",
        carrier: "ontrac",
        name: "OnTrac",
        pattern: "^D(?P<body>[0-9]{13})(?P<check>[0-9])$",
        rule: Rule::Alternating(1, 2),
        prepend: Some(Prepend {
            unless: "5",
            content: "5",
        }),
        services: NO_SERVICES,
    },
    // ---- DHL
    Format {
        id: "dhl_express",
        carrier: "dhl",
        name: "DHL Express",
        pattern: "^(?P<body>[0-9]{9,10})(?P<check>[0-9])$",
        rule: Rule::Mod7,
        prepend: None,
        services: NO_SERVICES,
    },
    Format {
        id: "dhl_express_piece_id",
        carrier: "dhl",
        name: "DHL Express (Piece ID)",
        pattern: "^J[A-Z]{2,3}[0-9]{9,10}$",
        rule: Rule::None,
        prepend: None,
        services: NO_SERVICES,
    },
    Format {
        // Prefix, then 10–39 letters/digits of which the first is a digit.
        id: "dhl_ecommerce",
        carrier: "dhl",
        name: "DHL eCommerce",
        pattern: "^(?:GM|LX|RX|UV|CN|SG|TH|IN|HK|MY)[0-9][0-9A-Z]{9,38}$",
        rule: Rule::None,
        prepend: None,
        services: NO_SERVICES,
    },
    Format {
        id: "dhl_ecommerce_14",
        carrier: "dhl",
        name: "DHL eCommerce",
        pattern: "^[0-9]{14}$",
        rule: Rule::None,
        prepend: None,
        services: NO_SERVICES,
    },
    // ---- Amazon (no check digits)
    Format {
        id: "amazon_logistics",
        carrier: "amazon",
        name: "Amazon Logistics",
        pattern: "^TB[ACM][0-9]{12}$",
        rule: Rule::None,
        prepend: None,
        services: NO_SERVICES,
    },
    Format {
        id: "amazon_international",
        carrier: "amazon",
        name: "Amazon International",
        pattern: "^[AFC][0-9]{10}$",
        rule: Rule::None,
        prepend: None,
        services: NO_SERVICES,
    },
    // ---- LaserShip (no check digits)
    Format {
        id: "lasership_lx",
        carrier: "lasership",
        name: "LaserShip",
        pattern: "^L[AIEHNX][1-3][0-9]{7}$",
        rule: Rule::None,
        prepend: None,
        services: NO_SERVICES,
    },
    Format {
        id: "lasership_1ls7",
        carrier: "lasership",
        name: "LaserShip",
        pattern: "^1LS7[12][0-9]{10}$",
        rule: Rule::None,
        prepend: None,
        services: NO_SERVICES,
    },
    Format {
        id: "lasership_1ls7_18",
        carrier: "lasership",
        name: "LaserShip",
        pattern: "^1LS7[12][0-9]{2}01[1-4][0-9]{6}-1$",
        rule: Rule::None,
        prepend: None,
        services: NO_SERVICES,
    },
    Format {
        id: "lasership_1lscx",
        carrier: "lasership",
        name: "LaserShip",
        pattern: "^1LSCX[0-9A-Z]{10}$",
        rule: Rule::None,
        prepend: None,
        services: NO_SERVICES,
    },
];
