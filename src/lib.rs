//! packtrack: a mailroom package tracker served as a terminal UI over SSH.

pub mod admin; // admin CLI actions: demo seed, recipients import
pub mod app; // the interface's pure core: model, messages, update, keymap
pub mod audit_anchor; // audit chain heads anchored outside the database: signed checkpoints
pub mod auth; // argon2id, TOTP, SSH public keys
pub mod backup; // encrypted, verified backups: pg_dump snapshot + manifest in an age file
#[cfg(feature = "bench-data")]
pub mod benchkit; // latency summaries for end-to-end benches and examples (not in the server)
pub mod cli; // clap commands and their dispatch
pub mod config; // settings and limits
pub mod db; // PostgreSQL: embedded cluster, tenant transactions, queries
pub mod domain; // newtypes and rules, no IO
pub mod effects; // runs the interface's effects, answers with messages
pub mod error; // error enums with user-facing messages
pub mod label; // tracking-number recognition and check digits (pure, table-driven)
pub mod live; // LISTEN/NOTIFY fan-out of package changes per facility
pub mod logging; // tracing setup and PII masking
pub mod metrics; // counters and the Prometheus endpoint (`serve --metrics`)
pub mod notify; // transactional outbox and delivery channels
pub mod ops; // mailroom operations shared by exec commands and the interface
pub mod ops_admin; // admin console: members' keys and TOTP, facility settings, outbox
pub mod reports; // facility reports aggregated in SQL, streamed as text or CSV
pub mod search; // nucleo-backed recipient index per facility
pub mod secrets; // AES-256-GCM sealing of stored secrets
pub mod ssh; // SSH server, sessions, exec commands
pub mod term; // terminal input, wire backend, colour depth (no SSH)
pub mod ui; // views (pure drawing)
