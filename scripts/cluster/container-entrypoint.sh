#!/bin/sh
# The container image's entry point: `coordinator ARGS...` or `agentd ARGS...`.
case "${1:-}" in
coordinator | agentd)
    cmd=$1
    shift
    exec "/usr/local/bin/$cmd" "$@"
    ;;
*)
    echo "troupe image: the first argument is the program, coordinator or agentd" \
        "(got '${1:-}'); e.g. agentd --connect tcp://COORDINATOR:5555 --slots 64" >&2
    exit 2
    ;;
esac
