#!/usr/bin/env bash
# Budget (docs/RELIABILITY.md): SIGTERM to exit under 10 s in every state tested.
#
# One data dir, one `serve --demo` per state; for each, puts the server in the state,
# sends SIGTERM and measures until the process has exited (`wait`, not `kill -0`: a zombie
# would count as alive). States:
#   idle            healthy cluster, no clients
#   load            4 intake loops running
#   session         an open interactive (PTY) session
#   pm-killed       postmaster killed with SIGKILL 0.2 s before (restart in flight)
#   pm-stopped      postmaster frozen with SIGSTOP 2 s before (takes connections, answers
#                   nothing: a hung server or a stuck disk)
#
# Usage: scripts/fault-sigterm.sh    (env: KEEP=1 PACKTRACK_BIN=…)
set -euo pipefail
source "$(dirname "$0")/fault-lib.sh"

log "binary: $BIN"
printf '%-12s %-8s %s\n' state exit-s status
worst=0
measure() {
    local state=$1
    stop_serve
    printf '%-12s %-8.2f %s\n' "$state" "$STOP_SECS" "$STOP_STATUS"
    [ "$(echo "$STOP_SECS > $worst" | bc)" = 1 ] && worst=$STOP_SECS
    if grep -q panicked "$WORK/serve.log"; then
        echo "PANIC in the server log ($state): $(grep -m1 panicked "$WORK/serve.log")" >&2
    fi
    # The next state starts from a stopped (or crashed) cluster, as a service restart would.
    if [ -n "${STOPPED_PM:-}" ]; then
        kill -CONT "$STOPPED_PM"
        while kill -0 "$STOPPED_PM" 2>/dev/null && [ -e "/proc/$STOPPED_PM/cwd" ] &&
            [ "$(readlink "/proc/$STOPPED_PM/cwd")" = "$DATA/postgres" ]; do sleep 0.1; done
        STOPPED_PM=
    fi
}

start_serve
measure idle

start_serve
RCPT=$(demo_recipient)
start_loops 4 "$RCPT"
sleep 2
measure load
stop_loops

start_serve
# A PTY session that stays open (script keeps stdin open with sleep).
(sleep 30 | pt_ssh -tt >/dev/null 2>&1) &
SESSION=$!
sleep 2
measure session
kill "$SESSION" 2>/dev/null || true

start_serve
kill -KILL "$(postmaster_pid)"
sleep 0.2
measure pm-killed

start_serve
STOPPED_PM=$(postmaster_pid)
kill -STOP "$STOPPED_PM"
sleep 2
measure pm-stopped

echo "worst: $worst s"
[ "$(echo "$worst < 10" | bc)" = 1 ]
