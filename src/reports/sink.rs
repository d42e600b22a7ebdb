//! Where report rows go: cells, the [`Sink`] trait and its three forms (aligned text, CSV, a
//! collected [`Table`] for screens), and the chunked [`Stream`] that hands output to a
//! channel as it fills.

use super::*;

/// One value of a report row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Date(NaiveDate),
    Count(i64),
    /// Hours, `None` when there is nothing to measure.
    Hours(Option<f64>),
    /// A local time of the facility, to the minute; `None`: not (yet) happened.
    Time(Option<NaiveDateTime>),
}

impl Cell {
    pub fn count(&self) -> Option<i64> {
        match self {
            Cell::Count(n) => Some(*n),
            _ => None,
        }
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Text(s) => f.pad(s),
            Cell::Date(d) => f.pad(&d.format("%Y-%m-%d").to_string()),
            Cell::Count(n) => f.pad(&n.to_string()),
            Cell::Hours(Some(h)) => f.pad(&format!("{h:.2}")),
            Cell::Hours(None) | Cell::Time(None) => f.pad(""),
            Cell::Time(Some(t)) => f.pad(&t.format("%Y-%m-%d %H:%M").to_string()),
        }
    }
}

/// Where report rows go, one at a time, as the query yields them.
pub trait Sink {
    fn header(&mut self, columns: &[Column]) -> Result<(), AppError>;
    fn row(&mut self, cells: &[Cell]) -> Result<(), AppError>;
    fn finish(&mut self) -> Result<(), AppError> {
        Ok(())
    }
    /// Pushes what the sink buffered into its writer (for streaming; see [`Stream`]).
    fn flush_rows(&mut self) -> Result<(), AppError> {
        Ok(())
    }
}

/// An `io::Write` whose bytes are taken out in chunks while a sink writes into it: the
/// writer of a streamed export.
#[derive(Debug, Clone, Default)]
pub struct ChunkBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl ChunkBuf {
    pub(super) fn bytes(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.bytes())
    }
}

impl Write for ChunkBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes of output sent at a time by a streamed export.
pub const STREAM_CHUNK: usize = 16 * 1024;

/// Where a streamed export's output goes while the query runs: full chunks of the sink's
/// [`ChunkBuf`] into a bounded channel (the SSH channel's writer reads it), so a large
/// export never sits in memory whole and a slow client slows the query down instead.
#[derive(Debug)]
pub struct Stream {
    buf: ChunkBuf,
    tx: tokio::sync::mpsc::Sender<Vec<u8>>,
    /// Bytes handed to the channel so far.
    pub sent: u64,
}

impl Stream {
    pub fn new(buf: ChunkBuf, tx: tokio::sync::mpsc::Sender<Vec<u8>>) -> Self {
        Self { buf, tx, sent: 0 }
    }

    /// Sends what the sink wrote, once it is a full chunk (`all`: whatever there is).
    pub(super) async fn pump<S: Sink + ?Sized>(
        &mut self,
        sink: &mut S,
        all: bool,
    ) -> Result<(), AppError> {
        sink.flush_rows()?;
        let len = self.buf.len();
        if len >= STREAM_CHUNK || (all && len > 0) {
            let chunk = self.buf.take();
            self.tx
                .send(chunk)
                .await
                .map_err(|_| AppError::Invalid("the client went away during the export".into()))?;
            self.sent += len as u64;
        }
        Ok(())
    }
}

pub(super) fn write_failed(e: impl fmt::Display) -> AppError {
    AppError::Invalid(format!("cannot write the report: {e}"))
}

/// CSV with a header row, quoted as RFC 4180, and safe to open in a spreadsheet.
///
/// Text cells carry what users typed (recipient names, logins, carriers, units, notes), so
/// one starting with `=`, `+`, `-`, `@`, tab or CR would run as a formula in Excel or
/// LibreOffice (CSV formula injection). Such a cell gets a leading `'` and is always
/// quoted, as OWASP advises. Dates, counts and hours are the server's own numbers and are
/// written as they are, so a spreadsheet still reads them as numbers.
pub struct CsvSink<W: Write> {
    writer: csv::Writer<W>,
}

impl<W: Write> CsvSink<W> {
    pub fn new(out: W) -> Self {
        Self {
            // The csv crate quotes per writer, not per field; `csv_field` quotes each field
            // itself so that a neutralised cell is always quoted, and the writer only joins
            // and terminates records.
            writer: csv::WriterBuilder::new()
                .quote_style(csv::QuoteStyle::Never)
                .from_writer(out),
        }
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(self) -> Result<W, AppError> {
        self.writer
            .into_inner()
            .map_err(|e| write_failed(e.error()))
    }
}

/// Characters that make a spreadsheet read a cell as a formula when they come first.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// One CSV field: text that could start a formula is neutralised with a leading `'` and
/// quoted; any other field is quoted when it holds a comma, quote or line break.
pub(super) fn csv_field(cell: &Cell) -> String {
    let text = cell.to_string();
    let formula = matches!(cell, Cell::Text(_)) && text.starts_with(FORMULA_STARTS);
    if formula {
        quoted(&format!("'{text}"))
    } else if text.contains([',', '"', '\r', '\n']) {
        quoted(&text)
    } else {
        text
    }
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

impl<W: Write> Sink for CsvSink<W> {
    fn header(&mut self, columns: &[Column]) -> Result<(), AppError> {
        self.writer
            .write_record(
                columns
                    .iter()
                    .map(|c| csv_field(&Cell::Text(c.name.into()))),
            )
            .map_err(write_failed)
    }

    fn row(&mut self, cells: &[Cell]) -> Result<(), AppError> {
        self.writer
            .write_record(cells.iter().map(csv_field))
            .map_err(write_failed)
    }

    fn finish(&mut self) -> Result<(), AppError> {
        self.writer.flush().map_err(write_failed)
    }

    fn flush_rows(&mut self) -> Result<(), AppError> {
        self.writer.flush().map_err(write_failed)
    }
}

/// Plain text in aligned columns: fixed widths per report, so each row is written as it
/// arrives (a longer value pushes its line out instead of re-measuring the table).
pub struct TextSink<W: Write> {
    out: W,
    columns: Vec<Column>,
}

impl<W: Write> TextSink<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            columns: Vec::new(),
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    pub(super) fn line(&mut self, values: &[String]) -> Result<(), AppError> {
        let mut line = String::new();
        for (i, (c, v)) in self.columns.iter().zip(values).enumerate() {
            let w = c.width.max(c.name.len());
            if i > 0 {
                line.push_str("  ");
            }
            let last = i + 1 == self.columns.len();
            if c.numeric {
                line.push_str(&format!("{v:>w$}"));
            } else if last {
                line.push_str(v);
            } else {
                line.push_str(&format!("{v:<w$}"));
            }
        }
        line.push('\n');
        self.out.write_all(line.as_bytes()).map_err(write_failed)
    }
}

impl<W: Write> Sink for TextSink<W> {
    fn header(&mut self, columns: &[Column]) -> Result<(), AppError> {
        self.columns = columns.to_vec();
        let names: Vec<String> = columns.iter().map(|c| c.name.to_string()).collect();
        self.line(&names)
    }

    fn row(&mut self, cells: &[Cell]) -> Result<(), AppError> {
        let values: Vec<String> = cells
            .iter()
            .map(|c| match c {
                Cell::Hours(None) | Cell::Time(None) => "-".to_string(),
                other => other.to_string(),
            })
            .collect();
        self.line(&values)
    }

    fn finish(&mut self) -> Result<(), AppError> {
        self.out.flush().map_err(write_failed)
    }

    fn flush_rows(&mut self) -> Result<(), AppError> {
        self.out.flush().map_err(write_failed)
    }
}

/// Keeps the rows (for screens and charts; report tables are small).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Sink for Table {
    fn header(&mut self, columns: &[Column]) -> Result<(), AppError> {
        self.columns = columns.to_vec();
        Ok(())
    }

    fn row(&mut self, cells: &[Cell]) -> Result<(), AppError> {
        self.rows.push(cells.to_vec());
        Ok(())
    }
}
