# bench/floor.sh: "the .NET floor" (issue 17), sourced by bench/run.sh after lib.sh and nginx.sh. Two instances of
# bench/Durar.Bench.Floor in front of the same fake upstream: "floor", a pass-through proxy of Kestrel and one
# SocketsHttpHandler that only copies bytes, and "floor+json" (--parse), which also parses and rewrites the JSON of the
# request and of a non-streaming answer. What the platform costs for one proxy hop, measured beside nginx and the gateway
# in the same rounds. FLOOR=0 leaves them out.

FLR_PID=""; FLR=""   # floor (byte copy)
FLJ_PID=""; FLJ=""   # floor+json (--parse)

start_floor() {
  [ -f "$FLOOR_DLL" ] || die "missing $FLOOR_DLL (run without SKIP_BUILD, or FLOOR=0)"
  local p1 p2
  read -r p1 p2 <<<"$(bench freeport 2)"
  dotnet "$FLOOR_DLL" --upstream "$UP" --port "$p1" >"$WORK/floor.log" 2>&1 &
  FLR_PID=$!
  PIDS+=("$FLR_PID")
  dotnet "$FLOOR_DLL" --upstream "$UP" --port "$p2" --parse >"$WORK/floorjson.log" 2>&1 &
  FLJ_PID=$!
  PIDS+=("$FLJ_PID")
  FLR="http://127.0.0.1:$p1"; FLJ="http://127.0.0.1:$p2"
  wait_ready "$FLR/healthz" 60 "$FLR_PID"
  wait_ready "$FLJ/healthz" 60 "$FLJ_PID"
  # Sanity: the answer through each floor is the upstream's, byte for byte (the direct check in start_stack wrote it).
  local name url code
  for name in floor floorjson; do
    url=$([ "$name" = floor ] && echo "$FLR" || echo "$FLJ")
    code=$(curl -s -o "$WORK/check.$name" -w '%{http_code}' -H 'content-type: application/json' -H 'Authorization: Bearer sk-bench' \
      -d '{"model":"m","messages":[{"role":"user","content":"hi"}]}' "$url/v1/chat/completions")
    [ "$code" = 200 ] || die "sanity check through $name answered $code: $(head -c 400 "$WORK/check.$name")"
    cmp -s "$WORK/check.direct" "$WORK/check.$name" || die "the answer through $name differs from the direct one ($WORK/check.$name)"
  done
  log "floor on $FLR (pid $FLR_PID), floor+json on $FLJ (pid $FLJ_PID)"
}

# CPU of one floor process over a phase, per request: floor_cpu_begin PID; ...; floor_cpu_end name requests.
CPU_FLOOR_PID=""; CPU_FLOOR0=0
floor_cpu_begin() { CPU_FLOOR_PID=$1; CPU_FLOOR0=$(cpu_ticks "$1"); }
floor_cpu_end() { # name requests
  fig "$1.cpu_floor_us" "$(awk -v t="$(($(cpu_ticks "$CPU_FLOOR_PID") - CPU_FLOOR0))" -v n="$2" -v hz="$CLK_TCK" 'BEGIN{ if (n>0) printf "%.1f", t*1e6/hz/n; else print "nan"}')"
}
