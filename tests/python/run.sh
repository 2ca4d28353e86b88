#!/bin/sh
# The troupe Python package's tests, end to end against build/bin/coordinator (offline model
# and fakellm). Run from anywhere; extra arguments go to pytest (e.g. -k replay).
# Exit status: pytest's, and 1 when no test was collected.
cd "$(dirname "$0")/../.." || exit 1
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/python "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
    echo "run.sh: no tests collected" >&2
    exit 1
fi
exit "$rc"
