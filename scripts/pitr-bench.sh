#!/usr/bin/env bash
# Point-in-time recovery costs (issue 18 item 5, docs/BACKUP.md): one embedded cluster under
# `serve --wal-archive` with a passphrase-encrypted backup dir.
#
#   1. the first base backup (taken at start, nearly empty database);
#   2. seed PACKAGES packages (scripts/seed-packages.sql): the WAL a very busy stretch makes;
#      time until every segment of it is in the backup dir, and the archive's size;
#   3. the recovery point: one small commit on an otherwise idle server, then the seconds
#      until its segment is in the backup dir (archive_timeout 60 s + shipping) (RPO=0 skips);
#   4. a clean stop (cuts and ships the segment in use);
#   5. `admin restore --pitr DIR --until latest` into a new data dir: base + every segment
#      replayed, audit chains walked (the recovery time when the newest base is that old);
#   6. serve again on the seeded cluster with the bases moved away: the base backup of the
#      seeded database it takes at start, and the drill that must pass before any prune.
#
# Usage: scripts/pitr-bench.sh   (env: PACKAGES=100000 BIN=target/release/packtrack NO_BUILD=1
#                                 RPO=1 KEEP=1)
set -euo pipefail

PACKAGES=${PACKAGES:-100000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=${BIN:-$ROOT/target/release/packtrack}
[ -n "${NO_BUILD:-}" ] || cargo build --release --bin packtrack >&2
WORK=$(mktemp -d /tmp/pitr-bench.XXXXXX)
chmod 711 "$WORK"   # as root, the cluster runs as `postgres`, which must traverse to it
SERVE=
cleanup() {
    if [ -n "$SERVE" ]; then
        kill -TERM "$SERVE" 2>/dev/null || true
        for _ in $(seq 300); do kill -0 "$SERVE" 2>/dev/null || break; sleep 0.1; done
    fi
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

pt() { local d=$1; shift; "$BIN" --data-dir "$WORK/$d" --keys-dir "$WORK/keys" "$@"; }
now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc -l)"; }
BK=$WORK/backups
WAL=$BK/pitr/wal
echo "bench passphrase" >"$WORK/pass"
segments() { { find "$WAL" -name '*.gz.age' 2>/dev/null || true; } | wc -l; }
outbox() { { find "$WORK/data/wal-outbox" -type f 2>/dev/null || true; } | wc -l; }

pt data admin facility create --slug bench --name Bench >/dev/null
"$BIN" --data-dir "$WORK/data" --keys-dir "$WORK/keys" serve --listen 127.0.0.1:0 \
    --backup-dir "$BK" --backup-passphrase-file "$WORK/pass" --wal-archive >/dev/null 2>"$WORK/serve.log" &
SERVE=$!
for _ in $(seq 1200); do grep -q 'base backup for point-in-time recovery written' "$WORK/serve.log" && break; sleep 0.1; done
BASE_LINE=$(grep 'base backup for point-in-time recovery written' "$WORK/serve.log" | head -1)
echo "first base backup: $(echo "$BASE_LINE" | grep -o 'bytes=[0-9]*') $(echo "$BASE_LINE" | grep -o 'secs=[0-9.]*')"

before=$(segments)
t0=$(now)
pt data admin psql -- -q -v ON_ERROR_STOP=1 -v packages="$PACKAGES" -f "$ROOT/scripts/seed-packages.sql"
T_SEED=$(since "$t0")
t1=$(now)
# Caught up: the outbox empty and nothing new for 8 s (longer than the 5 s shipping interval).
last=-1 stable=0
while [ "$stable" -lt 8 ]; do
    n=$(segments)
    if [ "$n" = "$last" ] && [ "$(outbox)" = 0 ]; then stable=$((stable + 1)); else stable=0; fi
    last=$n; sleep 1
done
T_CATCHUP=$(echo "$(since "$t1") - 8" | bc -l)
SEGS=$(( $(segments) - before ))
echo "seed of $PACKAGES packages: ${T_SEED} s; its $SEGS segments ($((SEGS * 16)) MiB of WAL) in the backup dir $(printf '%.1f' "$T_CATCHUP") s after the seed ended; archive $(du -sh "$WAL" | cut -f1)"

if [ "${RPO:-1}" != 0 ]; then
    n=$(segments)
    pt data admin facility create --slug probe --name Probe >/dev/null
    t2=$(now)
    while [ "$(segments)" = "$n" ]; do sleep 0.2; done
    echo "recovery point: a commit on an idle server reached the backup dir after $(since "$t2") s"
fi

echo "serve CPU over the run (shipping, base backups, the start's scheduled backup and drill): $(ps -o times= -p "$SERVE" | tr -d ' ') s"
kill -TERM "$SERVE"; for _ in $(seq 300); do kill -0 "$SERVE" 2>/dev/null || break; sleep 0.1; done; SERVE=
t3=$(now)
pt data2 admin restore --pitr "$BK" --until latest --passphrase-stdin <"$WORK/pass" >"$WORK/restore.out"
T_RESTORE=$(since "$t3")
echo "admin restore --pitr --until latest: ${T_RESTORE} s"
cat "$WORK/restore.out"
grep -o 'archived WAL shipped at the stop.*' "$WORK/serve.log" | sed 's/^/first stop: /'

mkdir "$WORK/old-bases"
mv "$BK"/pitr/packtrack-base-* "$WORK/old-bases/"
"$BIN" --data-dir "$WORK/data" --keys-dir "$WORK/keys" serve --listen 127.0.0.1:0 \
    --backup-dir "$BK" --backup-passphrase-file "$WORK/pass" --wal-archive >/dev/null 2>"$WORK/serve2.log" &
SERVE=$!
for _ in $(seq 6000); do grep -q 'point-in-time archive OK\|drill of the new base failed' "$WORK/serve2.log" && break; sleep 0.1; done
BASE_LINE=$(grep 'base backup for point-in-time recovery written' "$WORK/serve2.log" | head -1)
echo "base backup of the seeded database: $(echo "$BASE_LINE" | grep -o 'bytes=[0-9]*') $(echo "$BASE_LINE" | grep -o 'secs=[0-9.]*')"
echo "its drill: $(grep -o 'point-in-time archive OK.*\|drill of the new base failed.*' "$WORK/serve2.log" | head -1)"
kill -TERM "$SERVE"; for _ in $(seq 300); do kill -0 "$SERVE" 2>/dev/null || break; sleep 0.1; done; SERVE=
grep -o 'archived WAL shipped at the stop.*' "$WORK/serve2.log" | sed 's/^/second stop: /'
