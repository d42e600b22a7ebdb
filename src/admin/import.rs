//! Recipients CSV: `name,unit,email,phone,aliases` (aliases separated by `;`).
//!
//! Parsing and validation are pure; every row is checked and every rejection is reported
//! with its line number before anything is written.

use std::collections::{HashMap, HashSet};

use crate::db::recipients::{NewRecipient, Recipient, Upserted};
use crate::domain::limits::{EMAIL_LOCAL_MAX, EMAIL_MAX};
use crate::domain::text::{self, Lines};

pub const HEADER: [&str; 5] = ["name", "unit", "email", "phone", "aliases"];

/// Most bytes one row may hold (its fields, trimmed); a longer row is rejected unread.
pub const MAX_ROW_BYTES: usize = 64 * 1024;

/// One rejected data row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
}

/// The result of validating a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub rows: Vec<NewRecipient>,
    pub rejected: Vec<Rejected>,
}

/// Most characters of a user's value quoted back in a message.
const QUOTE_MAX: usize = 40;

/// Parses and validates a whole file. A wrong header is an error for the whole file; a bad
/// row is rejected on its own. What it returns is bounded by the input: at most `max_rows`
/// rows and rejections, each message short and free of control characters.
pub fn parse(data: &[u8], max_rows: usize) -> Result<Parsed, String> {
    // The callers check the size first; this keeps the bound a property of the parser.
    if data.len() as u64 > crate::config::MAX_IMPORT_BYTES {
        return Err(format!(
            "the file is {} bytes; the limit is {} bytes: split it",
            data.len(),
            crate::config::MAX_IMPORT_BYTES
        ));
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(data);
    let header = rdr
        .headers()
        .map_err(|e| format!("cannot read the CSV header: {e}"))?
        .clone();
    let got: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    // A UTF-8 byte order mark from spreadsheet exports is not part of the first column name.
    let got_first = got
        .first()
        .map(|s| s.trim_start_matches('\u{feff}').to_string());
    if got.len() != HEADER.len()
        || got_first.as_deref() != Some(HEADER[0])
        || got[1..] != HEADER[1..]
    {
        // The file is anyone's: what it holds is quoted escaped and cut.
        return Err(format!(
            "line 1: expected the header `{}`, found `{}`",
            HEADER.join(","),
            quote(&header.iter().collect::<Vec<_>>().join(","))
        ));
    }

    let mut out = Parsed::default();
    let mut seen_keys: HashMap<(String, String), u64> = HashMap::new();
    let mut seen_aliases: HashMap<String, u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = rdr.position().line();
        // Every row read counts towards the limit, unreadable ones too: a file of two-byte
        // lines must not turn into millions of rejection messages.
        let over = |out: &Parsed, line: u64| {
            (out.rows.len() + out.rejected.len() >= max_rows)
                .then(|| format!("line {line}: the file has more than {max_rows} rows; split it"))
        };
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // Invalid UTF-8 or a broken quote: reject the row, keep reading.
                let line = e.position().map_or(line, |p| p.line());
                if let Some(e) = over(&out, line) {
                    return Err(e);
                }
                out.rejected.push(Rejected {
                    line,
                    reason: format!("unreadable row: {e}"),
                });
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        if let Some(e) = over(&out, line) {
            return Err(e);
        }
        if record.iter().all(str::is_empty) {
            continue; // blank line
        }
        // No recipient needs this much; validating it would only cost time.
        if record.as_byte_record().as_slice().len() > MAX_ROW_BYTES {
            out.rejected.push(Rejected {
                line,
                reason: format!("the row is longer than {MAX_ROW_BYTES} bytes"),
            });
            continue;
        }
        match validate(&record) {
            Err(reason) => out.rejected.push(Rejected { line, reason }),
            Ok(r) => {
                let key = (r.name.to_lowercase(), r.unit.to_lowercase());
                if let Some(first) = seen_keys.get(&key) {
                    out.rejected.push(Rejected {
                        line,
                        reason: format!(
                            "duplicate of line {first} (same name and unit `{}`)",
                            r.unit
                        ),
                    });
                    continue;
                }
                if let Some((alias, first)) = r
                    .aliases
                    .iter()
                    .find_map(|a| seen_aliases.get(&a.to_lowercase()).map(|l| (a, *l)))
                {
                    out.rejected.push(Rejected {
                        line,
                        reason: format!("alias `{alias}` is already used on line {first}"),
                    });
                    continue;
                }
                seen_keys.insert(key, line);
                for a in &r.aliases {
                    seen_aliases.insert(a.to_lowercase(), line);
                }
                out.rows.push(r);
            }
        }
    }
    Ok(out)
}

fn validate(record: &csv::StringRecord) -> Result<NewRecipient, String> {
    if record.len() != HEADER.len() {
        return Err(format!(
            "expected {} fields, found {}",
            HEADER.len(),
            record.len()
        ));
    }
    let field = |i: usize| record.get(i).unwrap_or("");
    validate_fields(field(0), field(1), field(2), field(3), field(4)).map_err(|e| e.message)
}

/// A field of a recipient, in CSV column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldName {
    Name,
    Unit,
    Email,
    Phone,
    Aliases,
}

/// Why a recipient's fields are not valid, and which field to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: FieldName,
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Most characters in a recipient's name, unit and one alias.
pub use crate::domain::limits::{ALIAS_MAX, NAME_MAX, UNIT_MAX};

/// Validates and normalises one recipient's fields (the CSV import and the admin form
/// share these rules). `aliases` are separated by `;`.
pub fn validate_fields(
    name: &str,
    unit: &str,
    email: &str,
    phone: &str,
    aliases: &str,
) -> Result<NewRecipient, FieldError> {
    let err = |field, message: String| FieldError { field, message };
    // No control characters or bidi overrides in anything stored (they would reach every
    // terminal that shows the recipient), checked before any message quotes a value.
    // Whitespace runs (tabs, line breaks) in name, unit and aliases become one space below.
    for (field, label, raw, collapsed) in [
        (FieldName::Name, "name", name, true),
        (FieldName::Unit, "unit", unit, true),
        (FieldName::Email, "email", email, false),
        (FieldName::Phone, "phone", phone, false),
        (FieldName::Aliases, "aliases", aliases, true),
    ] {
        let value = if collapsed {
            collapse_spaces(raw)
        } else {
            raw.trim().to_string()
        };
        text::check(label, &value, Lines::One).map_err(|e| err(field, e.to_string()))?;
    }
    let name = collapse_spaces(name.trim());
    if name.is_empty() {
        return Err(err(FieldName::Name, "name is required".into()));
    }
    if name.chars().count() > NAME_MAX {
        return Err(err(
            FieldName::Name,
            format!("name is longer than {NAME_MAX} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(err(
            FieldName::Name,
            "name contains control characters".into(),
        ));
    }
    let unit = collapse_spaces(unit.trim());
    if unit.chars().count() > UNIT_MAX || unit.chars().any(char::is_control) {
        return Err(err(
            FieldName::Unit,
            format!(
                "unit `{}` is not valid (at most {UNIT_MAX} characters)",
                quote(&unit)
            ),
        ));
    }
    let email = match email.trim() {
        "" => None,
        e => Some(valid_email(e).ok_or_else(|| {
            err(
                FieldName::Email,
                format!("email `{}` is not a valid address", quote(e)),
            )
        })?),
    };
    let phone = match phone.trim() {
        "" => None,
        p => Some(normalize_phone(p).ok_or_else(|| {
            err(
                FieldName::Phone,
                format!("phone `{}` is not a valid number", quote(p)),
            )
        })?),
    };
    let mut list: Vec<String> = Vec::new();
    // Duplicates compared without ASCII case; a set keeps a long list linear.
    let mut seen: HashSet<String> = HashSet::new();
    for a in aliases.trim().split(';').map(collapse_spaces) {
        if a.is_empty() || !seen.insert(a.to_ascii_lowercase()) {
            continue;
        }
        if a.chars().count() > ALIAS_MAX || a.chars().any(char::is_control) {
            return Err(err(
                FieldName::Aliases,
                format!(
                    "alias `{}` is not valid (at most {ALIAS_MAX} characters)",
                    quote(&a)
                ),
            ));
        }
        list.push(a);
    }
    Ok(NewRecipient {
        name,
        unit,
        email,
        phone,
        aliases: list,
    })
}

/// What an import would do, computed before anything is written: each valid row with the
/// change it makes to the facility's recipients as they are now, and the rejections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub rows: Vec<NewRecipient>,
    /// Parallel to `rows`.
    pub changes: Vec<Upserted>,
    pub rejected: Vec<Rejected>,
}

// The counts are the database apply's result type; re-exported for the import's callers.
pub use crate::db::recipients::Counts;

impl Plan {
    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            rejected: self.rejected.len(),
            ..Counts::default()
        };
        for change in &self.changes {
            c.count(*change);
        }
        c
    }

    /// Rows that write something (added or updated).
    pub fn writes(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| **c != Upserted::Unchanged)
            .count()
    }
}

/// The import's natural key: name and unit, case-insensitive (as the unique index).
fn natural_key(name: &str, unit: &str) -> (String, String) {
    (name.to_lowercase(), unit.to_lowercase())
}

/// Classifies each parsed row against the facility's current recipients, exactly as
/// [`crate::db::recipients::upsert`] will treat it: a new name and unit is added; a known
/// one is updated when its email, phone or aliases differ or it is inactive.
pub fn plan(parsed: Parsed, existing: &[Recipient]) -> Plan {
    let by_key: HashMap<(String, String), &Recipient> = existing
        .iter()
        .map(|r| (natural_key(&r.name, &r.unit), r))
        .collect();
    let changes = parsed
        .rows
        .iter()
        .map(|row| match by_key.get(&natural_key(&row.name, &row.unit)) {
            None => Upserted::Added,
            Some(r)
                if r.active
                    && r.email == row.email
                    && r.phone == row.phone
                    && r.aliases == row.aliases =>
            {
                Upserted::Unchanged
            }
            Some(_) => Upserted::Updated,
        })
        .collect();
    Plan {
        rows: parsed.rows,
        changes,
        rejected: parsed.rejected,
    }
}

/// A dry run as text: what would happen, then every rejected line with its reason.
pub fn preview_lines(plan: &Plan) -> Vec<String> {
    let c = plan.counts();
    let mut out = vec![format!(
        "dry run: would add {}, update {}, leave {} unchanged, reject {}; nothing written",
        c.added, c.updated, c.unchanged, c.rejected
    )];
    out.extend(
        plan.rejected
            .iter()
            .map(|r| format!("line {}: {}", r.line, r.reason)),
    );
    out
}

/// A user's value as quoted in a message: control characters escaped, at most
/// [`QUOTE_MAX`] characters (then `…`), so a message stays one short printable line.
fn quote(value: &str) -> String {
    let head: String = value.chars().take(QUOTE_MAX).collect();
    let escaped = text::escape(&head, &[]);
    if head.len() == value.len() && escaped.len() == head.len() {
        return escaped;
    }
    let mut cut: String = escaped.chars().take(QUOTE_MAX).collect();
    cut.push('…');
    cut
}

fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A pragmatic address check: one `@`, a non-empty local part, a dotted domain, no spaces.
/// Lower-cases the domain (the local part is case-sensitive in theory).
pub fn valid_email(e: &str) -> Option<String> {
    if e.len() > EMAIL_MAX || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (local, domain) = e.split_once('@')?;
    let labels_ok = domain.split('.').all(|l| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    if local.is_empty() || local.len() > EMAIL_LOCAL_MAX || !domain.contains('.') || !labels_ok {
        return None;
    }
    if local.contains('@') || local.starts_with('.') || local.ends_with('.') {
        return None;
    }
    Some(format!("{local}@{}", domain.to_lowercase()))
}

/// Accepts digits with the usual separators and an optional leading `+`; 7–15 digits
/// (E.164's maximum). Returns `+` and digits only.
pub fn normalize_phone(p: &str) -> Option<String> {
    let (plus, rest) = match p.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, p),
    };
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || " -.()/".contains(c))
    {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    if !(7..=15).contains(&digits.len()) {
        return None;
    }
    Some(if plus { format!("+{digits}") } else { digits })
}

#[cfg(test)]
mod tests;
