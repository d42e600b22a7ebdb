#!/usr/bin/env bash
# packtrack side by side with what users would pick instead (issue 8), in one run, on
# loopback, printing ratios and not only absolute times:
#
#   1. SSH: OpenSSH `ssh host true` against a private sshd  vs  packtrack connect + key auth +
#      PTY + first full frame (examples/ssh_probe.rs first-frame, as in scripts/ssh-bench.sh),
#      and the same OpenSSH client running `ssh clerk+demo@host whoami` against packtrack.
#   2. Search: `fzf --filter` vs packtrack's top-50 recipient search over the same synthetic
#      100k directory (examples/search_compare.rs; benches/search.rs has the full study).
#   3. Intake: pgbench running the bare intake transaction (set_config + INSERT package ON
#      CONFLICT DO NOTHING RETURNING id + INSERT event) as packtrack_app on packtrack's own
#      database, vs packtrack's intake path at the same concurrency: `Ops::intake` in process
#      (examples/intake_bench.rs --mode ops: the code the TUI and `packages intake` run, no
#      SSH), the bare transaction through sqlx (--mode bare, a control), and the full TUI
#      flow over SSH (examples/loadtest.rs intake: scan, recipient search, location, Enter).
#
# Needs: cargo, the PostgreSQL server binaries (embedded cluster) with pgbench and psql,
# openssh-client, openssh-server, hyperfine (optional) and fzf. As root and without
# NO_INSTALL=1, missing ones are installed with apt-get: for measuring only, never in CI.
#
# Usage: scripts/compare.sh      (env: RUNS=50 WARMUP=5 CONCURRENCY="16 50" DURATION=15
#                                 RECORDS=100000 TUI=1 (the loadtest rows) KEEP=1 NO_INSTALL=1
#                                 NO_BUILD=1 COMPARE_TIMEOUT=1800 seconds)
set -euo pipefail

RUNS=${RUNS:-50}
WARMUP=${WARMUP:-5}
CONCURRENCY=${CONCURRENCY:-16 50}
DURATION=${DURATION:-15}
RECORDS=${RECORDS:-100000}
TUI=${TUI:-1}
COMPARE_TIMEOUT=${COMPARE_TIMEOUT:-1800}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# /var/tmp: other jobs on a shared machine sweep /tmp.
WORK=$(mktemp -d /var/tmp/compare.XXXXXX)
# As root the embedded cluster runs as the `postgres` user, which must traverse to DATA.
chmod 711 "$WORK"
SSHD_PID=
PT_PID=
PG_PID=
WATCHDOG_PID=

log() { printf '>> %s\n' "$*" >&2; }
die() {
    printf 'compare: %s\n' "$*" >&2
    exit 1
}

cleanup() {
    local rc=$?
    set +e
    # Only the processes this script started, by PID.
    if [ -n "$PT_PID" ] && kill -0 "$PT_PID" 2>/dev/null; then
        kill -TERM "$PT_PID"
        for _ in $(seq 1 300); do kill -0 "$PT_PID" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$PT_PID" 2>/dev/null && kill -KILL "$PT_PID"
    fi
    # The embedded cluster, if packtrack could not stop it (killed): fast, then immediate
    # shutdown of that postmaster, by PID.
    if [ -n "$PG_PID" ] && kill -0 "$PG_PID" 2>/dev/null; then
        kill -INT "$PG_PID"
        for _ in $(seq 1 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$PG_PID" 2>/dev/null && kill -QUIT "$PG_PID"
    fi
    if [ -n "$SSHD_PID" ] && kill -0 "$SSHD_PID" 2>/dev/null; then kill -TERM "$SSHD_PID"; fi
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

# Bounded in time as a whole.
(
    trap 'kill "$sp" 2>/dev/null; exit 0' TERM
    sleep "$COMPARE_TIMEOUT" &
    sp=$!
    wait "$sp" || exit 0
    echo "compare: gave up after ${COMPARE_TIMEOUT}s" >&2
    kill -TERM $$
) &
WATCHDOG_PID=$!

# ---------------------------------------------------------------- prerequisites
apt_install() {
    [ "${NO_INSTALL:-0}" = 1 ] && return 1
    [ "$(id -u)" -eq 0 ] || return 1
    command -v apt-get >/dev/null || return 1
    log "apt-get install -y $*"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >"$WORK/apt.log" 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$WORK/apt.log" 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$WORK/apt.log" 2>&1
    fi
}
command -v ssh >/dev/null || apt_install openssh-client || die "no ssh client"
[ -x /usr/sbin/sshd ] || apt_install openssh-server || die "no /usr/sbin/sshd"
command -v hyperfine >/dev/null || apt_install hyperfine || log "hyperfine unavailable: timing with a bash loop"
command -v fzf >/dev/null || apt_install fzf || log "fzf unavailable: the search comparison is skipped"
PGBENCH=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -1 || true)
if [ -z "$PGBENCH" ]; then
    apt_install postgresql-contrib || true
    PGBENCH=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -1 || true)
fi
[ -n "$PGBENCH" ] || log "pgbench unavailable: the intake comparison has no baseline"
PSQL=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | tail -1 || true)
[ -n "$PSQL" ] || die "no psql"
HAVE_HYPERFINE=0
command -v hyperfine >/dev/null && HAVE_HYPERFINE=1

NOFILE=$(ulimit -Hn)
if [ "$NOFILE" = unlimited ] || [ "$NOFILE" -gt 65536 ]; then NOFILE=65536; fi
ulimit -n "$NOFILE"

if [ "${NO_BUILD:-0}" != 1 ]; then
    log "cargo build --release (packtrack + examples)"
    cargo build --release --quiet --bin packtrack --example ssh_probe --example loadtest \
        --example intake_bench --example search_compare
fi
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
TARGET_DIR=${TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release/packtrack
EX=$TARGET_DIR/release/examples
for b in "$BIN" "$EX/ssh_probe" "$EX/loadtest" "$EX/intake_bench" "$EX/search_compare"; do
    [ -x "$b" ] || die "missing $b"
done

# ---------------------------------------------------------------- helpers
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

wait_port() { # port seconds
    for _ in $(seq 1 $(($2 * 10))); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# mean p50 p90 p99 min max of samples (ms, one per line) on stdin.
stats() {
    sort -n | awk '
        { v[NR] = $1; s += $1 }
        function pct(p,  r) { r = int((p / 100) * NR); if (r < (p / 100) * NR) r++; if (r < 1) r = 1; return v[r] }
        END { if (NR == 0) { print "nan nan nan nan nan nan"; exit }
              printf "%.2f %.2f %.2f %.2f %.2f %.2f\n", s / NR, pct(50), pct(90), pct(99), v[1], v[NR] }'
}

# time_cmd NAME CMD... : RUNS timed runs after WARMUP; samples (ms) into $WORK/NAME.ms.
time_cmd() {
    local name=$1
    shift
    if [ "$HAVE_HYPERFINE" = 1 ]; then
        timeout 900 hyperfine -N --style none --warmup "$WARMUP" --runs "$RUNS" \
            --export-json "$WORK/$name.json" -- "$*" >/dev/null 2>"$WORK/$name.err" ||
            die "$name failed: $(tail -3 "$WORK/$name.err")"
        tr -d ' \n' <"$WORK/$name.json" | sed -n 's/.*"times":\[\([^]]*\)\].*/\1/p' |
            tr ',' '\n' | awk 'NF { printf "%.3f\n", $1 * 1000 }' >"$WORK/$name.ms"
    else
        local i t0 t1
        for i in $(seq 1 $((WARMUP + RUNS))); do
            t0=$(date +%s%N)
            timeout 20 "$@" >/dev/null 2>>"$WORK/$name.err" </dev/null || die "$name failed: $(tail -3 "$WORK/$name.err")"
            t1=$(date +%s%N)
            [ "$i" -gt "$WARMUP" ] && echo "$(((t1 - t0) / 1000)) " | awk '{ printf "%.3f\n", $1 / 1000 }'
        done >"$WORK/$name.ms"
    fi
}

kv() { sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" <<<" $1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
verdict() { awk -v v="$1" -v lim="$2" 'BEGIN { if (v == "n/a") print "n/a"; else print (v <= lim) ? "PASS" : "FAIL" }'; }

# ---------------------------------------------------------------- servers
ME=$(id -un)
ssh-keygen -q -t ed25519 -N '' -C compare -f "$WORK/id"

# OpenSSH baseline (the ssh-bench.sh configuration): private config, host key and
# authorized_keys, 127.0.0.1 only, an empty HOME so no dotfiles run.
mkdir -p "$WORK/sshd" "$WORK/home"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/sshd/host_ed25519"
cp "$WORK/id.pub" "$WORK/sshd/authorized_keys"
chmod 644 "$WORK/sshd/authorized_keys"
SSHD_PORT=$(free_port)
cat >"$WORK/sshd/sshd_config" <<EOF
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $WORK/sshd/host_ed25519
PidFile $WORK/sshd/sshd.pid
AuthorizedKeysFile $WORK/sshd/authorized_keys
AllowUsers $ME
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
SetEnv HOME=$WORK/home
LogLevel ERROR
EOF
[ "$(id -u)" -eq 0 ] && mkdir -p /run/sshd
/usr/sbin/sshd -t -f "$WORK/sshd/sshd_config" || die "sshd config rejected"
/usr/sbin/sshd -f "$WORK/sshd/sshd_config" -D -e 2>"$WORK/sshd.log" &
SSHD_PID=$!
wait_port "$SSHD_PORT" 10 || die "sshd did not start: $(tail -3 "$WORK/sshd.log")"

DATA=$WORK/pt-data
KEYS=$WORK/pt-keys
PT_PORT=$(free_port)
MET_PORT=$(free_port)
log "starting packtrack (embedded PostgreSQL, demo facility) on 127.0.0.1:$PT_PORT"
env -u DATABASE_URL "$BIN" --data-dir "$DATA" --keys-dir "$KEYS" serve --demo \
    --listen "127.0.0.1:$PT_PORT" --metrics "127.0.0.1:$MET_PORT" --idle-timeout 3600 \
    >"$WORK/packtrack.out" 2>"$WORK/packtrack.log" &
PT_PID=$!
for _ in $(seq 1 1200); do
    grep -q '^listening on' "$WORK/packtrack.log" 2>/dev/null && break
    kill -0 "$PT_PID" 2>/dev/null || die "packtrack exited: $(tail -5 "$WORK/packtrack.log")"
    sleep 0.1
done
grep -q '^listening on' "$WORK/packtrack.log" || die "packtrack did not start in 120 s"
PT=(env -u DATABASE_URL "$BIN" --data-dir "$DATA" --keys-dir "$KEYS")
"${PT[@]}" admin user add-key --login clerk --key-file "$WORK/id.pub" >/dev/null
PG_PID=$(head -1 "$DATA/postgres/postmaster.pid")

ssh-keygen -y -f "$KEYS/ssh_host_ed25519_key" >"$WORK/pt_host.pub"
{
    echo "[127.0.0.1]:$SSHD_PORT $(cat "$WORK/sshd/host_ed25519.pub")"
    echo "[127.0.0.1]:$PT_PORT $(cat "$WORK/pt_host.pub")"
} >"$WORK/known_hosts"
SSH=(ssh -F /dev/null -i "$WORK/id" -o IdentitiesOnly=yes -o BatchMode=yes
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$WORK/known_hosts"
    -o UpdateHostKeys=no -o ConnectTimeout=5 -o LogLevel=ERROR)
TARGET=(--addr "127.0.0.1:$PT_PORT" --user clerk+demo --key "$WORK/id" --host-key "$WORK/pt_host.pub")
"${SSH[@]}" -p "$SSHD_PORT" "$ME@127.0.0.1" true || die "ssh to the private sshd failed"
[ "$("${SSH[@]}" -p "$PT_PORT" clerk+demo@127.0.0.1 whoami)" = "clerk demo operator" ] ||
    die "ssh whoami to packtrack failed"

# ---------------------------------------------------------------- 1. SSH
log "1/3 SSH: OpenSSH ssh true -> sshd, packtrack first frame ($RUNS runs each)"
L_SSH=$(load)
time_cmd openssh_true "${SSH[@]}" -p "$SSHD_PORT" "$ME@127.0.0.1" true
time_cmd packtrack_whoami "${SSH[@]}" -p "$PT_PORT" clerk+demo@127.0.0.1 whoami
FF=$(timeout 600 "$EX/ssh_probe" first-frame "${TARGET[@]}" --runs "$RUNS" --warmup "$WARMUP" \
    --samples "$WORK/first_frame.ms")
read -r A_MEAN A_P50 A_P90 A_P99 _ _ < <(stats <"$WORK/openssh_true.ms")
read -r W_MEAN W_P50 W_P90 W_P99 _ _ < <(stats <"$WORK/packtrack_whoami.ms")
read -r F_MEAN F_P50 F_P90 F_P99 _ _ < <(stats <"$WORK/first_frame.ms")
R_FF=$(ratio "$F_P50" "$A_P50")
R_FF90=$(ratio "$F_P90" "$A_P90")
R_WHOAMI=$(ratio "$W_P50" "$A_P50")

# ---------------------------------------------------------------- 2. search
S_RES=
if command -v fzf >/dev/null; then
    log "2/3 search: fzf --filter vs packtrack over $RECORDS synthetic recipients"
    L_SEARCH=$(load)
    timeout 600 "$EX/search_compare" --records "$RECORDS" --work-dir "$WORK" >"$WORK/search.txt"
    S_RES=$(grep '^RESULT' "$WORK/search.txt")
fi

# ---------------------------------------------------------------- 3. intake
log "3/3 intake: pgbench vs packtrack at concurrency $CONCURRENCY ($DURATION s each)"
OWNER_URL=$("${PT[@]}" admin db-url)
APP_PW=$(sed -n 's/.*"app": *"\([^"]*\)".*/\1/p' "$DATA/postgres-auth.json")
[ -n "$APP_PW" ] || die "no packtrack_app password in $DATA/postgres-auth.json"
APP_URL="postgresql://packtrack_app:$APP_PW@localhost:5432/packtrack?host=$DATA/postgres"
read -r FAC ACTOR RMIN RMAX < <("$PSQL" "$OWNER_URL" -AtF ' ' -c "
    SELECT f.id, u.id, min(r.id), max(r.id)
    FROM facilities f JOIN users u ON u.login = 'clerk'
    JOIN recipients r ON r.facility_id = f.id
    WHERE f.slug = 'demo' GROUP BY f.id, u.id")
[ -n "${RMAX:-}" ] || die "cannot read the demo facility's ids"
# The bare transaction, as packtrack_app with the facility set like a tenant transaction.
# The pickup code stays NULL (packtrack draws a random one and retries on a collision).
cat >"$WORK/intake.pgbench" <<'EOF'
\set n random(1, 1000000000000)
\set r random(:rmin, :rmax)
BEGIN;
SELECT set_config('app.facility_id', (:fac)::text, true);
INSERT INTO packages (facility_id, tracking, carrier, recipient_id, location, received_by) VALUES (:fac, 'PGB' || :client_id || '-' || :n, 'ups', :r, 'Shelf A', :actor) ON CONFLICT DO NOTHING RETURNING id AS pkg \gset
INSERT INTO package_events (facility_id, package_id, kind, actor_id, source, location, detail) VALUES (:fac, :pkg, 'received', :actor, 'pgbench', 'Shelf A', '{}');
END;
EOF

# pgbench_run C -> "tps p50 p99" (latencies from its per-transaction log, ms)
pgbench_run() {
    local c=$1 threads=2 dir="$WORK/pgb$1"
    mkdir -p "$dir"
    [ "$c" -lt 2 ] && threads=1
    (cd "$dir" && timeout $((DURATION + 120)) "$PGBENCH" -n -M prepared -f "$WORK/intake.pgbench" \
        -c "$c" -j "$threads" -T "$DURATION" -l --log-prefix=tx \
        -D fac="$FAC" -D actor="$ACTOR" -D rmin="$RMIN" -D rmax="$RMAX" "$APP_URL" \
        >"$dir/out.txt" 2>&1) || die "pgbench failed: $(tail -3 "$dir/out.txt")"
    local tps
    tps=$(sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p' "$dir/out.txt")
    read -r _ p50 _ p99 _ _ < <(cat "$dir"/tx.* | awk '{ printf "%.3f\n", $3 / 1000 }' | stats)
    echo "$tps $p50 $p99"
}

declare -A PGB OPS BARE TUIR
for c in $CONCURRENCY; do
    # Each row adds tens of thousands of parcels; fresh planner statistics keep the next
    # rows' queries (and the dashboards of the TUI sessions' logins) on sane plans.
    "$PSQL" "$OWNER_URL" -q -c "ANALYZE packages, package_events" >/dev/null
    if [ "$TUI" = 1 ]; then
        log "  concurrency $c: TUI intake over SSH (loadtest, $c sessions)"
        r=$(timeout $((DURATION + 300)) "$EX/loadtest" intake "${TARGET[@]}" --sessions "$c" \
            --duration-secs "$DURATION" --server-pid "$PT_PID" --pg-pid "$PG_PID" 2>"$WORK/tui$c.err" |
            tee "$WORK/tui$c.txt" | grep '^RESULT')
        TUIR[$c]="$(kv "$r" commits_per_s) $(kv "$r" commit_p50) $(kv "$r" commit_p99) $(load | tr ' ' '/') $(kv "$r" errors)"
        "$PSQL" "$OWNER_URL" -q -c "ANALYZE packages, package_events" >/dev/null
    fi
    log "  concurrency $c: pgbench"
    PGB[$c]="$(pgbench_run "$c") $(load | tr ' ' '/')"
    log "  concurrency $c: packtrack Ops::intake (in process)"
    r=$(timeout $((DURATION + 120)) "$EX/intake_bench" --database-url "$APP_URL" \
        --concurrency "$c" --duration-secs "$DURATION" --mode ops | grep '^RESULT')
    OPS[$c]="$(kv "$r" tps) $(kv "$r" p50) $(kv "$r" p99) $(load | tr ' ' '/') $(kv "$r" errors)"
    log "  concurrency $c: bare transaction through sqlx (control)"
    r=$(timeout $((DURATION + 120)) "$EX/intake_bench" --database-url "$APP_URL" \
        --concurrency "$c" --duration-secs "$DURATION" --mode bare | grep '^RESULT')
    BARE[$c]="$(kv "$r" tps) $(kv "$r" p50) $(kv "$r" p99) $(load | tr ' ' '/') $(kv "$r" errors)"
done

# ---------------------------------------------------------------- report
if SRC_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null); then
    git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml Cargo.lock || SRC_REV="$SRC_REV+dirty"
else
    SRC_REV=unknown
fi
cat <<EOF

## compare $(date -u +%Y-%m-%dT%H:%MZ)  packtrack $SRC_REV
machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr), $(ssh -V 2>&1 | cut -d, -f1), $("$PGBENCH" --version | head -1)$(command -v fzf >/dev/null && echo ", fzf $(fzf --version | cut -d' ' -f1)")

### 1. SSH: connect + auth to something usable (ms, $RUNS runs after $WARMUP warm-up; load $L_SSH)
| what | mean | p50 | p90 | p99 |
| --- | ---: | ---: | ---: | ---: |
| OpenSSH \`ssh true\` -> private sshd | $A_MEAN | $A_P50 | $A_P90 | $A_P99 |
| packtrack: connect + auth + PTY + first full frame (russh probe) | $F_MEAN | $F_P50 | $F_P90 | $F_P99 |
| OpenSSH \`ssh whoami\` -> packtrack | $W_MEAN | $W_P50 | $W_P90 | $W_P99 |
ratio packtrack first frame / OpenSSH ssh true: p50 ${R_FF}x, p90 ${R_FF90}x (budget <= 1.2x: $(verdict "$R_FF" 1.2)); same OpenSSH client, packtrack whoami / sshd true: ${R_WHOAMI}x
EOF
if [ -n "$S_RES" ]; then
    cat <<EOF

### 2. Search: top-50 over $RECORDS recipients, per query (load ${L_SEARCH:-?})
$(sed -n '/^query/,/^RESULT/p' "$WORK/search.txt" | grep -v '^RESULT' | sed 's/^/    /')
fzf --filter median $(kv "$S_RES" fzf_median_ms) ms vs packtrack median $(kv "$S_RES" ours_median_ms) ms (slowest query $(kv "$S_RES" ours_max_ms) ms): packtrack is $(kv "$S_RES" ratio_median)x faster (median of per-query ratios; least $(kv "$S_RES" ratio_min)x) (budget: faster than fzf, < 5 ms: $(verdict "$(kv "$S_RES" ours_max_ms)" 5))
EOF
else
    printf '\n### 2. Search: skipped (no fzf)\n'
fi
cat <<EOF

### 3. Intake commits: pgbench (bare transaction) vs packtrack, same database, same concurrency ($DURATION s each)
| concurrency | what | commits/s | p50 ms | p99 ms | load | errors |
| ---: | --- | ---: | ---: | ---: | --- | ---: |
EOF
for c in $CONCURRENCY; do
    read -r g_tps g_p50 g_p99 g_load <<<"${PGB[$c]}"
    read -r o_tps o_p50 o_p99 o_load o_err <<<"${OPS[$c]}"
    read -r b_tps b_p50 b_p99 b_load b_err <<<"${BARE[$c]}"
    echo "| $c | pgbench, bare transaction | $g_tps | $g_p50 | $g_p99 | $g_load | 0 |"
    echo "| $c | sqlx, bare transaction (control) | $b_tps | $b_p50 | $b_p99 | $b_load | $b_err |"
    echo "| $c | packtrack Ops::intake, in process | $o_tps | $o_p50 | $o_p99 | $o_load | $o_err |"
    if [ -n "${TUIR[$c]:-}" ]; then
        read -r t_tps t_p50 t_p99 t_load t_err <<<"${TUIR[$c]}"
        echo "| $c | packtrack TUI over SSH ($c sessions; commit = Enter -> frame) | $t_tps | $t_p50 | $t_p99 | $t_load | $t_err |"
    fi
done
echo
for c in $CONCURRENCY; do
    read -r g_tps _ g_p99 _ <<<"${PGB[$c]}"
    read -r o_tps _ o_p99 _ _ <<<"${OPS[$c]}"
    r=$(ratio "$g_tps" "$o_tps")
    echo "concurrency $c: pgbench / packtrack Ops::intake throughput ${r}x (budget <= 1.5x: $(verdict "$r" 1.5)); p99 packtrack / pgbench $(ratio "$o_p99" "$g_p99")x"
    if [ -n "${TUIR[$c]:-}" ]; then
        read -r t_tps _ t_p99 _ _ <<<"${TUIR[$c]}"
        echo "concurrency $c: pgbench / packtrack TUI throughput $(ratio "$g_tps" "$t_tps")x; TUI commit p99 $t_p99 ms"
    fi
done
