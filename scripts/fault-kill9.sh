#!/usr/bin/env bash
# Budget (docs/RELIABILITY.md): after `kill -9` of the postmaster under 4 intake loops,
# logins and intakes work again within 10 s with no human action; 0 acknowledged intakes
# lost, 0 partial rows.
#
# Starts `serve --demo` on a fresh embedded cluster, runs LOOPS intake loops over the
# OpenSSH client (each retries its tracking number until exit 0), kills the postmaster
# with SIGKILL ROUNDS times, and for each kill measures the time until a fresh login +
# intake succeeds (a probe loop) and until every loop has an intake acknowledged again.
# Then checks the database and times SIGTERM to exit.
#
# Usage: scripts/fault-kill9.sh      (env: LOOPS=4 ROUNDS=3 LOAD_SECS=3 KEEP=1
#                                     PACKTRACK_BIN=… default target/release, else debug)
set -euo pipefail
source "$(dirname "$0")/fault-lib.sh"
LOOPS=${LOOPS:-4}
ROUNDS=${ROUNDS:-3}
LOAD_SECS=${LOAD_SECS:-3}

log "binary: $BIN"
start_serve
RCPT=$(demo_recipient)
start_loops "$LOOPS" "$RCPT"
sleep "$LOAD_SECS"
printf '%-6s %-10s %-12s %-14s %s\n' round postmaster login+intake all-loops-back acked-so-far
for round in $(seq 1 "$ROUNDS"); do
    pm=$(postmaster_pid)
    t0=$(now)
    kill -KILL "$pm"
    # A fresh login and intake, as a clerk at another counter would try.
    n=0
    until pt_ssh whoami >/dev/null 2>&1 &&
        pt_ssh packages intake --tracking "PROBE${round}X$n" --recipient "$RCPT" >/dev/null 2>&1; do
        n=$((n + 1))
        sleep 0.1
        [ "$(echo "$(since "$t0") > 120" | bc)" = 1 ] && { echo "no recovery in 120 s" >&2; exit 1; }
    done
    probe=$(since "$t0")
    # Every loop acknowledged an intake after the kill.
    while :; do
        back=0
        for l in $(seq 1 "$LOOPS"); do
            last=$(tail -n 1 "$WORK/acked.$l" | awk '{print $2}')
            [ -n "$last" ] && [ "$(echo "$last > $t0" | bc)" = 1 ] && back=$((back + 1))
        done
        [ "$back" = "$LOOPS" ] && break
        sleep 0.05
    done
    loops_back=$(since "$t0")
    printf '%-6s %-10s %-12.2f %-14.2f %s\n' "$round" "$pm" "$probe" "$loops_back" "$(acked_count)"
    sleep "$LOAD_SECS"
done
stop_loops
read -r acked lost dup partial < <(check_intakes)
echo "acknowledged intakes: $acked  lost: $lost  duplicated: $dup  partial rows: $partial"
echo "failed attempts (retried): $(cat "$WORK"/errors.* | wc -l)"
curl -s "127.0.0.1:$METRICS_PORT/" | grep '^packtrack_db_' || true
stop_serve
echo "SIGTERM to exit: $STOP_SECS s (status $STOP_STATUS)"
if grep -q panicked "$WORK/serve.log"; then echo "PANIC in the server log" >&2; exit 1; fi
[ "$lost" = 0 ] && [ "$dup" = 0 ] && [ "$partial" = 0 ]
