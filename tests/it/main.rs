//! Integration tests: one binary, real PostgreSQL (a shared embedded cluster, a fresh
//! database per test; the binary-level tests start clusters of their own).

// clippy.toml allows unwrap/expect inside #[test] functions; the helpers these tests share
// are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod served;
mod support;

mod admin_cli;
mod admin_tabs;
mod audit_anchor;
mod authorised_proxies;
mod backup;
mod backup_pace;
mod bulk;
mod console_setup;
mod corrections;
mod crash_recovery;
mod credential_scope;
mod db_catalog;
mod db_isolation;
mod db_packages;
mod db_pickup;
mod exec_hardening;
mod exec_totals;
mod faults;
mod honest_errors;
mod import_moveouts;
mod index_memory;
mod kiosk;
mod kiosk_self_service;
mod kiosk_settings;
mod layering;
mod login_attacks;
mod notify;
mod pgbouncer;
mod pitr;
mod props;
mod proxy_protocol;
mod recipients_admin;
mod reports;
mod reports_parcels;
mod reports_pickup_rollup;
mod reports_screen;
mod reports_stream;
mod scan;
mod serve_demo;
mod session_bounds;
mod ssh_auth;
mod ssh_limits;
mod ssh_session;
mod ssh_support;
mod tui_e2e;
mod two_nodes;
mod unmatched_name;
