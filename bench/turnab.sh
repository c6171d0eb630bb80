#!/usr/bin/env bash
# bench/turnab.sh: c=64 session turns in run.sh's shape, for an A/B of two builds (issue 17). PROBE_ROOT=<another
# checkout with a Release build> runs that checkout's build instead. Warms the gateway with 5 s of stateless load, then
# ROUNDS (3) rounds, each of 2,000 fresh sessions (SESSION_KEYS; one untimed turn each, as run.sh creates them), a settled
# gateway and DURATION (10) s of turns at CONC (64); prints one RESULT line per round: turns/s, gateway CPU and bytes
# allocated per turn, thread-pool work items per turn, and the methods the JIT compiled in the phase (round 1 is mostly
# not warm: compare rounds 2 and later). Interleave the builds (A B A B) on a quiet machine. Not a RESULTS.md run (that
# is run.sh); every process is killed on exit (lib.sh).
set -euo pipefail
ROOT="${PROBE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
SKIP_BUILD=${SKIP_BUILD:-1}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONC=${CONC:-64}
source "$ROOT/bench/lib.sh"
ROUND=0
start_stack
run_wrk warm "$CONC" 5 "$WORK/gateway.lua" "$GW"
val() { awk -F'\t' -v r="$ROUND" -v n="$1" '$1==r && $2==n {print $3}' "$FIGS" | tail -1; }
for ROUND in $(seq 1 "$ROUNDS"); do
  export SESSION_PREFIX="ab$ROUND"
  session_lua "$WORK/turns.lua"
  bench sessions --url "$GW" --count "${SESSION_KEYS:-2000}" --prefix "$SESSION_PREFIX" --model bench/m --concurrency 32 --duration 120 \
    >"$WORK/create.$ROUND.txt" 2>&1 || die "creating the round's sessions failed: $(tail -3 "$WORK/create.$ROUND.txt")"
  settle_gateway
  alloc_begin; cpu_begin
  run_wrk tN "$CONC" "$DURATION" "$WORK/turns.lua" "$GW"
  n=$(kv requests "$WRK_LAST")
  cpu_end tN "$n"; alloc_end tN "$n"
  echo "RESULT root=$ROOT round=$ROUND turns_s=$(val tN.rps) cpu_us=$(val tN.cpu_gw_us) bytes=$(val tN.alloc_per_req) tp=$(val tN.tp_per_req) jit=$(val tN.jit_methods)"
done
