#!/usr/bin/env bash
# bench/allocgrowth.sh: allocated bytes per session turn at c=64 over ROUNDS rounds of fresh sessions on one gateway
# (issue 17: run.sh's turn phase allocated more per turn round after round). Each round creates SESSION_KEYS sessions
# (one untimed turn each), then times DURATION s of turns over them; prints bytes per turn and the allocation sample by
# type (DURAR_BENCH_ALLOCS=1). Knobs: ROUNDS=4 DURATION=10 CONC=64 SESSION_KEYS=2000 SKIP_BUILD KEEP GATEWAY_ENV.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS=${ROUNDS:-4}
DURATION=${DURATION:-10}
CONC=${CONC:-64}
export GATEWAY_ENV="${GATEWAY_ENV:-} DURAR_BENCH_ALLOCS=1"
source "$ROOT/bench/lib.sh"
ROUND=0
start_stack
for ROUND in $(seq 1 "$ROUNDS"); do
  export SESSION_PREFIX="ag$ROUND"
  session_lua "$WORK/turns.lua"
  bench sessions --url "$GW" --count "${SESSION_KEYS:-2000}" --prefix "$SESSION_PREFIX" --model bench/m --concurrency 32 --duration 120 >"$WORK/create.$ROUND.txt" 2>&1
  settle_gateway
  gc_snap allocs >/dev/null
  alloc_begin
  run_wrk tN "$CONC" "$DURATION" "$WORK/turns.lua" "$GW"
  n=$(kv requests "$WRK_LAST")
  alloc_end tN "$n"
  log "round $ROUND: $n turns, $(grep -P "^$ROUND\ttN.alloc_per_req" "$FIGS" | cut -f3) B per turn; heap $(kv heap "$(gc_snap snap)")"
  log "  by type: $(gc_snap allocs | tr ' ' '\n' | head -12 | tr '\n' ' ')"
done
