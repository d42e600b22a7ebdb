//! `reports REPORT …`: rows go from the query straight into the writer (CSV or aligned
//! text); with a stdout channel, out to the client in chunks as they come
//! (`reports::Stream`).

use super::{Output, ReportsArgs};
use crate::domain::Principal;
use crate::error::AppError;
use crate::ops::Ops;
use crate::reports;

pub(super) async fn run(
    a: ReportsArgs,
    p: &Principal,
    ops: &Ops,
    stdout: Option<tokio::sync::mpsc::Sender<Vec<u8>>>,
) -> Result<Output, AppError> {
    let report = reports::Report::parse(&a.report)
        .ok_or_else(|| AppError::Invalid(format!("unknown report `{}`", a.report)))?;
    // `--day D` is `--from D --to D` (clap refuses it together with either).
    let (from, to) = match a.day.as_deref() {
        Some(day) => (Some(day), Some(day)),
        None => (a.from.as_deref(), a.to.as_deref()),
    };
    let buf = reports::ChunkBuf::default();
    let mut stream = stdout.map(|tx| reports::Stream::new(buf.clone(), tx));
    let format = if a.csv { "csv" } else { "text" };
    let db = ops.db();
    if a.csv {
        let mut sink = reports::CsvSink::new(buf.clone());
        reports::export_streamed(db, p, report, from, to, format, &mut sink, stream.as_mut())
            .await?;
        sink.into_inner()?;
    } else {
        let mut sink = reports::TextSink::new(buf.clone());
        reports::export_streamed(db, p, report, from, to, format, &mut sink, stream.as_mut())
            .await?;
    }
    // Streamed: everything went out through the channel; otherwise it is all here.
    Ok(Output::ok(
        String::from_utf8_lossy(&buf.take()).into_owned(),
    ))
}
