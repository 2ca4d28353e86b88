#!/usr/bin/env bash
# The demo scenario with the coordinator and every agentd under valgrind
# memcheck: no memory error and no definite or indirect leak in any process.
source "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed"; exit 0; }
VG=(valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99)
mkdir -p "$TMP/vg"
cat > "$TMP/agentd-vg" <<SH
#!/usr/bin/env bash
exec ${VG[*]} --log-file=$TMP/vg/agentd.%p.log "$AGENTD" "\$@"
SH
chmod +x "$TMP/agentd-vg"
TROUPE_AGENTD=$TMP/agentd-vg "${VG[@]}" --log-file="$TMP/vg/coordinator.log" \
    "$COORD" run "$SRC/examples/scenarios/focus_group.json" --out "$TMP/run" --quiet \
    || { cat "$TMP"/vg/*.log; fail "coordinator under valgrind exited $?"; }
for _ in $(seq 100); do [[ -z "$(our_processes)" ]] && break; sleep 0.1; done
n=$(ls "$TMP"/vg/agentd.*.log | wc -l)
[[ $n -ge 4 ]] || fail "expected 4 agentd valgrind logs, found $n"
for f in "$TMP"/vg/*.log; do
    [[ ! -s $f ]] || { cat "$f"; fail "valgrind reported problems in $(basename "$f")"; }
done
pass "valgrind: coordinator and $n agentds clean"
