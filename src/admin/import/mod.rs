//! Recipients CSV: `name,unit,email,phone,aliases` (aliases separated by `;`), or an export
//! of a property-management system whose columns are recognised or mapped ([`columns`]).
//!
//! Parsing, validation and the plan ([`plan`]: what each row changes, and the move-outs)
//! are pure; every row is checked and every rejection is reported with its line number
//! before anything is written.

use std::collections::{HashMap, HashSet};

use crate::db::recipients::NewRecipient;
use crate::domain::limits::{EMAIL_LOCAL_MAX, EMAIL_MAX};
use crate::domain::text::{self, Lines};

pub mod columns;
mod plan;

pub use crate::db::recipients::Provided;
pub use columns::{ColumnMap, Columns, TARGETS, Target, read_header};
pub use plan::{
    Counts, Entry, EntryKind, ImportOptions, MASS_DEACTIVATE_PERCENT, Missing, MoveOuts, MovedOut,
    Plan, Refusal, done_lines, plan, plan_with, preview_lines,
};

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
    /// The line of each row (parallel to `rows`; may be empty in hand-made values).
    pub lines: Vec<u64>,
    /// Which optional fields the file has a column for.
    pub provided: Provided,
    /// Each field read with the column it is read from, as shown (empty for the plain
    /// header, which needs no explaining).
    pub mapped: Vec<(Target, String)>,
    /// Columns no field reads, as shown.
    pub ignored: Vec<String>,
    /// Name and unit (the natural key) of rejected rows that name a resident: they are in
    /// the roster, so they never count as moved out.
    pub rejected_keys: HashSet<(String, String)>,
    /// Lines that could not be read at all: whoever is on them is unknown.
    pub unreadable: Vec<u64>,
}

/// Most characters of a user's value quoted back in a message.
const QUOTE_MAX: usize = 40;

/// Parses and validates a whole file with the plain header or a recognisable one: see
/// [`parse_with`].
pub fn parse(data: &[u8], max_rows: usize) -> Result<Parsed, String> {
    parse_with(data, max_rows, &ColumnMap::default())
}

/// Parses and validates a whole file, its columns recognised by name and `map` applied. A
/// header without a name or unit column is an error for the whole file; a bad row is
/// rejected on its own. What it returns is bounded by the input: at most `max_rows` rows
/// and rejections, each message short and free of control characters.
pub fn parse_with(data: &[u8], max_rows: usize, map: &ColumnMap) -> Result<Parsed, String> {
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
        .iter()
        .enumerate()
        // A UTF-8 byte order mark from spreadsheet exports is not part of the first name.
        .map(|(i, h)| {
            if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                h
            }
        })
        .map(|h| h.trim().to_string())
        .collect::<Vec<_>>();
    let cols = Columns::resolve(&header, map)?;

    let mut out = Parsed {
        provided: cols.provided(),
        mapped: if cols.is_plain() {
            Vec::new()
        } else {
            cols.mapped()
        },
        ignored: cols.ignored(),
        ..Parsed::default()
    };
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
                out.unreadable.push(line);
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
        let fields = cols.fields(&record);
        // No recipient needs this much; validating it would only cost time.
        if record.as_byte_record().as_slice().len() > MAX_ROW_BYTES {
            out.rejected_keys.extend(roster_key(&fields));
            out.rejected.push(Rejected {
                line,
                reason: format!("the row is longer than {MAX_ROW_BYTES} bytes"),
            });
            continue;
        }
        match validate(&record, header.len(), &fields) {
            Err(reason) => {
                out.rejected_keys.extend(roster_key(&fields));
                out.rejected.push(Rejected { line, reason });
            }
            Ok(r) => {
                let key = natural_key(&r.name, &r.unit);
                if let Some(first) = seen_keys.get(&key) {
                    // Its resident is in the file (the first line), nothing to record.
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
                    out.rejected_keys.insert(key);
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
                out.lines.push(line);
            }
        }
    }
    Ok(out)
}

fn validate(
    record: &csv::StringRecord,
    columns: usize,
    f: &columns::RowFields<'_>,
) -> Result<NewRecipient, String> {
    if record.len() != columns {
        return Err(format!("expected {columns} fields, found {}", record.len()));
    }
    validate_fields(&f.name, f.unit, f.email, f.phone, f.aliases).map_err(|e| e.message)
}

/// The natural key of a row that names someone, read as the import would store it; a row
/// without a name (a vacant unit in a property-management export) names no one.
fn roster_key(f: &columns::RowFields<'_>) -> Option<(String, String)> {
    let name = collapse_spaces(&f.name);
    (!name.is_empty()).then(|| natural_key(&name, &collapse_spaces(f.unit)))
}

/// The import's natural key: name and unit, case-insensitive (as the unique index).
pub(crate) fn natural_key(name: &str, unit: &str) -> (String, String) {
    (name.to_lowercase(), unit.to_lowercase())
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

/// A user's value as quoted in a message: control characters escaped, at most
/// [`QUOTE_MAX`] characters (then `…`), so a message stays one short printable line.
pub(crate) fn quote(value: &str) -> String {
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
