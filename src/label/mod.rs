//! Tracking-number label parser: normalises scanned text, matches it against every carrier
//! layout in `formats.rs`, verifies check digits (`checksum.rs`) and ranks the carriers that
//! fit. Pure and table-driven: no I/O, no state beyond the once-compiled table.

mod checksum;
mod formats;

use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde::Serialize;

use self::formats::{FORMATS, Format, Rule};

/// Outcome of the check-digit test for one format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Checksum {
    /// The format has a check digit and it verifies.
    Valid,
    /// The format has a check digit and it is wrong.
    Invalid,
    /// The format has no check digit; the layout alone matched.
    None,
}

impl Checksum {
    /// Ranking key, lower is better: a verified check digit beats a format without one,
    /// which beats a failed check digit.
    fn rank(self) -> u8 {
        match self {
            Checksum::Valid => 0,
            Checksum::None => 1,
            Checksum::Invalid => 2,
        }
    }
}

/// One carrier the input fits, with its best-fitting format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub carrier: &'static str,
    pub service: Option<String>,
    pub checksum: Checksum,
    /// The number as this carrier reads it (USPS drops a `420` routing prefix).
    pub tracking: String,
}

/// Result of parsing one scanned label text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The text as given.
    pub input: String,
    /// The first candidate's tracking number, or the normalised input when nothing fits.
    pub tracking: String,
    pub carrier: Option<&'static str>,
    pub service: Option<String>,
    pub checksum: Checksum,
    /// Every carrier that fits, best first.
    pub candidates: Vec<Candidate>,
}

/// The contract's JSON object; field order is the contract's.
#[derive(Serialize)]
struct JsonOut<'a> {
    input: &'a str,
    tracking: &'a str,
    carrier: Option<&'a str>,
    service: Option<&'a str>,
    checksum: Checksum,
    candidates: Vec<&'a str>,
}

impl Parsed {
    /// The contract object on one line:
    /// `{"input","tracking","carrier","service","checksum","candidates":[carrier ids]}`.
    pub fn to_json(&self) -> String {
        let out = JsonOut {
            input: &self.input,
            tracking: &self.tracking,
            carrier: self.carrier,
            service: self.service.as_deref(),
            checksum: self.checksum,
            candidates: self.candidates.iter().map(|c| c.carrier).collect(),
        };
        // Serialising plain strings and options cannot fail; fall back rather than panic.
        serde_json::to_string(&out).unwrap_or_default()
    }
}

/// A table row with its regexes compiled.
struct Compiled {
    format: &'static Format,
    re: Regex,
    /// Per lookup of `format.services`: (anchored code pattern, service name).
    lookups: Vec<Vec<(Regex, &'static str)>>,
}

/// The table is static, so a pattern that fails to compile is a programming error caught by
/// the tests, not something user input can trigger.
static COMPILED: LazyLock<Vec<Compiled>> = LazyLock::new(|| {
    FORMATS
        .iter()
        .map(|format| Compiled {
            format,
            re: Regex::new(format.pattern)
                .unwrap_or_else(|e| panic!("format {}: bad pattern: {e}", format.id)),
            lookups: format
                .services
                .iter()
                .map(|lookup| {
                    lookup
                        .entries
                        .iter()
                        .map(|(pat, name)| {
                            let re = Regex::new(&format!("^(?:{pat})$")).unwrap_or_else(|e| {
                                panic!("format {}: bad lookup {pat}: {e}", format.id)
                            });
                            (re, *name)
                        })
                        .collect()
                })
                .collect(),
        })
        .collect()
});

/// Characters a scanner or a copy-paste may add that are never part of a tracking number:
/// whitespace (incl. CR/LF, tabs, NBSP), control characters such as the GS1 group separator
/// (0x1D) that ends a variable-length field, and invisible format characters.
fn is_noise(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Drops a leading AIM symbology identifier (`]` + code letter + modifier, e.g. `]C1` for
/// GS1-128, `]d2` for GS1 DataMatrix) that scanners configured to transmit it put in front.
fn strip_symbology_id(s: &str) -> &str {
    let mut it = s.chars();
    match (it.next(), it.next(), it.next()) {
        (Some(']'), Some(code), Some(modifier))
            if code.is_ascii_alphabetic() && modifier.is_ascii_alphanumeric() =>
        {
            it.as_str()
        }
        _ => s,
    }
}

/// Carrier-independent clean-up: scanner noise and whitespace removed, upper-cased.
/// (Dropping the USPS `420` routing prefix is carrier-specific and happens in `parse`.)
pub fn normalize(input: &str) -> String {
    let cleaned: String = input.chars().filter(|&c| !is_noise(c)).collect();
    strip_symbology_id(&cleaned).to_uppercase()
}

/// Checks the row's check digit against the captured `body`/`check` groups.
fn verify(format: &Format, caps: &Captures<'_>) -> Checksum {
    if format.rule == Rule::None {
        return Checksum::None;
    }
    let (Some(body), Some(check)) = (caps.name("body"), caps.name("check")) else {
        // A checked row without these groups is a table bug (the tests guard against it);
        // never call such a match verified.
        return Checksum::Invalid;
    };
    let mut body = body.as_str().to_string();
    match format.prepend {
        Some(p) if !body.starts_with(p.unless) => body.insert_str(0, p.content),
        _ => {}
    }
    let expected = match format.rule {
        Rule::None => None,
        Rule::Alternating(first, second) => checksum::alternating_mod10(&body, first, second),
        Rule::Gs1 => checksum::gs1_mod10(&body),
        Rule::FedexMod11 => checksum::fedex_mod11(&body),
        Rule::Mod7 => checksum::mod7(&body),
        Rule::S10 => checksum::s10_mod11(&body),
    };
    let printed = check.as_str().chars().next().and_then(|c| c.to_digit(10));
    match (expected, printed) {
        (Some(e), Some(p)) if e == p => Checksum::Valid,
        _ => Checksum::Invalid,
    }
}

/// The first lookup that names the captured code, else the format's own name.
fn service(compiled: &Compiled, caps: &Captures<'_>) -> String {
    let named = compiled
        .format
        .services
        .iter()
        .zip(&compiled.lookups)
        .find_map(|(lookup, entries)| {
            let code = caps.name(lookup.group)?.as_str();
            entries
                .iter()
                .find(|(re, _)| re.is_match(code))
                .map(|(_, name)| *name)
        });
    named.unwrap_or(compiled.format.name).to_string()
}

/// Parses one scanned label text. Never fails: input that fits nothing gives no carrier,
/// no candidates and checksum `none`.
pub fn parse(input: &str) -> Parsed {
    let text = normalize(input);
    // Best row per carrier, as (row index, candidate). A carrier keeps its first row unless
    // a later one ranks strictly better, so table order breaks ties.
    let mut found: Vec<(usize, Candidate)> = Vec::new();
    for (row, compiled) in COMPILED.iter().enumerate() {
        let Some(caps) = compiled.re.captures(&text) else {
            continue;
        };
        let candidate = Candidate {
            carrier: compiled.format.carrier,
            service: Some(service(compiled, &caps)),
            checksum: verify(compiled.format, &caps),
            tracking: caps
                .name("tn")
                .map_or(text.as_str(), |m| m.as_str())
                .to_string(),
        };
        match found
            .iter_mut()
            .find(|(_, c)| c.carrier == candidate.carrier)
        {
            Some(slot) if candidate.checksum.rank() < slot.1.checksum.rank() => {
                *slot = (row, candidate);
            }
            Some(_) => {}
            None => found.push((row, candidate)),
        }
    }
    // Stable sort: check-digit rank first, then table order.
    found.sort_by_key(|(row, c)| (c.checksum.rank(), *row));
    let candidates: Vec<Candidate> = found.into_iter().map(|(_, c)| c).collect();
    match candidates.first() {
        Some(best) => Parsed {
            input: input.to_string(),
            tracking: best.tracking.clone(),
            carrier: Some(best.carrier),
            service: best.service.clone(),
            checksum: best.checksum,
            candidates,
        },
        None => Parsed {
            input: input.to_string(),
            tracking: text,
            carrier: None,
            service: None,
            checksum: Checksum::None,
            candidates,
        },
    }
}

#[cfg(test)]
mod tests;
