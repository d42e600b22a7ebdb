//! `packtrack admin demo` / `serve --demo`: a realistic, deterministic demo facility.

use chrono::{Duration, Utc};
use serde_json::json;
use sqlx::PgPool;

use crate::auth::{password, pubkey, totp};
use crate::db::recipients::NewRecipient;
use crate::db::unscoped::Admin;
use crate::db::{audit, packages, recipients};
use crate::domain::{Flags, Location, Note, Role};
use crate::error::AppError;
use crate::secrets::SecretsKey;

pub const SLUG: &str = "demo";
pub const PASSWORD: &str = "demo-password";
pub const USERS: [(&str, &str, Role); 3] = [
    ("admin", "Demo Admin", Role::Admin),
    ("clerk", "Demo Clerk", Role::Operator),
    ("viewer", "Demo Viewer", Role::Viewer),
];
const RECIPIENTS: usize = 2000;
const PACKAGES: usize = 300;

/// What the seed did, for the login instructions.
#[derive(Debug, Default)]
pub struct Seeded {
    pub created: bool,
    pub totp_uris: Vec<(String, String)>,
    pub local_keys: Vec<String>,
}

/// Deterministic pseudo-random numbers (same demo on every machine).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[rustfmt::skip]
const FIRST: &[&str] = &[
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Ava", "Elijah", "Sophia", "Mateo",
    "Isabella", "Lucas", "Mia", "Levi", "Evelyn", "Asher", "Harper", "James", "Luna", "Leo",
    "Camila", "Grayson", "Gianna", "Ezra", "Elizabeth", "Luca", "Eleanor", "Ethan", "Ella",
    "Aiden", "Abigail", "Wyatt", "Sofia", "Sebastian", "Avery", "Jack", "Scarlett", "Daniel",
    "Emily", "Hudson", "Aria", "Kai", "Penelope", "Owen", "Chloe", "Samuel", "Layla", "Henry",
    "Mila", "Jackson", "Nora", "Hana", "Yuki", "Priya", "Arjun", "Mei", "Wei", "Fatima", "Omar",
    "Zara", "Ines", "Tomás", "Chiara", "Björn", "Aoife", "Siobhán", "Kwame", "Amara",
];
#[rustfmt::skip]
const LAST: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Kim", "Patel", "Chen", "Wang",
    "Okafor", "Müller", "O'Brien", "Kowalski", "Haddad", "Yamamoto", "Rossi", "Dubois",
];

fn demo_recipients() -> Vec<NewRecipient> {
    let mut rng = Lcg(2026);
    let mut out = Vec::with_capacity(RECIPIENTS);
    let mut seen = std::collections::HashSet::new();
    while out.len() < RECIPIENTS {
        let first = FIRST[rng.below(FIRST.len())];
        let last = LAST[rng.below(LAST.len())];
        let building = ["A", "B", "C", "D"][rng.below(4)];
        let unit = format!("{building}-{}{:02}", 1 + rng.below(12), 1 + rng.below(24));
        let name = format!("{first} {last}");
        if !seen.insert((name.clone(), unit.clone())) {
            continue;
        }
        let ascii = |s: &str| {
            s.chars()
                .filter(char::is_ascii_alphabetic)
                .collect::<String>()
                .to_lowercase()
        };
        let n = out.len();
        out.push(NewRecipient {
            email: (rng.below(10) < 8)
                .then(|| format!("{}.{}{n}@example.org", ascii(first), ascii(last))),
            phone: (rng.below(10) < 5).then(|| format!("+1555010{:04}", n % 10_000)),
            aliases: if rng.below(10) == 0 {
                vec![format!("{} {}", &first[..1], last)]
            } else {
                vec![]
            },
            name,
            unit,
        });
    }
    out
}

/// UPS `1Z` + 6 shipper chars + 2 service digits + 7 digits + check digit.
fn ups_number(rng: &mut Lcg) -> String {
    let body: String = (0..15)
        .map(|i| {
            if i < 6 && rng.below(3) == 0 {
                (b'A' + rng.below(26) as u8) as char
            } else {
                char::from(b'0' + rng.below(10) as u8)
            }
        })
        .collect();
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let v = if b.is_ascii_digit() {
                u32::from(b - b'0')
            } else {
                (u32::from(b) - 3) % 10
            };
            if i % 2 == 1 { v * 2 } else { v }
        })
        .sum();
    format!("1Z{body}{}", (10 - sum % 10) % 10)
}

/// USPS IMpb: `9400` + 17 digits + GS1 mod-10 check digit (22 digits).
fn usps_number(rng: &mut Lcg) -> String {
    let body: String = std::iter::once("9400".to_string())
        .chain((0..17).map(|_| rng.below(10).to_string()))
        .collect();
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// FedEx Express 12 digits: 11 digits + mod-11 check digit (weights 1,3,7 from the right).
fn fedex_number(rng: &mut Lcg) -> String {
    let body: String = (0..11).map(|_| rng.below(10).to_string()).collect();
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * [1, 3, 7][i % 3])
        .sum();
    format!("{body}{}", sum % 11 % 10)
}

/// Seeds the demo facility when the database has no facility at all. Idempotent.
pub async fn seed(owner: &PgPool, keys: &SecretsKey) -> Result<Seeded, AppError> {
    let admin = Admin::new(owner);
    let mut seeded = Seeded::default();
    if admin.facility_count().await? > 0 {
        return Ok(seeded);
    }
    admin.create_facility(SLUG, "Demo Mailroom").await?;
    let hash = password::hash(PASSWORD.to_string()).await;
    for (login, display, role) in USERS {
        admin
            .add_user(login, display, SLUG, role, Some(hash.clone()))
            .await?;
        let secret = totp::new_secret();
        admin
            .set_totp(login, |uid| keys.seal(&format!("user:{}", uid.0), &secret))
            .await?;
        seeded.totp_uris.push((
            login.to_string(),
            totp::otpauth_uri(&secret, &format!("{login}@{SLUG}")),
        ));
    }
    seeded.local_keys = register_local_keys(&admin).await;

    let mut tx = admin.tenant(SLUG).await?;
    for r in demo_recipients() {
        recipients::upsert(&mut tx, &r).await?;
    }
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM recipients ORDER BY id")
        .fetch_all(tx.conn())
        .await?;
    let clerk: i64 = sqlx::query_scalar("SELECT id FROM users WHERE login = 'clerk'")
        .fetch_one(tx.conn())
        .await?;
    let mut rng = Lcg(7);
    let now = Utc::now();
    let locations = [
        "Shelf A",
        "Shelf B",
        "Shelf C",
        "Cold room",
        "Oversize cage",
        "Front desk",
    ];
    for i in 0..PACKAGES {
        let (tracking, carrier) = match rng.below(3) {
            0 => (ups_number(&mut rng), "ups"),
            1 => (usps_number(&mut rng), "usps"),
            _ => (fedex_number(&mut rng), "fedex"),
        };
        let recipient = ids[rng.below(ids.len())];
        let intake = packages::intake(
            &mut tx,
            &packages::NewPackage {
                tracking,
                carrier: Some(carrier.to_string()),
                recipient_id: Some(recipient),
                addressed_to: None,
                location: Location::new(locations[rng.below(locations.len())])
                    .map_err(|e| AppError::Invalid(e.0))?,
                flags: Flags {
                    perishable: rng.below(20) == 0,
                    oversized: rng.below(15) == 0,
                    damaged: rng.below(40) == 0,
                    signature_required: rng.below(10) == 0,
                },
                note: Note::default(),
            },
        )
        .await?;
        let id = intake.package.id;
        let received = now - Duration::minutes(rng.below(30 * 24 * 60) as i64);
        sqlx::query("UPDATE packages SET received_at = $2, received_by = $3 WHERE id = $1; ")
            .bind(id)
            .bind(received)
            .bind(clerk)
            .execute(tx.conn())
            .await?;
        sqlx::query("UPDATE package_events SET at = $2, actor_id = $3 WHERE package_id = $1")
            .bind(id)
            .bind(received)
            .bind(clerk)
            .execute(tx.conn())
            .await?;
        // Older parcels are mostly collected; a few went back or missing.
        let age_days = (now - received).num_days();
        let roll = rng.below(100);
        let (status, kind) = if age_days >= 2 && roll < 70 {
            ("picked_up", "picked_up")
        } else if age_days >= 10 && roll < 80 {
            ("returned", "returned")
        } else if age_days >= 10 && roll < 83 {
            ("lost", "lost")
        } else {
            continue;
        };
        let at =
            received + Duration::minutes(60 + rng.below((age_days as usize).max(1) * 1440) as i64);
        let at = at.min(now);
        sqlx::query(
            "UPDATE packages SET status = $2, picked_up_at = CASE WHEN $2 = 'picked_up' THEN $3 END, \
                 picked_up_by = CASE WHEN $2 = 'picked_up' THEN $4 END, \
                 picked_up_name = CASE WHEN $2 = 'picked_up' THEN \
                     (SELECT name FROM recipients r WHERE r.id = packages.recipient_id) END \
             WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(at)
        .bind(clerk)
        .execute(tx.conn())
        .await?;
        sqlx::query(
            "INSERT INTO package_events (facility_id, package_id, kind, actor_id, source, detail, at) \
             VALUES ($1, $2, $3, $4, 'demo', $5, $6)",
        )
        .bind(tx.facility().0)
        .bind(id)
        .bind(kind)
        .bind(clerk)
        .bind(json!({ "reason": if kind == "picked_up" { "" } else { "demo history" }, "seq": i }))
        .bind(at)
        .execute(tx.conn())
        .await?;
    }
    audit::record(
        &mut tx,
        "demo.seed",
        SLUG,
        json!({ "recipients": RECIPIENTS, "packages": PACKAGES }),
    )
    .await?;
    tx.commit().await?;
    seeded.created = true;
    Ok(seeded)
}

/// Registers `~/.ssh/id_*.pub` of the local user for the demo admin and clerk, so the printed
/// `ssh` line works without a password.
async fn register_local_keys(admin: &Admin<'_>) -> Vec<String> {
    let Some(home) = std::env::var_os("HOME") else {
        return vec![];
    };
    let dir = std::path::Path::new(&home).join(".ssh");
    let mut found = vec![];
    for name in ["id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"] {
        let Ok(line) = std::fs::read_to_string(dir.join(name)) else {
            continue;
        };
        let Ok(key) = pubkey::parse_line(&line) else {
            continue;
        };
        for login in ["admin", "clerk"] {
            let _ = admin.add_key(login, &key).await;
        }
        found.push(format!(
            "{} ({})",
            dir.join(name).display(),
            key.fingerprint
        ));
    }
    found
}

#[cfg(test)]
mod tests;
