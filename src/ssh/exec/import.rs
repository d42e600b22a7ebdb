//! `recipients import [--dry-run] [--map SPEC] [--deactivate-missing [--allow-mass-deactivate]]
//! < FILE.csv`: the admin CLI's import over SSH, for admins of the session's facility. Same
//! parsing, plan and output as `packtrack admin recipients import`; `--dry-run` prints the
//! preview and writes nothing.

use super::Output;
use crate::admin::import::{ImportOptions, done_lines, preview_lines};
use crate::domain::Principal;
use crate::error::AppError;
use crate::ops::Ops;

/// Where the audit log says an import over SSH came from.
pub const SOURCE: &str = "ssh exec";

pub async fn run(
    stdin: Option<&[u8]>,
    dry_run: bool,
    options: &ImportOptions,
    p: &Principal,
    ops: &Ops,
) -> Result<Output, AppError> {
    // Non-admins are refused before anything else (the server never reads their input).
    Ops::require_recipient_admin(p)?;
    let csv = stdin.unwrap_or_default();
    if csv.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::Invalid(
            "no CSV on stdin: ssh HOST recipients import < FILE.csv".into(),
        ));
    }
    let plan = ops.plan_import_with(p, csv, options).await?;
    let lines = if dry_run {
        preview_lines(&plan)
    } else {
        if let Some(refusal) = plan.move_outs.refusal() {
            return Err(AppError::Invalid(format!(
                "{}; nothing written",
                refusal.message("add --allow-mass-deactivate")
            )));
        }
        let done = ops.apply_import(p, &plan, SOURCE, |_, _| {}).await?;
        done_lines(&plan, &done)
    };
    let mut out = String::new();
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    Ok(Output::ok(out))
}
