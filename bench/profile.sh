#!/usr/bin/env bash
# bench/profile.sh SCENARIO [SECONDS]: profile the gateway under one bench scenario with dotnet-trace.
#
#   ns        non-streaming, concurrency CONC (64), wrk
#   stream    streaming CHUNKS (20) chunks, concurrency CONC, the bench stream client
#   failover  429 on the first key then the next key, concurrency 1, wrk
#   sessions  session creation (echo/echo turns), concurrency 32
#   turns     session turns (x-durar-session-key over SESSION_KEYS sessions, default 2000), concurrency CONC, wrk
#
# Starts the same stack as bench/run.sh (fake upstream + gateway, Release, loopback), warms up, drives the scenario for
# SECONDS (default 15) + 5, and records SECONDS of the gateway after 3 s of load with
#   PROFILER=perf  (default when `perf` is installed; Debian package linux-perf): on-CPU samples, 999 Hz, with the
#                  runtime's perf map (DOTNET_PerfMapEnabled=1) so JIT-compiled methods have names. Prints the top
#                  symbols by self and by inclusive (children) samples, then the samples by layer and the kernel's by
#                  system call (bench/perf-layers.py); keeps perf.data.
#   PROFILER=trace dotnet-trace's dotnet-sampled-thread-time profile: managed stacks of every thread at ~100 Hz, waits
#                  included (wall-clock, not CPU). Prints `dotnet-trace report topN`; keeps the .nettrace (PerfView,
#                  or `dotnet-trace convert --format Speedscope`). dotnet-trace is installed from NuGet when missing.
#                  Also disables W^X (DOTNET_EnableWriteXorExecute=0) so perf sees JIT code at its mapped address.
# TARGET=floor|floorjson profiles the .NET floor (bench/floor.sh: the byte copy, or the copy that parses the JSON) instead
# of the gateway, under the same ns or stream load: the reference bench/RESULTS.md splits the gateway's profile against.
# Knobs: CONC, CHUNKS, TOP (30), WARM_S (15), SKIP_BUILD=1, TARGET.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCENARIO=${1:?usage: bench/profile.sh ns|stream|failover|turns|sessions [SECONDS]}
SECONDS_TRACE=${2:-15}
CONC=${CONC:-64}
TOP=${TOP:-30}
KEEP=1
ROUND=0
source "$ROOT/bench/lib.sh"

PROFILER=${PROFILER:-$(command -v perf >/dev/null && echo perf || echo trace)}
[ "$PROFILER" = perf ] && export PERF_MAP=1
TRACE_TOOL=$(command -v dotnet-trace || true)
[ -z "$TRACE_TOOL" ] && [ -x "$HOME/.dotnet/tools/dotnet-trace" ] && TRACE_TOOL="$HOME/.dotnet/tools/dotnet-trace"
if [ "$PROFILER" = trace ] && [ -z "$TRACE_TOOL" ]; then
  log "installing dotnet-trace (dotnet tool, from NuGet)"
  dotnet tool install --global dotnet-trace >"$WORK/tool.log" 2>&1 || die "could not install dotnet-trace (see $WORK/tool.log)"
  TRACE_TOOL="$HOME/.dotnet/tools/dotnet-trace"
fi

start_stack
# What is profiled, and the load that reaches it: the gateway (its model and no key of the client's), or a floor (the
# upstream's own model and key, as the direct phases send).
TARGET=${TARGET:-gateway}
PROF_PID=$GW_PID; PROF_URL=$GW; LOAD_LUA="$WORK/gateway.lua"; LOAD_MODEL=bench/m; LOAD_KEY=""
if [ "$TARGET" != gateway ]; then
  case "$SCENARIO" in ns|stream) ;; *) die "TARGET=$TARGET profiles ns or stream only" ;; esac
  source "$ROOT/bench/floor.sh"
  [ "$PROFILER" = perf ] && export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
  start_floor
  case "$TARGET" in
    floor) PROF_PID=$FLR_PID; PROF_URL=$FLR ;;
    floorjson) PROF_PID=$FLJ_PID; PROF_URL=$FLJ ;;
    *) die "unknown TARGET $TARGET (gateway|floor|floorjson)" ;;
  esac
  LOAD_LUA="$WORK/direct.lua"; LOAD_MODEL=m; LOAD_KEY=sk-bench
fi
LOAD_S=$((SECONDS_TRACE + 5))
WARM_S=${WARM_S:-15}
log "warm-up (${WARM_S}s, so tiered JIT settles before sampling)"
case "$SCENARIO" in
  ns) run_wrk warm "$CONC" "$WARM_S" "$LOAD_LUA" "$PROF_URL" ;;
  stream) run_stream warm "$CONC" "$PROF_URL" "$LOAD_MODEL" "$LOAD_KEY" "$WARM_S" 0 ;;
  failover) run_wrk warm 1 "$WARM_S" "$WORK/failover.lua" "$GW" ;;
  turns) run_wrk warm "$CONC" "$WARM_S" "$WORK/turns.lua" "$GW" ;;
  sessions) dotnet "$BENCH_DLL" sessions --url "$GW" --count 500 --concurrency 32 --duration 30 --prefix warm >/dev/null ;;
  *) die "unknown scenario $SCENARIO (ns|stream|failover|turns|sessions)" ;;
esac

log "load for ${LOAD_S}s, tracing ${SECONDS_TRACE}s of it"
case "$SCENARIO" in
  ns) run_wrk profile "$CONC" "$LOAD_S" "$LOAD_LUA" "$PROF_URL" & ;;
  stream) run_stream profile "$CONC" "$PROF_URL" "$LOAD_MODEL" "$LOAD_KEY" "$LOAD_S" 0 & ;;
  failover) run_wrk profile 1 "$LOAD_S" "$WORK/failover.lua" "$GW" & ;;
  turns) run_wrk profile "$CONC" "$LOAD_S" "$WORK/turns.lua" "$GW" & ;;
  sessions) dotnet "$BENCH_DLL" sessions --url "$GW" --count 100000 --concurrency 32 --duration "$LOAD_S" --prefix prof >"$WORK/sessions.txt" 2>&1 & ;;
esac
LOAD_PID=$!
PIDS+=("$LOAD_PID")
sleep 3
if [ "$PROFILER" = perf ]; then
  TRACE="$WORK/perf-$SCENARIO.$TARGET.data"
  timeout $((SECONDS_TRACE + 30)) perf record -e cpu-clock -F 999 -g -p "$PROF_PID" -o "$TRACE" -- sleep "$SECONDS_TRACE" >"$WORK/trace.log" 2>&1 \
    || die "perf record failed: $(tail -3 "$WORK/trace.log")"
else
  TRACE="$WORK/$TARGET-$SCENARIO.nettrace"
  "$TRACE_TOOL" collect -p "$PROF_PID" --profile dotnet-sampled-thread-time --duration "00:00:00:$(printf %02d "$SECONDS_TRACE")" -o "$TRACE" \
    >"$WORK/trace.log" 2>&1 || die "dotnet-trace failed: $(tail -3 "$WORK/trace.log")"
fi
wait "$LOAD_PID" || true
[ "$SCENARIO" = sessions ] && cat "$WORK/sessions.txt"

if [ "$PROFILER" = perf ]; then
  echo "## top $TOP symbols by self samples ($SCENARIO, on-CPU)"
  perf report -i "$TRACE" --no-children --sort dso,sym --stdio -g none --percent-limit 0.3 2>/dev/null | grep -v '^#' | grep -v '^$' | head -"$TOP" || true  # head closing the pipe early is not a failure (pipefail)
  echo "## top $TOP symbols by inclusive samples ($SCENARIO, on-CPU)"
  perf report -i "$TRACE" --children --sort sym --stdio -g none --percent-limit 1 2>/dev/null | grep -v '^#' | grep -v '^$' | head -"$TOP" || true  # head closing the pipe early is not a failure (pipefail)
  python3 "$ROOT/bench/perf-layers.py" "$TRACE"
else
  echo "## top $TOP methods by exclusive samples ($SCENARIO)"
  "$TRACE_TOOL" report "$TRACE" topN -n "$TOP"
  echo "## top $TOP methods by inclusive samples ($SCENARIO)"
  "$TRACE_TOOL" report "$TRACE" topN -n "$TOP" --inclusive
fi
log "profile kept: $TRACE"
