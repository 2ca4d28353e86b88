#!/usr/bin/env bash
# Longer chaos runs than CI's: every chaos test with more randomised rounds.
#   scripts/chaos.sh [ROUNDS]      (default 50; CI runs 3)
# Kills agentds and the coordinator at random steps (alone and together),
# stops agentds past the liveness timeout, and floods the coordinator with a
# rogue peer; every run must finish with the fault-free final hash.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" --test
"$root/scripts/build.sh"
cd "${TT_BUILD_DIR:-$root/build}"
TT_CHAOS_SEEDS=${1:-50} ctest -L chaos --output-on-failure --timeout 7200 -V | grep -E "^[0-9]+: (seed|ok|FAIL)|tests passed|Failed"
