#!/usr/bin/env bash
# The demo: install what is missing, build, and run the focus group with the
# offline model (no API key needed). Prints the transcript; exits 0.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh"
out=${TT_DEMO_OUT:-$root/out/demo}
rm -rf "$out"
"$root/build/bin/coordinator" run "$root/examples/scenarios/focus_group.json" --out "$out" "$@"
echo
echo "troupe: run written to $out (sim.tlog, transcript.txt, results.json, agents/)"
"$root/build/bin/coordinator" log stats "$out/sim.tlog"
