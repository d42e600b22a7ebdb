#!/usr/bin/env bash
# SSH front door budgets (issue 4), measured side by side in one run, loopback only:
#
#   1. OpenSSH baseline: `ssh host true` against a private sshd (own config, host key and
#      authorized_keys in a temp dir, 127.0.0.1 only).
#   2. packtrack: `ssh clerk+demo@host whoami` with the same OpenSSH client; connect + key
#      auth + PTY + first full frame with the russh probe (examples/ssh_probe.rs, vt100
#      screen); `ssh -tt` until the session quits (upper bound).
#   3. Ratio packtrack first frame / OpenSSH `ssh true` (budget <= 1.2x).
#   4. IDLE_SESSIONS (500) concurrent idle PTY sessions: server RSS per session (budget
#      < 2 MiB), all alive, resources back after they close.
#
# Needs: cargo, the PostgreSQL server binaries (embedded cluster), openssh-client and
# openssh-server (installed with apt-get when missing and running as root), hyperfine
# (optional; installed the same way, else a bash loop). For measurement only, not CI.
#
# Usage: scripts/ssh-bench.sh            (env: RUNS=100 WARMUP=5 IDLE_SESSIONS=500
#                                          KEEP=1 keeps the temp dir, NO_INSTALL=1,
#                                          NO_BUILD=1, BENCH_TIMEOUT=1800 seconds)
set -euo pipefail

RUNS=${RUNS:-100}
WARMUP=${WARMUP:-5}
IDLE_SESSIONS=${IDLE_SESSIONS:-500}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-1800}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
WORK=$(mktemp -d /tmp/ssh-bench.XXXXXX)
# As root the embedded cluster runs as the `postgres` user, which must traverse to DATA.
chmod 711 "$WORK"
SSHD_PID=
PT_PID=
WATCHDOG_PID=

log() { printf '>> %s\n' "$*" >&2; }
die() {
    printf 'ssh-bench: %s\n' "$*" >&2
    exit 1
}

cleanup() {
    local rc=$?
    set +e
    # Only the processes this script started, by PID.
    if [ -n "${PROBE_PID:-}" ] && kill -0 "$PROBE_PID" 2>/dev/null; then kill "$PROBE_PID"; fi
    if [ -n "$PT_PID" ] && kill -0 "$PT_PID" 2>/dev/null; then
        kill -TERM "$PT_PID"
        for _ in $(seq 1 100); do kill -0 "$PT_PID" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$PT_PID" 2>/dev/null && kill -KILL "$PT_PID"
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
    sleep "$BENCH_TIMEOUT" &
    sp=$!
    wait "$sp" || exit 0
    echo "ssh-bench: gave up after ${BENCH_TIMEOUT}s" >&2
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
[ -x /usr/sbin/sshd ] || apt_install openssh-server || die "no /usr/sbin/sshd (apt-get install openssh-server)"
command -v hyperfine >/dev/null || apt_install hyperfine || log "hyperfine unavailable: timing with a bash loop"
HAVE_HYPERFINE=0
command -v hyperfine >/dev/null && HAVE_HYPERFINE=1

# 500 sessions: two sockets each on the loopback (client + server side), plus postgres.
NOFILE=$(ulimit -Hn)
if [ "$NOFILE" = unlimited ] || [ "$NOFILE" -gt 65536 ]; then NOFILE=65536; fi
ulimit -n "$NOFILE"
[ "$(ulimit -n)" -ge $((IDLE_SESSIONS * 2 + 256)) ] || die "ulimit -n $(ulimit -n) is too low for $IDLE_SESSIONS sessions"

if [ "${NO_BUILD:-0}" != 1 ]; then
    log "cargo build --release (packtrack + examples/ssh_probe)"
    cargo build --release --quiet --bin packtrack --example ssh_probe
fi
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
TARGET_DIR=${TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release/packtrack
PROBE=$TARGET_DIR/release/examples/ssh_probe
[ -x "$BIN" ] && [ -x "$PROBE" ] || die "missing $BIN or $PROBE"

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
        # The "times" array (seconds), one number per line.
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

# Same, through bash (for pipelines). hyperfine subtracts the shell's own start-up.
time_sh() {
    local name=$1 cmd=$2
    if [ "$HAVE_HYPERFINE" = 1 ]; then
        timeout 900 hyperfine -S bash --style none --warmup "$WARMUP" --runs "$RUNS" \
            --export-json "$WORK/$name.json" -- "$cmd" >/dev/null 2>"$WORK/$name.err" ||
            die "$name failed: $(tail -3 "$WORK/$name.err")"
        tr -d ' \n' <"$WORK/$name.json" | sed -n 's/.*"times":\[\([^]]*\)\].*/\1/p' |
            tr ',' '\n' | awk 'NF { printf "%.3f\n", $1 * 1000 }' >"$WORK/$name.ms"
    else
        time_cmd "$name" bash -c "$cmd"
    fi
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
threads() { awk '/^Threads:/ { print $2 }' "/proc/$1/status"; }
# Proportional set size of the embedded PostgreSQL (postmaster and its children), KiB;
# PSS, because RSS would count the shared buffers once per backend.
pg_pss_kib() {
    local pm total=0 p v
    pm=$(head -1 "$DATA/postgres/postmaster.pid" 2>/dev/null) || { echo 0; return; }
    for p in $pm $(pgrep -P "$pm" 2>/dev/null); do
        v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}
pg_backends() {
    local pm
    pm=$(head -1 "$DATA/postgres/postmaster.pid" 2>/dev/null) || { echo 0; return; }
    pgrep -P "$pm" -f 'postgres: packtrack' 2>/dev/null | wc -l
}
# Established TCP connections on the SSH port (server side).
ssh_conns() { ss -Htn state established "( sport = :$PT_PORT )" 2>/dev/null | wc -l; }
metric() { # name -> value from the Prometheus endpoint
    curl -fsS --max-time 5 "http://127.0.0.1:$MET_PORT/metrics" 2>/dev/null |
        awk -v n="$1" '$1 == n { print $2 }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ---------------------------------------------------------------- keys and servers
ME=$(id -un)
ssh-keygen -q -t ed25519 -N '' -C ssh-bench -f "$WORK/id"

# OpenSSH baseline server.
# The login shell runs with HOME set to an empty directory, so the baseline measures sshd
# and not the account's dotfiles (a .bashrc that runs pyenv or similar adds 100s of ms).
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

# packtrack with the demo facility; the bench key is registered for clerk.
DATA=$WORK/pt-data
KEYS=$WORK/pt-keys
PT_PORT=$(free_port)
MET_PORT=$(free_port)
log "starting packtrack (embedded PostgreSQL, demo facility) on 127.0.0.1:$PT_PORT"
env -u DATABASE_URL "$BIN" --data-dir "$DATA" --keys-dir "$KEYS" serve --demo \
    --listen "127.0.0.1:$PT_PORT" --metrics "127.0.0.1:$MET_PORT" \
    >"$WORK/packtrack.out" 2>"$WORK/packtrack.log" &
PT_PID=$!
for _ in $(seq 1 1200); do
    grep -q '^listening on' "$WORK/packtrack.log" 2>/dev/null && break
    kill -0 "$PT_PID" 2>/dev/null || die "packtrack exited: $(tail -5 "$WORK/packtrack.log")"
    sleep 0.1
done
grep -q '^listening on' "$WORK/packtrack.log" || die "packtrack did not start in 120 s"
env -u DATABASE_URL "$BIN" --data-dir "$DATA" --keys-dir "$KEYS" admin user add-key \
    --login clerk --key-file "$WORK/id.pub" >/dev/null

# Host keys pinned on both sides, like a real known_hosts.
ssh-keygen -y -f "$KEYS/ssh_host_ed25519_key" >"$WORK/pt_host.pub"
{
    echo "[127.0.0.1]:$SSHD_PORT $(cat "$WORK/sshd/host_ed25519.pub")"
    echo "[127.0.0.1]:$PT_PORT $(cat "$WORK/pt_host.pub")"
} >"$WORK/known_hosts"
SSH=(ssh -F /dev/null -i "$WORK/id" -o IdentitiesOnly=yes -o BatchMode=yes
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$WORK/known_hosts"
    -o UpdateHostKeys=no -o ConnectTimeout=5 -o LogLevel=ERROR)
PROBE_T=(--key "$WORK/id")

# Sanity checks before timing anything.
"${SSH[@]}" -p "$SSHD_PORT" "$ME@127.0.0.1" true || die "ssh to the private sshd failed: $(tail -3 "$WORK/sshd.log")"
WHOAMI=$("${SSH[@]}" -p "$PT_PORT" clerk+demo@127.0.0.1 whoami) || die "ssh whoami to packtrack failed"
[ "$WHOAMI" = "clerk demo operator" ] || die "unexpected whoami: $WHOAMI"
KEX_OPENSSH=$("${SSH[@]}" -v -p "$SSHD_PORT" "$ME@127.0.0.1" true 2>&1 | sed -n 's/.*kex: algorithm: //p' | head -1)
KEX_OPENSSH_PT=$("${SSH[@]}" -v -p "$PT_PORT" clerk+demo@127.0.0.1 whoami 2>&1 | sed -n 's/.*kex: algorithm: //p' | head -1)

# ---------------------------------------------------------------- timings
log "timing: OpenSSH ssh true -> sshd ($RUNS runs)"
time_cmd openssh_true "${SSH[@]}" -p "$SSHD_PORT" "$ME@127.0.0.1" true
log "timing: OpenSSH ssh true -> sshd with curve25519-sha256 (the kex OpenSSH uses with packtrack)"
time_cmd openssh_true_x25519 "${SSH[@]}" -o KexAlgorithms=curve25519-sha256 -p "$SSHD_PORT" "$ME@127.0.0.1" true
log "timing: OpenSSH ssh whoami -> packtrack ($RUNS runs)"
time_cmd packtrack_whoami "${SSH[@]}" -p "$PT_PORT" clerk+demo@127.0.0.1 whoami
log "timing: russh probe, connect + auth + PTY + first frame -> packtrack ($RUNS runs)"
FF=$(timeout 600 "$PROBE" first-frame --addr "127.0.0.1:$PT_PORT" --user clerk+demo \
    "${PROBE_T[@]}" --host-key "$WORK/pt_host.pub" --runs "$RUNS" --warmup "$WARMUP" \
    --samples "$WORK/probe_first_frame.ms" ${LOADED_WITHOUT:+--loaded-without "$LOADED_WITHOUT"})
log "timing: russh probe, exec true -> sshd and exec whoami -> packtrack (controls)"
PX_SSHD=$(timeout 600 "$PROBE" exec --command true --addr "127.0.0.1:$SSHD_PORT" --user "$ME" \
    "${PROBE_T[@]}" --host-key "$WORK/sshd/host_ed25519.pub" --runs "$RUNS" --warmup "$WARMUP" \
    --samples "$WORK/probe_exec_sshd.ms")
PX_PT=$(timeout 600 "$PROBE" exec --command whoami --addr "127.0.0.1:$PT_PORT" --user clerk+demo \
    "${PROBE_T[@]}" --host-key "$WORK/pt_host.pub" --runs "$RUNS" --warmup "$WARMUP" \
    --samples "$WORK/probe_exec_pt.ms")
log "timing: OpenSSH ssh -tt -> packtrack until the session quits on q (upper bound)"
printf -v SSH_Q '%q ' "${SSH[@]}"
time_sh packtrack_tt "printf q | ${SSH_Q} -tt -p $PT_PORT clerk+demo@127.0.0.1 >/dev/null"
log "timing: OpenSSH ssh true -> sshd again (drift check)"
RUNS_SAVED=$RUNS
RUNS=$(((RUNS + 1) / 2))
time_cmd openssh_true_again "${SSH[@]}" -p "$SSHD_PORT" "$ME@127.0.0.1" true
RUNS=$RUNS_SAVED

# ---------------------------------------------------------------- idle sessions
# One round: open IDLE_SESSIONS sessions, measure, check they all answer, close them,
# measure again. Sets R_* globals.
idle_round() {
    local n=$1 probe_log
    exec {probe_log}>"$WORK/probe_idle$n.err"
    coproc IDLE { exec timeout 900 "$PROBE" idle --addr "127.0.0.1:$PT_PORT" --user clerk+demo \
        "${PROBE_T[@]}" --host-key "$WORK/pt_host.pub" --count "$IDLE_SESSIONS" 2>&"$probe_log"; }
    PROBE_PID=$IDLE_PID
    read -r -t 600 -u "${IDLE[0]}" R_READY || die "idle: no READY ($(tail -3 "$WORK/probe_idle$n.err"))"
    sleep 3 # let allocations settle (session tasks, first dashboard queries)
    R_RSS_HELD=$(rss_kib "$PT_PID")
    R_FD_HELD=$(fd_count "$PT_PID")
    R_TH_HELD=$(threads "$PT_PID")
    R_PG_HELD=$(pg_pss_kib)
    R_PGB_HELD=$(pg_backends)
    R_CONN_HELD=$(ssh_conns)
    R_ACTIVE_HELD=$(metric packtrack_sessions_active)
    echo check >&"${IDLE[1]}"
    read -r -t 300 -u "${IDLE[0]}" R_ALIVE || die "idle: no ALIVE"
    R_RSS_CHECK=$(rss_kib "$PT_PID")
    R_ACTIVE_CHECK=$(metric packtrack_sessions_active)
    echo close >&"${IDLE[1]}"
    read -r -t 300 -u "${IDLE[0]}" R_CLOSED || die "idle: no CLOSED"
    wait "$PROBE_PID" 2>/dev/null || true
    PROBE_PID=
    exec {probe_log}>&-
    sleep 3
    R_RSS_AFTER=$(rss_kib "$PT_PID")
    R_FD_AFTER=$(fd_count "$PT_PID")
    R_TH_AFTER=$(threads "$PT_PID")
    R_CONN_AFTER=$(ssh_conns)
    R_PGB_AFTER=$(pg_backends)
    R_ACTIVE_AFTER=$(metric packtrack_sessions_active)
}

log "idle: $IDLE_SESSIONS PTY sessions, round 1"
sleep 1
RSS0=$(rss_kib "$PT_PID")
FD0=$(fd_count "$PT_PID")
TH0=$(threads "$PT_PID")
PG0=$(pg_pss_kib)
PGB0=$(pg_backends)
idle_round 1
READY=$R_READY ALIVE=$R_ALIVE CLOSED=$R_CLOSED
RSS1=$R_RSS_HELD FD1=$R_FD_HELD TH1=$R_TH_HELD PG1=$R_PG_HELD PGB1=$R_PGB_HELD
CONN1=$R_CONN_HELD ACTIVE1=$R_ACTIVE_HELD RSS2=$R_RSS_CHECK ACTIVE2=$R_ACTIVE_CHECK
RSS3=$R_RSS_AFTER FD3=$R_FD_AFTER TH3=$R_TH_AFTER CONN3=$R_CONN_AFTER PGB3=$R_PGB_AFTER
ACTIVE3=$R_ACTIVE_AFTER
# A second round shows whether memory freed by the first is reused (no growth) or leaks.
log "idle: round 2"
idle_round 2

# ---------------------------------------------------------------- report
kv() { sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" <<<" $1"; }
read -r A_MEAN A_P50 A_P90 A_P99 A_MIN A_MAX < <(stats <"$WORK/openssh_true.ms")
read -r A2_MEAN A2_P50 _ _ _ _ < <(stats <"$WORK/openssh_true_again.ms")
read -r K_MEAN K_P50 K_P90 K_P99 K_MIN K_MAX < <(stats <"$WORK/openssh_true_x25519.ms")
read -r W_MEAN W_P50 W_P90 W_P99 W_MIN W_MAX < <(stats <"$WORK/packtrack_whoami.ms")
read -r T_MEAN T_P50 T_P90 T_P99 T_MIN T_MAX < <(stats <"$WORK/packtrack_tt.ms")
read -r F_MEAN F_P50 F_P90 F_P99 F_MIN F_MAX < <(stats <"$WORK/probe_first_frame.ms")
read -r XS_MEAN XS_P50 XS_P90 XS_P99 _ _ < <(stats <"$WORK/probe_exec_sshd.ms")
read -r XP_MEAN XP_P50 XP_P90 XP_P99 _ _ < <(stats <"$WORK/probe_exec_pt.ms")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
R_P50=$(ratio "$F_P50" "$A_P50")
R_MEAN=$(ratio "$F_MEAN" "$A_MEAN")
R_P90=$(ratio "$F_P90" "$A_P90")
R_WHOAMI=$(ratio "$W_P50" "$A_P50")
R_X25519=$(ratio "$F_P50" "$K_P50")
R_WHOAMI_X=$(ratio "$W_P50" "$K_P50")
R_TT=$(ratio "$T_P50" "$A_P50")
R_PROBE=$(ratio "$XP_P50" "$XS_P50")
OPENED=$(kv "$READY" opened)
ALIVE_N=$(kv "$ALIVE" alive)
PER_SESSION_KIB=$(awk -v a="$RSS1" -v b="$RSS0" -v n="$OPENED" 'BEGIN { printf "%.1f", (n > 0) ? (a - b) / n : 0 }')
PER_SESSION_MIB=$(awk -v k="$PER_SESSION_KIB" 'BEGIN { printf "%.3f", k / 1024 }')
verdict() { awk -v v="$1" -v lim="$2" 'BEGIN { print (v <= lim) ? "PASS" : "FAIL" }'; }
V_RATIO=$(verdict "$R_P50" 1.2)
V_MEM=$(verdict "$PER_SESSION_MIB" 1.999)
V_IDLE=FAIL
[ "$OPENED" = "$IDLE_SESSIONS" ] && [ "$ALIVE_N" = "$IDLE_SESSIONS" ] &&
    [ "$(kv "$R_ALIVE" alive)" = "$IDLE_SESSIONS" ] && V_IDLE=PASS
if SRC_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null); then
    git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml Cargo.lock || SRC_REV="$SRC_REV+dirty"
else
    SRC_REV=unknown
fi

cat <<EOF

## ssh-bench $(date -u +%Y-%m-%dT%H:%MZ)  packtrack $SRC_REV
machine: $(nproc) cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr), $(ssh -V 2>&1 | cut -d, -f1)
method: loopback; $RUNS timed runs after $WARMUP warm-up per line; $( [ "$HAVE_HYPERFINE" = 1 ] && echo "hyperfine $(hyperfine --version | cut -d' ' -f2) -N" || echo "bash loop (date +%s%N)"); ms
kex: OpenSSH->sshd $KEX_OPENSSH; OpenSSH->packtrack $KEX_OPENSSH_PT; probe->packtrack $(kv "$FF" kex)

| what | mean | p50 | p90 | p99 | min | max |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
| OpenSSH \`ssh true\` -> sshd (baseline) | $A_MEAN | $A_P50 | $A_P90 | $A_P99 | $A_MIN | $A_MAX |
| OpenSSH \`ssh true\` -> sshd, curve25519-sha256 | $K_MEAN | $K_P50 | $K_P90 | $K_P99 | $K_MIN | $K_MAX |
| OpenSSH \`ssh whoami\` -> packtrack | $W_MEAN | $W_P50 | $W_P90 | $W_P99 | $W_MIN | $W_MAX |
| probe connect+auth+PTY+first frame -> packtrack | $F_MEAN | $F_P50 | $F_P90 | $F_P99 | $F_MIN | $F_MAX |
| OpenSSH \`ssh -tt\`, frame + q + exit -> packtrack | $T_MEAN | $T_P50 | $T_P90 | $T_P99 | $T_MIN | $T_MAX |
| probe \`exec true\` -> sshd (control) | $XS_MEAN | $XS_P50 | $XS_P90 | $XS_P99 | | |
| probe \`exec whoami\` -> packtrack (control) | $XP_MEAN | $XP_P50 | $XP_P90 | $XP_P99 | | |
| OpenSSH \`ssh true\` -> sshd, again at the end | $A2_MEAN | $A2_P50 | | | | |

first-frame phases (p50, ms): connect+kex $(kv "$FF" connect_p50), auth $(kv "$FF" auth_p50), channel open $(kv "$FF" channel_p50), shell->first byte $(kv "$FF" first_byte_p50)$( [ -n "$(kv "$FF" loaded_p50)" ] && echo ", data loaded $(kv "$FF" loaded_p50)")

ratio packtrack first frame / OpenSSH ssh true: p50 ${R_P50}x, mean ${R_MEAN}x, p90 ${R_P90}x  (budget <= 1.2x: $V_RATIO)
against the curve25519-only baseline: first frame ${R_X25519}x, OpenSSH whoami ${R_WHOAMI_X}x (p50)
same OpenSSH client, packtrack whoami / sshd true: p50 ${R_WHOAMI}x; ssh -tt upper bound: ${R_TT}x
same russh client, packtrack exec whoami / sshd exec true: p50 ${R_PROBE}x

idle sessions: opened $OPENED/$IDLE_SESSIONS in $(kv "$READY" open_ms) ms, alive after the check $ALIVE_N ($ALIVE)
  server RSS: before $(mib "$RSS0") MiB, with $OPENED sessions $(mib "$RSS1") MiB, after the check $(mib "$RSS2") MiB, after close $(mib "$RSS3") MiB
  per idle session: $PER_SESSION_KIB KiB = $PER_SESSION_MIB MiB  (budget < 2 MiB: $V_MEM; $IDLE_SESSIONS alive: $V_IDLE)
  server fds: before $FD0, held $FD1, after close $FD3; threads: $TH0 / $TH1 / $TH3
  sessions_active metric: held ${ACTIVE1:-?}, after check ${ACTIVE2:-?}, after close ${ACTIVE3:-?}
  established SSH connections: held $CONN1, after close $CONN3
  embedded PostgreSQL PSS: before $(mib "$PG0") MiB, held $(mib "$PG1") MiB; packtrack backends: $PGB0 / $PGB1 / $PGB3
  closing: $CLOSED
  round 2: $(kv "$R_READY" opened) opened, $(kv "$R_ALIVE" alive) alive; server RSS held $(mib "$R_RSS_HELD") MiB, after close $(mib "$R_RSS_AFTER") MiB; fds after close $R_FD_AFTER; sessions_active after close ${R_ACTIVE_AFTER:-?}
EOF
