# Shared by the chaos tests (sourced after tests/it/lib.sh).
# TT_CHAOS_SEEDS=N sets how many randomised rounds each test runs (CI: 3).
SEEDS=${TT_CHAOS_SEEDS:-3}
ROGUE=${TT_TEST_BIN:-$SRC/build/tests}/rogue
SC=$SRC/examples/scenarios/focus_group.json

# Every StepCommit once, in order: 1..N with no repeats or gaps.
assert_steps_once() {
    "$COORD" log dump "$1" | python3 -c "
import json, sys
steps = [json.loads(l)['body']['step']['step'] for l in sys.stdin if '\"kind\":\"step\"' in l.replace(' ', '')]
assert steps == list(range(1, len(steps) + 1)), f'steps out of order or repeated: {steps[:20]}...'
print(f'{len(steps)} steps, each committed once')"
}

# A pid among this run's agentds, chosen by the current $RANDOM state.
pick_agentd() {
    local pids
    mapfile -t pids < <(pgrep -f -- "--data-dir $1" || true)
    [[ ${#pids[@]} -gt 0 ]] || return 1
    echo "${pids[$((RANDOM % ${#pids[@]}))]}"
}
