#!/usr/bin/env bash
# How long the property tests take (issue 13 item 12: "enough cases in CI to matter, but
# fast"). Builds the test targets first, then times the property tests alone, in the debug
# profile CI uses, at proptest's default 256 cases and at a larger count.
#
# Usage: scripts/props-time.sh        (env: CASES="256 2560", the PROPTEST_CASES values)
# Budget: the default run well under 20 s on the 2-core machine CI runs on.
set -euo pipefail
cd "$(dirname "$0")/.."

CASES=${CASES:-256 2560}

cargo test --no-run --lib --test it >/dev/null 2>&1

for n in $CASES; do
    start=$(date +%s.%N)
    # Unit-test properties (exec parser, input parser memory) and tests/it/props.
    PROPTEST_CASES=$n cargo test --lib -q props >/dev/null
    PROPTEST_CASES=$n cargo test --test it -q props:: >/dev/null
    end=$(date +%s.%N)
    printf 'PROPTEST_CASES=%-6s %6.1f s (both binaries, wall clock incl. process start)\n' \
        "$n" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
done
