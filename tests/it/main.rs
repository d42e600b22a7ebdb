//! Integration tests: one binary, real PostgreSQL (a shared embedded cluster, a fresh
//! database per test).

mod support;

mod db_isolation;
mod ssh_auth;
mod ssh_limits;
mod ssh_session;
mod ssh_support;
mod tui_e2e;
