//! The pure core's costs per operation (issue 8): label parsing, `update` + `view` of the
//! busiest screens through the sessions' terminal backend (with the bytes each frame sends),
//! and sealing a secret. No database, no network: these are the server's CPU per keystroke
//! or scan, to compare with the end-to-end numbers of examples/loadtest.rs.
//!
//! Run: `cargo bench --bench core` (env: ITERS=20000). Prints p50/p99 per operation.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
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

fn main() {
    let iters = env_usize("ITERS", 20_000);
    println!("packtrack core bench: {iters} iterations per row, one thread");
    println!(
        "{:<44} {:>10} {:>10} {:>10}",
        "operation", "p50", "p99", "bytes"
    );

    // -- labels
    let mut samples = Vec::with_capacity(iters);
    for i in 0..iters {
        let input = LABELS[i % LABELS.len()];
        let t = Instant::now();
        black_box(packtrack::label::parse(black_box(input)));
        samples.push(t.elapsed());
    }
    row("label::parse (mixed scanner input)", &mut samples, None);

    // -- sealing
    let sealer = SecretsKey::from_bytes(&[7; 32]);
    let secret = b"smtp-password-of-a-plausible-length-0123456789";
    let mut seal = Vec::with_capacity(iters);
    let mut open = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        let sealed = sealer.seal("facility:1", black_box(secret));
        seal.push(t.elapsed());
        let t = Instant::now();
        let plain = sealer.open("facility:1", &sealed).expect("opens");
        open.push(t.elapsed());
        assert_eq!(plain, secret);
    }
    row("secrets seal (AES-256-GCM, 46 B)", &mut seal, None);
    row("secrets open", &mut open, None);

    // -- update + view, as a session does per keystroke
    let theme = Theme::builtin("default").expect("default theme");
    let directory = synthetic_directory(10_000, 42);
    let index = RecipientIndex::new(directory.clone());
    let queries = ["s", "sm", "smi", "smit", "smith", "smit", "smi", "sm"];
    let founds: Vec<Vec<Found>> = queries
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

    // Recipients screen: a key, then the search answer for it (two frames per keystroke).
    let mut m = model();
    let mut term = terminal();
    update(&mut m, key(KeyCode::Char('r')));
    draw(&mut term, &m, &theme);
    let mut key_frame = Vec::with_capacity(iters);
    let mut answer_frame = Vec::with_capacity(iters);
    let mut bytes = 0usize;
    for i in 0..iters {
        let q = i % queries.len();
        // Typing forward, then Backspace back to the shorter query.
        let k = if q == 0 {
            // Clear the field, then type the first letter.
            update(&mut m, ctrl('u'));
            key(KeyCode::Char('s'))
        } else if q <= 4 {
            key(KeyCode::Char(queries[q].chars().last().expect("letter")))
        } else {
            key(KeyCode::Backspace)
        };
        let t = Instant::now();
        let effects = update(&mut m, k);
        bytes += draw(&mut term, &m, &theme);
        key_frame.push(t.elapsed());
        let seq = effects
            .iter()
            .find_map(|e| match e {
                Effect::Search { seq, .. } => Some(*seq),
                _ => None,
            })
            .unwrap_or(m.seq);
        let t = Instant::now();
        update(
            &mut m,
            Msg::SearchResults {
                seq,
                found: Ok(founds[q].clone()),
            },
        );
        bytes += draw(&mut term, &m, &theme);
        answer_frame.push(t.elapsed());
    }
    let per_key = bytes / iters;
    row("recipients: key + echo frame", &mut key_frame, None);
    row(
        "recipients: search answer + results frame",
        &mut answer_frame,
        Some(per_key),
    );

    // Packages list with 500 rows: cursor down/up.
    let mut m = model();
    let mut term = terminal();
    update(&mut m, key(KeyCode::Char('l')));
    update(&mut m, Msg::Packages(Ok((0..500).map(package).collect())));
    draw(&mut term, &m, &theme);
    let mut samples = Vec::with_capacity(iters);
    let mut bytes = 0usize;
    for i in 0..iters {
        let k = if (i / 30) % 2 == 0 {
            KeyCode::Down
        } else {
            KeyCode::Up
        };
        let t = Instant::now();
        update(&mut m, key(k));
        bytes += draw(&mut term, &m, &theme);
        samples.push(t.elapsed());
    }
    row(
        "packages list (500 rows): cursor key + frame",
        &mut samples,
        Some(bytes / iters),
    );

    // Intake: a scanner burst (18 characters and Enter), each key drawn.
    let mut m = model();
    let mut term = terminal();
    update(&mut m, key(KeyCode::Char('i')));
    draw(&mut term, &m, &theme);
    let mut samples = Vec::with_capacity(iters);
    let mut bytes = 0usize;
    let scan = "1Z999AA10123456784";
    let mut i = 0;
    while samples.len() < iters {
        let code = match i % (scan.len() + 2) {
            n if n < scan.len() => KeyCode::Char(scan.as_bytes()[n] as char),
            n if n == scan.len() => KeyCode::Enter,
            _ => KeyCode::Esc,
        };
        i += 1;
        let t = Instant::now();
        update(&mut m, key(code));
        bytes += draw(&mut term, &m, &theme);
        samples.push(t.elapsed());
        if matches!(code, KeyCode::Esc) {
            // Back to a fresh scan field.
            update(&mut m, key(KeyCode::Char('i')));
            draw(&mut term, &m, &theme);
        }
    }
    row(
        "intake: scanner key + frame",
        &mut samples,
        Some(bytes / iters),
    );
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
        status: "waiting".into(),
        location: format!("Shelf {}", (b'A' + (i % 6) as u8) as char),
        pickup_code: Some(format!("{:06}", 100_000 + i)),
        received_at: received,
        picked_up_at: None,
    }
}

fn row(name: &str, samples: &mut [Duration], bytes: Option<usize>) {
    samples.sort_unstable();
    let pct = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name:<44} {:>10} {:>10} {:>10}",
        fmt(pct(0.5)),
        fmt(pct(0.99)),
        bytes.map_or_else(|| "-".to_string(), |b| b.to_string())
    );
}

fn fmt(d: Duration) -> String {
    if d < Duration::from_micros(10) {
        format!("{} ns", d.as_nanos())
    } else {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
