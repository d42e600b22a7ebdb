//! What an import would do, computed before anything is written: each valid row classified
//! against the facility's recipients as they are now (new, updated with which fields,
//! unchanged), the rejections, and, when asked, the move-outs: active residents missing
//! from the file, deactivated unless packages wait for them, refused when the file would
//! leave out more than [`MASS_DEACTIVATE_PERCENT`] of the roster without an extra
//! confirmation.

use std::collections::{HashMap, HashSet};

use super::{ColumnMap, Parsed, Provided, Rejected, Target, natural_key};
use crate::db::recipients::{Imported, NewRecipient, Recipient, Upserted};
use crate::domain::text;

// The counts are the database apply's result type; re-exported for the import's callers.
pub use crate::db::recipients::{Counts, MovedOut};

/// Above this share of the active residents, deactivating those missing from a file needs an
/// extra confirmation (`--allow-mass-deactivate`, Ctrl-Y in the console): a file cut short,
/// or another building's, would otherwise empty the roster.
pub const MASS_DEACTIVATE_PERCENT: usize = 20;

/// How to read a file, and whether to deactivate the residents it leaves out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    pub map: ColumnMap,
    pub deactivate_missing: bool,
    pub allow_mass_deactivate: bool,
}

/// An active resident missing from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub id: i64,
    pub name: String,
    pub unit: String,
    /// Packages waiting for them.
    pub waiting: i64,
}

/// The residents a file leaves out. Always computed (the console turns them on and off
/// without asking again); written only when `requested`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoveOuts {
    pub requested: bool,
    /// The extra confirmation for more than [`MASS_DEACTIVATE_PERCENT`].
    pub allow_mass: bool,
    /// Active residents before the import.
    pub active: usize,
    /// Missing, nothing waiting: deactivated.
    pub deactivate: Vec<Missing>,
    /// Missing, packages waiting: kept active, so no waiting package belongs to someone the
    /// desk can no longer find (hand them over or return them, then import again).
    pub held: Vec<Missing>,
    /// Lines that could not be read: whoever is on them would be taken for moved out.
    pub unreadable: Vec<u64>,
}

/// Why move-outs may not run as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Unreadable(Vec<u64>),
    Mass { missing: usize, active: usize },
}

impl Refusal {
    /// One line; `confirm` says how to confirm a mass deactivation in this interface.
    pub fn message(&self, confirm: &str) -> String {
        match self {
            Refusal::Unreadable(lines) => {
                let shown: Vec<String> = lines.iter().take(5).map(u64::to_string).collect();
                let more = lines.len().saturating_sub(shown.len());
                format!(
                    "move-outs refused: line{} {}{} could not be read, so who is missing from \
                     the file is not certain; fix the file or import without deactivating",
                    if lines.len() == 1 { "" } else { "s" },
                    shown.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                )
            }
            Refusal::Mass { missing, active } => format!(
                "move-outs refused: the file leaves out {missing} of {active} active residents \
                 ({}%, more than {MASS_DEACTIVATE_PERCENT}%): is it cut short or another \
                 building's? If they did move out, {confirm}",
                (missing * 100).div_ceil((*active).max(1))
            ),
        }
    }
}

impl MoveOuts {
    /// Active residents the file leaves out.
    pub fn missing(&self) -> usize {
        self.deactivate.len() + self.held.len()
    }

    /// Whether the file leaves out more than [`MASS_DEACTIVATE_PERCENT`] of the residents.
    pub fn is_mass(&self) -> bool {
        self.missing() * 100 > self.active * MASS_DEACTIVATE_PERCENT
    }

    /// Why the move-outs cannot run as asked (nothing when they are not asked for). A mass
    /// deactivation can be confirmed; unreadable lines must be fixed.
    pub fn refusal(&self) -> Option<Refusal> {
        if !self.requested || self.missing() == 0 {
            return None;
        }
        if !self.unreadable.is_empty() {
            return Some(Refusal::Unreadable(self.unreadable.clone()));
        }
        (self.is_mass() && !self.allow_mass).then_some(Refusal::Mass {
            missing: self.missing(),
            active: self.active,
        })
    }

    /// The ids to deactivate, when asked for.
    pub fn ids(&self) -> Option<Vec<i64>> {
        self.requested
            .then(|| self.deactivate.iter().map(|m| m.id).collect())
    }
}

/// What an import would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub rows: Vec<NewRecipient>,
    /// Parallel to `rows`.
    pub changes: Vec<Upserted>,
    /// Parallel to `rows`: what an update changes (`email`, `phone`, `aliases`,
    /// `reactivated`).
    pub fields: Vec<Vec<&'static str>>,
    /// Parallel to `rows` (may be empty in hand-made values): the file's line.
    pub lines: Vec<u64>,
    pub rejected: Vec<Rejected>,
    pub provided: Provided,
    pub mapped: Vec<(Target, String)>,
    pub ignored: Vec<String>,
    pub move_outs: MoveOuts,
    /// Indices of the rows that change something, in file order (for the per-row list).
    listed: Vec<usize>,
}

/// One line of the per-row preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Rejected,
    Add,
    Update,
    Deactivate,
    KeepActive,
}

impl EntryKind {
    pub fn word(self) -> &'static str {
        match self {
            EntryKind::Rejected => "rejected",
            EntryKind::Add => "new",
            EntryKind::Update => "update",
            EntryKind::Deactivate => "move out",
            EntryKind::KeepActive => "keep",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    pub line: Option<u64>,
    /// Printable: names are escaped, reasons already are.
    pub text: String,
}

/// A recipient as the preview names them (escaped: stored names are checked when written,
/// and the preview must not trust that).
fn who(name: &str, unit: &str) -> String {
    let name = text::escape(name, &[]);
    if unit.is_empty() {
        format!("{name}, no unit")
    } else {
        format!("{name}, unit {}", text::escape(unit, &[]))
    }
}

fn packages(n: i64) -> String {
    format!("{n} package{} waiting", if n == 1 { "" } else { "s" })
}

impl Plan {
    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            rejected: self.rejected.len(),
            ..Counts::default()
        };
        for change in &self.changes {
            c.count(*change);
        }
        if self.move_outs.requested {
            c.moved_out = Some(MovedOut {
                deactivated: self.move_outs.deactivate.len(),
                kept: self.move_outs.held.len(),
            });
        }
        c
    }

    /// Rows that write something (added or updated), and the deactivations when asked for.
    pub fn writes(&self) -> usize {
        let moved = if self.move_outs.requested {
            self.move_outs.deactivate.len()
        } else {
            0
        };
        self.listed.len() + moved
    }

    /// How many lines [`Self::entry`] has: rejections, changing rows, move-outs (when
    /// asked for). Unchanged rows are counted, not listed.
    pub fn entries_len(&self) -> usize {
        let moves = if self.move_outs.requested {
            self.move_outs.missing()
        } else {
            0
        };
        self.rejected.len() + self.listed.len() + moves
    }

    /// The `i`th line of the per-row preview: rejections first (what to fix), then the
    /// rows that change something in file order, then who moves out and who is kept.
    /// Made on demand, so a screen shows a window of 200,000 rows without building them all.
    pub fn entry(&self, i: usize) -> Option<Entry> {
        let mut i = i;
        if let Some(r) = self.rejected.get(i) {
            return Some(Entry {
                kind: EntryKind::Rejected,
                line: Some(r.line),
                text: r.reason.clone(),
            });
        }
        i -= self.rejected.len();
        if let Some(&row) = self.listed.get(i) {
            let r = &self.rows[row];
            let (kind, text) = match self.changes[row] {
                Upserted::Added => (EntryKind::Add, who(&r.name, &r.unit)),
                _ => (
                    EntryKind::Update,
                    format!(
                        "{} ({})",
                        who(&r.name, &r.unit),
                        self.fields[row].join(", ")
                    ),
                ),
            };
            return Some(Entry {
                kind,
                line: self.lines.get(row).copied(),
                text,
            });
        }
        i -= self.listed.len();
        if !self.move_outs.requested {
            return None;
        }
        if let Some(m) = self.move_outs.deactivate.get(i) {
            return Some(Entry {
                kind: EntryKind::Deactivate,
                line: None,
                text: who(&m.name, &m.unit),
            });
        }
        i -= self.move_outs.deactivate.len();
        self.move_outs.held.get(i).map(|m| Entry {
            kind: EntryKind::KeepActive,
            line: None,
            text: format!("{} ({})", who(&m.name, &m.unit), packages(m.waiting)),
        })
    }

    /// One line about the move-outs (when asked for): what they would do, or why not.
    pub fn move_outs_line(&self, confirm: &str) -> Option<String> {
        let mo = &self.move_outs;
        if !mo.requested {
            return None;
        }
        if let Some(r) = mo.refusal() {
            return Some(r.message(confirm));
        }
        if mo.missing() == 0 {
            return Some("move-outs: none, every active resident is in the file".into());
        }
        let mut line = format!(
            "move-outs: {} of {} active residents are not in the file: deactivate {}",
            mo.missing(),
            mo.active,
            mo.deactivate.len()
        );
        if !mo.held.is_empty() {
            line.push_str(&format!(
                ", keep {} active (packages waiting)",
                mo.held.len()
            ));
        }
        Some(line)
    }
}

/// Classifies each parsed row against the facility's current recipients, exactly as
/// [`crate::db::recipients::upsert`] will treat it: a new name and unit is added; a known
/// one is updated when its email, phone or aliases differ or it is inactive. No move-outs.
pub fn plan(parsed: Parsed, existing: &[Recipient]) -> Plan {
    plan_with(parsed, existing, &HashMap::new(), &ImportOptions::default())
}

/// [`plan`], with the packages waiting per recipient id and the move-outs as `options` ask.
pub fn plan_with(
    parsed: Parsed,
    existing: &[Recipient],
    waiting: &HashMap<i64, i64>,
    options: &ImportOptions,
) -> Plan {
    let by_key: HashMap<(String, String), &Recipient> = existing
        .iter()
        .map(|r| (natural_key(&r.name, &r.unit), r))
        .collect();
    let p = parsed.provided;
    let mut changes = Vec::with_capacity(parsed.rows.len());
    let mut fields = Vec::with_capacity(parsed.rows.len());
    let mut listed = Vec::new();
    let mut in_file: HashSet<(String, String)> = HashSet::with_capacity(parsed.rows.len());
    for (i, row) in parsed.rows.iter().enumerate() {
        let key = natural_key(&row.name, &row.unit);
        let (change, changed) = match by_key.get(&key) {
            None => (Upserted::Added, Vec::new()),
            Some(r) => {
                // Only the columns the file has; an absent column keeps what is stored.
                let mut f = Vec::new();
                if p.email && r.email != row.email {
                    f.push("email");
                }
                if p.phone && r.phone != row.phone {
                    f.push("phone");
                }
                if p.aliases && r.aliases != row.aliases {
                    f.push("aliases");
                }
                if !r.active {
                    f.push("reactivated");
                }
                let change = if f.is_empty() {
                    Upserted::Unchanged
                } else {
                    Upserted::Updated
                };
                (change, f)
            }
        };
        if change != Upserted::Unchanged {
            listed.push(i);
        }
        in_file.insert(key);
        changes.push(change);
        fields.push(changed);
    }
    let mut move_outs = MoveOuts {
        requested: options.deactivate_missing,
        allow_mass: options.allow_mass_deactivate,
        unreadable: parsed.unreadable,
        ..MoveOuts::default()
    };
    for r in existing.iter().filter(|r| r.active) {
        move_outs.active += 1;
        let key = natural_key(&r.name, &r.unit);
        if in_file.contains(&key) || parsed.rejected_keys.contains(&key) {
            continue;
        }
        let m = Missing {
            id: r.id,
            name: r.name.clone(),
            unit: r.unit.clone(),
            waiting: waiting.get(&r.id).copied().unwrap_or(0),
        };
        if m.waiting > 0 {
            move_outs.held.push(m);
        } else {
            move_outs.deactivate.push(m);
        }
    }
    Plan {
        rows: parsed.rows,
        changes,
        fields,
        lines: parsed.lines,
        rejected: parsed.rejected,
        provided: parsed.provided,
        mapped: parsed.mapped,
        ignored: parsed.ignored,
        move_outs,
        listed,
    }
}

/// A dry run as text: the counts, every rejected line with its reason (these two exactly as
/// before move-outs and column mapping existed), then the columns read when the header is
/// not the plain one, each row that changes something, and the move-outs when asked for.
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
    if !plan.mapped.is_empty() {
        let read: Vec<String> = plan
            .mapped
            .iter()
            .map(|(t, col)| format!("{} = `{col}`", t.key()))
            .collect();
        let mut line = format!("columns: {}", read.join(", "));
        if !plan.ignored.is_empty() {
            let ignored: Vec<String> = plan.ignored.iter().map(|c| format!("`{c}`")).collect();
            line.push_str(&format!("; ignored: {}", ignored.join(", ")));
        }
        out.push(line);
    }
    let mut moves_said = false;
    for e in (plan.rejected.len()..plan.entries_len()).filter_map(|i| plan.entry(i)) {
        let kind = e.kind;
        if matches!(kind, EntryKind::Deactivate | EntryKind::KeepActive) && !moves_said {
            moves_said = true;
            out.extend(plan.move_outs_line("add --allow-mass-deactivate"));
        }
        out.push(match (kind, e.line) {
            (EntryKind::Add, Some(l)) => format!("add line {l}: {}", e.text),
            (EntryKind::Add, None) => format!("add: {}", e.text),
            (EntryKind::Update, Some(l)) => format!("update line {l}: {}", e.text),
            (EntryKind::Update, None) => format!("update: {}", e.text),
            (EntryKind::Deactivate, _) => format!("deactivate: {}", e.text),
            (EntryKind::KeepActive, _) => format!("keep active: {}", e.text),
            (EntryKind::Rejected, _) => continue,
        });
    }
    if !moves_said {
        out.extend(plan.move_outs_line("add --allow-mass-deactivate"));
    }
    out
}

/// A written import as text: the counts and every rejected line (as before move-outs
/// existed), then who was deactivated and who was kept active for their waiting packages.
pub fn done_lines(plan: &Plan, done: &Imported) -> Vec<String> {
    let mut out = vec![done.counts.to_string()];
    out.extend(
        plan.rejected
            .iter()
            .map(|r| format!("line {}: {}", r.line, r.reason)),
    );
    out.extend(
        done.deactivated
            .iter()
            .map(|r| format!("deactivated: {}", who(&r.name, &r.unit))),
    );
    if done.counts.moved_out.is_some() {
        out.extend(plan.move_outs.held.iter().map(|m| {
            format!(
                "kept active: {} ({})",
                who(&m.name, &m.unit),
                packages(m.waiting)
            )
        }));
    }
    out
}

#[cfg(test)]
mod tests;
