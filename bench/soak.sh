#!/usr/bin/env bash
# bench/soak.sh: a long run of mixed traffic with scripted upstream faults against one gateway on its default embedded
# SQLite journal, watching whether the gateway's memory (VmRSS) and thread count come back to where they were after the
# warm-up (issue 13: "ending within 10 % of where it started after warm-up"). Not run in CI.
#
# Same stack as run.sh (lib.sh: fake upstream + gateway, Release, loopback, everything killed on exit), with:
#   - the upstream started with --faults FAULTS (0.05): every 20th upstream request is a fault, the kinds in turn: 429 with
#     Retry-After, 500, 503, a cut response (connection aborted halfway), a malformed one (not JSON / a bad SSE frame);
#   - a provider "soak" with three keys on that upstream (so a fault fails over to the next key), model soak/m;
#   - gateway.sessions.idleTimeout = IDLE (60s), so finished sessions passivate during the run;
#   - one wrk (-t WRK_THREADS -c CONNS, each connection waiting DELAY_MS between requests: a bounded load) whose Lua
#     script mixes, per 20 requests: 8 stateless non-streaming, 3 stateless streaming, 7 session turns, 2 streaming
#     session turns. Session keys move on: each thread keeps SPREAD sessions open, each gets TURNS turns, then the next
#     SPREAD keys are used (thousands of sessions over the run, each with a bounded transcript);
#   - at the end of the warm-up and after the traffic, one full GC through the startup hook (the heap it retains);
#   - every SAMPLE_S (10 s): the gateway's VmRSS, thread count (/proc/PID/status), managed heap and committed bytes (the
#     startup hook), CPU, and the upstream's request and fault counters, into $WORK/soak.csv (and OUT.csv with OUT set).
# At the end: the series per minute, the range and least-squares slope of RSS and threads after the warm-up, the verdicts (RSS and threads: mean of the last 3 samples within TOLERANCE % of the
# mean of the first 3 samples after WARMUP_S; no 500 from the gateway; the node still serves a request and a session turn)
# and the responses by status. Exit status 1 when a verdict is FAIL.
#
# Knobs: DURATION=600 (s of traffic), WARMUP_S=120, SAMPLE_S=10, FAULTS=0.05, CONNS=4, WRK_THREADS=2, DELAY_MS=8, SPREAD=200,
# TURNS=10, IDLE=60s, TOLERANCE=10, OUT (write the summary to OUT and the samples to OUT.csv), KEEP=1, SKIP_BUILD=1,
# GATEWAY_ENV, EXTRA_CONFIG (appended after the soak's own config).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION=${DURATION:-600}
WARMUP_S=${WARMUP_S:-120}
SAMPLE_S=${SAMPLE_S:-10}
FAULTS=${FAULTS:-0.05}
CONNS=${CONNS:-4}
DELAY_MS=${DELAY_MS:-8}
SPREAD=${SPREAD:-200}
TURNS=${TURNS:-10}
IDLE=${IDLE:-60s}
TOLERANCE=${TOLERANCE:-10}
[ "$DURATION" -gt $((WARMUP_S + 6 * SAMPLE_S)) ] || { echo "soak: DURATION must be longer than WARMUP_S + 6 samples" >&2; exit 2; }
UPSTREAM_ARGS="--faults $FAULTS"
USER_EXTRA_CONFIG=${EXTRA_CONFIG:-}
# lib.sh writes the config with EXTRA_CONFIG appended; $UP is known only after it picked the ports, so the soak's provider
# goes in through a placeholder replaced below (before the gateway starts).
EXTRA_CONFIG="models.providers.soak { baseUrl = \"@UP@/v1\", api = \"openai-completions\", models = [{ id = \"m\" }] }
env.SOAK_API_KEYS = \"sk-soak-1,sk-soak-2,sk-soak-3\"
gateway.sessions.idleTimeout = $IDLE
$USER_EXTRA_CONFIG"
source "$ROOT/bench/lib.sh"
EXTRA_CONFIG=${EXTRA_CONFIG//@UP@/$UP}

start_stack
code() { # body [session-key] -> HTTP status of one gateway request
  curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H 'content-type: application/json' ${2:+-H "x-durar-session-key: $2"} \
    -d "$1" "$GW/v1/chat/completions"
}
NS_BODY='{"model":"soak/m","messages":[{"role":"user","content":"Say hello to the soak."}]}'
[ "$(code "$NS_BODY")" = 200 ] || die "the soak provider does not answer through the gateway (see $WORK/gateway.log)"

# --- the mixed-traffic script --------------------------------------------------------------------------------------
cat >"$WORK/soak.lua" <<EOF
local ns = '{"model":"soak/m","messages":[{"role":"user","content":"Say hello to the soak."}]}'
local st = '{"model":"soak/m","stream":true,"messages":[{"role":"user","content":"Stream hello to the soak."}]}'
local threads = {}
local n = 0
function setup(thread) thread:set("tid", n); n = n + 1; table.insert(threads, thread) end
function init(args) counter = 0; statuses = {}; sse_ok = 0; sse_broken = 0 end
function delay() return $DELAY_MS end
function request()
  counter = counter + 1
  local m = counter % 20
  local headers = { ["Content-Type"] = "application/json" }
  local body = ns
  if (m >= 8 and m < 11) or m >= 18 then body = st end
  if m >= 11 then
    -- SPREAD sessions open per thread, TURNS turns each, then the next SPREAD keys.
    local k = (counter % $SPREAD) + $SPREAD * math.floor(counter / ($SPREAD * $TURNS))
    headers["x-durar-session-key"] = "soak-" .. tid .. "-" .. k
  end
  return wrk.format("POST", "/v1/chat/completions", headers, body)
end
function response(status, headers, body)
  local key = tostring(status)
  local ct = headers["Content-Type"] or headers["content-type"] or ""
  if string.find(ct, "event-stream", 1, true) then
    key = key .. "-sse"
    if body and string.find(body, "[DONE]", 1, true) and not string.find(body, '"error"', 1, true) then sse_ok = sse_ok + 1
    else sse_broken = sse_broken + 1 end
  end
  statuses[key] = (statuses[key] or 0) + 1
end
function done(summary, latency, requests)
  local all, ok, broken = {}, 0, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do all[k] = (all[k] or 0) + v end
    ok = ok + t:get("sse_ok"); broken = broken + t:get("sse_broken")
  end
  local parts = {}
  for k, v in pairs(all) do table.insert(parts, "status_" .. k .. "=" .. v) end
  table.sort(parts)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors_connect=%d errors_read=%d " ..
    "errors_write=%d errors_status=%d errors_timeout=%d sse_complete=%d sse_broken=%d %s\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout, ok, broken,
    table.concat(parts, " ")))
end
EOF

# --- sampling ------------------------------------------------------------------------------------------------------
CSV="$WORK/soak.csv"
echo "t_s,rss_kb,threads,heap_bytes,committed_bytes,gen2,cpu_pct,upstream_requests,upstream_faults" >"$CSV"
status_field() { awk -v k="$2:" '$1==k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
upstream_stat() { curl -s --max-time 5 "$UP/stats" || true; }
sample() { # elapsed seconds, cpu ticks over the interval, interval
  local snap up faults
  snap=$(gc_snap snap); up=$(upstream_stat)
  faults=$(( $(kv fault_429 "$up") + $(kv fault_500 "$up") + $(kv fault_503 "$up") + $(kv fault_cut "$up") + $(kv fault_malformed "$up") ))
  printf '%s,%s,%s,%s,%s,%s,%s,%s,%s\n' "$1" "$(status_field "$GW_PID" VmRSS)" "$(status_field "$GW_PID" Threads)" \
    "$(kv heap "$snap")" "$(kv committed "$snap")" "$(kv gen2 "$snap")" \
    "$(awk -v t="$2" -v hz="$CLK_TCK" -v s="$3" 'BEGIN{printf "%.0f", t*100/hz/s}')" "$(kv requests "$up")" "$faults" >>"$CSV"
}

log "soak: ${DURATION}s of mixed traffic (-t$WRK_THREADS -c$CONNS, ${DELAY_MS} ms between requests per connection), faults $FAULTS, sample every ${SAMPLE_S}s, warm-up ${WARMUP_S}s"
curl -s -X POST "$UP/stats/reset" >/dev/null
timeout $((DURATION + 60)) wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION"s --timeout 30s -s "$WORK/soak.lua" "$GW/v1/chat/completions" \
  >"$WORK/wrk.soak.txt" 2>&1 &
WRK_PID=$!
PIDS+=("$WRK_PID")
T0=$(date +%s)
HEAP_WARM=""
sample 0 0 1
ticks=$(cpu_ticks "$GW_PID")
next=$SAMPLE_S
while kill -0 "$WRK_PID" 2>/dev/null; do
  now=$(( $(date +%s) - T0 ))
  if [ "$now" -ge "$next" ]; then
    # At the end of the warm-up, one full GC (through the startup hook): what the heap retains then is the reference the
    # end's is compared with, and the samples the verdict starts from do not sit on a heap that happened to be full.
    if [ -z "$HEAP_WARM" ] && [ "$now" -ge "$WARMUP_S" ]; then HEAP_WARM=$(kv heap "$(gc_snap gc)"); fi
    t=$(cpu_ticks "$GW_PID"); sample "$now" $((t - ticks)) "$SAMPLE_S"; ticks=$t
    [ $((next % 60)) = 0 ] && log "  t=${now}s $(tail -1 "$CSV")"
    next=$((next + SAMPLE_S))
  fi
  kill -0 "$GW_PID" 2>/dev/null || die "the gateway died at t=${now}s (see $WORK/gateway.log)"
  sleep 1
done
wait "$WRK_PID" || die "wrk failed: $(tail -3 "$WORK/wrk.soak.txt")"
RES=$(grep '^RESULT' "$WORK/wrk.soak.txt") || die "wrk printed no RESULT line (see $WORK/wrk.soak.txt)"
UPSTATS=$(upstream_stat)
HEAP_END=$(kv heap "$(gc_snap gc)")   # the traffic is over: what the heap still holds after a full GC

# --- after the traffic: does the node still serve? ---------------------------------------------------------------------
serves() { # body [session-key]: 200 within three tries (a try can meet a scripted fault on every key)
  local i c
  for i in 1 2 3; do c=$(code "$@"); [ "$c" = 200 ] && { echo 200; return; }; done
  echo "$c"
}
END_NS=$(serves "$NS_BODY")
END_TURN=$(serves "$NS_BODY" "soak-end-check")
END_HEALTH=$(curl -s -o /dev/null -w '%{http_code}' "$GW/healthz")

# --- verdicts and summary ------------------------------------------------------------------------------------------
# mean of a column over the first n samples at t >= warm-up, and over the last n samples
window() { # column first|last n
  awk -F, -v c="$1" -v w="$2" -v n="$3" -v warm="$WARMUP_S" 'NR>1 && $1>=warm {v[++k]=$c}
    END{ s=0; m=0; if (w=="first") {for (i=1;i<=n && i<=k;i++){s+=v[i];m++}} else {for (i=k-n+1;i<=k;i++) if (i>=1){s+=v[i];m++}}
         if (m) printf "%.1f", s/m; else print "nan" }' "$CSV"
}
within() { awk -v a="$1" -v b="$2" -v t="$TOLERANCE" 'BEGIN{ if (a=="nan"||b=="nan"||a==0) {print "n/a"; exit} d=(b-a)*100/a;
  printf "%+.1f %% %s", d, (d<=t && d>=-t) ? "PASS" : "FAIL" }'; }
# least-squares slope of a column over the samples at t >= warm-up, per minute (a leak shows as a steady slope even when
# the end happens to sit in a GC trough)
slope() { # column divisor
  awk -F, -v c="$1" -v d="$2" -v warm="$WARMUP_S" 'NR>1 && $1>=warm {n++; x=$1/60; y=$c/d; sx+=x; sy+=y; sxx+=x*x; sxy+=x*y}
    END{ if (n>1 && (n*sxx-sx*sx)!=0) printf "%+.2f", (n*sxy-sx*sy)/(n*sxx-sx*sx); else print "nan" }' "$CSV"
}
range() { awk -F, -v c="$1" -v d="$2" -v warm="$WARMUP_S" 'NR>1 && $1>=warm {v=$c/d; if (!n++ || v<lo) lo=v; if (n==1 || v>hi) hi=v}
  END{ printf "%.1f-%.1f", lo, hi }' "$CSV"; }
RSS0=$(window 2 first 3); RSS1=$(window 2 last 3); TH0=$(window 3 first 3); TH1=$(window 3 last 3)
HP0=$(window 4 first 3); HP1=$(window 4 last 3)
V_RSS=$(within "$RSS0" "$RSS1"); V_TH=$(within "$TH0" "$TH1")
S500=$(awk '{for(i=1;i<=NF;i++) if ($i ~ /^status_500(-sse)?=/) {split($i,a,"="); s+=a[2]}} END{print s+0}' <<<"$RES")
V_500=$([ "$S500" = 0 ] && echo PASS || echo FAIL)
V_END=$([ "$END_NS" = 200 ] && [ "$END_TURN" = 200 ] && [ "$END_HEALTH" = 200 ] && echo PASS || echo FAIL)
UNHANDLED=$(grep -c -i 'unhandled\|fail: ' "$WORK/gateway.log" || true)
T_TOTAL=$(( $(date +%s) - T_START ))
{
  echo "## Soak: ${DURATION}s of mixed traffic with $(awk -v f="$FAULTS" 'BEGIN{printf "%g", f*100}') % upstream faults ($(date -u +%FT%TZ), $(nproc) cores)"
  echo
  echo "| minute | RSS (MB) | threads | managed heap (MB) | committed (MB) | gen2 GCs | gateway CPU (% of a core) | upstream requests | faults |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F, 'NR>1 {m=int($1/60); if (!(m in seen)) {seen[m]=1;
    printf "| %d | %.1f | %d | %.1f | %.1f | %d | %d | %d | %d |\n", m, $2/1024, $3, $4/1048576, $5/1048576, $6, $7, $8, $9}}' "$CSV"
  echo
  echo "| verdict | after warm-up (mean of first 3 samples at t >= ${WARMUP_S}s) | end (mean of last 3) | change |"
  echo "|---|---:|---:|---|"
  echo "| RSS within ${TOLERANCE} % (MB) | $(awk -v v="$RSS0" 'BEGIN{printf "%.1f", v/1024}') | $(awk -v v="$RSS1" 'BEGIN{printf "%.1f", v/1024}') | $V_RSS |"
  echo "| threads within ${TOLERANCE} % | $TH0 | $TH1 | $V_TH |"
  echo "| RSS over t >= ${WARMUP_S}s: range (MB) / least-squares slope (MB per min) (not a verdict) | $(range 2 1024) | $(slope 2 1024) | |"
  echo "| threads over t >= ${WARMUP_S}s: range / slope (per min) (not a verdict) | $(range 3 1) | $(slope 3 1) | |"
  echo "| managed heap after a full GC: end of warm-up / end of traffic (MB, not a verdict) | $(awk -v v="${HEAP_WARM:-0}" 'BEGIN{printf "%.1f", v/1048576}') | $(awk -v v="${HEAP_END:-0}" 'BEGIN{printf "%.1f", v/1048576}') | $(within "${HEAP_WARM:-0}" "${HEAP_END:-0}" | cut -d' ' -f1-2) |"
  echo "| managed heap (MB, not a verdict) | $(awk -v v="$HP0" 'BEGIN{printf "%.1f", v/1048576}') | $(awk -v v="$HP1" 'BEGIN{printf "%.1f", v/1048576}') | $(within "$HP0" "$HP1" | cut -d' ' -f1-2) |"
  echo "| no 500 from the gateway | | $S500 | $V_500 |"
  echo "| still serves at the end: request / session turn / healthz | | $END_NS / $END_TURN / $END_HEALTH | $V_END |"
  echo
  echo "Responses by status (\`-sse\` = an event stream): $(tr ' ' '\n' <<<"$RES" | grep '^status_' | sed 's/^status_//' | paste -sd' ' -)."
  echo "Requests $(kv requests "$RES") in $(awk -v d="$(kv duration_us "$RES")" 'BEGIN{printf "%.0f", d/1e6}') s; streams complete $(kv sse_complete "$RES"), ended by an error or cut $(kv sse_broken "$RES"); wrk socket errors: connect $(kv errors_connect "$RES"), read $(kv errors_read "$RES"), write $(kv errors_write "$RES"), timeout $(kv errors_timeout "$RES")."
  echo "Upstream: $(kv requests "$UPSTATS") requests, faults 429 $(kv fault_429 "$UPSTATS"), 500 $(kv fault_500 "$UPSTATS"), 503 $(kv fault_503 "$UPSTATS"), cut $(kv fault_cut "$UPSTATS"), malformed $(kv fault_malformed "$UPSTATS"). Gateway log lines matching unhandled/fail: $UNHANDLED."
  echo "DURATION=$DURATION WARMUP_S=$WARMUP_S SAMPLE_S=$SAMPLE_S FAULTS=$FAULTS CONNS=$CONNS WRK_THREADS=$WRK_THREADS DELAY_MS=$DELAY_MS SPREAD=$SPREAD TURNS=$TURNS IDLE=$IDLE; load average at end: $(cut -d' ' -f1-3 /proc/loadavg); soak.sh took ${T_TOTAL}s."
} | tee "${OUT:-/dev/null}"
[ -n "${OUT:-}" ] && cp "$CSV" "$OUT.csv"
[ "$V_500" = PASS ] && [ "$V_END" = PASS ] && [[ "$V_RSS" == *PASS ]] && [[ "$V_TH" == *PASS ]]
