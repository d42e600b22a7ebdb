//! The admin CLI end to end, through the real binary on an empty data dir: it creates its
//! own embedded cluster, and every invocation starts and stops it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::Sandbox;

/// A good recipients file: lines 2, 3 and 6 are valid; 4, 5, 7 and 8 are not.
const CSV: &str = "\
name,unit,email,phone,aliases
Ada Lovelace,101,ada@Example.org,+1 (555) 010-1234,Ada;A. Lovelace
Grace Hopper,102,,,
,103,nobody@example.org,,
Alan Turing,104,not-an-email,,
Edsger Dijkstra,105,,555-0105,
Barbara Liskov,106,,12,
ada lovelace,101,,,
";

/// A fresh ed25519 public key line and its fingerprint as OpenSSH prints it; a fixed valid
/// line when ssh-keygen is not installed.
fn public_key(dir: &Path) -> (PathBuf, Option<String>) {
    let private = dir.join("id_ed25519");
    let generated = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "clerk@test", "-f"])
        .arg(&private)
        .output()
        .is_ok_and(|o| o.status.success());
    let public = dir.join("id_ed25519.pub");
    if !generated {
        std::fs::write(
            &public,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl \
             clerk@test\n",
        )
        .unwrap();
        return (public, None);
    }
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(&public)
        .output()
        .expect("ssh-keygen -l");
    let fingerprint = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .map(str::to_string);
    (public, fingerprint)
}

#[test]
fn admin_cli_end_to_end_from_an_empty_data_dir() {
    let s = Sandbox::new();
    assert!(!s.data_dir().exists());

    // --- facility -------------------------------------------------------------------
    let r = s.ok(
        &[
            "admin",
            "facility",
            "create",
            "--slug",
            "north",
            "--name",
            "North Hall",
        ],
        None,
    );
    assert!(r.stdout.contains("facility north created"), "{r:?}");
    assert!(s.data_dir().join("postgres").join("PG_VERSION").is_file());
    assert!(
        !s.postmaster_pid_file().exists(),
        "the cluster should be stopped when the command exits"
    );
    let r = s.run(
        &[
            "admin", "facility", "create", "--slug", "north", "--name", "Again",
        ],
        None,
    );
    assert!(!r.ok && r.stderr.contains("already exists"), "{r:?}");

    // --- users ----------------------------------------------------------------------
    let add_clerk = [
        "admin",
        "user",
        "add",
        "--login",
        "clerk",
        "--facility",
        "north",
        "--role",
        "operator",
        "--password-stdin",
    ];
    let r = s.run(&add_clerk, Some("short\n"));
    assert!(!r.ok, "a 5-character password must be refused: {r:?}");
    assert!(r.stderr.contains("at least 8 characters"), "{r:?}");
    // "user added" (not "membership set") proves the refused attempt created nothing.
    let r = s.ok(&add_clerk, Some("correct horse battery\n"));
    assert!(
        r.stdout.contains("user added: clerk in north as operator"),
        "{r:?}"
    );
    let r = s.ok(
        &[
            "admin",
            "user",
            "add",
            "--login",
            "boss",
            "--facility",
            "north",
            "--role",
            "admin",
        ],
        None,
    );
    assert!(
        r.stdout.contains("user added: boss in north as admin"),
        "{r:?}"
    );
    // --- keys -----------------------------------------------------------------------
    let (key_file, fingerprint) = public_key(s.path());
    let key = key_file.to_str().unwrap();
    let r = s.ok(
        &[
            "admin",
            "user",
            "add-key",
            "--login",
            "clerk",
            "--key-file",
            key,
        ],
        None,
    );
    assert!(r.stdout.contains("SHA256:"), "{r:?}");
    if let Some(fp) = &fingerprint {
        assert!(
            r.stdout.contains(fp.as_str()),
            "expected ssh-keygen's {fp}: {r:?}"
        );
    }
    let r = s.run(
        &[
            "admin",
            "user",
            "add-key",
            "--login",
            "clerk",
            "--key-file",
            key,
        ],
        None,
    );
    assert!(!r.ok && r.stderr.contains("already registered"), "{r:?}");

    let garbage = s.path().join("garbage.pub");
    std::fs::write(
        &garbage,
        "ssh-ed25519 this-is-not-base64 someone@somewhere\n",
    )
    .unwrap();
    let r = s.run(
        &[
            "admin",
            "user",
            "add-key",
            "--login",
            "clerk",
            "--key-file",
            garbage.to_str().unwrap(),
        ],
        None,
    );
    assert!(!r.ok, "{r:?}");
    assert!(
        r.stderr.contains("garbage.pub") && r.stderr.contains("not a valid OpenSSH public key"),
        "the error should name the file and the problem: {r:?}"
    );
    assert_eq!(r.stderr.trim().lines().count(), 1, "one clear line: {r:?}");

    // --- TOTP -----------------------------------------------------------------------
    // The first write created it: audit checkpoints are signed with a key derived from it.
    let secrets_key = s.keys_dir().join("secrets.key");
    assert!(secrets_key.exists());
    let r = s.ok(&["admin", "user", "totp-enroll", "--login", "clerk"], None);
    let uri = r.stdout.trim();
    assert!(uri.starts_with("otpauth://totp/"), "{r:?}");
    assert_eq!(
        uri.lines().count(),
        1,
        "no QR code when stdout is not a terminal: {r:?}"
    );
    let secret = uri
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("secret="))
        .expect("secret= in the URI")
        .to_string();
    assert!(
        secret.bytes().all(|b| b.is_ascii_alphanumeric()),
        "base32 secret: {secret}"
    );
    let mode = std::fs::metadata(&secrets_key)
        .expect("the secrets key file is created on first use")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "secrets key mode {:o}", mode & 0o777);

    // --- recipients import ----------------------------------------------------------
    let csv = s.path().join("residents.csv");
    std::fs::write(&csv, CSV).unwrap();
    let import = [
        "admin",
        "recipients",
        "import",
        "--facility",
        "north",
        csv.to_str().unwrap(),
    ];
    let r = s.ok(&import, None);
    assert!(
        r.stdout
            .contains("added 3, updated 0, unchanged 0, rejected 4"),
        "{r:?}"
    );
    for (line, why) in [
        (4, "name is required"),
        (5, "email"),
        (7, "phone"),
        (8, "duplicate of line 2"),
    ] {
        assert!(
            r.stdout
                .lines()
                .any(|l| l.starts_with(&format!("line {line}: ")) && l.contains(why)),
            "expected `line {line}: …{why}…`: {r:?}"
        );
    }
    let r = s.ok(&import, None);
    assert!(
        r.stdout
            .contains("added 0, updated 0, unchanged 3, rejected 4"),
        "re-import must not add anything: {r:?}"
    );
    // A changed row is an update, a new one an addition; nothing is duplicated.
    std::fs::write(
        &csv,
        CSV.replace(
            "Grace Hopper,102,,,",
            "Grace Hopper,102,grace@example.org,,",
        ) + "Katherine Johnson,107,,,\n",
    )
    .unwrap();
    let r = s.ok(&import, None);
    assert!(
        r.stdout.contains("added 1, updated 1, unchanged 2"),
        "{r:?}"
    );

    // --- db-url ---------------------------------------------------------------------
    let r = s.ok(&["admin", "db-url"], None);
    assert!(
        r.stdout.starts_with("postgresql://packtrack_owner:"),
        "{r:?}"
    );

    // --- audit ----------------------------------------------------------------------
    // north's chain: facility.create, user.add ×2, key.add, totp.enroll, import ×3.
    let r = s.ok(&["admin", "audit", "verify"], None);
    assert!(
        r.stdout
            .contains("audit chain intact: 8 entries in 1 facilities"),
        "{r:?}"
    );
    // What the database holds, in one psql run (each run starts and stops the cluster).
    let row = s.psql(&format!(
        "SELECT (SELECT password_hash FROM users WHERE login = 'clerk'), \
                (SELECT length(totp_secret) > 0 \
                        AND position(convert_to('{secret}', 'UTF8') IN totp_secret) = 0 \
                 FROM users WHERE login = 'clerk'), \
                (SELECT count(*) || ' ' || count(DISTINCT lower(name)) FROM recipients), \
                (SELECT string_agg(id::text, ' ' ORDER BY seq) FROM audit_log), \
                (SELECT action FROM audit_log WHERE seq = 2)"
    ));
    let fields: Vec<&str> = row.split('|').collect();
    let [hash, sealed, recipients, ids, action] = fields[..] else {
        panic!("unexpected psql output: {row}");
    };
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let params = hash.split('$').nth(3).unwrap_or("");
    let param = |k: &str| -> u32 {
        params
            .split(',')
            .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('=')?.parse().ok())
            .unwrap_or(0)
    };
    assert!(
        param("m") >= 19 * 1024 && param("t") >= 2 && param("p") >= 1,
        "argon2id parameters below OWASP's minimum: {params}"
    );

    assert_eq!(
        sealed, "t",
        "the TOTP secret must be stored, and sealed (not in the clear)"
    );
    assert_eq!(recipients, "4 4", "four recipients, no duplicates");
    let ids: Vec<&str> = ids.split(' ').collect();
    assert_eq!(ids.len(), 8, "{ids:?}");

    // Edit one entry as the owner (who may, and bypasses RLS): verify names it.
    assert_eq!(action, "user.add");
    s.psql("UPDATE audit_log SET action = 'x' WHERE seq = 2");
    let r = s.run(&["admin", "audit", "verify"], None);
    assert!(!r.ok, "a tampered chain must not verify: {r:?}");
    assert!(
        r.stderr.contains(&format!("audit entry id {} ", ids[1])) && r.stderr.contains("seq 2"),
        "verify should name the edited entry (id {}): {r:?}",
        ids[1]
    );
    // Put it back (the content decides, so the chain verifies again up to seq 3 — else
    // the next report would name seq 2 again) and delete an entry from the middle: the
    // one after it no longer links.
    s.psql(
        "UPDATE audit_log SET action = 'user.add' WHERE seq = 2; \
         DELETE FROM audit_log WHERE seq = 4",
    );
    let r = s.run(&["admin", "audit", "verify"], None);
    assert!(!r.ok, "a chain with a hole must not verify: {r:?}");
    assert!(
        r.stderr.contains(&format!("audit entry id {} ", ids[4])),
        "verify should name the entry after the deleted one (id {}): {r:?}",
        ids[4]
    );

    // Every invocation stopped the cluster it started.
    assert!(
        !s.postmaster_pid_file().exists(),
        "postmaster.pid left behind in {}",
        s.data_dir().display()
    );
    s.assert_cluster_stopped();
}
