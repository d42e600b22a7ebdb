#!/usr/bin/env bash
# What anchoring the audit chains costs (issue 13 item 10): the server's once-a-minute
# checkpoint (heads query + anchored-entries query + one signed, fsynced line), the line
# size, reading the checkpoint file back and a full `audit verify`, on a durable embedded
# cluster with FACILITIES facilities of ENTRIES audit entries each (examples/anchor_bench.rs).
# Needs cargo and the PostgreSQL server binaries. Prints RESULT lines; asserts nothing.
#
# Usage: scripts/audit-anchor-cost.sh   (env: FACILITIES=100 ENTRIES=1000 ROUNDS=50
#                                        PROFILE=dev|release)
set -euo pipefail
cd "$(dirname "$0")/.."
FACILITIES=${FACILITIES:-100}
ENTRIES=${ENTRIES:-1000}
ROUNDS=${ROUNDS:-50}
PROFILE=${PROFILE:-dev}
flag=()
[ "$PROFILE" = release ] && flag=(--release)
echo "machine: $(nproc) cores, $(uname -sr); load: $(cut -d' ' -f1-3 /proc/loadavg); profile $PROFILE"
cargo run -q "${flag[@]}" --example anchor_bench -- \
    --facilities "$FACILITIES" --entries "$ENTRIES" --rounds "$ROUNDS"
