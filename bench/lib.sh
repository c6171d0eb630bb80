# bench/lib.sh: shared machinery of bench/run.sh and bench/profile.sh (sourced, not run). Expects ROOT, and optionally
# WRK_THREADS, MAX_REQUESTS, CHUNKS, KEEP, GATEWAY_ENV (extra VAR=value words for the gateway process, for A/B runs of
# runtime settings, e.g. GATEWAY_ENV="DOTNET_gcServer=0") and EXTRA_CONFIG (HOCON appended to the gateway's config file,
# for A/B runs of settings). Every process started through here is killed on exit.

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
WRK_THREADS=${WRK_THREADS:-2}
MAX_REQUESTS=${MAX_REQUESTS:-2000000}
CHUNKS=${CHUNKS:-20}
WORK="$(mktemp -d /tmp/durar-bench.XXXXXX)"
FIGS="$WORK/figures.tsv"     # round <TAB> name <TAB> value
: >"$FIGS"
PIDS=()
SAMPLER=""
T_START=$(date +%s)

cleanup() {
  local rc=$?
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  pg_stop
  if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then echo "bench: logs and raw output kept in $WORK" >&2; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s bench: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- tools ---------------------------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  log "installing wrk (Debian package)"
  (apt-get update -qq && apt-get install -y -qq wrk) >"$WORK/apt.log" 2>&1 || die "could not install wrk (see $WORK/apt.log)"
fi
command -v curl >/dev/null || die "curl is needed"

API_DLL="$ROOT/src/Durar.Api/bin/Release/net10.0/Durar.Api.dll"
UP_DLL="$ROOT/bench/Durar.Bench.Upstream/bin/Release/net10.0/Durar.Bench.Upstream.dll"
BENCH_DLL="$ROOT/bench/Durar.Bench/bin/Release/net10.0/Durar.Bench.dll"
HOOK_DLL="$ROOT/bench/Durar.Bench.Hook/bin/Release/net10.0/Durar.Bench.Hook.dll"
FLOOR_DLL="$ROOT/bench/Durar.Bench.Floor/bin/Release/net10.0/Durar.Bench.Floor.dll"   # checked by bench/floor.sh (run.sh)

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  for proj in src/Durar.Api bench/Durar.Bench.Upstream bench/Durar.Bench bench/Durar.Bench.Hook bench/Durar.Bench.Floor; do
    log "building $proj (Release)"
    dotnet build "$ROOT/$proj" -c Release --nologo -v q -clp:ErrorsOnly >"$WORK/build.log" 2>&1 \
      || { cat "$WORK/build.log" >&2; die "build of $proj failed"; }
  done
fi
for f in "$API_DLL" "$UP_DLL" "$BENCH_DLL" "$HOOK_DLL"; do [ -f "$f" ] || die "missing $f (run without SKIP_BUILD)"; done

bench() { dotnet "$BENCH_DLL" "$@"; }
read -r UP_PORT GW_PORT GW2_PORT <<<"$(bench freeport 3)"
[ -n "${GW2_PORT:-}" ] || die "could not pick free ports"
UP="http://127.0.0.1:$UP_PORT"
GW="http://127.0.0.1:$GW_PORT"

# --- processes -----------------------------------------------------------------------------------------------------
wait_ready() { # url seconds pid
  local deadline=$(($(date +%s) + $2))
  until curl -sf -o /dev/null "$1"; do
    kill -0 "$3" 2>/dev/null || die "process $3 died before $1 answered"
    [ "$(date +%s)" -lt "$deadline" ] || die "$1 not ready after $2 s"
    sleep 0.2
  done
}

# --- JOURNAL=postgres: a private PostgreSQL server for the gateway's journal ---------------------------------------
# Debian's server binaries (installed like .ci/postgres.sh does when missing), a cluster in $WORK/pg, a free loopback
# port, trust auth, and the server's durable defaults (fsync on, synchronous_commit on: a commit is on the disk before
# the gateway hears of it, stricter than SQLite's synchronous=normal). Databases durar (load gateway) and durar2
# (sessions phase). Stopped on exit.
PG_DIR=""; PG_BIN=""; PG_PORT=""
pg_stop() {
  [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
  durar_pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
}
pg_start() {
  source "$ROOT/.ci/postgres.sh"
  durar_pg_install || die "JOURNAL=postgres: no PostgreSQL server binaries"
  PG_BIN="$durar_pg_bin"
  PG_DIR="$WORK/pg"
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" -eq 0 ]; then chmod 711 "$WORK"; chown postgres: "$PG_DIR"; fi  # initdb and postgres refuse root
  chmod 700 "$PG_DIR"
  durar_pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C \
    >"$PG_DIR/initdb.log" 2>&1 || die "initdb failed (see $PG_DIR/initdb.log)"
  PG_PORT=$(bench freeport 1)
  durar_pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null 2>&1 \
    || die "PostgreSQL did not start (see $PG_DIR/server.log)"
  for db in durar durar2; do
    durar_pg_as_owner "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qAt -c "CREATE DATABASE $db" >/dev/null \
      || die "CREATE DATABASE $db failed"
  done
  log "journal: PostgreSQL $(basename "$(dirname "$PG_BIN")") on 127.0.0.1:$PG_PORT ($PG_DIR), fsync on, synchronous_commit on"
}
# The gateway's persistence block for the data dir $1 (its last path element picks the database).
journal_config() {
  [ "${JOURNAL:-sqlite}" = postgres ] || return 0
  local db=durar; [ "$(basename "$1")" = data2 ] && db=durar2
  echo "gateway.persistence { provider = \"postgresql\", connectionString = \"Host=127.0.0.1;Port=$PG_PORT;Database=$db;Username=postgres\" }"
}

write_config() { # file idleTimeout [datadir]
  cat >"$1" <<EOF
# Written by bench/run.sh. "bench" has one good key; "benchfo" has a key the fake upstream always answers 429 for,
# then a good one, and a 1 us rate-limit cooldown (0.001ms: the loader takes decimals, not "us"), so every failover
# request meets the 429 first (the failed key is the least recently used one and is no longer cooling).
models {
  providers {
    bench   { baseUrl = "$UP/v1", apiKey = "sk-bench", api = "openai-completions", models = [{ id = "m" }] }
    benchfo { baseUrl = "$UP/v1", api = "openai-completions", models = [{ id = "m" }] }
  }
}
env { BENCHFO_API_KEYS = "sk-429,sk-bench" }
agents { defaults { model { primary = "bench/m" } } }
auth { cooldowns { schedule = [0.001ms] } }
gateway { sessions { idleTimeout = $2 } }
$(journal_config "${3:-data}")
${EXTRA_CONFIG:-}
EOF
}

start_gateway() { # port datadir config fifodir logfile -> sets GW_PID
  mkdir -p "$2" "$4"
  rm -f "$4/req" "$4/resp"
  mkfifo "$4/req" "$4/resp"
  DOTNET_STARTUP_HOOKS="$HOOK_DLL" DURAR_BENCH_FIFO="$4" DOTNET_PerfMapEnabled="${PERF_MAP:-0}" \
    DOTNET_EnableWriteXorExecute="$([ "${PERF_MAP:-0}" = 1 ] && echo 0 || echo 1)" \
    env ${GATEWAY_ENV:-} dotnet "$API_DLL" --config "$3" --port "$1" --data-dir "$2" >"$5" 2>&1 &
  GW_PID=$!
  PIDS+=("$GW_PID")
  GW_FIFO="$4"
}

stop_pid() { # SIGTERM, then SIGKILL after 20 s
  kill "$1" 2>/dev/null || return 0
  local i
  for i in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# GC counters from inside the gateway (the startup hook in bench/Durar.Bench.Hook): "snap" or "gc" (full GC first).
gc_snap() {
  timeout 10 bash -c "echo $1 > '$GW_FIFO/req'" || { echo "allocated=0 heap=0 rss=0"; return; }
  timeout 60 cat "$GW_FIFO/resp" || echo "allocated=0 heap=0 rss=0"
}
us_to_ms() { awk -v v="$1" 'BEGIN{ if (v=="nan" || v=="") print "nan"; else printf "%.3f", v/1000}'; }
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

start_sampler() { # name: peak VmRSS of the gateway every 100 ms into $WORK/rss.<name>
  local out="$WORK/rss.$1" pid=$GW_PID
  echo 0 >"$out"
  ( peak=0; while kill -0 "$pid" 2>/dev/null; do r=$(rss_kb "$pid"); if [ "${r:-0}" -gt "$peak" ]; then peak=$r; echo "$peak" >"$out"; fi; sleep 0.1; done ) &
  SAMPLER=$!
}
stop_sampler() { [ -n "$SAMPLER" ] && { kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; }; SAMPLER=""; }

# CPU time (user + system) of the gateway and the upstream over one phase, per request, in microseconds.
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Waits (at most 60 s) until the gateway has been quiet (under 10 % of a core) for a second: the failover phase leaves work
# behind (every 429 is a journaled key event, written one after the other by the key actor), which would otherwise run
# during the next phase and be counted against it.
settle_gateway() {
  local i t0 t1 busy
  for i in $(seq 1 60); do
    t0=$(cpu_ticks "$GW_PID"); sleep 1; t1=$(cpu_ticks "$GW_PID")
    busy=$(( (t1 - t0) * 100 / CLK_TCK ))
    [ "$busy" -lt 10 ] && { [ "$i" -gt 1 ] && log "  gateway settled after ${i}s"; return 0; }
  done
  log "  gateway still busy after 60s (${busy}% of a core); going on"
}

CPU_GW0=0; CPU_UP0=0
cpu_begin() { CPU_GW0=$(cpu_ticks "$GW_PID"); CPU_UP0=$(cpu_ticks "$UP_PID"); }
cpu_end() { # name requests
  local gw up
  gw=$(($(cpu_ticks "$GW_PID") - CPU_GW0)); up=$(($(cpu_ticks "$UP_PID") - CPU_UP0))
  fig "$1.cpu_gw_us" "$(awk -v t="$gw" -v n="$2" -v hz="$CLK_TCK" 'BEGIN{ if (n>0) printf "%.1f", t*1e6/hz/n; else print "nan"}')"
  fig "$1.cpu_up_us" "$(awk -v t="$up" -v n="$2" -v hz="$CLK_TCK" 'BEGIN{ if (n>0) printf "%.1f", t*1e6/hz/n; else print "nan"}')"
}

fig() { printf '%s\t%s\t%s\n' "$ROUND" "$1" "$2" >>"$FIGS"; }

# --- wrk -----------------------------------------------------------------------------------------------------------
lua() { # file model key
  local auth=""
  [ -n "$3" ] && auth="wrk.headers[\"Authorization\"] = \"Bearer $3\""
  cat >"$1" <<EOF
wrk.method = "POST"
wrk.body = '{"model":"$2","messages":[{"role":"user","content":"Say hello to the benchmark."}]}'
wrk.headers["Content-Type"] = "application/json"
$auth
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d mean_us=%.1f max_us=%d " ..
    "errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
EOF
}
# Session turns: the gateway request above, each one a turn of one of SESSION_KEYS sessions (x-durar-session-key), the keys
# taken in turn per wrk thread (threads start far apart), so concurrent requests rarely meet in one session.
session_lua() { # file
  lua "$1" "bench/m" ""
  cat >>"$1" <<EOF
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args) counter = tid * 7919 end
function request()
  counter = counter + 1
  wrk.headers["x-durar-session-key"] = "${SESSION_PREFIX:-bt}-" .. (counter % ${SESSION_KEYS:-2000})
  return wrk.format()
end
EOF
}
lua "$WORK/direct.lua" "m" "sk-bench"
lua "$WORK/gateway.lua" "bench/m" ""
lua "$WORK/failover.lua" "benchfo/m" ""
lua "$WORK/direct429.lua" "m" "sk-429"
session_lua "$WORK/turns.lua"

WRK_LAST=""
run_wrk() { # name conc seconds script url
  local threads=$WRK_THREADS
  [ "$2" -lt "$threads" ] && threads=$2
  local out="$WORK/wrk.$1.r$ROUND.txt"
  timeout $(($3 + 30)) wrk -t"$threads" -c"$2" -d"$3"s --timeout 10s --latency -s "$4" "$5/v1/chat/completions" >"$out" 2>&1 \
    || die "wrk $1 failed: $(tail -3 "$out")"
  WRK_LAST=$(grep '^RESULT' "$out" || true)
  [ -n "$WRK_LAST" ] || die "wrk $1 printed no RESULT line (see $out)"
  local n dur
  n=$(kv requests "$WRK_LAST"); dur=$(kv duration_us "$WRK_LAST")
  fig "$1.rps" "$(awk -v n="$n" -v d="$dur" 'BEGIN{printf "%.1f", n/(d/1e6)}')"
  fig "$1.p50_ms" "$(awk -v v="$(kv p50_us "$WRK_LAST")" 'BEGIN{printf "%.3f", v/1000}')"
  fig "$1.p99_ms" "$(awk -v v="$(kv p99_us "$WRK_LAST")" 'BEGIN{printf "%.3f", v/1000}')"
  fig "$1.requests" "$n"
  local errs
  errs=$(awk -v s="$WRK_LAST" 'BEGIN{n=split(s,a," "); t=0; for(i=1;i<=n;i++) if (a[i] ~ /^errors_/) {split(a[i],b,"="); t+=b[2]}; print t}')
  fig "$1.errors" "$errs"
  log "  $1: $(awk -v n="$n" -v d="$dur" 'BEGIN{printf "%.0f", n/(d/1e6)}') req/s, p50 $(kv p50_us "$WRK_LAST") us, p99 $(kv p99_us "$WRK_LAST") us, errors $errs"
}

STREAM_LAST=""
run_stream() { # name conc url model key seconds warmup [session-count]
  local out="$WORK/stream.$1.r$ROUND.txt"
  timeout $(($6 + 90)) dotnet "$BENCH_DLL" stream --url "$3/v1/chat/completions" --model "$4" --concurrency "$2" \
    --requests "$MAX_REQUESTS" --duration "$6" --warmup "$7" ${5:+--key "$5"} --label "$1" \
    ${8:+--sessions "$8" --session-prefix "${SESSION_PREFIX:-bt}s"} >"$out" 2>&1 \
    || die "stream client $1 failed: $(tail -3 "$out")"
  STREAM_LAST=$(grep '^RESULT' "$out")
  for k in rps ttft_p50_ms ttft_p99_ms total_p50_ms total_p99_ms ok errors incomplete tokens_per_stream; do fig "$1.$k" "$(kv "$k" "$STREAM_LAST")"; done
  log "  $1: $(kv rps "$STREAM_LAST") streams/s, ttft p50 $(kv ttft_p50_ms "$STREAM_LAST") ms p99 $(kv ttft_p99_ms "$STREAM_LAST") ms, tokens/stream $(kv tokens_per_stream "$STREAM_LAST"), errors $(kv errors "$STREAM_LAST")+$(kv incomplete "$STREAM_LAST")"
}

# Allocated bytes per request over one gateway phase: GC.GetTotalAllocatedBytes before/after, over the requests served.
ALLOC_BEFORE=0
# "allocated" is the hook's steady count: the runtime's own count without the steps a change of the server GC's heap
# count puts in it (SteadyAllocationCounter); a phase in which the raw count stepped says so in the log.
alloc_begin() { local s; s=$(gc_snap snap); ALLOC_BEFORE=$(kv allocated "$s"); TP_BEFORE=$(kv tp_items "$s"); STEPS_BEFORE=$(kv alloc_steps "$s"); JIT_BEFORE=$(kv jit_methods "$s"); }
alloc_end() { # name requests; also the thread-pool work items per request (tp_per_req: hops, robust to load)
  local s after tp
  s=$(gc_snap snap); after=$(kv allocated "$s"); tp=$(kv tp_items "$s")
  [ "$(kv alloc_steps "$s")" = "${STEPS_BEFORE:-}" ] \
    || log "  ($1: the runtime's allocated count stepped $(( $(kv alloc_steps "$s") - ${STEPS_BEFORE:-0} )) time(s) in this phase (GC heap count changes); the steps are left out)"
  # Methods the JIT compiled during the phase (every tier): thousands mean the phase ran code not yet warm (its first
  # turns, or tier-1 recompiles), which costs CPU the steady state does not.
  local jit=$(( $(kv jit_methods "$s" || true) + 0 - ${JIT_BEFORE:-0} ))
  fig "$1.jit_methods" "$jit"
  [ "$jit" -le 500 ] || log "  ($1: the JIT compiled $jit methods during this phase: not all of its code was warm)"
  fig "$1.alloc_per_req" "$(awk -v a="$after" -v b="$ALLOC_BEFORE" -v n="$2" 'BEGIN{ if (n>0 && a>0) printf "%.0f", (a-b)/n; else print "nan"}')"
  fig "$1.tp_per_req" "$(awk -v a="${tp:-0}" -v b="${TP_BEFORE:-0}" -v n="$2" 'BEGIN{ if (n>0 && a>0) printf "%.1f", (a-b)/n; else print "nan"}')"
}

# One measured phase of session turns (turns.lua, concurrency CONC, DURATION s) on a settled gateway, with the allocation
# sample by type restarted first: figures tN.alloc_per_req and tN.tp_per_req; TURNS_N = the turns answered.
measured_turns() {
  settle_gateway
  gc_snap allocs >/dev/null
  alloc_begin
  run_wrk tN "$CONC" "$DURATION" "$WORK/turns.lua" "$GW"
  TURNS_N=$(kv requests "$WRK_LAST")
  alloc_end tN "$TURNS_N"
}

# --- the stack: fake upstream + gateway, ready and sanity-checked -------------------------------------------------
start_stack() {
  log "work dir $WORK; upstream $UP, gateway $GW"
  dotnet "$UP_DLL" --port "$UP_PORT" --chunks "$CHUNKS" --fail-key sk-429 --retry-after 0 ${UPSTREAM_ARGS:-} >"$WORK/upstream.log" 2>&1 &
  UP_PID=$!
  PIDS+=("$UP_PID")
  case "${JOURNAL:-sqlite}" in
    sqlite) ;;
    postgres) pg_start ;;
    *) die "JOURNAL must be sqlite or postgres, not ${JOURNAL}" ;;
  esac
  write_config "$WORK/gateway.conf" "2m"
  start_gateway "$GW_PORT" "$WORK/data" "$WORK/gateway.conf" "$WORK/fifo" "$WORK/gateway.log"
  wait_ready "$UP/healthz" 60 "$UP_PID"
  wait_ready "$GW/health/ready" 120 "$GW_PID"  # ready = journal, cluster member Up, provider registry serving
  log "ready: upstream pid $UP_PID, gateway pid $GW_PID"
  # A node can be ready before its key shards have found their coordinator; on a loaded machine the first leases can
  # time out (504 no_api_keys). Wait (at most 120 s) until one request is served before checking each kind.
  local deadline=$(($(date +%s) + 120))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
      -d '{"model":"bench/m","messages":[{"role":"user","content":"hi"}]}' "$GW/v1/chat/completions")" = 200 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || break
    sleep 1
  done

  # Sanity: one request of each kind must succeed before anything is measured.
  check() { # name url body [auth]
    local code
    code=$(curl -s -o "$WORK/check.$1" -w '%{http_code}' -H 'content-type: application/json' ${4:+-H "Authorization: Bearer $4"} -d "$3" "$2/v1/chat/completions")
    [ "$code" = 200 ] || die "sanity check $1 answered $code: $(head -c 400 "$WORK/check.$1")"
  }
  check direct "$UP" '{"model":"m","messages":[{"role":"user","content":"hi"}]}' sk-bench
  check gateway "$GW" '{"model":"bench/m","messages":[{"role":"user","content":"hi"}]}'
  check gateway-stream "$GW" '{"model":"bench/m","stream":true,"messages":[{"role":"user","content":"hi"}]}'
  check failover "$GW" '{"model":"benchfo/m","messages":[{"role":"user","content":"hi"}]}'
  FO_ATTEMPTS=$(curl -s -D - -o /dev/null -H 'content-type: application/json' -d '{"model":"benchfo/m","messages":[{"role":"user","content":"hi"}]}' \
    "$GW/v1/chat/completions" | tr -d '\r' | sed -n 's/^x-durar-attempts: //Ip')
  log "failover request answered after ${FO_ATTEMPTS:-?} attempts (2 = the 429, then the next key)"
}
