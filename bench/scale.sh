#!/usr/bin/env bash
# bench/scale.sh: sessions at scale (issue 17). One gateway with a small gateway.sessions.maxResident creates N sessions
# (default 1,000,000) so that passivation of the least recently used idle sessions runs all along; its RSS is sampled
# over time and read (also after a full GC) at every tenth of the sessions; then the first turn of sessions that were
# passivated (recovered from the journal, and from a snapshot for the "deep" sessions) is timed against a later turn of
# the same, now resident, session. See bench/README.md ("Sessions at scale").
#
# Knobs (environment):
#   SCALE_N=1000000      sessions to create (in 10 slices)   SCALE_CAP=900   seconds cap on creating them (all slices)
#   MAX_RESIDENT=10000   gateway.sessions.maxResident        SESSIONS_CONC=32  concurrency of session creation
#   DEEP=200             sessions given DEEP_TURNS turns first (over snapshotEvery events: they recover from a snapshot)
#   DEEP_TURNS=30        turns per deep session              PROBE=1000      passivated sessions whose first turn is timed
#   SNAPSHOT_EVERY=50    gateway.sessions.snapshotEvery      SAMPLE_S=5      seconds between RSS samples (WORK/rss.csv)
#   SKIP_BUILD=1, KEEP=1, OUT=FILE, GATEWAY_ENV, EXTRA_CONFIG, JOURNAL=postgres as in run.sh
# Every loop is bounded in count and time, targets are 127.0.0.1 only, and every process started here is killed on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCALE_N=${SCALE_N:-1000000}
SCALE_CAP=${SCALE_CAP:-900}
MAX_RESIDENT=${MAX_RESIDENT:-10000}
SESSIONS_CONC=${SESSIONS_CONC:-32}
DEEP=${DEEP:-200}
DEEP_TURNS=${DEEP_TURNS:-30}
PROBE=${PROBE:-1000}
SNAPSHOT_EVERY=${SNAPSHOT_EVERY:-50}
SAMPLE_S=${SAMPLE_S:-5}

source "$ROOT/bench/lib.sh"
ROUND=0

case "${JOURNAL:-sqlite}" in
  sqlite) ;;
  postgres) pg_start ;;
  *) die "JOURNAL must be sqlite or postgres, not ${JOURNAL}" ;;
esac
# No upstream: every turn goes to the built-in echo model. idleTimeout is longer than the run, so only the resident
# limit passivates.
write_config "$WORK/scale.conf" "2h" "$WORK/data2"
cat >>"$WORK/scale.conf" <<EOF
gateway.sessions { maxResident = $MAX_RESIDENT, snapshotEvery = $SNAPSHOT_EVERY }
EOF
start_gateway "$GW2_PORT" "$WORK/data2" "$WORK/scale.conf" "$WORK/fifo2" "$WORK/gateway2.log"
GW2="http://127.0.0.1:$GW2_PORT"
wait_ready "$GW2/health/ready" 120 "$GW_PID"
log "work dir $WORK; gateway $GW2 (pid $GW_PID), maxResident $MAX_RESIDENT, snapshotEvery $SNAPSHOT_EVERY; load $(cut -d' ' -f1-3 /proc/loadavg)"

# RSS every SAMPLE_S seconds: t_s, created so far (the last slice done), VmRSS kB.
echo "t_s,rss_kb" >"$WORK/rss.csv"
( t0=$(date +%s); while kill -0 "$GW_PID" 2>/dev/null; do echo "$(( $(date +%s) - t0 )),$(rss_kb "$GW_PID")" >>"$WORK/rss.csv"; sleep "$SAMPLE_S"; done ) &
SAMPLER=$!

log "deep sessions: $DEEP sessions x $DEEP_TURNS turns (snapshotEvery $SNAPSHOT_EVERY)"
bench turns --url "$GW2" --prefix deep --count "$DEEP" --repeat "$DEEP_TURNS" --concurrency 8 --duration 300 >"$WORK/deep.txt" 2>&1 \
  || die "deep sessions failed: $(tail -3 "$WORK/deep.txt")"
log "  $(grep '^RESULT' "$WORK/deep.txt")"
bench sessions --url "$GW2" --count 1000 --concurrency "$SESSIONS_CONC" --duration 60 --prefix warm >"$WORK/warm.txt" 2>&1 \
  || die "warm-up failed: $(tail -3 "$WORK/warm.txt")"
S0=$(gc_snap gc); R0=$(rss_kb "$GW_PID")
log "baseline after a full GC: RSS $((R0/1024)) MB, heap $(( $(kv heap "$S0") / 1048576 )) MB"
fig scale.rss0_kb "$R0"; fig scale.heap0_b "$(kv heap "$S0")"

SLICE=$(( (SCALE_N + 9) / 10 ))
CREATED=0; ERRORS=0; T_CREATE0=$(date +%s); SLICES=0
for s in 0 1 2 3 4 5 6 7 8 9; do
  LEFT=$(( SCALE_CAP - ($(date +%s) - T_CREATE0) ))
  [ "$LEFT" -gt 5 ] || { log "  creation cap (${SCALE_CAP}s) reached after $SLICES slices"; break; }
  C0=$(cpu_ticks "$GW_PID")
  bench sessions --url "$GW2" --count "$SLICE" --concurrency "$SESSIONS_CONC" --duration "$LEFT" --prefix "sc$s" \
    >"$WORK/slice$s.txt" 2>&1 || die "slice $s failed: $(tail -3 "$WORK/slice$s.txt")"
  RES=$(grep '^RESULT' "$WORK/slice$s.txt")
  CPU_MS=$(awk -v t="$(( $(cpu_ticks "$GW_PID") - C0 ))" -v n="$(kv created "$RES")" -v hz="$CLK_TCK" 'BEGIN{ if (n>0) printf "%.2f", t*1000/hz/n; else print "nan"}')
  CREATED=$(( CREATED + $(kv created "$RES") )); ERRORS=$(( ERRORS + $(kv errors "$RES") ))
  R=$(rss_kb "$GW_PID"); S=$(gc_snap gc); RGC=$(rss_kb "$GW_PID")
  SLICES=$((s + 1))
  fig "scale.s$s.created" "$CREATED"; fig "scale.s$s.rss_kb" "$R"; fig "scale.s$s.rss_gc_kb" "$RGC"; fig "scale.s$s.heap_b" "$(kv heap "$S")"
  fig "scale.s$s.rate" "$(kv rate "$RES")"; fig "scale.s$s.cpu_ms" "$CPU_MS"
  log "  slice $s: $CREATED created ($(kv rate "$RES")/s, gateway CPU $CPU_MS ms each, errors $(kv errors "$RES")); RSS $((R/1024)) MB, $((RGC/1024)) MB after a full GC; heap $(( $(kv heap "$S") / 1048576 )) MB; load $(cut -d' ' -f1 /proc/loadavg)"
  [ "$(kv capped "$RES")" = 0 ] || { log "  creation cap (${SCALE_CAP}s) reached in slice $s"; break; }
done
T_CREATE=$(( $(date +%s) - T_CREATE0 ))
fig scale.created "$CREATED"; fig scale.errors "$ERRORS"; fig scale.create_s "$T_CREATE"
RESIDENT=$(curl -s "$GW2/metrics" 2>/dev/null | sed -n 's/^durar_sessions_resident[^ ]* \([0-9.e+]*\)$/\1/p' | head -1 || true)

# First turns of passivated sessions: slice 0's (created first, long since evicted; journal only: two events each) and
# the deep sessions (a snapshot and the events after it); each session's second turn is the resident figure.
log "first turns: $PROBE passivated sessions of slice 0 (journal), then the $DEEP deep ones (snapshot), one at a time"
bench turns --url "$GW2" --prefix sc0 --count "$SLICE" --sample "$PROBE" --repeat 2 --concurrency 1 --duration 120 >"$WORK/probe.txt" 2>&1 \
  || die "probe failed: $(tail -3 "$WORK/probe.txt")"
PR=$(grep '^RESULT' "$WORK/probe.txt"); log "  journal: $PR"
bench turns --url "$GW2" --prefix deep --count "$DEEP" --repeat 2 --concurrency 1 --duration 120 >"$WORK/probe.deep.txt" 2>&1 \
  || die "deep probe failed: $(tail -3 "$WORK/probe.deep.txt")"
PD=$(grep '^RESULT' "$WORK/probe.deep.txt"); log "  snapshot: $PD"
for k in first_p50_ms first_p99_ms later_p50_ms later_p99_ms sessions errors; do fig "probe.$k" "$(kv $k "$PR")"; fig "probe.deep.$k" "$(kv $k "$PD")"; done
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
DB_MB=$(du -sm "$WORK/data2" | cut -f1)

# --- table ----------------------------------------------------------------------------------------------------------
val() { awk -F'\t' -v n="$1" '$2==n{v=$3} END{print v}' "$FIGS"; }
mb() { awk -v k="$1" 'BEGIN{ if (k=="") print "-"; else printf "%.0f", k/1024}'; }
# The first, middle and last slice done (10 %, 50 % and 100 % of N when the cap did not stop creation early).
I10=0; I50=$(( (SLICES - 1) / 2 )); I100=$(( SLICES - 1 ))
R50=$(val "scale.s$I50.rss_gc_kb"); R100=$(val "scale.s$I100.rss_gc_kb")
FLAT=$(awk -v a="$R50" -v b="$R100" 'BEGIN{ if (a>0) printf "%+.1f", (b-a)*100/a; else print "nan"}')
{
  echo "| sessions at scale (maxResident $MAX_RESIDENT, snapshotEvery $SNAPSHOT_EVERY) | value |"
  echo "|---|---:|"
  echo "| sessions created / errors / seconds / rate (per s) | $CREATED / $ERRORS / $T_CREATE / $(awk -v n="$CREATED" -v t="$T_CREATE" 'BEGIN{ if (t>0) printf "%.0f", n/t}') |"
  echo "| resident at the end (durar_sessions_resident) | ${RESIDENT:-?} |"
  echo "| RSS after a full GC: baseline (1,000 warm-up + $DEEP deep sessions) | $(mb "$R0") MB |"
  for i in $I10 $I50 $I100; do
    echo "| RSS at $(val "scale.s$i.created") sessions: as sampled / after a full GC / managed heap | $(mb "$(val "scale.s$i.rss_kb")") / $(mb "$(val "scale.s$i.rss_gc_kb")") / $(awk -v b="$(val "scale.s$i.heap_b")" 'BEGIN{printf "%.0f", b/1048576}') MB |"
  done
  echo "| RSS after GC, last slice against the half-way one | $FLAT % |"
  echo "| gateway CPU per created session, first / last slice | $(val scale.s0.cpu_ms) / $(val "scale.s$I100.cpu_ms") ms |"
  echo "| first turn of a passivated session, journal only (2 events), p50 / p99 ($(kv sessions "$PR") sessions) | $(kv first_p50_ms "$PR") / $(kv first_p99_ms "$PR") ms |"
  echo "| its second turn (resident), p50 / p99 | $(kv later_p50_ms "$PR") / $(kv later_p99_ms "$PR") ms |"
  echo "| first turn of a passivated deep session ($DEEP_TURNS turns: snapshot + events), p50 / p99 ($(kv sessions "$PD") sessions) | $(kv first_p50_ms "$PD") / $(kv first_p99_ms "$PD") ms |"
  echo "| its second turn (resident), p50 / p99 | $(kv later_p50_ms "$PD") / $(kv later_p99_ms "$PD") ms |"
  echo "| data dir (journal) size | $DB_MB MB |"
  echo "| load average at the end (1/5/15 min) | $LOAD |"
} | tee "${OUT:-/dev/null}"
log "RSS samples: $WORK/rss.csv ($(($(wc -l <"$WORK/rss.csv") - 1)) rows)"
if [ -n "${OUT:-}" ]; then cp "$WORK/rss.csv" "$OUT.rss.csv"; cp "$FIGS" "$OUT.figures.tsv"; fi
