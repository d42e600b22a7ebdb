#!/usr/bin/env bash
# Keystroke latency while a backup runs (issue 18's budget: the server's keystroke p99 does
# not move by more than 2 ms), loopback only:
#
#   1. `serve --demo` on a fresh data dir, PACKAGES extra packages seeded (generate_series);
#   2. examples/loadtest `typing` (search as you type, SESSIONS sessions, DURATION s) alone;
#   3. the same while `admin backup --to DIR` runs in a loop beside it;
#   4. the p50/p99 of both, and how many backups ran meanwhile.
#
# Backups wait for the sessions to pause typing (backup::pace) unless NO_PACE=1.
# SCHEDULED=1 replaces step 3: the server restarts with `--backup-every 1m` (backup and
# drill in the server, its first run at once); the runs it recorded are printed. NAME_PAUSE_MS=N pauses after each name
# typed (a clerk handling the parcel), in both runs.
#
# Usage: scripts/backup-keystroke.sh   (env: PACKAGES=100000 SESSIONS=4 DURATION=30
#                                       THINK_MS=100 PROFILE=release|debug NO_BUILD=1 KEEP=1
#                                       VERIFY=1 KEY=passphrase|identity BURN=1
#                                       SCHEDULED=1 NO_PACE=1 NAME_PAUSE_MS=0)
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
    cargo build "${flag[@]}" --bin packtrack --example loadtest --example backup_keygen >&2
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
pt() { ${PT_NICE:+nice -n "$PT_NICE"} ${PT_IDLE:+chrt -i 0} "$BIN" --data-dir "$WORK/data" --keys-dir "$WORK/keys" "$@"; }

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

# KEY=identity encrypts to an age public key and verifies with its identity (X25519, what
# docs/BACKUP.md recommends); the passphrase (the default) costs an scrypt run per backup
# and per drill, a second of memory-hard work that competes for the memory bus.
KEY=${KEY:-passphrase}
if [ "$KEY" = identity ]; then
    "$ROOT/target/$PROFILE/examples/backup_keygen" >"$WORK/backup.key" 2>"$WORK/backup.pub"
    RECIPIENT=$(sed -n 's/^public key: //p' "$WORK/backup.pub")
    backup() { pt admin backup --to "$WORK/backups" --recipient "$RECIPIENT" ${NO_PACE:+--no-pace}; }
    verify() { pt admin backup verify "$1" --identity "$WORK/backup.key" ${NO_PACE:+--no-pace}; }
else
    backup() { echo "measure" | pt admin backup --to "$WORK/backups" --passphrase-stdin \
        ${NO_PACE:+--no-pace}; }
    verify() { echo "measure" | pt admin backup verify "$1" --passphrase-stdin \
        ${NO_PACE:+--no-pace}; }
fi

typing() {
    "$LOAD" typing --addr "$ADDR" --user clerk+demo --key "$WORK/home/.ssh/id_ed25519" \
        --host-key "$WORK/host.pub" --sessions "$SESSIONS" --duration-secs "$DURATION" \
        --think-ms "$THINK_MS" --name-pause-ms "${NAME_PAUSE_MS:-0}" --server-pid "$SERVE" \
        2>/dev/null | grep '^RESULT'
}

# The server again, on the same data, with scheduled backups (SCHEDULED=1).
serve_with_backups() {
    kill "$SERVE"; wait "$SERVE" 2>/dev/null || true
    local keyflags=(--backup-passphrase-file "$WORK/passphrase")
    echo "measure" >"$WORK/passphrase"; chmod 600 "$WORK/passphrase"
    [ "$KEY" = identity ] && keyflags=(--backup-recipient "$RECIPIENT" \
        --backup-identity "$WORK/backup.key")
    (cd "$WORK" && HOME=$WORK/home exec "$BIN" --data-dir "$WORK/data" --keys-dir "$WORK/keys" \
        serve --listen 127.0.0.1:0 --backup-dir "$WORK/scheduled" --backup-every 1m \
        --backup-keep 2 "${keyflags[@]}" ${NO_PACE:+--backup-no-pace} \
        >"$WORK/serve2.out" 2>"$WORK/serve2.log") &
    SERVE=$!
    for _ in $(seq 1200); do
        grep -q '^listening on' "$WORK/serve2.log" 2>/dev/null && break
        sleep 0.1
    done
    ADDR=$(sed -n 's/^listening on //p' "$WORK/serve2.log" | head -1)
    [ -n "$ADDR" ] || { cat "$WORK/serve2.log" >&2; exit 1; }
}

echo "typing alone ..." >&2
ALONE=$(typing)
if [ -n "${SCHEDULED:-}" ]; then
    serve_with_backups
    echo "typing during scheduled backups ..." >&2
    DURING=$(typing)
    # A run still waiting for quiet finishes now that the typing stopped.
    for _ in $(seq 600); do
        grep -q 'scheduled backup' "$WORK/serve2.log" && break
        sleep 0.1
    done
    echo "alone:  $ALONE"
    echo "during: $DURING"
    echo "scheduled runs (profile $PROFILE, $PACKAGES packages, pace" \
        "$([ -n "${NO_PACE:-}" ] && echo off || echo on)):"
    grep 'scheduled backup' "$WORK/serve2.log" | sed 's/^.*scheduled backup/scheduled backup/'
    exit 0
fi
mkdir -p "$WORK/backups"
# VERIFY=1 also runs the restore drill after each backup, as `serve --backup-every` does.
# BURN=1 runs no backup but one busy loop per core under SCHED_IDLE: the floor that any
# background work costs on this machine, however well it yields.
if [ -n "${BURN:-}" ]; then
    (pids=(); for _ in $(seq "${BURN_LOOPS:-$(nproc)}"); do chrt -i 0 sh -c 'while :; do :; done' &
     pids+=($!); done; trap 'kill "${pids[@]}"; exit' TERM; wait) &
else
(while :; do backup >/dev/null 2>&1
    if [ -n "${VERIFY:-}" ]; then
        for f in "$WORK/backups"/*.age; do verify "$f" >/dev/null 2>&1; done
    fi
    echo x >>"$WORK/runs"; rm -f "$WORK/backups"/*.age; done) &
fi
LOOP=$!
sleep 1
echo "typing during backups ..." >&2
DURING=$(typing)
kill "$LOOP" 2>/dev/null || true
LOOP=""
RUNS=0
[ -f "$WORK/runs" ] && RUNS=$(wc -l <"$WORK/runs")

echo "alone:  $ALONE"
echo "during: $DURING"
echo "backups completed during the second run: $RUNS (profile $PROFILE, $PACKAGES packages)"
