//! `recipients import [--dry-run] < FILE.csv`: the admin CLI's import over SSH, for admins
//! of the session's facility. Same parsing, plan and output as `packtrack admin recipients
//! import`; `--dry-run` prints the preview and writes nothing.

use super::Output;
use crate::admin::import::preview_lines;
use crate::domain::Principal;
use crate::error::AppError;
use crate::ops::Ops;

/// Where the audit log says an import over SSH came from.
pub const SOURCE: &str = "ssh exec";

pub async fn run(
    stdin: Option<&[u8]>,
    dry_run: bool,
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
    let plan = ops.plan_import(p, csv).await?;
    let mut out = String::new();
    if dry_run {
        for line in preview_lines(&plan) {
            out.push_str(&line);
            out.push('\n');
        }
        return Ok(Output::ok(out));
    }
    let done = ops.apply_import(p, &plan, SOURCE, |_, _| {}).await?;
    out.push_str(&format!("{}\n", done.counts));
    for r in &plan.rejected {
        out.push_str(&format!("line {}: {}\n", r.line, r.reason));
    }
    Ok(Output::ok(out))
}
