#!/usr/bin/env bash
# The fuzz stage: build the libFuzzer targets (tests/fuzz) with clang, ASan and
# UBSan into build-fuzz/, replay every committed seed (tests/fuzz/corpus/T/) and
# past crasher (tests/fuzz/regressions/T/, minus those listed in its KNOWN
# file), then fuzz each target for a bounded time, TT_JOBS targets at once (a
# fuzzer keeps one core busy). Any crash, leak, UB report or
# timeout fails the stage; new crashers are kept under build-fuzz/artifacts/.
#   scripts/test-fuzz.sh                 every target, TT_FUZZ_SECONDS (20) each
#   scripts/test-fuzz.sh wire tlog       only these targets
#   TT_FUZZ_SECONDS=300 scripts/test-fuzz.sh      longer (nightly)
#   TT_FUZZ_SECONDS=0 scripts/test-fuzz.sh        replay only, no fuzzing
# Environment: TT_FUZZ_BUILD_DIR (build-fuzz), TT_FUZZ_SECONDS, TT_JOBS (nproc).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TT_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${TT_FUZZ_SECONDS:-20}
jobs=${TT_JOBS:-$(nproc)}
fuzz_src=$root/tests/fuzz
all_targets=(wire record repair llm_reply tlog json persona config scenario)
targets=("${all_targets[@]}")
[[ $# -gt 0 ]] && targets=("$@")
start=$SECONDS

command -v clang >/dev/null || { echo "troupe: the fuzz stage needs clang" >&2; exit 1; }
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DTT_FUZZ=ON >/dev/null
if ! cmake --build "$build" -j "$jobs" --target fuzz >"$build/fuzz-build.log" 2>&1; then
    grep -vE '^\[ *[0-9]+%\]|^(Consolidate|Scanning|Built target)' "$build/fuzz-build.log" | tail -n 60
    echo "troupe: building the fuzz targets failed (log: $build/fuzz-build.log)" >&2
    exit 1
fi
echo "troupe: fuzz targets built in $((SECONDS - start)) s (clang's warnings: $build/fuzz-build.log)"

# a work directory of this run's own: another run of the stage may be going
artifacts=$build/artifacts
mkdir -p "$artifacts"
work=$(mktemp -d "$build/fuzz-work.XXXXXX")
trap 'rm -rf "$work"' EXIT
export TT_SOURCE_DIR=$root
export TT_FUZZ_TMPDIR=$work
# libFuzzer's own flags decide about leaks (-detect_leaks) and timeouts; these
# make every report fatal and readable.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# Inputs of a directory that are not documentation or listed in its KNOWN file.
inputs() {
    local dir=$1
    [[ -d $dir ]] || return 0
    local known=()
    [[ -f $dir/KNOWN ]] && mapfile -t known < <(grep -vE '^\s*(#|$)' "$dir/KNOWN" | awk '{print $1}')
    local f name k skip
    for f in "$dir"/*; do
        [[ -f $f ]] || continue
        name=$(basename "$f")
        [[ $name == README* || $name == KNOWN ]] && continue
        skip=0
        for k in "${known[@]:-}"; do [[ $name == "$k" ]] && skip=1; done
        if [[ $skip == 1 ]]; then
            echo "troupe: fuzz_$(basename "$dir"): skipping known crasher $name (see KNOWN)" >&2
            continue
        fi
        echo "$f"
    done
}

# One target: replay, then fuzz. Its report goes to $work/T.out (printed when
# every target is done, so that reports of targets run at once do not mix),
# its summary line to $work/T.summary; returns non-zero if it failed.
fuzz_one() {
    local t=$1 bin=$build/fuzz/fuzz_$t
    local t0=$SECONDS log=$work/$t.log out=$work/$t.out
    [[ -x $bin ]] || { echo "troupe: no fuzz target $t" >"$out"; return 1; }
    local seeds dict=()
    mapfile -t seeds < <(inputs "$fuzz_src/corpus/$t"; inputs "$fuzz_src/regressions/$t")
    [[ -f $fuzz_src/dict/$t.dict ]] && dict=(-dict="$fuzz_src/dict/$t.dict")
    # 1. every committed input, once
    if [[ ${#seeds[@]} -gt 0 ]] &&
        ! "$bin" -timeout=25 -error_exitcode=77 "${seeds[@]}" >"$log" 2>&1; then
        { tail -n 60 "$log"; echo "troupe: fuzz_$t FAILED on a committed input (above)"; } >"$out"
        return 1
    fi
    # 2. bounded fuzzing from the committed corpus; new inputs go to a scratch dir
    local execs=0
    if [[ $seconds -gt 0 ]]; then
        mkdir -p "$work/corpus-$t"
        if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -error_exitcode=77 -artifact_prefix="$artifacts/$t-" \
            "${dict[@]}" "$work/corpus-$t" "$fuzz_src/corpus/$t" >"$log" 2>&1; then
            { grep -vE '^#[0-9]+\s+(NEW|REDUCE|pulse)' "$log" | tail -n 80
              echo "troupe: fuzz_$t FAILED; crasher in $artifacts/ (copy it to" \
                  "tests/fuzz/regressions/$t/ once understood)"; } >"$out"
            return 1
        fi
        execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
    fi
    printf '%-10s %3d inputs replayed, %9s executions, %3d s\n' "$t" "${#seeds[@]}" \
        "$execs" $((SECONDS - t0)) >"$work/$t.summary"
}

# Each fuzzer is one process on one core: $jobs of them at a time.
declare -A pid_of=()
for t in "${targets[@]}"; do
    while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do
        wait -n || true
    done
    fuzz_one "$t" &
    pid_of[$t]=$!
done
failed=()
for t in "${targets[@]}"; do
    wait "${pid_of[$t]}" || failed+=("$t")
done

echo "troupe: fuzz stage (${seconds} s per target, ${jobs} at a time):"
for t in "${targets[@]}"; do
    [[ -f $work/$t.summary ]] && echo "  $(cat "$work/$t.summary")"
done
for t in "${failed[@]:-}"; do
    [[ -n $t && -f $work/$t.out ]] && cat "$work/$t.out" >&2
done
echo "troupe: fuzz stage took $((SECONDS - start)) s"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "troupe: fuzz stage FAILED: ${failed[*]}" >&2
    exit 1
fi
