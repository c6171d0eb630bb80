#!/usr/bin/env bash
# bench/turnprobe.sh: a ~40 s look at the session-turn latency at c=1 against the stateless request on the same gateway
# (issue 17), for bisecting: PROBE_ROOT=<another checkout with a Release build> runs that checkout's build instead.
# Warm-up (stateless c=8 for 5 s, turns c=16 for 8 s), then wrk -c1 stateless for 8 s, turns for 8 s over SESSION_KEYS
# sessions (default 20: they stay resident, so no recovery is measured) and streaming turns' TTFT. Not for RESULTS.md
# figures (that is run.sh); every process is killed on exit (lib.sh).
set -euo pipefail
ROOT="${PROBE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
SKIP_BUILD=${SKIP_BUILD:-1}
SESSION_KEYS=${SESSION_KEYS:-20}
source "$ROOT/bench/lib.sh"
start_stack
ROUND=0
run_wrk warm.gateway 8 5 "$WORK/gateway.lua" "$GW"
run_wrk warm.turns 16 8 "$WORK/turns.lua" "$GW"
settle_gateway
run_wrk ns1 1 8 "$WORK/gateway.lua" "$GW"
run_wrk t1 1 8 "$WORK/turns.lua" "$GW"
run_stream ts1 1 "$GW" bench/m "" 8 0 "$SESSION_KEYS"
