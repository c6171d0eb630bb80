#!/usr/bin/env bash
# bench/allocgrowth.sh: allocated bytes per session turn at c=64 over ROUNDS rounds of fresh sessions on one gateway
# (issue 17: run.sh's turn phase allocated more per turn round after round). Each round creates SESSION_KEYS sessions
# (one untimed turn each), then times DURATION s of turns over them; prints bytes per turn and the allocation sample by
# type (DURAR_BENCH_ALLOCS=1). Knobs: ROUNDS=4 DURATION=10 CONC=64 SESSION_KEYS=2000 SKIP_BUILD KEEP GATEWAY_ENV, and
# MIX="..." (default empty: turns alone): the other phases of a run.sh round, run after each round's timed turns, so
# that the next round's turns meet what they leave behind; words, each MIX_SECONDS (5) long: t1 (turns c=1), ts1
# (streaming session turns c=1 over the round's "<prefix>s" sessions), fo (failover c=1: a 429 on the first key, then the
# next key), s1 (stateless streaming c=1), sN (stateless streaming c=CONC), ns1 / nsN (stateless non-streaming).
# MIX=all is "t1 ts1 fo s1 sN nsN"; bisect by leaving words out.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS=${ROUNDS:-4}
DURATION=${DURATION:-10}
CONC=${CONC:-64}
MIX=${MIX:-}
[ "$MIX" = all ] && MIX="t1 ts1 fo s1 sN nsN"
MIX_SECONDS=${MIX_SECONDS:-5}
export GATEWAY_ENV="${GATEWAY_ENV:-} DURAR_BENCH_ALLOCS=1"
source "$ROOT/bench/lib.sh"
ROUND=0
start_stack
mix() {
  local w
  for w in $MIX; do
    case "$w" in
      t1) run_wrk mix.t1 1 "$MIX_SECONDS" "$WORK/turns.lua" "$GW" ;;
      ts1) run_stream mix.ts1 1 "$GW" bench/m "" "$MIX_SECONDS" 0 "${SESSION_KEYS:-2000}" ;;
      fo) run_wrk mix.fo 1 "$MIX_SECONDS" "$WORK/failover.lua" "$GW" ;;
      s1) run_stream mix.s1 1 "$GW" bench/m "" "$MIX_SECONDS" 0 ;;
      sN) run_stream mix.sN "$CONC" "$GW" bench/m "" "$MIX_SECONDS" 0 ;;
      ns1) run_wrk mix.ns1 1 "$MIX_SECONDS" "$WORK/gateway.lua" "$GW" ;;
      nsN) run_wrk mix.nsN "$CONC" "$MIX_SECONDS" "$WORK/gateway.lua" "$GW" ;;
      *) die "MIX: unknown phase $w (t1 ts1 fo s1 sN ns1 nsN)" ;;
    esac
  done
}
for ROUND in $(seq 1 "$ROUNDS"); do
  export SESSION_PREFIX="ag$ROUND"
  session_lua "$WORK/turns.lua"
  for p in "$SESSION_PREFIX" ${MIX:+"${SESSION_PREFIX}s"}; do
    bench sessions --url "$GW" --count "${SESSION_KEYS:-2000}" --prefix "$p" --model bench/m --concurrency 32 --duration 120 >"$WORK/create.$p.txt" 2>&1
  done
  measured_turns
  n=$TURNS_N
  log "round $ROUND: $n turns, $(grep -P "^$ROUND\ttN.alloc_per_req" "$FIGS" | cut -f3) B per turn; heap $(kv heap "$(gc_snap snap)")"
  log "  by type: $(gc_snap allocs | tr ' ' '\n' | head -12 | tr '\n' ' ')"
  mix
  [ -z "$MIX" ] || settle_gateway
done
log "ALLOC per turn by round (MIX=\"$MIX\"): $(awk -F'\t' '$2=="tN.alloc_per_req"{printf "%s ", $3}' "$FIGS")"
