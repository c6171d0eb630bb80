#!/usr/bin/env bash
# bench/run.sh: the gateway against the direct upstream, one command, one machine, one run.
#
# Builds Release, starts the fake upstream (bench/Durar.Bench.Upstream) and the gateway on loopback ports with a temp
# data dir, warms both up, then measures every scenario DIRECT to the upstream and THROUGH the gateway back to back and
# prints one table with the ratios. See bench/README.md for what each figure means.
#
# Knobs (environment):
#   DURATION=10        seconds per measured phase          WARMUP=15      seconds of warm-up load through the gateway
#                                                          (tiered JIT needs ~15 s of load to settle; direct gets 5 s)
#   CONC=64            concurrency of the loaded phases     CHUNKS=20      content chunks per streamed response
#   WRK_THREADS=2      wrk threads for CONC phases          RUNS=1         repeat the load scenarios, report medians
#   SESSIONS=100000    sessions to create                   SESSIONS_CAP=90  seconds cap on creating them
#   SESSIONS_CONC=32   concurrency of session creation      SKIP_SESSIONS=1  skip the sessions phase
#   SESSION_KEYS=2000  sessions the session-turn phases spread their turns over (x-durar-session-key); each round has its
#                      own (fresh keys, each created with one untimed turn first), so every round times turns of short,
#                      resident sessions: "the same request" as the stateless one plus a turn or two of history
#   SKIP_TURNS=1       skip the session-turn phases
#   JOURNAL=postgres   the gateway journals to a private PostgreSQL server (Debian's packages) started in the temp dir
#                      (default sqlite: a file in the temp dir)
#   NGINX=0            leave out nginx, the best-case proxy hop measured beside direct and the gateway (bench/nginx.sh)
#   FLOOR=0            leave out the .NET floor: Kestrel + HttpClient passing bytes through, and the same parsing and
#                      rewriting the JSON (bench/floor.sh), measured beside nginx
#   SKIP_BUILD=1       use the existing Release build       KEEP=1         keep the temp dir (logs, raw wrk output)
#   SKIP_LOAD=1        only the sessions phase (no warm-up, no load rounds)
#   SKIP_PASSIVATION=1 sessions phase without the wait for passivation (idleTimeout + 20 s)
#   OUT=FILE           also write the table (markdown) to FILE
#   GATEWAY_ENV="VAR=value ..."  extra environment for the gateway process (A/B runs of runtime settings)
#   ALLOCS=1           sample the gateway's allocations by type (DURAR_BENCH_ALLOCS=1) and log each round's tN sample
#   TIMELINE=1         the gateway's counters every 500 ms into $WORK/timeline.txt (the hook's DURAR_BENCH_TIMELINE)
#   PERF=1             record on-CPU samples with stacks (perf, PERF_MAP) of each round's tN phase: $WORK/perf-tN.<round>.data
# Every load loop is bounded in count and time, targets are 127.0.0.1 only, and every process started here is
# killed on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-15}
CONC=${CONC:-64}
CHUNKS=${CHUNKS:-20}
WRK_THREADS=${WRK_THREADS:-2}
RUNS=${RUNS:-1}
SESSIONS=${SESSIONS:-100000}
SESSIONS_CAP=${SESSIONS_CAP:-90}
SESSIONS_CONC=${SESSIONS_CONC:-32}
MAX_REQUESTS=${MAX_REQUESTS:-2000000}   # per phase, on top of the time bound

[ "${PERF:-0}" != 1 ] || export PERF_MAP=1
[ "${ALLOCS:-0}" != 1 ] || export GATEWAY_ENV="${GATEWAY_ENV:-} DURAR_BENCH_ALLOCS=1"
source "$ROOT/bench/lib.sh"
source "$ROOT/bench/nginx.sh"
source "$ROOT/bench/floor.sh"
[ "${TIMELINE:-0}" != 1 ] || export GATEWAY_ENV="${GATEWAY_ENV:-} DURAR_BENCH_TIMELINE=$WORK/timeline.txt"

start_stack
[ "${NGINX:-1}" = 0 ] || start_nginx
[ "${FLOOR:-1}" = 0 ] || start_floor

ROUND=0
if [ "${SKIP_LOAD:-0}" = 1 ]; then RUNS=0; else
WARM_DIRECT=$((WARMUP < 5 ? WARMUP : 5))
log "warm-up (${WARMUP}s of each load through the gateway, ${WARM_DIRECT}s direct)"
run_wrk warm.direct "$CONC" "$WARM_DIRECT" "$WORK/direct.lua" "$UP"
[ -z "$NGX" ] || run_wrk warm.nginx "$CONC" "$WARM_DIRECT" "$WORK/direct.lua" "$NGX"
[ -z "$FLR" ] || run_wrk warm.floor "$CONC" "$WARM_DIRECT" "$WORK/direct.lua" "$FLR"
[ -z "$FLJ" ] || run_wrk warm.floorjson "$CONC" "$WARM_DIRECT" "$WORK/direct.lua" "$FLJ"
run_wrk warm.gateway "$CONC" "$WARMUP" "$WORK/gateway.lua" "$GW"
run_wrk warm.failover 1 "$WARM_DIRECT" "$WORK/failover.lua" "$GW"
settle_gateway
run_stream warm.stream.direct "$CONC" "$UP" m sk-bench "$WARM_DIRECT" 0
[ -z "$NGX" ] || run_stream warm.stream.nginx "$CONC" "$NGX" m sk-bench "$WARM_DIRECT" 0
[ -z "$FLR" ] || run_stream warm.stream.floor "$CONC" "$FLR" m sk-bench "$WARM_DIRECT" 0
[ -z "$FLJ" ] || run_stream warm.stream.floorjson "$CONC" "$FLJ" m sk-bench "$WARM_DIRECT" 0
run_stream warm.stream.gateway "$CONC" "$GW" bench/m "" "$WARMUP" 0
run_stream warm.stream1.gateway 1 "$GW" bench/m "" "$WARM_DIRECT" 0
if [ "${SKIP_TURNS:-0}" != 1 ]; then
  run_wrk warm.turns "$CONC" "$WARM_DIRECT" "$WORK/turns.lua" "$GW"
  run_stream warm.turns.stream1 1 "$GW" bench/m "" "$WARM_DIRECT" 0 "${SESSION_KEYS:-2000}"
  settle_gateway
fi

IDLE_T0=$(cpu_ticks "$GW_PID"); IDLE0=$(gc_snap snap); sleep 5; IDLE1=$(gc_snap snap); IDLE_T1=$(cpu_ticks "$GW_PID")
fig idle.alloc_per_s "$(awk -v a="$(kv allocated "$IDLE1")" -v b="$(kv allocated "$IDLE0")" 'BEGIN{printf "%.0f", (a-b)/5}')"
fig idle.cpu_ms_per_s "$(awk -v t="$((IDLE_T1 - IDLE_T0))" -v hz="$CLK_TCK" 'BEGIN{printf "%.1f", t*1000/hz/5}')"
fi

for ROUND in $(seq 1 "$RUNS"); do
  log "round $ROUND/$RUNS: non-streaming, concurrency 1"
  run_wrk ns1.direct 1 "$DURATION" "$WORK/direct.lua" "$UP"
  [ -z "$NGX" ] || run_wrk ns1.nginx 1 "$DURATION" "$WORK/direct.lua" "$NGX"
  [ -z "$FLR" ] || run_wrk ns1.floor 1 "$DURATION" "$WORK/direct.lua" "$FLR"
  [ -z "$FLJ" ] || run_wrk ns1.floorjson 1 "$DURATION" "$WORK/direct.lua" "$FLJ"
  run_wrk ns1.gateway 1 "$DURATION" "$WORK/gateway.lua" "$GW"

  log "round $ROUND/$RUNS: non-streaming, concurrency $CONC"
  cpu_begin
  run_wrk nsN.direct "$CONC" "$DURATION" "$WORK/direct.lua" "$UP"
  cpu_end nsN.direct "$(kv requests "$WRK_LAST")"
  if [ -n "$NGX" ]; then
    cpu_begin; nginx_cpu_begin
    run_wrk nsN.nginx "$CONC" "$DURATION" "$WORK/direct.lua" "$NGX"
    cpu_end nsN.nginx "$(kv requests "$WRK_LAST")"; nginx_cpu_end nsN.nginx "$(kv requests "$WRK_LAST")"
  fi
  if [ -n "$FLR" ]; then
    cpu_begin; floor_cpu_begin "$FLR_PID"
    run_wrk nsN.floor "$CONC" "$DURATION" "$WORK/direct.lua" "$FLR"
    cpu_end nsN.floor "$(kv requests "$WRK_LAST")"; floor_cpu_end nsN.floor "$(kv requests "$WRK_LAST")"
    cpu_begin; floor_cpu_begin "$FLJ_PID"
    run_wrk nsN.floorjson "$CONC" "$DURATION" "$WORK/direct.lua" "$FLJ"
    cpu_end nsN.floorjson "$(kv requests "$WRK_LAST")"; floor_cpu_end nsN.floorjson "$(kv requests "$WRK_LAST")"
  fi
  start_sampler nsN; alloc_begin; cpu_begin
  run_wrk nsN.gateway "$CONC" "$DURATION" "$WORK/gateway.lua" "$GW"
  cpu_end nsN.gateway "$(kv requests "$WRK_LAST")"; alloc_end nsN.gateway "$(kv requests "$WRK_LAST")"; stop_sampler
  fig nsN.gateway.rss_peak_mb "$(awk -v k="$(cat "$WORK/rss.nsN")" 'BEGIN{printf "%.1f", k/1024}')"

  log "round $ROUND/$RUNS: streaming ($CHUNKS chunks), concurrency $CONC"
  cpu_begin
  run_stream sN.direct "$CONC" "$UP" m sk-bench "$DURATION" 0
  cpu_end sN.direct "$(kv ok "$STREAM_LAST")"
  if [ -n "$NGX" ]; then
    cpu_begin; nginx_cpu_begin
    run_stream sN.nginx "$CONC" "$NGX" m sk-bench "$DURATION" 0
    cpu_end sN.nginx "$(kv ok "$STREAM_LAST")"; nginx_cpu_end sN.nginx "$(kv ok "$STREAM_LAST")"
  fi
  if [ -n "$FLR" ]; then
    cpu_begin; floor_cpu_begin "$FLR_PID"
    run_stream sN.floor "$CONC" "$FLR" m sk-bench "$DURATION" 0
    cpu_end sN.floor "$(kv ok "$STREAM_LAST")"; floor_cpu_end sN.floor "$(kv ok "$STREAM_LAST")"
    cpu_begin; floor_cpu_begin "$FLJ_PID"
    run_stream sN.floorjson "$CONC" "$FLJ" m sk-bench "$DURATION" 0
    cpu_end sN.floorjson "$(kv ok "$STREAM_LAST")"; floor_cpu_end sN.floorjson "$(kv ok "$STREAM_LAST")"
  fi
  start_sampler sN; alloc_begin; cpu_begin
  run_stream sN.gateway "$CONC" "$GW" bench/m "" "$DURATION" 0
  cpu_end sN.gateway "$(kv ok "$STREAM_LAST")"; alloc_end sN.gateway "$(kv ok "$STREAM_LAST")"; stop_sampler
  fig sN.gateway.rss_peak_mb "$(awk -v k="$(cat "$WORK/rss.sN")" 'BEGIN{printf "%.1f", k/1024}')"

  log "round $ROUND/$RUNS: streaming time to first token, concurrency 1"
  run_stream s1.direct 1 "$UP" m sk-bench "$DURATION" 0
  [ -z "$NGX" ] || run_stream s1.nginx 1 "$NGX" m sk-bench "$DURATION" 0
  [ -z "$FLR" ] || run_stream s1.floor 1 "$FLR" m sk-bench "$DURATION" 0
  [ -z "$FLJ" ] || run_stream s1.floorjson 1 "$FLJ" m sk-bench "$DURATION" 0
  run_stream s1.gateway 1 "$GW" bench/m "" "$DURATION" 0

  if [ "${SKIP_TURNS:-0}" != 1 ]; then
    # The same request as a turn of one of SESSION_KEYS sessions: journaled user message before the answer, the reply
    # journaled, the session's history sent upstream. Compared with the stateless phases of this round.
    log "round $ROUND/$RUNS: session turns over ${SESSION_KEYS:-2000} sessions, concurrency 1, $CONC, and streaming c=1"
    # Fresh sessions each round, created first with one untimed turn each (so the c=1 phase times turns of resident
    # sessions, not first turns, which create their session: start, recovery's queries; and no round inherits the
    # history of the one before: a turn sends its whole conversation upstream, its cost grows with it).
    export SESSION_PREFIX="bt$ROUND"
    session_lua "$WORK/turns.lua"
    for p in "$SESSION_PREFIX" "${SESSION_PREFIX}s"; do
      bench sessions --url "$GW" --count "${SESSION_KEYS:-2000}" --prefix "$p" --model bench/m --concurrency 32 --duration 120 \
        >"$WORK/turns.create.$p.txt" 2>&1 || die "creating the round's sessions failed: $(tail -3 "$WORK/turns.create.$p.txt")"
    done
    settle_gateway
    run_wrk t1.gateway 1 "$DURATION" "$WORK/turns.lua" "$GW"
    [ "${ALLOCS:-0}" != 1 ] || gc_snap allocs >/dev/null
    [ "${ALLOCS:-0}" != 1 ] || log "  before tN: $(gc_snap snap)"
    start_sampler tN; alloc_begin; cpu_begin
    if [ "${PERF:-0}" = 1 ]; then # on-CPU samples with stacks of the phase's middle, one file per round
      ( sleep 2; timeout $((DURATION + 30)) perf record -e cpu-clock -F 499 -g -p "$GW_PID" -o "$WORK/perf-tN.$ROUND.data" \
          -- sleep $((DURATION - 4)) >"$WORK/perf-tN.$ROUND.log" 2>&1 ) &
      PERF_JOB=$!
    fi
    run_wrk tN.gateway "$CONC" "$DURATION" "$WORK/turns.lua" "$GW"
    [ -z "${PERF_JOB:-}" ] || { wait "$PERF_JOB" || true; PERF_JOB=""; }
    cpu_end tN.gateway "$(kv requests "$WRK_LAST")"; alloc_end tN.gateway "$(kv requests "$WRK_LAST")"; stop_sampler
    [ "${ALLOCS:-0}" != 1 ] || log "  after tN: $(gc_snap snap)"
    log "  tN: $(awk -F'\t' -v r="$ROUND" '$1==r && $2=="tN.gateway.alloc_per_req"{print $3}' "$FIGS") B per turn"
    [ "${ALLOCS:-0}" != 1 ] || log "  tN by type: $(gc_snap allocs | tr ' ' '\n' | head -16 | tr '\n' ' ')"
    run_stream ts1.gateway 1 "$GW" bench/m "" "$DURATION" 0 "${SESSION_KEYS:-2000}"
    settle_gateway
  fi

  log "round $ROUND/$RUNS: failover (429 on the first key, then the next key), concurrency 1"
  curl -s -X POST "$UP/stats/reset" >/dev/null
  run_wrk fo.plain 1 "$DURATION" "$WORK/gateway.lua" "$GW"
  PLAIN_STATS=$(curl -s "$UP/stats")
  fig fo.turnaround_p50_ms "$(us_to_ms "$(kv turnaround_p50_us "$PLAIN_STATS")")"
  curl -s -X POST "$UP/stats/reset" >/dev/null
  run_wrk fo.failover 1 "$DURATION" "$WORK/failover.lua" "$GW"
  FO_STATS=$(curl -s "$UP/stats")
  fig fo.upstream_429s "$(kv failed "$FO_STATS")"
  fig fo.upstream_ok "$(kv completions "$FO_STATS")"
  fig fo.gap_p50_ms "$(us_to_ms "$(kv failover_gap_p50_us "$FO_STATS")")"
  fig fo.gap_p99_ms "$(us_to_ms "$(kv failover_gap_p99_us "$FO_STATS")")"
  fig fo.lead_p50_ms "$(us_to_ms "$(kv lead_p50_us "$FO_STATS")")"
  log "  upstream saw: $FO_STATS"
  run_wrk fo.direct429 1 "$DURATION" "$WORK/direct429.lua" "$UP"
  settle_gateway
done

GW_LOG_LINES=$(wc -l <"$WORK/gateway.log")
stop_pid "$GW_PID"

# --- resident idle sessions (a fresh gateway, so the load phases' heap does not blur the baseline) ---------------
if [ "${SKIP_SESSIONS:-0}" != 1 ]; then
  ROUND=0
  IDLE_S=$((SESSIONS_CAP + 10))
  write_config "$WORK/sessions.conf" "${IDLE_S}s" "$WORK/data2"
  start_gateway "$GW2_PORT" "$WORK/data2" "$WORK/sessions.conf" "$WORK/fifo2" "$WORK/gateway2.log"
  GW2="http://127.0.0.1:$GW2_PORT"
  wait_ready "$GW2/health/ready" 120 "$GW_PID"
  log "sessions: warm-up (1000 sessions), then up to $SESSIONS sessions in at most ${SESSIONS_CAP}s (idleTimeout ${IDLE_S}s)"
  bench sessions --url "$GW2" --count 1000 --concurrency "$SESSIONS_CONC" --duration 60 --prefix warm >"$WORK/sessions.warm.txt" 2>&1 \
    || die "session warm-up failed: $(tail -3 "$WORK/sessions.warm.txt")"
  S0=$(gc_snap gc); R0=$(rss_kb "$GW_PID")
  bench sessions --url "$GW2" --count "$SESSIONS" --concurrency "$SESSIONS_CONC" --duration "$SESSIONS_CAP" --prefix bench \
    >"$WORK/sessions.txt" 2>&1 || die "session creation failed: $(tail -3 "$WORK/sessions.txt")"
  SRES=$(grep '^RESULT' "$WORK/sessions.txt")
  R1=$(rss_kb "$GW_PID"); S1=$(gc_snap gc); R1GC=$(rss_kb "$GW_PID")
  CREATED=$(kv created "$SRES")
  log "  created $CREATED sessions in $(kv elapsed_s "$SRES") s ($(kv rate "$SRES")/s, errors $(kv errors "$SRES")); RSS $((R0/1024)) -> $((R1/1024)) MB ($((R1GC/1024)) MB after a full GC)"
  if [ "${SKIP_PASSIVATION:-0}" != 1 ]; then
  log "  waiting $((IDLE_S + 20)) s for passivation (idleTimeout ${IDLE_S}s)"
  sleep $((IDLE_S + 20))
  R2=$(rss_kb "$GW_PID"); S2=$(gc_snap gc); R2GC=$(rss_kb "$GW_PID")
  log "  after passivation: RSS $((R2/1024)) MB, $((R2GC/1024)) MB after a full GC; heap $(( $(kv heap "$S2") / 1048576 )) MB"
  fi
  fig sess.created "$CREATED"
  fig sess.elapsed_s "$(kv elapsed_s "$SRES")"
  fig sess.rate "$(kv rate "$SRES")"
  fig sess.errors "$(kv errors "$SRES")"
  fig sess.rss_before_mb "$(awk -v k="$R0" 'BEGIN{printf "%.1f", k/1024}')"
  fig sess.rss_after_mb "$(awk -v k="$R1" 'BEGIN{printf "%.1f", k/1024}')"
  fig sess.rss_after_gc_mb "$(awk -v k="$R1GC" 'BEGIN{printf "%.1f", k/1024}')"
  [ "${SKIP_PASSIVATION:-0}" = 1 ] || fig sess.rss_passivated_mb "$(awk -v k="$R2" 'BEGIN{printf "%.1f", k/1024}')"
  [ "${SKIP_PASSIVATION:-0}" = 1 ] || fig sess.rss_passivated_gc_mb "$(awk -v k="$R2GC" 'BEGIN{printf "%.1f", k/1024}')"
  fig sess.heap_before_mb "$(awk -v b="$(kv heap "$S0")" 'BEGIN{printf "%.1f", b/1048576}')"
  fig sess.heap_after_mb "$(awk -v b="$(kv heap "$S1")" 'BEGIN{printf "%.1f", b/1048576}')"
  [ "${SKIP_PASSIVATION:-0}" = 1 ] || fig sess.heap_passivated_mb "$(awk -v b="$(kv heap "$S2")" 'BEGIN{printf "%.1f", b/1048576}')"
  fig sess.rss_per_session_b "$(awk -v a="$R1GC" -v b="$R0" -v n="$CREATED" 'BEGIN{ if (n>0) printf "%.0f", (a-b)*1024/n; else print "nan"}')"
  fig sess.heap_per_session_b "$(awk -v a="$(kv heap "$S1")" -v b="$(kv heap "$S0")" -v n="$CREATED" 'BEGIN{ if (n>0) printf "%.0f", (a-b)/n; else print "nan"}')"
  stop_pid "$GW_PID"
fi
T_TOTAL=$(( $(date +%s) - T_START ))

# --- table ---------------------------------------------------------------------------------------------------------
# Median over rounds of one figure (nan if absent).
med() {
  awk -F'\t' -v n="$1" '$2==n {print $3}' "$FIGS" | sort -g \
    | awk '{a[NR]=$1} END{ if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2 }'
}
# Median over rounds of the per-round gateway/direct ratio (or difference) of one metric: direct and gateway are paired
# within a round, so this is the figure to quote (not the ratio of the two medians).
rpair() { # op(ratio|delta) direct-name gateway-name
  awk -F'\t' -v op="$1" -v dn="$2" -v gn="$3" '$2==dn {d[$1]=$3} $2==gn {g[$1]=$3}
    END { for (r in g) if ((r in d) && g[r]!="nan" && d[r]!="nan" && (op=="delta" || d[r]+0!=0)) print (op=="ratio") ? g[r]/d[r] : g[r]-d[r] }' "$FIGS" \
    | sort -g | awk -v op="$1" '{a[NR]=$1} END{ if (NR==0) {print "n/a"; exit} v=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2;
      if (op=="ratio") printf "%.2f\n", v; else printf "%+.3f\n", v }'
}
f() { awk -v v="$1" -v fmt="$2" 'BEGIN{ if (v=="nan" || v=="") print "n/a"; else printf fmt, v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b+0==0 || a=="nan" || b=="nan") print "n/a"; else printf "%.2f", a/b }'; }
delta() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a=="nan" || b=="nan") print "n/a"; else printf "%+.3f", a-b }'; }
verdict() { # value op target
  awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN{ if (v=="n/a" || v=="nan" || v=="") {print "n/a"; exit}
    ok = (op=="<=") ? (v+0 <= t+0) : (op==">=") ? (v+0 >= t+0) : (v+0 < t+0); print ok ? "met" : "MISSED" }'
}

{
  echo "## Durar gateway vs direct upstream ($(date -u +%FT%TZ), $(nproc) cores, RUNS=$RUNS)"
  echo
  echo "Each value is the median over rounds; the ratio and difference columns are medians of the per-round ratio/difference."
  echo
  echo "| scenario | direct | gateway | gateway/direct | gateway - direct |"
  echo "|---|---:|---:|---:|---:|"
  for c in 1 N; do
    label=$([ $c = 1 ] && echo 1 || echo "$CONC")
    d=$(med ns$c.direct.rps); g=$(med ns$c.gateway.rps)
    echo "| non-streaming c=$label: requests/s | $(f "$d" %.0f) | $(f "$g" %.0f) | $(rpair ratio ns$c.direct.rps ns$c.gateway.rps) | |"
    for p in p50 p99; do
      d=$(med ns$c.direct.${p}_ms); g=$(med ns$c.gateway.${p}_ms)
      echo "| non-streaming c=$label: $p latency (ms) | $(f "$d" %.3f) | $(f "$g" %.3f) | $(rpair ratio ns$c.direct.${p}_ms ns$c.gateway.${p}_ms) | $(rpair delta ns$c.direct.${p}_ms ns$c.gateway.${p}_ms) |"
    done
  done
  d=$(med sN.direct.rps); g=$(med sN.gateway.rps)
  echo "| streaming $CHUNKS chunks c=$CONC: streams/s | $(f "$d" %.0f) | $(f "$g" %.0f) | $(rpair ratio sN.direct.rps sN.gateway.rps) | |"
  for p in p50 p99; do
    d=$(med sN.direct.total_${p}_ms); g=$(med sN.gateway.total_${p}_ms)
    echo "| streaming c=$CONC: whole-stream $p (ms) | $(f "$d" %.3f) | $(f "$g" %.3f) | $(rpair ratio sN.direct.total_${p}_ms sN.gateway.total_${p}_ms) | $(rpair delta sN.direct.total_${p}_ms sN.gateway.total_${p}_ms) |"
  done
  for p in p50 p99; do
    d=$(med s1.direct.ttft_${p}_ms); g=$(med s1.gateway.ttft_${p}_ms)
    echo "| streaming c=1: time to first token $p (ms) | $(f "$d" %.3f) | $(f "$g" %.3f) | $(rpair ratio s1.direct.ttft_${p}_ms s1.gateway.ttft_${p}_ms) | $(rpair delta s1.direct.ttft_${p}_ms s1.gateway.ttft_${p}_ms) |"
  done
  if [ -n "$NGX" ]; then
    # The .NET floor's columns (bench/floor.sh) when it ran: floor and floor+json after nginx, gateway/floor+json last.
    fl() { [ -z "$FLR" ] || printf ' %s | %s |' "$1" "$2"; }
    fr() { [ -z "$FLR" ] || printf ' %s |' "$1"; }
    dus() { local v; v=$(rpair delta "$1" "$2"); [ "$v" = n/a ] && echo n/a || awk -v v="$v" 'BEGIN{printf "%+.1f", v}'; }
    echo
    echo "Against nginx (issue 17): the best-case proxy hop (keep-alive upstream pool, buffering off), same upstream, same round."
    echo
    echo "| scenario | direct | nginx |$(fl floor floor+json) gateway | nginx/direct | gateway/nginx |$(fr gateway/floor+json)"
    echo "|---|---:|---:|$(fl ---: ---:)---:|---:|---:|$(fr ---:)"
    echo "| non-streaming c=$CONC: requests/s | $(f "$(med nsN.direct.rps)" %.0f) | $(f "$(med nsN.nginx.rps)" %.0f) |$(fl "$(f "$(med nsN.floor.rps)" %.0f)" "$(f "$(med nsN.floorjson.rps)" %.0f)") $(f "$(med nsN.gateway.rps)" %.0f) | $(rpair ratio nsN.direct.rps nsN.nginx.rps) | $(rpair ratio nsN.nginx.rps nsN.gateway.rps) |$(fr "$(rpair ratio nsN.floorjson.rps nsN.gateway.rps)")"
    echo "| streaming $CHUNKS chunks c=$CONC: streams/s | $(f "$(med sN.direct.rps)" %.0f) | $(f "$(med sN.nginx.rps)" %.0f) |$(fl "$(f "$(med sN.floor.rps)" %.0f)" "$(f "$(med sN.floorjson.rps)" %.0f)") $(f "$(med sN.gateway.rps)" %.0f) | $(rpair ratio sN.direct.rps sN.nginx.rps) | $(rpair ratio sN.nginx.rps sN.gateway.rps) |$(fr "$(rpair ratio sN.floorjson.rps sN.gateway.rps)")"
    echo "| non-streaming c=1: p50 latency (ms) | $(f "$(med ns1.direct.p50_ms)" %.3f) | $(f "$(med ns1.nginx.p50_ms)" %.3f) |$(fl "$(f "$(med ns1.floor.p50_ms)" %.3f)" "$(f "$(med ns1.floorjson.p50_ms)" %.3f)") $(f "$(med ns1.gateway.p50_ms)" %.3f) | $(rpair delta ns1.direct.p50_ms ns1.nginx.p50_ms) | $(rpair delta ns1.nginx.p50_ms ns1.gateway.p50_ms) |$(fr "$(rpair delta ns1.floorjson.p50_ms ns1.gateway.p50_ms)")"
    echo "| streaming c=1: time to first token p50 (ms) | $(f "$(med s1.direct.ttft_p50_ms)" %.3f) | $(f "$(med s1.nginx.ttft_p50_ms)" %.3f) |$(fl "$(f "$(med s1.floor.ttft_p50_ms)" %.3f)" "$(f "$(med s1.floorjson.ttft_p50_ms)" %.3f)") $(f "$(med s1.gateway.ttft_p50_ms)" %.3f) | $(rpair delta s1.direct.ttft_p50_ms s1.nginx.ttft_p50_ms) | $(rpair delta s1.nginx.ttft_p50_ms s1.gateway.ttft_p50_ms) |$(fr "$(rpair delta s1.floorjson.ttft_p50_ms s1.gateway.ttft_p50_ms)")"
    echo "| proxy CPU per non-streaming request c=$CONC (us) | | $(f "$(med nsN.nginx.cpu_ngx_us)" %.1f) |$(fl "$(f "$(med nsN.floor.cpu_floor_us)" %.1f)" "$(f "$(med nsN.floorjson.cpu_floor_us)" %.1f)") $(f "$(med nsN.gateway.cpu_gw_us)" %.1f) | | |$(fr "$(dus nsN.floorjson.cpu_floor_us nsN.gateway.cpu_gw_us)")"
    echo "| proxy CPU per streamed request c=$CONC (us) | | $(f "$(med sN.nginx.cpu_ngx_us)" %.1f) |$(fl "$(f "$(med sN.floor.cpu_floor_us)" %.1f)" "$(f "$(med sN.floorjson.cpu_floor_us)" %.1f)") $(f "$(med sN.gateway.cpu_gw_us)" %.1f) | | |$(fr "$(dus sN.floorjson.cpu_floor_us sN.gateway.cpu_gw_us)")"
    echo
    echo "(The latency rows' last two columns are differences in ms: nginx - direct, gateway - nginx.)"
    [ -z "$FLR" ] || echo "(floor: Kestrel + one SocketsHttpHandler passing bytes through; floor+json: the same parsing and rewriting the JSON of the request and of a non-streaming answer (bench/floor.sh). gateway/floor+json is a ratio of requests/s; in the latency rows it is gateway - floor+json in ms, in the CPU rows gateway - floor+json in us: what Durar adds to the least a .NET gateway does.)"
  fi
  if [ "${SKIP_TURNS:-0}" != 1 ]; then
    echo
    echo "Session turns (issue 17): the gateway's stateless request against the same request as a session turn, same round."
    echo
    echo "| scenario | stateless | session turn | turn/stateless | turn - stateless |"
    echo "|---|---:|---:|---:|---:|"
    for p in p50 p99; do
      echo "| non-streaming c=1: $p latency (ms) | $(f "$(med ns1.gateway.${p}_ms)" %.3f) | $(f "$(med t1.gateway.${p}_ms)" %.3f) | $(rpair ratio ns1.gateway.${p}_ms t1.gateway.${p}_ms) | $(rpair delta ns1.gateway.${p}_ms t1.gateway.${p}_ms) |"
    done
    echo "| non-streaming c=$CONC over ${SESSION_KEYS:-2000} sessions: requests/s | $(f "$(med nsN.gateway.rps)" %.0f) | $(f "$(med tN.gateway.rps)" %.0f) | $(rpair ratio nsN.gateway.rps tN.gateway.rps) | |"
    for p in p50 p99; do
      echo "| non-streaming c=$CONC: $p latency (ms) | $(f "$(med nsN.gateway.${p}_ms)" %.3f) | $(f "$(med tN.gateway.${p}_ms)" %.3f) | $(rpair ratio nsN.gateway.${p}_ms tN.gateway.${p}_ms) | $(rpair delta nsN.gateway.${p}_ms tN.gateway.${p}_ms) |"
      echo "| streaming c=1: time to first token $p (ms) | $(f "$(med s1.gateway.ttft_${p}_ms)" %.3f) | $(f "$(med ts1.gateway.ttft_${p}_ms)" %.3f) | $(rpair ratio s1.gateway.ttft_${p}_ms ts1.gateway.ttft_${p}_ms) | $(rpair delta s1.gateway.ttft_${p}_ms ts1.gateway.ttft_${p}_ms) |"
    done
    echo "| allocated per request c=$CONC (bytes) | $(f "$(med nsN.gateway.alloc_per_req)" %.0f) | $(f "$(med tN.gateway.alloc_per_req)" %.0f) | | |"
    echo "| gateway CPU per request c=$CONC (us) | $(f "$(med nsN.gateway.cpu_gw_us)" %.0f) | $(f "$(med tN.gateway.cpu_gw_us)" %.0f) | | |"
  fi
  echo
  echo "| gateway figure | value |"
  echo "|---|---:|"
  echo "| peak RSS, non-streaming c=$CONC (MB) | $(f "$(med nsN.gateway.rss_peak_mb)" %.1f) |"
  echo "| peak RSS, streaming c=$CONC (MB) | $(f "$(med sN.gateway.rss_peak_mb)" %.1f) |"
  echo "| allocated per non-streaming request (bytes) | $(f "$(med nsN.gateway.alloc_per_req)" %.0f) |"
  echo "| allocated per streamed request, $CHUNKS chunks (bytes) | $(f "$(med sN.gateway.alloc_per_req)" %.0f) |"
  echo "| idle gateway: allocation rate (bytes/s) / CPU (ms per s) | $(f "$(med idle.alloc_per_s)" %.0f) / $(f "$(med idle.cpu_ms_per_s)" %.1f) |"
  echo "| CPU per non-streaming request c=$CONC: upstream direct / gateway / upstream behind the gateway (us) | $(f "$(med nsN.direct.cpu_up_us)" %.0f) / $(f "$(med nsN.gateway.cpu_gw_us)" %.0f) / $(f "$(med nsN.gateway.cpu_up_us)" %.0f) |"
  echo "| CPU per streamed request c=$CONC: upstream direct / gateway / upstream behind the gateway (us) | $(f "$(med sN.direct.cpu_up_us)" %.0f) / $(f "$(med sN.gateway.cpu_gw_us)" %.0f) / $(f "$(med sN.gateway.cpu_up_us)" %.0f) |"
  fp=$(med fo.plain.p50_ms); ff=$(med fo.failover.p50_ms); fd=$(med fo.direct429.p50_ms)
  fo_net=$(awk -v a="$ff" -v b="$fp" -v c="$fd" 'BEGIN{ if (a=="nan"||b=="nan"||c=="nan") print "nan"; else printf "%.3f", a-b-c }')
  echo "| failover: plain request p50 / p99 (ms) | $(f "$fp" %.3f) / $(f "$(med fo.plain.p99_ms)" %.3f) |"
  echo "| failover: 429-then-next-key request p50 / p99 (ms) | $(f "$ff" %.3f) / $(f "$(med fo.failover.p99_ms)" %.3f) |"
  echo "| failover: direct 429 from the upstream p50 (ms) | $(f "$fd" %.3f) |"
  echo "| failover: extra end-to-end latency of a failover request, p50 (failover - plain - direct 429) (ms) | $(f "$fo_net" %.3f) |"
  echo "| failover: 429 sent -> request on the next key arrives, seen by the upstream, p50 / p99 (ms) | $(f "$(med fo.gap_p50_ms)" %.3f) / $(f "$(med fo.gap_p99_ms)" %.3f) |"
  echo "| failover: previous answer sent -> next request's first upstream call, plain / failover, p50 (ms) | $(f "$(med fo.turnaround_p50_ms)" %.3f) / $(f "$(med fo.lead_p50_ms)" %.3f) |"
  echo "| failover: upstream 429s / failover requests (must be ~1) | $(med fo.upstream_429s) / $(med fo.failover.requests) |"
  if [ "${SKIP_SESSIONS:-0}" != 1 ]; then
    echo "| sessions created (target $SESSIONS, cap ${SESSIONS_CAP}s) / errors / per s | $(med sess.created) / $(med sess.errors) / $(f "$(med sess.rate)" %.0f) |"
    echo "| RSS before / after creating / after full GC (MB) | $(med sess.rss_before_mb) / $(med sess.rss_after_mb) / $(med sess.rss_after_gc_mb) |"
    echo "| memory per resident idle session: RSS after full GC (bytes) | $(f "$(med sess.rss_per_session_b)" %.0f) |"
    echo "| memory per resident idle session: managed heap (bytes) | $(f "$(med sess.heap_per_session_b)" %.0f) |"
    echo "| after passivation: RSS / RSS after full GC / heap (MB) | $(med sess.rss_passivated_mb) / $(med sess.rss_passivated_gc_mb) / $(med sess.heap_passivated_mb) |"
  fi
  echo
  echo "| target (issue 6) | measured | verdict |"
  echo "|---|---:|---|"
  v=$(rpair ratio nsN.direct.rps nsN.gateway.rps); echo "| non-streaming c=$CONC requests/s >= 0.35 x direct | $v | $(verdict "$v" '>=' 0.35) |"
  v=$(rpair ratio sN.direct.rps sN.gateway.rps); echo "| streaming c=$CONC requests/s >= 0.5 x direct | $v | $(verdict "$v" '>=' 0.5) |"
  v=$(rpair delta ns1.direct.p50_ms ns1.gateway.p50_ms); echo "| c=1 p50 overhead <= 0.3 ms | $v ms | $(verdict "$v" '<=' 0.3) |"
  v=$(rpair delta s1.direct.ttft_p50_ms s1.gateway.ttft_p50_ms); echo "| streaming TTFT overhead p50 <= 1 ms | $v ms | $(verdict "$v" '<=' 1) |"
  v=$(awk -v a="$(med nsN.gateway.rss_peak_mb)" -v b="$(med sN.gateway.rss_peak_mb)" 'BEGIN{printf "%.1f", (a>b)?a:b}')
  echo "| RSS under load <= 250 MB | $v MB | $(verdict "$v" '<=' 250) |"
  if [ "${SKIP_SESSIONS:-0}" != 1 ]; then
    v=$(f "$(med sess.rss_per_session_b)" %.0f); echo "| <= 2 KB (2048 B) per resident idle session (RSS) | $v B | $(verdict "$v" '<=' 2048) |"
  fi
  if [ -n "$NGX" ]; then
    v=$(rpair ratio nsN.nginx.rps nsN.gateway.rps); echo "| non-streaming c=$CONC requests/s >= 0.75 x nginx (issue 17) | $v | $(verdict "$v" '>=' 0.75) |"
    v=$(rpair ratio sN.nginx.rps sN.gateway.rps); echo "| streaming c=$CONC streams/s >= 0.75 x nginx (issue 17) | $v | $(verdict "$v" '>=' 0.75) |"
    v=$(f "$(med nsN.gateway.cpu_gw_us)" %.1f); echo "| gateway CPU per non-streaming request <= 35 us (issue 17) | $v us | $(verdict "$v" '<=' 35) |"
    v=$(f "$(med sN.gateway.cpu_gw_us)" %.1f); echo "| gateway CPU per $CHUNKS-chunk stream <= 60 us (issue 17) | $v us | $(verdict "$v" '<=' 60) |"
  fi
  v=$(f "$(med fo.gap_p50_ms)" %.3f); echo "| 429 -> next key < 1 ms (p50 of the upstream-observed gap) | $v ms | $(verdict "$v" '<' 1) |"
  if [ "${SKIP_TURNS:-0}" != 1 ]; then
    v=$(rpair delta ns1.gateway.p50_ms t1.gateway.p50_ms); echo "| session turn c=1: p50 overhead over the stateless request <= 0.5 ms (issue 17) | $v ms | $(verdict "$v" '<=' 0.5) |"
    v=$(rpair delta s1.gateway.ttft_p50_ms ts1.gateway.ttft_p50_ms); echo "| streaming session turn c=1: TTFT p50 overhead <= 0.5 ms (issue 17) | $v ms | $(verdict "$v" '<=' 0.5) |"
    v=$(rpair ratio nsN.gateway.rps tN.gateway.rps); echo "| session turns c=$CONC over ${SESSION_KEYS:-2000} sessions >= 0.4 x stateless requests/s (issue 17) | $v | $(verdict "$v" '>=' 0.4) |"
  fi
  echo
  errs=0
  for n in ns1.direct.errors ns1.gateway.errors nsN.direct.errors nsN.gateway.errors fo.plain.errors fo.failover.errors \
           sN.direct.errors sN.gateway.errors s1.direct.errors s1.gateway.errors \
           sN.direct.incomplete sN.gateway.incomplete s1.direct.incomplete s1.gateway.incomplete \
           t1.gateway.errors tN.gateway.errors ts1.gateway.errors ts1.gateway.incomplete \
           ns1.nginx.errors nsN.nginx.errors sN.nginx.errors s1.nginx.errors sN.nginx.incomplete s1.nginx.incomplete; do
    errs=$((errs + $(awk -F'\t' -v n="$n" '$2==n {s+=$3} END{printf "%d", s}' "$FIGS")))
  done
  echo "Errors summed over all rounds of the measured phases (must be 0; the direct 429s are expected and not counted): $errs. Tokens per stream: direct $(med sN.direct.tokens_per_stream), gateway $(med sN.gateway.tokens_per_stream)."
  echo "DURATION=${DURATION}s per phase, CONC=$CONC, WRK_THREADS=$WRK_THREADS, CHUNKS=$CHUNKS; gateway log lines: ${GW_LOG_LINES}; load average at end: $(cut -d' ' -f1-3 /proc/loadavg); run.sh took ${T_TOTAL}s."
} | tee "${OUT:-/dev/null}"
if [ -n "${OUT:-}" ]; then cp "$FIGS" "$OUT.figures.tsv"; fi
