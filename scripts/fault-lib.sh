# Shared by scripts/fault-*.sh (sourced, not run): a temp dir, `packtrack serve --demo` on
# an embedded cluster of its own, the OpenSSH client as clerk+demo, intake loops that retry
# each tracking number until the server acknowledges it (exit 0), and checks on the result.
# Only processes these scripts started are signalled, by PID.

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${PACKTRACK_BIN:-}" ]; then
    BIN=$PACKTRACK_BIN
elif [ -x "$ROOT/target/release/packtrack" ]; then
    BIN=$ROOT/target/release/packtrack
else
    BIN=$ROOT/target/debug/packtrack
fi
[ -x "$BIN" ] || { echo "no packtrack binary at $BIN (cargo build [--release])" >&2; exit 1; }

WORK=$(mktemp -d /tmp/pt-fault.XXXXXX)
# As root the embedded cluster runs as the `postgres` user, which must traverse to DATA.
chmod 711 "$WORK"
DATA=${DATA:-$WORK/data}
KEYS=$WORK/keys
HOME_DIR=$WORK/home
PT_PID=
LOOP_PIDS=()
mkdir -p "$HOME_DIR/.ssh"
ssh-keygen -q -t ed25519 -N '' -f "$HOME_DIR/.ssh/id_ed25519"

log() { printf '>> %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

fault_cleanup() {
    local rc=$?
    set +e
    touch "$WORK/stop"
    for p in "${LOOP_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    if [ -n "$PT_PID" ] && kill -0 "$PT_PID" 2>/dev/null; then
        kill -TERM "$PT_PID"
        wait "$PT_PID" 2>/dev/null
    fi
    # A postmaster we stopped with SIGSTOP gets its signals once resumed.
    if [ -n "${STOPPED_PM:-}" ]; then kill -CONT "$STOPPED_PM" 2>/dev/null; fi
    wait 2>/dev/null
    [ -n "${EXTRA_CLEANUP:-}" ] && eval "$EXTRA_CLEANUP"
    if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
        log "logs and data kept in $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap fault_cleanup EXIT

# start_serve [extra serve args…]: starts serve, waits for `listening on`; sets PT_PID, PORT.
start_serve() {
    PORT=$(free_port)
    METRICS_PORT=$(free_port)
    : >"$WORK/serve.log"
    HOME=$HOME_DIR RUST_LOG=${RUST_LOG:-info} NO_COLOR=1 "$BIN" --data-dir "$DATA" --keys-dir "$KEYS" \
        serve --demo --listen "127.0.0.1:$PORT" --metrics "127.0.0.1:$METRICS_PORT" "$@" \
        >>"$WORK/serve.out" 2>>"$WORK/serve.log" &
    PT_PID=$!
    for _ in $(seq 1 600); do
        grep -q '^listening on' "$WORK/serve.log" && return 0
        kill -0 "$PT_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; return 1; }
        sleep 0.1
    done
    echo "serve did not start" >&2
    return 1
}

# stop_serve: SIGTERM; sets STOP_SECS to the seconds until the process exited and
# STOP_STATUS to its exit status. (Not in a subshell: only the parent can wait for it.)
stop_serve() {
    local t0
    t0=$(now)
    kill -TERM "$PT_PID"
    STOP_STATUS=0
    wait "$PT_PID" || STOP_STATUS=$?
    STOP_SECS=$(since "$t0")
    PT_PID=
}

pt_ssh() {
    ssh -p "$PORT" -i "$HOME_DIR/.ssh/id_ed25519" -o IdentitiesOnly=yes \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
        -o ConnectTimeout=5 -o ServerAliveInterval=5 -o ServerAliveCountMax=2 \
        -o LogLevel=ERROR clerk+demo@127.0.0.1 "$@"
}

pt_psql() { "$BIN" --data-dir "$DATA" --keys-dir "$KEYS" admin psql -- -At -v ON_ERROR_STOP=1 -c "$1"; }

postmaster_pid() { head -n 1 "$DATA/postgres/postmaster.pid" 2>/dev/null; }

demo_recipient() {
    pt_ssh recipients search a --json | head -n 1 |
        python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])'
}

# start_loops N RCPT: N background intake loops; each appends "TRACKING EPOCH" to
# $WORK/acked.L for every intake the server acknowledged, and failures to $WORK/errors.L.
start_loops() {
    local n=$1 rcpt=$2
    rm -f "$WORK/stop"
    for l in $(seq 1 "$n"); do
        (
            i=0
            while [ ! -e "$WORK/stop" ]; do
                t=$(printf 'FLT%sR%sX%05d' "$l" "${ROUND:-0}" "$i")
                if pt_ssh packages intake --tracking "$t" --recipient "$rcpt" >/dev/null 2>>"$WORK/errors.$l"; then
                    echo "$t $(now)" >>"$WORK/acked.$l"
                    i=$((i + 1))
                else
                    sleep 0.1
                fi
            done
        ) &
        LOOP_PIDS+=($!)
    done
}

stop_loops() {
    touch "$WORK/stop"
    for p in "${LOOP_PIDS[@]}"; do wait "$p" 2>/dev/null; done
    LOOP_PIDS=()
}

acked_count() { cat "$WORK"/acked.* 2>/dev/null | wc -l; }

# check_intakes: every acknowledged tracking number present exactly once, each package
# with exactly one `received` event; prints "acked lost duplicated partial".
check_intakes() {
    local list acked present dup partial
    acked=$(acked_count)
    list=$(cat "$WORK"/acked.* | awk '{printf "%s'\''%s'\''", (NR>1?",":""), $1}')
    present=$(pt_psql "SELECT count(DISTINCT tracking) FROM packages WHERE tracking IN ($list)")
    dup=$(pt_psql "SELECT count(*) - count(DISTINCT tracking) FROM packages WHERE tracking IN ($list)")
    partial=$(pt_psql "SELECT count(*) FROM packages p WHERE tracking LIKE 'FLT%' AND
        (SELECT count(*) FROM package_events e WHERE e.package_id = p.id AND e.kind = 'received') <> 1")
    echo "$acked $((acked - present)) $dup $partial"
}
