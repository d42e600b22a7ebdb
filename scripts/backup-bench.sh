#!/usr/bin/env bash
# Backup and restore times (issue 18, docs/BACKUP.md), side by side with bare pg_dump -Fc and
# pg_restore of the same database, on one embedded cluster kept up by `serve`:
#
#   1. seed PACKAGES packages in one facility, each with a `received` event and 80 % with a
#      `picked_up` event (generate_series, deterministic);
#   2. bare `pg_dump -Fc` to a file  vs  `admin backup --to DIR --recipient KEY`
#      (same snapshot-consistent dump, plus hashing, age encryption, manifest, fsync);
#   3. bare `pg_restore --no-owner --exit-on-error --single-transaction` into an empty
#      database of a second running cluster  vs  `admin backup verify FILE` (initdb of a
#      throw-away cluster, streamed restore, counts, heads, migrations, audit chain check) and
#      `admin restore FILE` into a new data dir (cluster creation included).
#
# Each figure is the best of RUNS runs (wall clock, `date +%s.%N`).
# Usage: scripts/backup-bench.sh   (env: PACKAGES=100000 RUNS=3 BIN=target/release/packtrack
#                                   NO_BUILD=1 KEEP=1)
set -euo pipefail

PACKAGES=${PACKAGES:-100000}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=${BIN:-$ROOT/target/release/packtrack}
if [ -z "${NO_BUILD:-}" ]; then
    cargo build --release --bin packtrack --example backup_keygen >&2
fi
KEYGEN=${KEYGEN:-$(dirname "$BIN")/examples/backup_keygen}
WORK=$(mktemp -d /tmp/backup-bench.XXXXXX)
chmod 711 "$WORK"   # as root, the cluster runs as `postgres`, which must traverse to it
SERVE1= SERVE2=
cleanup() {
    for p in $SERVE1 $SERVE2; do kill -TERM "$p" 2>/dev/null || true; done
    # Not our children (started inside $(…)): poll until they have stopped their clusters.
    for p in $SERVE1 $SERVE2; do
        for _ in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    done
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

pt() { local d=$1; shift; "$BIN" --data-dir "$WORK/$d" --keys-dir "$WORK/keys" "$@"; }
now() { date +%s.%N; }
# best of RUNS: prints seconds
best() {
    local best= t0 t1 dt
    for _ in $(seq "$RUNS"); do
        "$@" pre
        t0=$(now); "$@" run; t1=$(now)
        dt=$(echo "$t1 - $t0" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$dt < $best" | bc -l)" = 1 ]; then best=$dt; fi
    done
    printf '%.2f' "$best"
}
serve() { # data-dir -> pid; waits for "listening on"
    local d=$1 log="$WORK/$1.serve.log"
    # The binary itself in the background (not the `pt` function, whose subshell's pid a
    # kill would miss).
    "$BIN" --data-dir "$WORK/$d" --keys-dir "$WORK/keys" serve --listen 127.0.0.1:0 \
        >/dev/null 2>"$log" &
    local pid=$!
    for _ in $(seq 600); do grep -q '^listening on' "$log" && break; sleep 0.1; done
    grep -q '^listening on' "$log" || { cat "$log" >&2; exit 1; }
    echo "$pid"
}

"$KEYGEN" >"$WORK/backup.key" 2>"$WORK/backup.pub"
RECIPIENT=$(sed -n 's/^public key: //p' "$WORK/backup.pub")

echo "seeding $PACKAGES packages ..." >&2
pt data admin facility create --slug bench --name Bench >/dev/null
pt data admin psql -- -q -v ON_ERROR_STOP=1 -v packages="$PACKAGES" -f "$ROOT/scripts/seed-packages.sql"

SERVE1=$(serve data)
URL1=$(pt data admin db-url)
PGBIN=$(dirname "$(readlink -f "$(command -v pg_ctl 2>/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl | tail -1)")")
[ -x "$PGBIN/pg_dump" ] || PGBIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
DBSIZE=$(pt data admin psql -- -At -c "SELECT pg_size_pretty(pg_database_size(current_database()))")
EVENTS=$(pt data admin psql -- -At -c "SELECT count(*) FROM package_events")

bare_dump() { case $1 in pre) rm -f "$WORK/bare.dump";; run) "$PGBIN/pg_dump" -Fc -f "$WORK/bare.dump" -d "$URL1";; esac; }
our_backup() { case $1 in pre) rm -rf "$WORK/out";; run) pt data admin backup --to "$WORK/out" --recipient "$RECIPIENT" >"$WORK/backup.path" 2>/dev/null;; esac; }
T_DUMP=$(best bare_dump)
T_BACKUP=$(best our_backup)
FILE=$(tail -1 "$WORK/backup.path")

# A second cluster with an empty database for the bare restore.
SERVE2=$(serve data2)
URL2=$(pt data2 admin db-url)
bare_restore() { case $1 in
    pre) pt data2 admin psql -- -q -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public;" >/dev/null 2>&1;;
    run) "$PGBIN/pg_restore" --no-owner --exit-on-error --single-transaction -d "$URL2" "$WORK/bare.dump" 2>/dev/null;; esac; }
our_verify() { case $1 in pre) :;; run) pt data admin backup verify "$FILE" --identity "$WORK/backup.key" >"$WORK/verify.out";; esac; }
our_restore() { case $1 in pre) rm -rf "$WORK/data3";; run) pt data3 admin restore "$FILE" --identity "$WORK/backup.key" >/dev/null;; esac; }
T_RESTORE=$(best bare_restore)
T_VERIFY=$(best our_verify)
T_OURRESTORE=$(best our_restore)

ratio() { echo "scale=2; $1 / $2" | bc -l; }
echo "packages=$PACKAGES events=$EVENTS database=$DBSIZE runs=$RUNS (best of) bin=$BIN"
echo "bare pg_dump -Fc:            ${T_DUMP} s   ($(du -h "$WORK/bare.dump" | cut -f1))"
echo "admin backup --recipient:    ${T_BACKUP} s   ($(du -h "$FILE" | cut -f1))  ratio $(ratio "$T_BACKUP" "$T_DUMP") (budget 1.3)"
echo "bare pg_restore:             ${T_RESTORE} s"
echo "admin backup verify:         ${T_VERIFY} s   ratio $(ratio "$T_VERIFY" "$T_RESTORE") (budget 1.5)"
echo "admin restore (new data dir): ${T_OURRESTORE} s"
cat "$WORK/verify.out"
