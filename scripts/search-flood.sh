#!/usr/bin/env bash
# One session cannot burn the server (issue 13, item 5), measured with real clients on the
# loopback:
#
#   1. A viewer on the recipients screen of a facility with RECIPIENTS (100k) recipients
#      sends `a⌫` x PAIRS (50,000) in one burst (OpenSSH `ssh -tt`, 100 KB of input).
#      Server CPU (utime+stime) and memory (peak RSS growth, VmHWM after clear_refs) from
#      just before the burst until the server is quiet again; effect tasks started
#      (packtrack_effects_started_total); another user's `ssh whoami` during the burst;
#      whether the flooding session still answers. Budget: < 0.5 s CPU, < 50 MB.
#   2. Keystroke latency of SESSIONS (100) typing sessions (examples/loadtest.rs `typing`),
#      quiet and then with the burst repeated every FLOOD_EVERY seconds through the measured
#      window. Budget: p99 moves by at most 2 ms.
#
# Needs: cargo, the PostgreSQL server binaries, openssh-client, perl, curl. Loopback only,
# for measurement, not CI.
#
# Usage: scripts/search-flood.sh   (env: RECIPIENTS=100000 PAIRS=50000 SESSIONS=100
#                                   DURATION=20 THINK_MS=100 FLOOD_EVERY=1 NO_BUILD=1 KEEP=1
#                                   SKIP_TYPING=1 BENCH_TIMEOUT=1800)
set -euo pipefail

RECIPIENTS=${RECIPIENTS:-100000}
PAIRS=${PAIRS:-50000}
SESSIONS=${SESSIONS:-100}
DURATION=${DURATION:-20}
THINK_MS=${THINK_MS:-100}
FLOOD_EVERY=${FLOOD_EVERY:-1}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-1800}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
WORK=$(mktemp -d /tmp/search-flood.XXXXXX)
# As root the embedded cluster runs as the `postgres` user, which must traverse to DATA.
chmod 711 "$WORK"
PT_PID=
FLOOD_PID=
LOAD_PID=
WATCHDOG_PID=

log() { printf '>> %s\n' "$*" >&2; }
die() {
    printf 'search-flood: %s\n' "$*" >&2
    exit 1
}

cleanup() {
    local rc=$?
    set +e
    # Only the processes this script started, by PID.
    for p in "$FLOOD_PID" "$LOAD_PID"; do
        if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill "$p"; fi
    done
    if [ -n "$PT_PID" ] && kill -0 "$PT_PID" 2>/dev/null; then
        kill -TERM "$PT_PID"
        for _ in $(seq 1 100); do kill -0 "$PT_PID" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$PT_PID" 2>/dev/null && kill -KILL "$PT_PID"
    fi
    if [ -n "$WATCHDOG_PID" ]; then kill "$WATCHDOG_PID" 2>/dev/null; fi
    wait 2>/dev/null
    if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
        log "logs and data kept in $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

(
    trap 'kill "$sp" 2>/dev/null; exit 0' TERM
    sleep "$BENCH_TIMEOUT" &
    sp=$!
    wait "$sp" || exit 0
    echo "search-flood: gave up after ${BENCH_TIMEOUT}s" >&2
    kill -TERM $$
) &
WATCHDOG_PID=$!

command -v ssh >/dev/null || die "no ssh client (apt-get install openssh-client)"
command -v perl >/dev/null || die "no perl"
command -v curl >/dev/null || die "no curl"
NOFILE=$(ulimit -Hn)
if [ "$NOFILE" = unlimited ] || [ "$NOFILE" -gt 65536 ]; then NOFILE=65536; fi
ulimit -n "$NOFILE"

if [ "${NO_BUILD:-0}" != 1 ]; then
    log "cargo build --release (packtrack + examples/loadtest)"
    cargo build --release --quiet --bin packtrack --example loadtest
fi
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
TARGET_DIR=${TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release/packtrack
LOAD=$TARGET_DIR/release/examples/loadtest
[ -x "$BIN" ] && [ -x "$LOAD" ] || die "missing $BIN or $LOAD"

free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    die "no free port"
}
stats_p99() { sed -n 's/.* key_p99=\([^ ]*\).*/\1/p'; }
kv() { sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" <<<" $1"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
metric() {
    curl -fsS --max-time 5 "http://127.0.0.1:$MET_PORT/metrics" 2>/dev/null |
        awk -v n="$1" '$1 == n { print $2 }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- server, 100k recipients
ssh-keygen -q -t ed25519 -N '' -C search-flood -f "$WORK/id"
DATA=$WORK/pt-data
KEYS=$WORK/pt-keys
PT_PORT=$(free_port)
MET_PORT=$(free_port)
PT=(env -u DATABASE_URL "$BIN" --data-dir "$DATA" --keys-dir "$KEYS")
log "starting packtrack (embedded PostgreSQL, demo facility) on 127.0.0.1:$PT_PORT"
"${PT[@]}" serve --demo --listen "127.0.0.1:$PT_PORT" --metrics "127.0.0.1:$MET_PORT" \
    >"$WORK/packtrack.out" 2>"$WORK/packtrack.log" &
PT_PID=$!
for _ in $(seq 1 1200); do
    grep -q '^listening on' "$WORK/packtrack.log" 2>/dev/null && break
    kill -0 "$PT_PID" 2>/dev/null || die "packtrack exited: $(tail -5 "$WORK/packtrack.log")"
    sleep 0.1
done
grep -q '^listening on' "$WORK/packtrack.log" || die "packtrack did not start in 120 s"
for who in viewer clerk; do
    "${PT[@]}" admin user add-key --login "$who" --key-file "$WORK/id.pub" >/dev/null
done
log "adding $RECIPIENTS recipients to the demo facility"
"${PT[@]}" admin psql -- -q -v ON_ERROR_STOP=1 -c "
    INSERT INTO recipients (facility_id, name, unit, email)
    SELECT f.id, 'Resident ' || g, 'U-' || g, 'resident' || g || '@example.org'
    FROM facilities f, generate_series(1, $RECIPIENTS) g WHERE f.slug = 'demo'" ||
    die "cannot add recipients"

ssh-keygen -y -f "$KEYS/ssh_host_ed25519_key" >"$WORK/pt_host.pub"
echo "[127.0.0.1]:$PT_PORT $(cat "$WORK/pt_host.pub")" >"$WORK/known_hosts"
SSH=(ssh -F /dev/null -i "$WORK/id" -o IdentitiesOnly=yes -o BatchMode=yes
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$WORK/known_hosts"
    -o UpdateHostKeys=no -o ConnectTimeout=5 -o LogLevel=ERROR -p "$PT_PORT")
# Builds the facility's index (a one-time cost, not the burst's).
N=$("${SSH[@]}" clerk+demo@127.0.0.1 recipients search resident --limit 1 --json | wc -l)
[ "$N" = 1 ] || die "recipients search failed"
perl -e "print \"a\\x7f\" x $PAIRS" >"$WORK/burst"
# The burst ends in a marker: once the search field shows it, every key was handled.
printf zq >>"$WORK/burst"
BURST_BYTES=$(wc -c <"$WORK/burst")

# ---------------------------------------------------------------- 1. one burst, alone
log "burst: viewer on the recipients screen sends a<DEL> x $PAIRS + zq ($BURST_BYTES bytes)"
mkfifo "$WORK/flood.in"
"${SSH[@]}" -tt viewer+demo@127.0.0.1 <"$WORK/flood.in" >"$WORK/flood.out" 2>&1 &
FLOOD_PID=$!
exec 7>"$WORK/flood.in"
printf r >&7
sleep 3 # the recipients screen and its first (empty) search
CPU0=$(cpu_ticks "$PT_PID")
RSS0=$(rss_kib "$PT_PID")
echo 5 >"/proc/$PT_PID/clear_refs" || log "cannot reset VmHWM (peak = lifetime peak)"
STARTED0=$(metric packtrack_effects_started_total)
T0=$(date +%s%N)
cat "$WORK/burst" >&7
# Another user's command while the burst is handled.
W0=$(date +%s%N)
"${SSH[@]}" clerk+demo@127.0.0.1 whoami >/dev/null || die "whoami during the burst failed"
W1=$(date +%s%N)
MAX_INFLIGHT=0
# Quiet again: no CPU used over two samples 250 ms apart (at most 60 s).
prev=$(cpu_ticks "$PT_PID")
quiet=0
for _ in $(seq 1 240); do
    sleep 0.25
    v=$(metric packtrack_effects_in_flight)
    [ "${v:-0}" -gt "$MAX_INFLIGHT" ] && MAX_INFLIGHT=$v
    now=$(cpu_ticks "$PT_PID")
    if [ "$((now - prev))" -le 0 ]; then quiet=$((quiet + 1)); else quiet=0; fi
    prev=$now
    [ "$quiet" -ge 2 ] && break
done
T1=$(date +%s%N)
CPU1=$(cpu_ticks "$PT_PID")
HWM=$(hwm_kib "$PT_PID")
RSS1=$(rss_kib "$PT_PID")
STARTED1=$(metric packtrack_effects_started_total)
HANDLED=no
grep -q 'zq' "$WORK/flood.out" && HANDLED=yes
# Does the flooding session still answer? Esc (back), q (quit): its ssh exits.
printf '\x1b' >&7
sleep 0.2
printf q >&7
ANSWERS=no
for _ in $(seq 1 100); do
    if ! kill -0 "$FLOOD_PID" 2>/dev/null; then ANSWERS=yes; break; fi
    sleep 0.1
done
exec 7>&-
wait "$FLOOD_PID" 2>/dev/null || true
FLOOD_PID=
CPU_S=$(awk -v a="$CPU0" -v b="$CPU1" -v t="$TCK" 'BEGIN { printf "%.2f", (b - a) / t }')
PEAK_MB=$(awk -v a="$RSS0" -v b="$HWM" 'BEGIN { printf "%.1f", (b - a) / 1024 }')
WHOAMI_MS=$(((W1 - W0) / 1000000))
SETTLE_MS=$(((T1 - T0) / 1000000))
EFFECTS=$((STARTED1 - STARTED0))

# ---------------------------------------------------------------- 2. typing p99
P99_QUIET=n/a
P99_FLOOD=n/a
if [ "${SKIP_TYPING:-0}" != 1 ]; then
    LOADARGS=(typing --addr "127.0.0.1:$PT_PORT" --user clerk+demo --key "$WORK/id"
        --host-key "$WORK/pt_host.pub" --sessions "$SESSIONS" --duration-secs "$DURATION"
        --think-ms "$THINK_MS" --server-pid "$PT_PID" --metrics "127.0.0.1:$MET_PORT"
        --expect "Demo Mailroom")
    log "typing: $SESSIONS sessions, quiet, ${DURATION}s"
    timeout 900 "$LOAD" "${LOADARGS[@]}" >"$WORK/typing_quiet.txt" 2>&1 ||
        die "loadtest (quiet) failed: $(tail -3 "$WORK/typing_quiet.txt")"
    P99_QUIET=$(grep '^RESULT' "$WORK/typing_quiet.txt" | stats_p99)

    log "typing: $SESSIONS sessions with a viewer's burst every ${FLOOD_EVERY}s"
    timeout 900 "$LOAD" "${LOADARGS[@]}" >"$WORK/typing_flood.txt" 2>&1 &
    LOAD_PID=$!
    "${SSH[@]}" -tt viewer+demo@127.0.0.1 <"$WORK/flood.in" >"$WORK/flood2.out" 2>&1 &
    FLOOD_PID=$!
    exec 7>"$WORK/flood.in"
    printf r >&7
    BURSTS=0
    while kill -0 "$LOAD_PID" 2>/dev/null; do
        { cat "$WORK/burst"; printf '\x15'; } >&7 || break
        BURSTS=$((BURSTS + 1))
        sleep "$FLOOD_EVERY"
    done
    wait "$LOAD_PID" || die "loadtest (flood) failed: $(tail -3 "$WORK/typing_flood.txt")"
    LOAD_PID=
    exec 7>&-
    kill "$FLOOD_PID" 2>/dev/null || true
    wait "$FLOOD_PID" 2>/dev/null || true
    FLOOD_PID=
    P99_FLOOD=$(grep '^RESULT' "$WORK/typing_flood.txt" | stats_p99)
    # The same quiet run again: how much p99 drifts without any flood (the noise floor).
    log "typing: $SESSIONS sessions, quiet again (control)"
    timeout 900 "$LOAD" "${LOADARGS[@]}" >"$WORK/typing_quiet2.txt" 2>&1 ||
        die "loadtest (quiet again) failed: $(tail -3 "$WORK/typing_quiet2.txt")"
    P99_QUIET2=$(grep '^RESULT' "$WORK/typing_quiet2.txt" | stats_p99)
fi

# ---------------------------------------------------------------- report
verdict() { awk -v v="$1" -v lim="$2" 'BEGIN { if (v == "n/a") print "n/a"; else print (v < lim) ? "PASS" : "FAIL" }'; }
DELTA=n/a
[ "$P99_QUIET" != n/a ] && [ -n "$P99_QUIET" ] && [ -n "$P99_FLOOD" ] &&
    DELTA=$(awk -v a="$P99_QUIET" -v b="$P99_FLOOD" 'BEGIN { printf "%.2f", b - a }')
if SRC_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null); then
    git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml Cargo.lock || SRC_REV="$SRC_REV+dirty"
else
    SRC_REV=unknown
fi
cat <<EOF

## search-flood $(date -u +%Y-%m-%dT%H:%MZ)  packtrack $SRC_REV
machine: $(nproc) cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg), $(uname -sr)
facility: demo + $RECIPIENTS recipients; burst: a<DEL> x $PAIRS then zq = $BURST_BYTES bytes in one write

burst alone:
  server CPU from the burst to quiet: ${CPU_S} s (budget < 0.5 s: $(verdict "$CPU_S" 0.5))
  server memory: RSS before $(mib "$RSS0") MiB, peak $(mib "$HWM") MiB (+${PEAK_MB} MB; budget < 50 MB: $(verdict "$PEAK_MB" 50)), after $(mib "$RSS1") MiB
  effect tasks started for the burst: $EFFECTS (most in flight at a sample: $MAX_INFLIGHT)
  another user's ssh whoami during the burst: ${WHOAMI_MS} ms; server quiet again after ${SETTLE_MS} ms
  every key handled (the field shows the final zq): $HANDLED; the flooding session still answers (Esc, q -> exits): $ANSWERS

typing, $SESSIONS sessions, think ${THINK_MS} ms, ${DURATION} s measured:
  keystroke p99 quiet ${P99_QUIET} ms, with a burst every ${FLOOD_EVERY} s ${P99_FLOOD} ms (${BURSTS:-0} bursts): delta ${DELTA} ms (budget <= 2 ms: $(verdict "${DELTA#-}" 2.0001))
  control: quiet again ${P99_QUIET2:-n/a} ms (the drift between two quiet runs is the noise floor of this machine)
EOF
