#!/usr/bin/env bash
# bench/leftover.sh: what a failover phase leaves behind in the gateway (issue 17's allocation growth). Same stack as
# run.sh (lib.sh: fake upstream + gateway, Release, loopback, bounded loops, everything killed on exit): warm-up, a
# non-streaming c=CONC batch (allocated bytes per request), a failover phase at c=1 (FO_SECONDS, every request a 429 on the
# first key, then the next key, as run.sh's), then every 2 s for SAMPLES samples the gateway's allocation rate and CPU with
# no load, with a second non-streaming batch 3 samples in (while whatever the failover phase left is still running) and
# a third at the end. A gateway that leaves nothing behind shows the idle rate (~30 KB/s) from the first sample on, and the
# same bytes per request in all three batches. Knobs: DURATION=5 (per batch), FO_SECONDS=10, SAMPLES=30, CONC=64,
# SKIP_BUILD=1, KEEP=1, GATEWAY_ENV, EXTRA_CONFIG.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION=${DURATION:-5}
FO_SECONDS=${FO_SECONDS:-10}
SAMPLES=${SAMPLES:-30}
CONC=${CONC:-64}
source "$ROOT/bench/lib.sh"

start_stack
ROUND=0
run_wrk warm "$CONC" 8 "$WORK/gateway.lua" "$GW"
run_wrk warm.fo 1 5 "$WORK/failover.lua" "$GW"
settle_gateway

batch() { # name
  ROUND=$((ROUND + 1))
  alloc_begin
  run_wrk "ns.$1" "$CONC" "$DURATION" "$WORK/gateway.lua" "$GW"
  alloc_end ns "$(kv requests "$WRK_LAST")"
  log "  ALLOC $1: $(awk -F'\t' -v r="$ROUND" '$1==r && $2=="ns.alloc_per_req"{print $3}' "$FIGS") B/req"
}

batch before
run_wrk failover 1 "$FO_SECONDS" "$WORK/failover.lua" "$GW"
for i in $(seq 1 "$SAMPLES"); do
  a0=$(kv allocated "$(gc_snap snap)"); t0=$(cpu_ticks "$GW_PID"); sleep 2
  a1=$(kv allocated "$(gc_snap snap)"); t1=$(cpu_ticks "$GW_PID")
  if [ "$a0" -gt 0 ] && [ "$a1" -gt 0 ]; then rate=$(( (a1 - a0) / 2 )); else rate=nan; fi  # 0 = the hook did not answer
  log "  after the failover phase, sample $i: $rate B/s allocated, CPU $(( (t1 - t0) * 100 / CLK_TCK / 2 )) % of a core"
  [ "$i" = 3 ] && batch during
done
batch after
