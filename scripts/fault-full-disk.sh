#!/usr/bin/env bash
# Full disk, the long way (docs/RELIABILITY.md; not in CI: needs root to mount a tmpfs).
#
# Puts the data dir on a small tmpfs, runs 4 intake loops, fills the disk with a filler
# file for FULL_SECS, then frees it. Reports what clients were told while the disk was full,
# whether PostgreSQL stopped and was restarted by the supervisor, how long after freeing the
# space logins and intakes worked again, and whether any acknowledged intake was lost.
#
# Usage: sudo scripts/fault-full-disk.sh   (env: SIZE=256m FULL_SECS=10 KEEP=1
#                                           PACKTRACK_BIN=…)
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "fault-full-disk: needs root (mounts a tmpfs)" >&2; exit 1; }
source "$(dirname "$0")/fault-lib.sh"
SIZE=${SIZE:-256m}
FULL_SECS=${FULL_SECS:-10}
DISK=$WORK/disk
mkdir -p "$DISK"
mount -t tmpfs -o "size=$SIZE,mode=0711" tmpfs "$DISK"
EXTRA_CLEANUP='umount "$DISK" 2>/dev/null || umount -l "$DISK"'
DATA=$DISK/data

log "binary: $BIN, data dir on a $SIZE tmpfs"
start_serve
RCPT=$(demo_recipient)
start_loops 4 "$RCPT"
sleep 3
before=$(acked_count)
for l in 1 2 3 4; do : >"$WORK/errors.$l"; done
log "filling the disk"
dd if=/dev/zero of="$DISK/filler" bs=1M 2>/dev/null || true
t_full=$(now)
df -h "$DISK" | tail -n 1
sleep "$FULL_SECS"
during=$(( $(acked_count) - before ))
echo "intakes acknowledged while full: $during"
echo "what clients were told while full (count, message):"
cat "$WORK"/errors.* | sed 's/[0-9]\{4,\}/N/g' | sort | uniq -c | sort -rn | head -n 8
curl -s "127.0.0.1:$METRICS_PORT/" | grep '^packtrack_db_' || true

log "freeing the space"
rm -f "$DISK/filler"
t_free=$(now)
n=0
until pt_ssh whoami >/dev/null 2>&1 &&
    pt_ssh packages intake --tracking "PROBEFULLX$n" --recipient "$RCPT" >/dev/null 2>&1; do
    n=$((n + 1))
    sleep 0.1
    [ "$(echo "$(since "$t_free") > 120" | bc)" = 1 ] && { echo "no recovery in 120 s" >&2; exit 1; }
done
echo "login + intake work again $(since "$t_free") s after the space was freed ($(since "$t_full") s after it filled)"
sleep 3
stop_loops
read -r acked lost dup partial < <(check_intakes)
echo "acknowledged intakes: $acked  lost: $lost  duplicated: $dup  partial rows: $partial"
curl -s "127.0.0.1:$METRICS_PORT/" | grep '^packtrack_db_' || true
echo "server log, supervisor and errors:"
grep -E 'PostgreSQL|ERROR|WARN' "$WORK/serve.log" | sed 's/^[^ ]* //' | cut -c1-200 | sort | uniq -c | sort -rn | head -n 12 || true
stop_serve
echo "SIGTERM to exit: $STOP_SECS s (status $STOP_STATUS)"
if grep -q panicked "$WORK/serve.log"; then echo "PANIC in the server log" >&2; fi
[ "$lost" = 0 ] && [ "$dup" = 0 ] && [ "$partial" = 0 ]
