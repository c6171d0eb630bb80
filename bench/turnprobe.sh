#!/usr/bin/env bash
# bench/turnprobe.sh: a ~40 s look at the session-turn latency at c=1 against the stateless request on the same gateway
# (issue 17), for bisecting: PROBE_ROOT=<another checkout with a Release build> runs that checkout's build instead.
# Warm-up (stateless c=8 for 5 s, turns c=16 for 8 s), then wrk -c1 stateless for 8 s, turns for 8 s over SESSION_KEYS
# sessions (default 20: they stay resident, so no recovery is measured) and streaming turns' TTFT. Not for RESULTS.md
# figures (that is run.sh); every process is killed on exit (lib.sh). Then 5 s each of stateless requests and turns at
# CONC (64) with the gateway CPU and allocated bytes per request.
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
# Throughput, CPU and allocation per request at CONC (64): stateless, then turns over the same SESSION_KEYS sessions.
CONC=${CONC:-64}
for phase in nsN:gateway.lua tN:turns.lua; do
  name=${phase%%:*}; script=${phase#*:}
  alloc_begin; cpu_begin
  run_wrk "$name" "$CONC" 5 "$WORK/$script" "$GW"
  cpu_end "$name" "$(kv requests "$WRK_LAST")"; alloc_end "$name" "$(kv requests "$WRK_LAST")"
done
val() { awk -F'\t' -v n="$1" '$2==n {print $3}' "$FIGS" | tail -1; }
log "c=$CONC: stateless $(val nsN.rps) req/s, $(val nsN.cpu_gw_us) us CPU, $(val nsN.alloc_per_req) B, $(val nsN.tp_per_req) thread-pool items per request; turns $(val tN.rps)/s, $(val tN.cpu_gw_us) us CPU, $(val tN.alloc_per_req) B, $(val tN.tp_per_req) thread-pool items per turn (x $(awk -v a="$(val tN.rps)" -v b="$(val nsN.rps)" 'BEGIN{printf "%.2f", a/b}'))"
