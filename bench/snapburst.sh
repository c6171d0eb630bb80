#!/usr/bin/env bash
# bench/snapburst.sh: allocated bytes per session turn at c=64 when the phase's sessions all cross their snapshot
# (gateway.sessions.snapshotEvery, 50 events) together, as run.sh's tN phase did in rounds 2-3 of run 7 (issue 17): SESSION_KEYS
# sessions (600) are first brought to REPEAT turns each (24: 49 events, untimed, bench turns), then DURATION s (5) of turns
# over them at CONC (64) are timed, so every session's next turn takes its snapshot. Prints bytes per turn, the allocation
# sample by type (DURAR_BENCH_ALLOCS=1) and the snapshot rows written. The A/B without snapshots:
# EXTRA_CONFIG='gateway.sessions.snapshotEvery = 100000'. Knobs: SKIP_BUILD KEEP GATEWAY_ENV EXTRA_CONFIG.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION=${DURATION:-5}
CONC=${CONC:-64}
REPEAT=${REPEAT:-24}
export SESSION_PREFIX=sb SESSION_KEYS=${SESSION_KEYS:-600}
export GATEWAY_ENV="${GATEWAY_ENV:-} DURAR_BENCH_ALLOCS=1"
source "$ROOT/bench/lib.sh"
start_stack
ROUND=1
session_lua "$WORK/turns.lua"
bench turns --url "$GW" --prefix "$SESSION_PREFIX" --from 0 --count "$SESSION_KEYS" --repeat "$REPEAT" --concurrency 32 \
  --duration 600 --model bench/m >"$WORK/pre.txt" 2>&1 || die "bringing the sessions to $REPEAT turns failed: $(tail -3 "$WORK/pre.txt")"
log "sessions ready: $(grep '^RESULT' "$WORK/pre.txt" | cut -c1-120)"
measured_turns
n=$TURNS_N
snapshots=$(python3 -c "import sqlite3,sys; c=sqlite3.connect(f'file:{sys.argv[1]}?mode=ro',uri=True); print(c.execute(\"select count(*) from snapshot where persistence_id like 'session-$SESSION_PREFIX-%'\").fetchone()[0])" \
  "$WORK/data/durar.db" 2>/dev/null || echo "?")
log "RESULT turns=$n bytes_per_turn=$(awk -F'\t' '$2=="tN.alloc_per_req"{print $3}' "$FIGS") snapshots=$snapshots"
log "  by type: $(gc_snap allocs | tr ' ' '\n' | head -20 | tr '\n' ' ')"
