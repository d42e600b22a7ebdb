#!/usr/bin/env bash
# Licences, bans and sources of the dependency tree, by deny.toml. Run by hand when adding or
# upgrading a dependency, not on every CI run (the first run builds cargo-deny, minutes).
# Advisories are left out: the advisory database cannot be fetched from these machines.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo deny --version >/dev/null 2>&1; then
    echo "deny: installing cargo-deny from crates.io"
    cargo install --locked cargo-deny
fi
cargo deny check licenses bans sources
