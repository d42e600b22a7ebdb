//! Exec commands (`ssh host COMMAND`): plain output, exit 0 on success, 1 on a user error
//! with one line on stderr. The same operations and permission checks as the interface.

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::db::packages::{Handover, Package, Total};
use crate::domain::Principal;
use crate::error::AppError;
use crate::logging::mask;
use crate::ops::{IntakeRequest, Ops};

mod import;
mod output;
#[cfg(test)]
mod parse_props;
mod reports_out;
#[cfg(test)]
mod tests;

/// What a command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub status: u32,
}

impl Output {
    fn ok(stdout: String) -> Self {
        Self {
            stdout,
            stderr: String::new(),
            status: 0,
        }
    }

    fn user_error(msg: impl std::fmt::Display) -> Self {
        Self {
            stdout: String::new(),
            stderr: format!("{msg}\n"),
            status: 1,
        }
    }
}

/// The commands, as `help` (and a shell request without a terminal) prints them.
pub const HELP: &str = "\
packtrack commands (ssh HOST COMMAND):
  whoami                                        LOGIN FACILITY ROLE
  recipients search QUERY [--limit N] [--json] [--reveal]
                                                fuzzy search by name, unit, email, alias;
                                                best N matches (default 20, at most 1000);
                                                e-mail masked; --reveal (admins, audited)
                                                shows it in full
  recipients import [--dry-run] [--map MAP] [--deactivate-missing] < FILE.csv
                                                admins; header name,unit,email,phone,aliases
                                                or an export's: Unit/Apt, Name or First and
                                                Last Name, Email, Phone/Mobile recognised,
                                                other columns ignored; MAP names columns:
                                                \"name=Resident Name,unit=Apt\";
                                                --deactivate-missing: active residents not
                                                in the file are deactivated, except those
                                                with packages waiting; more than 20% needs
                                                --allow-mass-deactivate too;
                                                --dry-run: what would change, nothing written
  packages list [--status S] [--limit N] [--json]
                                                newest first, N of them (default 500, at
                                                most 5000); S: waiting, unmatched (waiting,
                                                no recipient), picked_up, returned, lost
  packages intake --tracking TEXT --recipient ID [--location LOC] [--json]
  packages pickup (--code CODE | --id ID) [--name RECEIVER] [--json]
  reports REPORT [--from DATE] [--to DATE | --day DATE] [--csv]
                                                admins; REPORT: daily, aging, carriers,
                                                pickup-time, staff, parcels (each parcel
                                                received or picked up); DATE: YYYY-MM-DD, a
                                                day of the facility (default: the last 30
                                                days; --day: that day only)
  help                                          this text
Numbers (N, ID) are positive. When more exist than shown, stderr says how many.
Without a command (and with a terminal), ssh opens the full-screen interface.
";

/// Most recipients one search shows.
const MAX_SEARCH: usize = 1000;

/// A count or id on the command line: a positive whole number. Negative numbers reach this
/// parser (`allow_negative_numbers`) so that `--limit -1` says what is wrong with it instead
/// of clap's "unexpected argument '-1'".
fn positive(s: &str) -> Result<i64, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        Ok(_) => Err("must be positive".into()),
        Err(_) => Err("must be a positive whole number".into()),
    }
}

/// `packages list --limit`: positive, at most [`crate::ops::MAX_LIST`].
fn list_limit(s: &str) -> Result<i64, String> {
    let n = positive(s)?;
    if n > crate::ops::MAX_LIST {
        return Err(format!("at most {}", crate::ops::MAX_LIST));
    }
    Ok(n)
}

/// `recipients search --limit`: positive, at most [`MAX_SEARCH`].
fn search_limit(s: &str) -> Result<usize, String> {
    let n = positive(s)?;
    usize::try_from(n)
        .ok()
        .filter(|n| *n <= MAX_SEARCH)
        .ok_or_else(|| format!("at most {MAX_SEARCH}"))
}

/// The line on stderr when a list was cut (the rows stay clean on stdout for scripts): how
/// many there are in all, and what shows more: a larger `--limit` below the cap, a narrower
/// query at it.
fn cut_note(shown: usize, total: Total, max: usize, narrow: &str) -> String {
    let all = match total {
        Total::Exact(n) => n.to_string(),
        Total::Over(n) => format!("more than {n}"),
    };
    if shown >= max {
        format!("showing {shown} of {all}, the most one command shows: {narrow}\n")
    } else {
        format!("showing {shown} of {all}; use --limit N (at most {max})\n")
    }
}

#[derive(Debug, Parser)]
#[command(name = "packtrack", no_binary_name = true, disable_help_flag = true)]
#[command(disable_help_subcommand = true)]
struct Cmd {
    #[command(subcommand)]
    cmd: Top,
}

#[derive(Debug, Subcommand)]
enum Top {
    Whoami,
    Help,
    #[command(subcommand)]
    Recipients(RecipientsCmd),
    #[command(subcommand)]
    Packages(PackagesCmd),
    Reports(ReportsArgs),
}

#[derive(Debug, Args)]
struct ReportsArgs {
    #[arg(value_parser = ["daily", "aging", "carriers", "pickup-time", "staff", "parcels"])]
    report: String,
    #[arg(long)]
    from: Option<String>,
    #[arg(long)]
    to: Option<String>,
    /// One day: `--from DAY --to DAY` (the Reports screen's export line uses it).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    day: Option<String>,
    #[arg(long)]
    csv: bool,
}

#[derive(Debug, Subcommand)]
enum RecipientsCmd {
    Search {
        query: Vec<String>,
        #[arg(long, default_value_t = 20, allow_negative_numbers = true, value_parser = search_limit)]
        limit: usize,
        #[arg(long)]
        json: bool,
        /// Include inactive recipients.
        #[arg(long)]
        all: bool,
        /// Full e-mail addresses (admins; audited as `recipient.reveal`).
        #[arg(long)]
        reveal: bool,
    },
    /// CSV on stdin (admins).
    Import {
        #[arg(long)]
        dry_run: bool,
        /// Which column fills which field: `name=Resident Name,unit=Apt`. Checked here, so
        /// a bad map is refused before any stdin is read.
        #[arg(long)]
        map: Option<crate::admin::import::ColumnMap>,
        /// Deactivate active residents missing from the file (move-outs).
        #[arg(long)]
        deactivate_missing: bool,
        /// Confirm deactivating more than 20% of the active residents.
        #[arg(long, requires = "deactivate_missing")]
        allow_mass_deactivate: bool,
    },
}

#[derive(Debug, Subcommand)]
enum PackagesCmd {
    List {
        /// Checked by the operation (one list of statuses for every interface).
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 500, allow_negative_numbers = true, value_parser = list_limit)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    Intake(IntakeArgs),
    Pickup {
        #[arg(long, conflicts_with = "id", required_unless_present = "id")]
        code: Option<String>,
        #[arg(long, allow_negative_numbers = true, value_parser = positive)]
        id: Option<i64>,
        /// Who collects; defaults to the recipient's name.
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
struct IntakeArgs {
    #[arg(long)]
    tracking: String,
    #[arg(long, allow_negative_numbers = true, value_parser = positive)]
    recipient: i64,
    #[arg(long, default_value = "")]
    location: String,
    #[arg(long)]
    json: bool,
}

/// Recipient JSON of the contract (`email` masked unless revealed).
#[derive(Serialize)]
struct RecipientJson<'a> {
    id: i64,
    name: &'a str,
    unit: &'a str,
    email: Option<String>,
    score: u32,
}

/// Whether a command line reads its input from stdin (it then runs at the client's EOF).
/// Decided by the parser itself: a line it refuses (`recipients import typo`) runs at once
/// and is refused, instead of first taking up to the import limit of stdin.
pub fn reads_stdin(line: &str) -> bool {
    matches!(
        parse(line),
        Ok(Some(Cmd {
            cmd: Top::Recipients(RecipientsCmd::Import { .. })
        }))
    )
}

/// Runs one command line for an authenticated principal.
pub async fn run(line: &str, principal: &Principal, ops: &Ops) -> Output {
    run_full(line, None, principal, ops, None).await
}

/// [`run`] with what the client sent on stdin (for commands that read it).
pub async fn run_with_stdin(
    line: &str,
    stdin: Option<&[u8]>,
    principal: &Principal,
    ops: &Ops,
) -> Output {
    run_full(line, stdin, principal, ops, None).await
}

/// [`run`], with a channel for standard output that a command may stream into while it runs
/// (large report exports); whatever it streamed is not in the returned output.
pub async fn run_streamed(
    line: &str,
    principal: &Principal,
    ops: &Ops,
    stdout: Option<tokio::sync::mpsc::Sender<Vec<u8>>>,
) -> Output {
    run_full(line, None, principal, ops, stdout).await
}

/// [`run`] with stdin (commands that read it) and a stdout stream (commands that stream).
pub async fn run_full(
    line: &str,
    stdin: Option<&[u8]>,
    principal: &Principal,
    ops: &Ops,
    stdout: Option<tokio::sync::mpsc::Sender<Vec<u8>>>,
) -> Output {
    // Fault injection for the tests of panic containment; not in release builds.
    #[cfg(debug_assertions)]
    if line.trim() == "debug-panic" {
        panic!("fault injection: debug-panic");
    }
    let cmd = match parse(line) {
        Ok(Some(cmd)) => cmd,
        Ok(None) => return Output::ok(HELP.to_string()),
        Err(out) => return out,
    };
    let stdout = stdout.map(output::clean_stream);
    let out = match execute(cmd.cmd, stdin, principal, ops, stdout).await {
        Ok(out) => out,
        // Database errors as what the user can do; their detail in the log only.
        Err(e) => Output::user_error(e.user_message()),
    };
    out.cleaned()
}

/// The command a line names: `None` for an empty line (help), or the one-line user error to
/// answer with (escaped, like all output). Pure, so its properties are tested on any line.
fn parse(line: &str) -> Result<Option<Cmd>, Output> {
    // A NUL cannot be part of any argument; taking the line without it would run something
    // other than what was sent.
    if line.contains('\0') {
        return Err(Output::user_error(
            "the command line holds a NUL byte; remove it and try again",
        ));
    }
    let args = shell_words::split(line)
        .map_err(|e| Output::user_error(format!("cannot parse the command line: {e}")).cleaned())?;
    if args.is_empty() {
        return Ok(None);
    }
    Cmd::try_parse_from(&args).map(Some).map_err(|e| {
        // clap explains over several lines; the contract wants one: its first paragraph
        // (which names what is wrong, e.g. the missing `--tracking <TRACKING>` on the line
        // after "the following required arguments were not provided:"), joined.
        let text = e.to_string();
        let first = text
            .lines()
            .skip_while(|l| l.trim().is_empty())
            .take_while(|l| !l.trim().is_empty())
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ");
        let first = match first.trim_start_matches("error: ") {
            "" => "invalid command",
            s => s,
        };
        // clap quotes the offending argument: escaped like all output.
        Output::user_error(format!("{first}; try `help`")).cleaned()
    })
}

async fn execute(
    cmd: Top,
    stdin: Option<&[u8]>,
    p: &Principal,
    ops: &Ops,
    stdout: Option<tokio::sync::mpsc::Sender<Vec<u8>>>,
) -> Result<Output, AppError> {
    Ok(match cmd {
        Top::Recipients(RecipientsCmd::Import {
            dry_run,
            map,
            deactivate_missing,
            allow_mass_deactivate,
        }) => {
            let options = crate::admin::import::ImportOptions {
                map: map.unwrap_or_default(),
                deactivate_missing,
                allow_mass_deactivate,
            };
            import::run(stdin, dry_run, &options, p, ops).await?
        }
        Top::Help => Output::ok(HELP.to_string()),
        Top::Whoami => Output::ok(format!("{} {} {}\n", p.login(), p.slug(), p.role())),
        Top::Recipients(RecipientsCmd::Search {
            query,
            limit,
            json,
            all,
            reveal,
        }) => {
            // Contact data is masked as on the screens; in full only for an admin who asks,
            // and that is audited before anything is shown.
            if reveal {
                Ops::require_recipient_admin(p)?;
            }
            let (found, total) = ops
                .search_recipients_counted(p, &query.join(" "), limit, all)
                .await?;
            let total = Total::Exact(i64::try_from(total).unwrap_or(i64::MAX));
            if reveal && !found.is_empty() {
                let ids: Vec<i64> = found.iter().map(|f| f.recipient.id).collect();
                ops.reveal_recipients(p, &ids, "exec search").await?;
            }
            let email = |e: &Option<String>| -> Option<String> {
                e.as_deref().map(|e| {
                    if reveal {
                        e.to_string()
                    } else {
                        mask::email(e)
                    }
                })
            };
            let mut out = String::new();
            for f in &found {
                let r = &f.recipient;
                if json {
                    out.push_str(&to_json(&RecipientJson {
                        id: r.id,
                        name: &r.name,
                        unit: &r.unit,
                        email: email(&r.email),
                        score: f.hit.score,
                    }));
                    out.push('\n');
                } else {
                    out.push_str(&format!(
                        "{:>7}  {:<32}  {:<10}  {}\n",
                        r.id,
                        r.name,
                        r.unit,
                        email(&r.email).unwrap_or_default()
                    ));
                }
            }
            let mut out = Output::ok(out);
            if !total.complete(found.len()) {
                out.stderr = cut_note(
                    found.len(),
                    total,
                    MAX_SEARCH,
                    "search for more of the name",
                );
            }
            out
        }
        Top::Packages(PackagesCmd::List {
            status,
            limit,
            json,
        }) => {
            // The rows and how many match in all, from one statement.
            let (list, total) = ops
                .list_packages_counted(p, status.as_deref(), limit)
                .await?;
            let mut out = Output::ok(packages_out(&list, json));
            if !total.complete(list.len()) {
                let max = crate::ops::MAX_LIST as usize;
                out.stderr = cut_note(list.len(), total, max, "narrow with --status");
            }
            out
        }
        Top::Packages(PackagesCmd::Intake(a)) => {
            let intake = ops
                .intake(
                    p,
                    &IntakeRequest {
                        tracking: a.tracking,
                        recipient_id: Some(a.recipient),
                        location: a.location,
                        ..Default::default()
                    },
                )
                .await?;
            Output::ok(packages_out(std::slice::from_ref(&intake.package), a.json))
        }
        Top::Packages(PackagesCmd::Pickup {
            code,
            id,
            name,
            json,
        }) => {
            let done = match (code, id) {
                // The code names one package; the recipient's others stay. Looked up and
                // handed over in one transaction: a parcel another counter took meanwhile
                // is "not found", like any code that is not waiting.
                (Some(code), _) => ops.pickup_by_code(p, &code, name).await?,
                (None, Some(id)) => {
                    let first = ops.package(p, id).await?.0;
                    let receiver = name
                        .or(first.recipient_name)
                        .unwrap_or_else(|| "unknown".into());
                    let handover = Handover {
                        receiver,
                        proxy: false,
                    };
                    ops.pickup(p, &[id], &handover).await?
                }
                (None, None) => return Err(AppError::Invalid("give --code or --id".into())),
            };
            Output::ok(packages_out(&done, json))
        }
        Top::Reports(a) => reports_out::run(a, p, ops, stdout).await?,
    })
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".into())
}

fn packages_out(list: &[Package], json: bool) -> String {
    let mut out = String::new();
    for pkg in list {
        if json {
            out.push_str(&to_json(pkg));
        } else {
            out.push_str(&format!(
                "{:>7}  {:<22}  {:<9}  {:<9}  {:<28}  {:<12}  {}  {}",
                pkg.id,
                pkg.tracking,
                pkg.carrier.as_deref().unwrap_or("-"),
                pkg.status,
                pkg.recipient_name.as_deref().unwrap_or("(unmatched)"),
                pkg.location,
                pkg.pickup_code.as_deref().unwrap_or("------"),
                pkg.received_at.format("%Y-%m-%d %H:%M"),
            ));
        }
        out.push('\n');
    }
    out
}
