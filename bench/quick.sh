#!/usr/bin/env bash
# bench/quick.sh: a short A/B look (about 70 s after the build) at the two throughput ratios that take the most work,
# non-streaming and streaming at concurrency CONC, with the gateway's CPU and allocated bytes per request. For trying a
# change, not for RESULTS.md (that is bench/run.sh with RUNS=3 on a quiet machine).
#
# Same stack as bench/run.sh (lib.sh: fake upstream + gateway, Release, loopback, bounded loops, everything killed on
# exit). Knobs: DURATION=5 (per measured phase), WARMUP=10 (gateway warm-up per load shape), CONC=64, RUNS=1, CHUNKS=20,
# SKIP_BUILD=1, KEEP=1, GATEWAY_ENV. Optional SESSIONS=N (default 0): after the load, create N sessions on the same
# gateway (concurrency SESSIONS_CONC=32, at most SESSIONS_CAP=60 s) and print the creation rate.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-10}
CONC=${CONC:-64}
RUNS=${RUNS:-1}
SESSIONS=${SESSIONS:-0}
SESSIONS_CONC=${SESSIONS_CONC:-32}
SESSIONS_CAP=${SESSIONS_CAP:-60}
source "$ROOT/bench/lib.sh"

start_stack
ROUND=0
log "warm-up (${WARMUP}s of each load through the gateway, 3s direct)"
run_wrk warm.direct "$CONC" 3 "$WORK/direct.lua" "$UP"
run_wrk warm.gateway "$CONC" "$WARMUP" "$WORK/gateway.lua" "$GW"
run_stream warm.stream.direct "$CONC" "$UP" m sk-bench 3 0
run_stream warm.stream.gateway "$CONC" "$GW" bench/m "" "$WARMUP" 0

for ROUND in $(seq 1 "$RUNS"); do
  log "round $ROUND/$RUNS"
  cpu_begin; run_wrk nsN.direct "$CONC" "$DURATION" "$WORK/direct.lua" "$UP"; cpu_end nsN.direct "$(kv requests "$WRK_LAST")"
  alloc_begin; cpu_begin
  run_wrk nsN.gateway "$CONC" "$DURATION" "$WORK/gateway.lua" "$GW"
  cpu_end nsN.gateway "$(kv requests "$WRK_LAST")"; alloc_end nsN.gateway "$(kv requests "$WRK_LAST")"
  cpu_begin; run_stream sN.direct "$CONC" "$UP" m sk-bench "$DURATION" 0; cpu_end sN.direct "$(kv ok "$STREAM_LAST")"
  alloc_begin; cpu_begin
  run_stream sN.gateway "$CONC" "$GW" bench/m "" "$DURATION" 0
  cpu_end sN.gateway "$(kv ok "$STREAM_LAST")"; alloc_end sN.gateway "$(kv ok "$STREAM_LAST")"
done

if [ "$SESSIONS" -gt 0 ]; then
  ROUND=0
  log "sessions: creating up to $SESSIONS (concurrency $SESSIONS_CONC, at most ${SESSIONS_CAP}s)"
  bench sessions --url "$GW" --count "$SESSIONS" --concurrency "$SESSIONS_CONC" --duration "$SESSIONS_CAP" --prefix quick \
    >"$WORK/sessions.txt" 2>&1 || die "session creation failed: $(tail -3 "$WORK/sessions.txt")"
  SRES=$(grep '^RESULT' "$WORK/sessions.txt")
  log "  $SRES"
fi

# Per round: the figure for each name; then the ratio per round.
val() { awk -F'\t' -v r="$1" -v n="$2" '$1==r && $2==n {print $3}' "$FIGS"; }
{
  echo "| round | ns c=$CONC direct | gateway | ratio | gw CPU us/req | gw bytes/req | stream c=$CONC direct | gateway | ratio | gw CPU us/req | gw bytes/req |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for r in $(seq 1 "$RUNS"); do
    nd=$(val "$r" nsN.direct.rps); ng=$(val "$r" nsN.gateway.rps); sd=$(val "$r" sN.direct.rps); sg=$(val "$r" sN.gateway.rps)
    printf '| %s | %.0f | %.0f | %.2f | %s | %s | %.0f | %.0f | %.2f | %s | %s |\n' "$r" "$nd" "$ng" "$(awk -v a="$ng" -v b="$nd" 'BEGIN{print a/b}')" \
      "$(val "$r" nsN.gateway.cpu_gw_us)" "$(val "$r" nsN.gateway.alloc_per_req)" \
      "$sd" "$sg" "$(awk -v a="$sg" -v b="$sd" 'BEGIN{print a/b}')" "$(val "$r" sN.gateway.cpu_gw_us)" "$(val "$r" sN.gateway.alloc_per_req)"
  done
  echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); DURATION=${DURATION}s WARMUP=${WARMUP}s; took $(( $(date +%s) - T_START ))s"
}
