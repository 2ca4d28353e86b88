#!/usr/bin/env bash
# The demo scenario with the coordinator and every agentd under valgrind
# memcheck: no memory error and no definite or indirect leak in any process.
source "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed"; exit 0; }
# (the programs' malloc is jemalloc's: valgrind is told to replace it as it would glibc's)
VG=(valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99
    --soname-synonyms=somalloc=libjemalloc.so.2)
mkdir -p "$TMP/vg"
cat > "$TMP/agentd-vg" <<SH
#!/usr/bin/env bash
exec ${VG[*]} --log-file=$TMP/vg/agentd.%p.log "$AGENTD" "\$@"
SH
chmod +x "$TMP/agentd-vg"
# valgrind runs a process 20-50 times slower, and the machine may be busy:
# deadlines to match (an agentd taken for dead is moved, not a failure, but a
# registration that times out fails the run)
slow=(--set config.Troupe.LIVENESS_MS=60000 --set config.Troupe.REGISTER_TIMEOUT_S=900)
rc=0
TROUPE_AGENTD=$TMP/agentd-vg "${VG[@]}" --log-file="$TMP/vg/coordinator.log" \
    "$COORD" run "$SRC/examples/scenarios/focus_group.json" --out "$TMP/run" --quiet "${slow[@]}" \
    || rc=$?
[[ $rc -eq 0 ]] || { cat "$TMP"/vg/*.log; fail "coordinator under valgrind exited $rc"; }
for _ in $(seq 100); do [[ -z "$(our_processes)" ]] && break; sleep 0.1; done
n=$(ls "$TMP"/vg/agentd.*.log | wc -l)
[[ $n -ge 4 ]] || fail "expected 4 agentd valgrind logs, found $n"
for f in "$TMP"/vg/*.log; do
    [[ ! -s $f ]] || { cat "$f"; fail "valgrind reported problems in $(basename "$f")"; }
done
pass "valgrind: coordinator and $n agentds clean"
