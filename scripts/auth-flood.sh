#!/usr/bin/env bash
# Login flood budget (issue 13, item 4), loopback only, against the release build:
#
#   While one address (127.0.0.1) floods keyboard-interactive logins with FLOOD (48)
#   parallel clients, a key login from another address (127.0.0.2) stays under 2x its
#   quiet time, and a correct password+TOTP login from there completes in under 1 s.
#   Also prints the server's CPU time and memory over the flood. A second run spreads the
#   flooding clients over 48 addresses (127.0.1.N), so only the global limits (the short
#   hashing queue, MaxStartups) stand between them and the server's memory.
#
# Usage: scripts/auth-flood.sh     (env: FLOOD=48 RUNS=30 KEEP=1 keeps the temp dir,
#                                   NO_BUILD=1 uses the existing release build)
# Needs: cargo, the PostgreSQL server binaries, ssh-keygen. For measurement, not CI.
set -euo pipefail

FLOOD=${FLOOD:-48}
RUNS=${RUNS:-30}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
WORK=$(mktemp -d /tmp/auth-flood.XXXXXX)
chmod 711 "$WORK"
PT_PID=
cleanup() {
    [ -n "$PT_PID" ] && kill "$PT_PID" 2>/dev/null && wait "$PT_PID" 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "${NO_BUILD:-}" ]; then
    echo ">> cargo build --release (packtrack + examples/auth_flood)" >&2
    cargo build --release --quiet --bin packtrack --example auth_flood
fi
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
BIN="$TARGET_DIR/release/packtrack"
PROBE="$TARGET_DIR/release/examples/auth_flood"
PT() { "$BIN" --data-dir "$WORK/data" --keys-dir "$WORK/keys" "$@"; }

PT admin facility create --slug flood --name "Flood Test" >/dev/null
ssh-keygen -q -t ed25519 -N '' -f "$WORK/owner" >/dev/null
PT admin user add --login owner --facility flood --role admin >/dev/null
PT admin user add-key --login owner --key-file "$WORK/owner.pub" >/dev/null
KBD=()
for i in 1 2 3 4 5; do
    echo "night$i-correct horse" | PT admin user add --login "night$i" --facility flood \
        --role operator --password-stdin >/dev/null
    uri=$(PT admin user totp-enroll --login "night$i" | grep -o 'otpauth://[^ ]*' | head -1)
    secret=$(printf '%s' "$uri" | sed -E 's/.*[?&]secret=([A-Z2-7]+).*/\1/')
    KBD+=(--kbd "night$i+flood:night$i-correct horse:$secret")
done

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PACKTRACK_LOG=warn "$BIN" --data-dir "$WORK/data" --keys-dir "$WORK/keys" \
    serve --listen "127.0.0.1:$PORT" >/dev/null 2>"$WORK/serve.log" &
PT_PID=$!
for _ in $(seq 1 100); do
    grep -q "listening on" "$WORK/serve.log" 2>/dev/null && break
    sleep 0.1
done
grep -q "listening on" "$WORK/serve.log" || { cat "$WORK/serve.log" >&2; exit 1; }

echo ">> flood: $FLOOD clients from 127.0.0.1; measured logins from 127.0.0.2" >&2
"$PROBE" --addr "127.0.0.1:$PORT" --key "$WORK/owner" --user owner+flood "${KBD[@]}" \
    --flood "$FLOOD" --runs "$RUNS" --server-pid "$PT_PID"
echo ">> flood: $FLOOD clients, each from its own address (127.0.1.N)" >&2
"$PROBE" --addr "127.0.0.1:$PORT" --key "$WORK/owner" --user owner+flood "${KBD[@]}" \
    --flood "$FLOOD" --runs "$RUNS" --server-pid "$PT_PID" --spread
