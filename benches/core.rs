//! The pure core's costs per operation (issue 8): label parsing, `update` + `view` of the
//! busiest screens through the sessions' terminal backend, and sealing a secret. No database,
//! no network: these are the server's CPU per keystroke or scan, to compare with the
//! end-to-end numbers of examples/loadtest.rs.
//!
//! Run: `cargo bench --bench core` (divan; `DIVAN_SAMPLE_COUNT=N` to change the 20,000 samples).
//! Every operation is timed one call per sample, like the hand timer this replaced, so divan's
//! median is the old p50. The bytes each frame sends are printed after divan's table.

use std::cell::RefCell;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{TimeZone, Utc};
use divan::Bencher;
use packtrack::app::model::Me;
use packtrack::app::{Effect, Model, Msg, update};
use packtrack::db::packages::Package;
use packtrack::domain::Role;
use packtrack::ops::Found;
use packtrack::search::{RecipientIndex, synthetic_directory};
use packtrack::secrets::SecretsKey;
use packtrack::term::input::{KeyCode, KeyEvent, Mods};
use packtrack::term::wire::WireBackend;
use packtrack::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::layout::Size;

/// Scanner input as it arrives: clean, spaced, lowercase, GS1-prefixed, and unreadable.
const LABELS: [&str; 10] = [
    "1Z999AA10123456784",
    "1z 999 aa1 0123 4567 84",
    "9400111899223197428490",
    "420221539400111899223197428490",
    "449044304137821",
    "RA123456785US",
    "TBA123456789000",
    "JJD014600003828431548",
    "(00)340123450000000000",
    "not a tracking number",
];

/// Samples per operation, one call each (the old `ITERS`).
const SAMPLES: u32 = 20_000;

/// Frame bytes sent and frames drawn by the timed part of a screen bench, for the bytes column.
struct FrameBytes {
    name: &'static str,
    bytes: AtomicUsize,
    frames: AtomicUsize,
}

impl FrameBytes {
    const fn new(name: &'static str) -> Self {
        Self {
            name,
            bytes: AtomicUsize::new(0),
            frames: AtomicUsize::new(0),
        }
    }

    fn add(&self, bytes: usize) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.frames.fetch_add(1, Ordering::Relaxed);
    }

    fn per_frame(&self) -> Option<usize> {
        let frames = self.frames.load(Ordering::Relaxed);
        (frames > 0).then(|| self.bytes.load(Ordering::Relaxed) / frames)
    }
}

static RECIPIENTS: FrameBytes = FrameBytes::new("recipients: key + answer (per key)");
static PACKAGES: FrameBytes = FrameBytes::new("packages list (500 rows): cursor key + frame");
static INTAKE: FrameBytes = FrameBytes::new("intake: scanner key + frame");
static IMPORT: FrameBytes = FrameBytes::new("import preview (200,000 rows): scroll key + frame");

fn main() {
    divan::main();
    println!("\nbytes sent per timed frame");
    for f in [&RECIPIENTS, &PACKAGES, &INTAKE, &IMPORT] {
        if let Some(b) = f.per_frame() {
            println!("  {:<46} {b:>6}", f.name);
        }
    }
}

#[divan::bench(name = "label::parse (mixed scanner input)", sample_count = SAMPLES, sample_size = 1)]
fn label_parse(b: Bencher) {
    let mut i = 0;
    b.bench_local(|| {
        i += 1;
        packtrack::label::parse(black_box(LABELS[i % LABELS.len()]))
    });
}

const SECRET: &[u8] = b"smtp-password-of-a-plausible-length-0123456789";

#[divan::bench(name = "secrets seal (AES-256-GCM, 46 B)", sample_count = SAMPLES, sample_size = 1)]
fn secrets_seal(b: Bencher) {
    let sealer = SecretsKey::from_bytes(&[7; 32]);
    b.bench_local(|| sealer.seal("facility:1", black_box(SECRET)));
}

#[divan::bench(name = "secrets open", sample_count = SAMPLES, sample_size = 1)]
fn secrets_open(b: Bencher) {
    let sealer = SecretsKey::from_bytes(&[7; 32]);
    let sealed = sealer.seal("facility:1", SECRET);
    assert_eq!(sealer.open("facility:1", &sealed).expect("opens"), SECRET);
    b.bench_local(|| {
        sealer
            .open("facility:1", black_box(&sealed))
            .expect("opens")
    });
}

/// The recipients screen typing "smith" forward and Backspacing back, each key answered by
/// its search results: two frames per keystroke, timed by two benches.
struct Typing {
    m: Model,
    term: Terminal<WireBackend>,
    theme: Theme,
    founds: Vec<Vec<Found>>,
    i: usize,
    seq: u64,
}

const QUERIES: [&str; 8] = ["s", "sm", "smi", "smit", "smith", "smit", "smi", "sm"];

impl Typing {
    fn new() -> Self {
        let theme = Theme::builtin("default").expect("default theme");
        let directory = synthetic_directory(10_000, 42);
        let index = RecipientIndex::new(directory.clone());
        let founds = QUERIES
            .iter()
            .map(|q| {
                index
                    .search(q, 50, false)
                    .into_iter()
                    .map(|hit| Found {
                        recipient: directory
                            .iter()
                            .find(|r| r.id == hit.id)
                            .expect("hit is in the directory")
                            .clone(),
                        hit,
                    })
                    .collect()
            })
            .collect();
        let mut m = model();
        let mut term = terminal();
        update(&mut m, key(KeyCode::Char('r')));
        draw(&mut term, &m, &theme);
        Self {
            m,
            term,
            theme,
            founds,
            i: 0,
            seq: 0,
        }
    }

    /// The next key of the cycle (clearing the field first at its start).
    fn next_key(&mut self) -> Msg {
        let q = self.i % QUERIES.len();
        if q == 0 {
            update(&mut self.m, ctrl('u'));
            key(KeyCode::Char('s'))
        } else if q <= 4 {
            key(KeyCode::Char(QUERIES[q].chars().last().expect("letter")))
        } else {
            key(KeyCode::Backspace)
        }
    }

    /// The key and its echo frame; remembers the search it asked for.
    fn press(&mut self, k: Msg) -> usize {
        let effects = update(&mut self.m, k);
        let bytes = draw(&mut self.term, &self.m, &self.theme);
        self.seq = effects
            .iter()
            .find_map(|e| match e {
                Effect::Search { seq, .. } => Some(*seq),
                _ => None,
            })
            .unwrap_or(self.m.seq);
        bytes
    }

    fn answer_msg(&self) -> Msg {
        Msg::SearchResults {
            seq: self.seq,
            found: Ok(self.founds[self.i % QUERIES.len()].clone()),
        }
    }

    /// The search answer and the results frame; moves on to the next key.
    fn answer(&mut self, msg: Msg) -> usize {
        update(&mut self.m, msg);
        let bytes = draw(&mut self.term, &self.m, &self.theme);
        self.i += 1;
        bytes
    }
}

#[divan::bench(name = "recipients: key + echo frame", sample_count = SAMPLES, sample_size = 1)]
fn recipients_key(b: Bencher) {
    let t = RefCell::new(Typing::new());
    // Bytes of the last key's echo frame, until its answer is drawn; `None` before the first.
    let key_bytes = RefCell::new(None);
    b.with_inputs(|| {
        let mut t = t.borrow_mut();
        if let Some(bytes) = key_bytes.borrow_mut().take() {
            // The previous key's answer: the other bench's timed part, untimed here.
            let answer = t.answer_msg();
            RECIPIENTS.add(bytes + t.answer(answer));
        }
        t.next_key()
    })
    .bench_local_values(|k| {
        let bytes = t.borrow_mut().press(k);
        *key_bytes.borrow_mut() = Some(bytes);
    });
}

#[divan::bench(
    name = "recipients: search answer + results frame",
    sample_count = SAMPLES,
    sample_size = 1
)]
fn recipients_answer(b: Bencher) {
    let t = RefCell::new(Typing::new());
    b.with_inputs(|| {
        let mut t = t.borrow_mut();
        let k = t.next_key();
        t.press(k);
        t.answer_msg()
    })
    .bench_local_values(|msg| t.borrow_mut().answer(msg));
}

#[divan::bench(
    name = "packages list (500 rows): cursor key + frame",
    sample_count = SAMPLES,
    sample_size = 1
)]
fn packages_cursor(b: Bencher) {
    let theme = Theme::builtin("default").expect("default theme");
    let mut m = model();
    let mut term = terminal();
    update(&mut m, key(KeyCode::Char('l')));
    update(
        &mut m,
        Msg::Packages(Ok((0..500).map(package).collect::<Vec<_>>().into())),
    );
    draw(&mut term, &m, &theme);
    let mut i = 0;
    b.bench_local(|| {
        let k = if (i / 30) % 2 == 0 {
            KeyCode::Down
        } else {
            KeyCode::Up
        };
        i += 1;
        update(&mut m, key(k));
        PACKAGES.add(draw(&mut term, &m, &theme));
    });
}

/// Intake: a scanner burst (18 characters and Enter), each key drawn, then Esc and a fresh
/// scan field (untimed).
#[divan::bench(name = "intake: scanner key + frame", sample_count = SAMPLES, sample_size = 1)]
fn intake_scan(b: Bencher) {
    const SCAN: &str = "1Z999AA10123456784";
    let theme = Theme::builtin("default").expect("default theme");
    let screen = RefCell::new((model(), terminal(), 0usize, false));
    {
        let (m, term, _, _) = &mut *screen.borrow_mut();
        update(m, key(KeyCode::Char('i')));
        draw(term, m, &theme);
    }
    b.with_inputs(|| {
        let (m, term, i, after_esc) = &mut *screen.borrow_mut();
        if *after_esc {
            // Back to a fresh scan field.
            update(m, key(KeyCode::Char('i')));
            draw(term, m, &theme);
        }
        let code = match *i % (SCAN.len() + 2) {
            n if n < SCAN.len() => KeyCode::Char(SCAN.as_bytes()[n] as char),
            n if n == SCAN.len() => KeyCode::Enter,
            _ => KeyCode::Esc,
        };
        *i += 1;
        *after_esc = matches!(code, KeyCode::Esc);
        key(code)
    })
    .bench_local_values(|k| {
        let (m, term, _, _) = &mut *screen.borrow_mut();
        update(m, k);
        INTAKE.add(draw(term, m, &theme));
    });
}

/// Rows of the import benches: the most an import takes (`config::MAX_IMPORT_ROWS`).
const IMPORT_ROWS: usize = 200_000;

/// A property-management export of `IMPORT_ROWS` residents (first and last name, unit,
/// e-mail, mobile, an ignored column), and the facility's roster it is planned against:
/// the same residents, every fourth with another phone, every tenth missing from the file.
fn import_case() -> (String, Vec<packtrack::db::recipients::Recipient>) {
    let mut csv = String::from("Unit,First Name,Last Name,E-mail,Mobile,Balance\n");
    let mut roster = Vec::new();
    for i in 0..IMPORT_ROWS {
        let unit = format!("{}-{}", (b'A' + (i % 20) as u8) as char, i / 20);
        let phone = format!("555{:07}", i);
        if i % 10 != 0 {
            csv.push_str(&format!(
                "{unit},Resident,N{i},r{i}@example.org,{phone},$0.00\n"
            ));
        }
        roster.push(packtrack::db::recipients::Recipient {
            id: i as i64 + 1,
            name: format!("Resident N{i}"),
            unit,
            email: Some(format!("r{i}@example.org")),
            phone: Some(if i % 4 == 0 {
                "5550000000".into()
            } else {
                phone
            }),
            aliases: vec![],
            active: true,
        });
    }
    (csv, roster)
}

/// Parse, validate and plan a 200,000-row export against a 200,000-resident roster, with
/// move-outs: what the server does between Enter on the columns and the preview (the plan
/// runs in an effect task, not in a keystroke; the database reads are not in this number).
#[divan::bench(
    name = "import: parse + plan, 200,000-row export",
    sample_count = 10,
    sample_size = 1
)]
fn import_plan(b: Bencher) {
    use packtrack::admin::import::{self, ImportOptions};
    let (csv, roster) = import_case();
    let options = ImportOptions {
        deactivate_missing: true,
        allow_mass_deactivate: false,
        ..ImportOptions::default()
    };
    b.bench_local(|| {
        let parsed = import::parse_with(csv.as_bytes(), IMPORT_ROWS, &options.map).expect("header");
        black_box(import::plan_with(
            parsed,
            &roster,
            &Default::default(),
            &options,
        ))
    });
}

/// The preview of that plan: ↓/↑ through its 70,000 entries, each key drawn. Only the
/// visible window of entries is built per frame.
#[divan::bench(
    name = "import preview (200,000 rows): scroll key + frame",
    sample_count = SAMPLES,
    sample_size = 1
)]
fn import_preview_scroll(b: Bencher) {
    use packtrack::admin::import::{self, ImportOptions};
    use packtrack::app::recipients::admin::{ImportState, ImportStep, Mode};
    let (csv, roster) = import_case();
    let options = ImportOptions {
        deactivate_missing: true,
        allow_mass_deactivate: false,
        ..ImportOptions::default()
    };
    let parsed = import::parse_with(csv.as_bytes(), IMPORT_ROWS, &options.map).expect("header");
    let plan = import::plan_with(parsed, &roster, &Default::default(), &options);
    let theme = Theme::builtin("default").expect("default theme");
    let mut m = model();
    m.me.role = Role::Admin;
    update(&mut m, key(KeyCode::Char('r')));
    m.recipients_admin.mode = Mode::Import(ImportState {
        step: ImportStep::Preview(Box::new(plan)),
        ..ImportState::default()
    });
    let mut term = terminal();
    draw(&mut term, &m, &theme);
    let mut i = 0;
    b.bench_local(|| {
        let k = if (i / 30) % 2 == 0 {
            KeyCode::Down
        } else {
            KeyCode::Up
        };
        i += 1;
        update(&mut m, key(k));
        IMPORT.add(draw(&mut term, &m, &theme));
    });
}

fn model() -> Model {
    Model::new(
        Me {
            login: "clerk".into(),
            slug: "demo".into(),
            facility_name: "Demo Mailroom".into(),
            role: Role::Operator,
        },
        80,
        24,
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap(),
    )
}

fn terminal() -> Terminal<WireBackend> {
    Terminal::new(WireBackend::cleared(Size::new(80, 24))).expect("terminal")
}

/// Draws the model; returns the bytes the frame sends.
fn draw(term: &mut Terminal<WireBackend>, m: &Model, theme: &Theme) -> usize {
    term.draw(|f| ui::view(f, m, theme)).expect("draw");
    term.backend_mut().take().len()
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent {
        code,
        mods: Mods::NONE,
    })
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent {
        code: KeyCode::Char(c),
        mods: Mods::CTRL,
    })
}

fn package(i: i64) -> Package {
    let received =
        Utc.with_ymd_and_hms(2026, 11, 24, 11, 0, 0).unwrap() - chrono::Duration::hours(i);
    Package {
        id: i + 1,
        tracking: format!("1Z999AA1{:010}", i),
        carrier: Some("ups".into()),
        recipient_id: Some(i % 97 + 1),
        recipient_name: Some(format!("Resident {}", i % 97)),
        recipient_unit: Some(format!(
            "{}-{}",
            (b'A' + (i % 6) as u8) as char,
            100 + i % 97
        )),
        status: "waiting".into(),
        location: format!("Shelf {}", (b'A' + (i % 6) as u8) as char),
        pickup_code: Some(format!("{:06}", 100_000 + i)),
        addressed_to: None,
        received_at: received,
        picked_up_at: None,
        handling: None,
    }
}
