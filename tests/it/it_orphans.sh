#!/usr/bin/env bash
# No agentd outlives its coordinator, even when the coordinator is killed -9.
source "$(dirname "$0")/lib.sh"
OUT=$TMP/run
"$COORD" run "$SRC/examples/scenarios/focus_group.json" --out "$OUT" --steps 100000 --quiet \
    2>"$TMP/err" &
CPID=$!
PIDS+=("$CPID")
deadline=$((SECONDS + 120))
while [[ $SECONDS -lt $deadline ]]; do
    n=$({ pgrep -f -- "--data-dir $OUT" || true; } | wc -l)
    [[ $n -ge 4 ]] && break
    sleep 0.05
done
[[ $n -ge 4 ]] || fail "agentds did not start ($n)"
sleep 0.5
kill -9 "$CPID"
deadline=$((SECONDS + 120))
while [[ $SECONDS -lt $deadline ]]; do
    [[ -z "$(pgrep -f -- "--data-dir $OUT" || true)" ]] && break
    sleep 0.05
done
left=$(pgrep -f -- "--data-dir $OUT" || true)
[[ -z "$left" ]] || fail "agentds outlived the coordinator: $left"
pass "no orphans after kill -9 of the coordinator"
