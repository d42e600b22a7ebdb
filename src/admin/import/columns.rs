//! Which CSV column fills which recipient field. The plain header `name,unit,email,phone,
//! aliases` maps onto itself; exports of property-management systems (`Unit,First Name,Last
//! Name,E-mail,Mobile`, `Apt,Last,First`) are recognised by their column names, compared
//! without case, spaces or punctuation; an explicit map (`--map "name=Resident Name,unit=Apt"`,
//! the console's columns step) overrides the guess field by field.

use std::str::FromStr;

use super::quote;
use crate::db::recipients::Provided;

/// A recipient field a column can fill. A name comes from one column, or from a first and a
/// last name column joined with a space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Name,
    First,
    Last,
    Unit,
    Email,
    Phone,
    Aliases,
}

/// Every target, in the order the console lists them.
pub const TARGETS: [Target; 7] = [
    Target::Name,
    Target::First,
    Target::Last,
    Target::Unit,
    Target::Email,
    Target::Phone,
    Target::Aliases,
];

/// Most columns a header may have (exports have a few dozen).
pub const MAX_COLUMNS: usize = 256;

impl Target {
    /// The name in `--map` (and in messages).
    pub fn key(self) -> &'static str {
        match self {
            Target::Name => "name",
            Target::First => "first",
            Target::Last => "last",
            Target::Unit => "unit",
            Target::Email => "email",
            Target::Phone => "phone",
            Target::Aliases => "aliases",
        }
    }

    /// The label in the console.
    pub fn label(self) -> &'static str {
        match self {
            Target::Name => "Name",
            Target::First => "First name",
            Target::Last => "Last name",
            Target::Unit => "Unit",
            Target::Email => "Email",
            Target::Phone => "Phone",
            Target::Aliases => "Aliases",
        }
    }

    fn index(self) -> usize {
        TARGETS.iter().position(|t| *t == self).unwrap_or(0)
    }

    /// Column names that mean this field, normalised ([`normalize`]).
    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Target::Name => &[
                "name",
                "fullname",
                "resident",
                "residentname",
                "tenant",
                "tenantname",
                "recipient",
                "recipientname",
                "occupant",
                "occupantname",
            ],
            Target::First => &["firstname", "first", "givenname", "given", "forename"],
            Target::Last => &["lastname", "last", "surname", "familyname"],
            Target::Unit => &[
                "unit",
                "unitnumber",
                "unitno",
                "unitnum",
                "apt",
                "aptnumber",
                "aptno",
                "apartment",
                "apartmentnumber",
                "apartmentno",
                "suite",
                "suitenumber",
                "suiteno",
                "unitapt",
                "aptunit",
                "room",
                "roomnumber",
            ],
            Target::Email => &["email", "emailaddress", "mail", "emailaddr"],
            Target::Phone => &[
                "phone",
                "phonenumber",
                "phoneno",
                "mobile",
                "mobilephone",
                "mobilenumber",
                "cell",
                "cellphone",
                "cellnumber",
                "telephone",
                "tel",
            ],
            Target::Aliases => &[
                "aliases",
                "alias",
                "nickname",
                "nicknames",
                "aka",
                "preferredname",
            ],
        }
    }

    fn recognise(column: &str) -> Option<Target> {
        let n = normalize(column);
        TARGETS
            .into_iter()
            .find(|t| t.synonyms().contains(&n.as_str()))
    }

    fn from_key(key: &str) -> Option<Target> {
        match normalize(key).as_str() {
            "name" | "fullname" => Some(Target::Name),
            "first" | "firstname" => Some(Target::First),
            "last" | "lastname" => Some(Target::Last),
            "unit" => Some(Target::Unit),
            "email" => Some(Target::Email),
            "phone" => Some(Target::Phone),
            "aliases" | "alias" => Some(Target::Aliases),
            _ => None,
        }
    }
}

/// A column name as compared: lower case, letters and digits only (`E-mail` is `email`,
/// `Unit #` is `unit`, `First_Name` is `firstname`).
pub fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A column named in an explicit map: by its header (compared as [`normalize`] does) or by
/// its number, 1 for the first (`#3`), for headers that repeat a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRef {
    Named(String),
    Number(usize),
}

/// Explicit choices: for each field named, the column it comes from, or none (the field is
/// not imported). Fields not named are guessed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap {
    entries: Vec<(Target, Option<ColumnRef>)>,
}

impl ColumnMap {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn get(&self, t: Target) -> Option<&Option<ColumnRef>> {
        self.entries.iter().find(|(x, _)| *x == t).map(|(_, c)| c)
    }

    fn set(&mut self, t: Target, c: Option<ColumnRef>) {
        self.entries.retain(|(x, _)| *x != t);
        self.entries.push((t, c));
    }
}

impl FromStr for ColumnMap {
    type Err = String;

    /// `FIELD=COLUMN,…`: `name=Resident Name,unit=Apt`, `phone=#5` (the fifth column),
    /// `aliases=` (do not import aliases).
    fn from_str(s: &str) -> Result<Self, String> {
        let fields = TARGETS.map(Target::key).join(", ");
        let mut map = ColumnMap::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, column)) = part.split_once('=') else {
                return Err(format!("expected FIELD=COLUMN, found `{}`", quote(part)));
            };
            let target = Target::from_key(key)
                .ok_or_else(|| format!("unknown field `{}`; fields: {fields}", quote(key)))?;
            if map.get(target).is_some() {
                return Err(format!("{} is mapped twice", target.key()));
            }
            let column = column.trim();
            let col = if column.is_empty() {
                None
            } else if let Some(n) = column.strip_prefix('#') {
                match n.parse::<usize>() {
                    Ok(n) if (1..=MAX_COLUMNS).contains(&n) => Some(ColumnRef::Number(n)),
                    _ => {
                        return Err(format!(
                            "`{}`: a column number is #1 to #{MAX_COLUMNS}",
                            quote(column)
                        ));
                    }
                }
            } else {
                Some(ColumnRef::Named(column.to_string()))
            };
            map.set(target, col);
        }
        let named = |t| matches!(map.get(t), Some(Some(_)));
        if named(Target::Name) && (named(Target::First) || named(Target::Last)) {
            return Err("map either name or first and last, not both".into());
        }
        Ok(map)
    }
}

/// A file's header with the column chosen for each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    /// The header's column names as shown: escaped, cut, `column N` for an empty one.
    pub names: Vec<String>,
    slots: [Option<usize>; TARGETS.len()],
}

impl Columns {
    /// The fields recognised by their column names. The first column for a field wins; a
    /// full name column wins over first and last name columns.
    pub fn guess(header: &[String]) -> Columns {
        let mut slots = [None; TARGETS.len()];
        for (i, h) in header.iter().enumerate() {
            if let Some(t) = Target::recognise(h) {
                slots[t.index()].get_or_insert(i);
            }
        }
        if slots[Target::Name.index()].is_some() {
            slots[Target::First.index()] = None;
            slots[Target::Last.index()] = None;
        }
        Columns {
            names: header
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    if h.trim().is_empty() {
                        format!("column {}", i + 1)
                    } else {
                        quote(h.trim())
                    }
                })
                .collect(),
            slots,
        }
    }

    /// The guess with an explicit map applied, checked: a file without a name (or first and
    /// last name) column or without a unit column is refused, naming the columns it has.
    pub fn resolve(header: &[String], map: &ColumnMap) -> Result<Columns, String> {
        if header.len() > MAX_COLUMNS {
            return Err(format!(
                "the header has {} columns; at most {MAX_COLUMNS}",
                header.len()
            ));
        }
        let mut cols = Columns::guess(header);
        for (target, col) in &map.entries {
            let at = match col {
                None => None,
                Some(ColumnRef::Number(n)) if *n <= header.len() => Some(n - 1),
                Some(ColumnRef::Number(n)) => {
                    return Err(format!(
                        "--map {}=#{n}: the file has {} columns",
                        target.key(),
                        header.len()
                    ));
                }
                Some(ColumnRef::Named(name)) => {
                    let want = normalize(name);
                    let found: Vec<usize> = header
                        .iter()
                        .enumerate()
                        .filter(|(_, h)| normalize(h) == want)
                        .map(|(i, _)| i)
                        .collect();
                    match found.as_slice() {
                        [i] => Some(*i),
                        [] => {
                            return Err(format!(
                                "--map {}: no column `{}`; the file has {}",
                                target.key(),
                                quote(name),
                                cols.listed()
                            ));
                        }
                        [_, second, ..] => {
                            return Err(format!(
                                "--map {}: several columns are called `{}`; name one by its \
                                 number, e.g. {}=#{}",
                                target.key(),
                                quote(name),
                                target.key(),
                                second + 1
                            ));
                        }
                    }
                }
            };
            cols.set(*target, at);
        }
        cols.check().map_err(|missing| {
            let example = if missing == "name" { "name" } else { "unit" };
            format!(
                "line 1: expected the header `{}` or a name and a unit column; no {missing} \
                 column among {}: map one, e.g. --map {example}=COLUMN",
                super::HEADER.join(","),
                cols.listed()
            )
        })?;
        Ok(cols)
    }

    /// The column for a field.
    pub fn column(&self, t: Target) -> Option<usize> {
        self.slots[t.index()]
    }

    /// Chooses a column for a field (the console's columns step). As with an explicit map,
    /// a name column replaces first and last name columns, and the reverse.
    pub fn set(&mut self, t: Target, column: Option<usize>) {
        let column = column.filter(|c| *c < self.names.len());
        self.slots[t.index()] = column;
        if column.is_some() {
            match t {
                Target::Name => {
                    self.slots[Target::First.index()] = None;
                    self.slots[Target::Last.index()] = None;
                }
                Target::First | Target::Last => self.slots[Target::Name.index()] = None,
                _ => {}
            }
        }
    }

    /// What is missing for an import (`name`, `unit`, `name or unit`), if anything.
    pub fn check(&self) -> Result<(), &'static str> {
        let name = [Target::Name, Target::First, Target::Last]
            .iter()
            .any(|t| self.column(*t).is_some());
        match (name, self.column(Target::Unit).is_some()) {
            (false, false) => Err("name or unit"),
            (false, true) => Err("name"),
            (true, false) => Err("unit"),
            (true, true) => Ok(()),
        }
    }

    /// Columns no field reads, as shown.
    pub fn ignored(&self) -> Vec<String> {
        (0..self.names.len())
            .filter(|i| !self.slots.contains(&Some(*i)))
            .map(|i| self.names[i].clone())
            .collect()
    }

    /// Each field read, with the column it is read from (as shown).
    pub fn mapped(&self) -> Vec<(Target, String)> {
        TARGETS
            .into_iter()
            .filter_map(|t| self.column(t).map(|c| (t, self.names[c].clone())))
            .collect()
    }

    /// Whether this is the plain header (every field from its own column, nothing ignored).
    pub fn is_plain(&self) -> bool {
        self.names.len() == super::HEADER.len()
            && [
                Target::Name,
                Target::Unit,
                Target::Email,
                Target::Phone,
                Target::Aliases,
            ]
            .iter()
            .enumerate()
            .all(|(i, t)| self.column(*t) == Some(i))
    }

    /// The optional fields the file has a column for.
    pub fn provided(&self) -> Provided {
        Provided {
            email: self.column(Target::Email).is_some(),
            phone: self.column(Target::Phone).is_some(),
            aliases: self.column(Target::Aliases).is_some(),
        }
    }

    /// These choices as an explicit map (by column number), so a plan made from it reads
    /// exactly what the console showed.
    pub fn to_map(&self) -> ColumnMap {
        ColumnMap {
            entries: TARGETS
                .into_iter()
                .map(|t| (t, self.column(t).map(|c| ColumnRef::Number(c + 1))))
                .collect(),
        }
    }

    /// One row's fields in the import's order: name (a first and last name joined), unit,
    /// email, phone, aliases. A field without a column is empty.
    pub fn fields<'r>(&self, record: &'r csv::StringRecord) -> RowFields<'r> {
        let get = |t: Target| {
            self.column(t)
                .and_then(|c| record.get(c))
                .unwrap_or_default()
        };
        let name = if self.column(Target::Name).is_some() {
            get(Target::Name).into()
        } else {
            let (first, last) = (get(Target::First).trim(), get(Target::Last).trim());
            format!("{first} {last}").trim().into()
        };
        RowFields {
            name,
            unit: get(Target::Unit),
            email: get(Target::Email),
            phone: get(Target::Phone),
            aliases: get(Target::Aliases),
        }
    }

    /// The header's columns for a message: escaped, as many as fit in about 100
    /// characters, then how many more.
    fn listed(&self) -> String {
        let mut out = String::new();
        let mut shown = 0;
        for n in &self.names {
            if shown > 0 && out.len() + n.len() > 100 {
                break;
            }
            if shown > 0 {
                out.push_str(", ");
            }
            out.push_str(&format!("`{n}`"));
            shown += 1;
        }
        if self.names.len() > shown {
            out.push_str(&format!(" and {} more", self.names.len() - shown));
        }
        if out.is_empty() {
            out.push_str("no columns");
        }
        out
    }
}

/// One row's fields as read through [`Columns`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowFields<'r> {
    pub name: String,
    pub unit: &'r str,
    pub email: &'r str,
    pub phone: &'r str,
    pub aliases: &'r str,
}

/// The header of a CSV (for the console's columns step): the first record, its first
/// column without a UTF-8 byte order mark, every name trimmed.
pub fn read_header(data: &[u8]) -> Result<Vec<String>, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(data);
    let header = rdr
        .headers()
        .map_err(|e| format!("cannot read the CSV header: {e}"))?;
    Ok(header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                h
            };
            h.trim().to_string()
        })
        .collect())
}

#[cfg(test)]
mod tests;
