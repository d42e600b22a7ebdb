#!/usr/bin/env bash
# Keystroke latency while a backup runs (issue 18's budget: the server's keystroke p99 does
# not move by more than 2 ms), loopback only:
#
#   1. `serve --demo` on a fresh data dir, PACKAGES extra packages seeded (generate_series);
#   2. examples/loadtest `typing` (search as you type, SESSIONS sessions, DURATION s) alone;
#   3. the same while `admin backup --to DIR` runs in a loop beside it;
#   4. the p50/p99 of both, and how many backups ran meanwhile.
#
# Usage: scripts/backup-keystroke.sh   (env: PACKAGES=100000 SESSIONS=4 DURATION=30
#                                       THINK_MS=100 PROFILE=release|debug NO_BUILD=1 KEEP=1
#                                       VERIFY=1)
set -euo pipefail

PACKAGES=${PACKAGES:-100000}
SESSIONS=${SESSIONS:-4}
DURATION=${DURATION:-30}
THINK_MS=${THINK_MS:-100}
PROFILE=${PROFILE:-release}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ -z "${NO_BUILD:-}" ]; then
    flag=(); [ "$PROFILE" = release ] && flag=(--release)
    cargo build "${flag[@]}" --bin packtrack --example loadtest >&2
fi
BIN=$ROOT/target/$PROFILE/packtrack
LOAD=$ROOT/target/$PROFILE/examples/loadtest
WORK=$(mktemp -d /tmp/backup-keystroke.XXXXXX)
# As root the embedded cluster runs as the `postgres` user, which must traverse to the data.
chmod 711 "$WORK"
SERVE=""
LOOP=""
cleanup() {
    [ -n "$LOOP" ] && kill "$LOOP" 2>/dev/null || true
    [ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null && wait "$SERVE" 2>/dev/null || true
    [ -z "${KEEP:-}" ] && rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/home/.ssh"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/home/.ssh/id_ed25519"
pt() { ${PT_NICE:+nice -n "$PT_NICE"} "$BIN" --data-dir "$WORK/data" --keys-dir "$WORK/keys" "$@"; }

# serve --demo registers the key in $HOME/.ssh for the demo users.
(cd "$WORK" && HOME=$WORK/home exec "$BIN" --data-dir "$WORK/data" --keys-dir "$WORK/keys" \
    serve --demo --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.log") &
SERVE=$!
for _ in $(seq 1200); do
    grep -q '^listening on' "$WORK/serve.log" 2>/dev/null && break
    kill -0 "$SERVE" 2>/dev/null || break
    sleep 0.1
done
ADDR=$(sed -n 's/^listening on //p' "$WORK/serve.log" | head -1)
[ -n "$ADDR" ] || { cat "$WORK/serve.log" >&2; exit 1; }
ssh-keygen -y -f "$WORK/keys/ssh_host_ed25519_key" >"$WORK/host.pub"

echo "seeding $PACKAGES packages ..." >&2
pt admin psql -- -q -v ON_ERROR_STOP=1 -c "
INSERT INTO packages (facility_id, tracking, carrier, status, location, received_at,
                      picked_up_at, picked_up_name)
SELECT f.id, 'BK' || i, 'ups', 'picked_up', 'Shelf ' || (i % 40),
       now() - make_interval(secs => i), now() - make_interval(secs => i) + interval '1 hour',
       'Recipient ' || (i % 5000)
FROM facilities f, generate_series(1, $PACKAGES) i WHERE f.slug = 'demo';
INSERT INTO package_events (facility_id, package_id, kind, source, location, at)
SELECT facility_id, id, 'received', 'bench', location, received_at FROM packages
WHERE tracking LIKE 'BK%';" -c "VACUUM ANALYZE packages, package_events" >&2

typing() {
    "$LOAD" typing --addr "$ADDR" --user clerk+demo --key "$WORK/home/.ssh/id_ed25519" \
        --host-key "$WORK/host.pub" --sessions "$SESSIONS" --duration-secs "$DURATION" \
        --think-ms "$THINK_MS" --server-pid "$SERVE" 2>/dev/null | grep '^RESULT'
}

echo "typing alone ..." >&2
ALONE=$(typing)
mkdir -p "$WORK/backups"
# VERIFY=1 also runs the restore drill after each backup, as `serve --backup-every` does.
(while :; do echo "measure" | pt admin backup --to "$WORK/backups" --passphrase-stdin \
    >/dev/null 2>&1
    if [ -n "${VERIFY:-}" ]; then
        for f in "$WORK/backups"/*.age; do
            echo "measure" | pt admin backup verify "$f" --passphrase-stdin >/dev/null 2>&1
        done
    fi
    echo x >>"$WORK/runs"; rm -f "$WORK/backups"/*.age; done) &
LOOP=$!
sleep 1
echo "typing during backups ..." >&2
DURING=$(typing)
kill "$LOOP" 2>/dev/null || true
LOOP=""
RUNS=$(wc -l <"$WORK/runs" 2>/dev/null || echo 0)

echo "alone:  $ALONE"
echo "during: $DURING"
echo "backups completed during the second run: $RUNS (profile $PROFILE, $PACKAGES packages)"
