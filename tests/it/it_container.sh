#!/usr/bin/env bash
# The container image (Containerfile) and the Kubernetes manifests
# (scripts/cluster/k8s/):
#  - the runtime stage installs the Debian package of every library the built
#    coordinator and agentd link directly (their NEEDED entries, via dpkg -S);
#  - the entry point runs coordinator or agentd and refuses anything else;
#  - the image is built and run with podman -- where podman can run containers
#    and the base image is there (no registry here): otherwise SKIP, saying why;
#  - every manifest parses (PyYAML) and holds together: required fields,
#    selectors, the Service reaching the coordinator's --listen port, agentds
#    connecting to that Service, Secrets and key files (tests/k8s/check_manifests.py),
#    and a broken copy is caught;
#  - every object validates against the Kubernetes schemas bundled in the npm
#    package kubernetes-models (offline), where it is installed (scripts/deps.sh
#    --test, with npm): otherwise SKIP for that part, saying so.
source "$(dirname "$0")/lib.sh"
K8S=$SRC/scripts/cluster/k8s
# Debian's python3 with python3-yaml (scripts/deps.sh --test), else the one on PATH
PY=/usr/bin/python3
"$PY" -c 'import yaml' 2>/dev/null || PY=python3
"$PY" -c 'import yaml' 2>/dev/null || fail "no python3 with the yaml module (Debian package python3-yaml)"

# --- runtime libraries: each binary's NEEDED library comes from a package the
# runtime stage installs (listed, or pulled in by a listed one)
runtime_pkgs=$(sed -n '/^FROM \${BASE}$/,/^COPY/p' "$SRC/Containerfile" |
    sed -n '/install -y/,/rm -rf/p' | tr -s ' \\\n' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' |
    grep -vxE 'apt-get|install|rm|update|DEBIAN_FRONTEND=noninteractive' || true)
[[ $(wc -w <<<"$runtime_pkgs") -ge 10 ]] || fail "cannot read the runtime stage's package list"
installed=$runtime_pkgs
if apt-cache show libc6 >/dev/null 2>&1; then
    for p in $runtime_pkgs; do
        apt-cache show "$p" >/dev/null 2>&1 || fail "the Containerfile installs $p, which Debian does not have"
    done
    pass "every package of the runtime stage is a Debian package ($(wc -w <<<"$runtime_pkgs"))"
    installed=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
        --no-replaces --no-enhances $runtime_pkgs 2>/dev/null | grep -E '^[a-z0-9]' | sort -u)
else
    echo "SKIP (part): apt has no package lists here: runtime package names not looked up, and" \
        "only the listed packages (not their dependencies) count below"
fi
for b in coordinator agentd; do
    for lib in $(objdump -p "$BIN/$b" | awk '/NEEDED/ {print $2}'); do
        path=$(ldd "$BIN/$b" | awk -v n="$lib" '$1 == n {print $3}')
        [[ -n "$path" ]] || fail "$b: ldd does not resolve $lib"
        real=$(readlink -f "$path")
        pkg=$(dpkg -S "$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null || true)
        pkg=${pkg%%:*}
        [[ -n "$pkg" ]] || fail "$b: no Debian package owns $real"
        # libc6, libgcc-s1: in every Debian image; the sanitizer runtimes: this
        # test also runs on the ASan build, the image is a Release build
        case $pkg in libc6 | libgcc-s1 | libasan[0-9]* | libubsan[0-9]* | liblsan[0-9]*) continue ;; esac
        grep -qx "$pkg" <<<"$installed" || fail "$b links $lib ($pkg), not installed by the Containerfile's runtime stage"
    done
done
pass "the runtime stage installs the package of every library coordinator and agentd link"

# --- the entry point
EP=$SRC/scripts/cluster/container-entrypoint.sh
sh "$EP" bash -c true 2>"$TMP/ep.err" && fail "the entry point ran bash"
assert_contains "$TMP/ep.err" "the first argument is the program, coordinator or agentd"
sh "$EP" 2>/dev/null && fail "the entry point ran nothing successfully"
pass "the entry point refuses anything but coordinator and agentd"

# --- podman: build and run the image, where this machine allows it
podman_skip=""
if ! command -v podman >/dev/null; then
    podman_skip="podman is not installed (Debian package podman)"
else
    # can podman run a container at all? a one-file image made here, no registry
    mkdir -p "$TMP/probe"
    cp --parents /bin/sh $(ldd /bin/sh | grep -o '/[^ ]*') "$TMP/probe/" 2>/dev/null || true
    probe=localhost/troupe-probe-$$
    if ! tar -C "$TMP/probe" -c . | timeout 120 podman import - "$probe" >/dev/null 2>"$TMP/probe.err"; then
        podman_skip="podman cannot import an image here: $(tail -1 "$TMP/probe.err")"
    elif ! timeout 120 podman run --rm --network none "$probe" /bin/sh -c true >/dev/null 2>"$TMP/probe.err"; then
        podman_skip="podman cannot run a container here: $(tail -1 "$TMP/probe.err")"
    fi
    podman rmi -f "$probe" >/dev/null 2>&1 || true
    base=${TROUPE_CONTAINER_BASE:-debian:bookworm-slim}
    if [[ -z "$podman_skip" ]] && ! podman image exists "$base"; then
        podman_skip="the base image $base is not here and no registry is reachable (pull it, or import one and set TROUPE_CONTAINER_BASE)"
    fi
fi
if [[ -n "$podman_skip" ]]; then
    echo "SKIP (part): image not built or run: $podman_skip"
else
    image=localhost/troupe-it-$$
    timeout 3000 podman build --network host --build-arg "BASE=$base" -t "$image" "$SRC" >"$TMP/build.log" 2>&1 \
        || { tail -30 "$TMP/build.log"; fail "podman build failed"; }
    trap 'podman rmi -f "$image" >/dev/null 2>&1 || true; cleanup' EXIT
    podman run --rm "$image" coordinator --version | grep -q troupe || fail "the image's coordinator does not run"
    podman run --rm "$image" agentd --version | grep -q troupe || fail "the image's agentd does not run"
    [[ $(podman run --rm --entrypoint id "$image" -u) == 10001 ]] \
        || fail "the image does not run as its troupe user"
    # the scenario names its people as ../../../examples/agents/*.json
    mkdir -p "$TMP/c/tests/it/data"
    cp "$SRC/tests/it/data/world.json" "$TMP/c/tests/it/data/" && cp -r "$SRC/examples" "$TMP/c/"
    chmod -R a+rX "$TMP/c"
    podman run --rm -v "$TMP/c:/data:ro" "$image" coordinator run /data/tests/it/data/world.json \
        --out /var/lib/troupe/r --steps 2 --llm offline --quiet >"$TMP/crun.out" 2>&1 \
        || { cat "$TMP/crun.out"; fail "a run in the image failed"; }
    pass "podman: image built; coordinator and agentd run as uid 10001; a local run completes inside"
fi

# --- manifests: structure (always), then the schemas (where installed)
"$PY" "$SRC/tests/k8s/check_manifests.py" "$K8S" "$TMP/objects.json" >"$TMP/check.out" \
    || { cat "$TMP/check.out"; fail "the manifests do not hold together"; }
cat "$TMP/check.out"
mkdir "$TMP/broken"
cp "$K8S"/*.yaml "$TMP/broken/"
sed -i 's|tcp://troupe-coordinator:5555|tcp://troupe-coordinator:5556|' "$TMP/broken/agentd.yaml"
"$PY" "$SRC/tests/k8s/check_manifests.py" "$TMP/broken" "$TMP/broken.json" >"$TMP/broken.out" \
    && fail "a wrong agentd --connect port was not caught"
assert_contains "$TMP/broken.out" "does not name the Service troupe-coordinator:5555"
pass "manifests parsed with PyYAML and cross-checked; a wrong port is caught"

if [[ ! -d "$SRC/tests/k8s/node_modules/kubernetes-models" ]]; then
    echo "SKIP (part): no schema validation: the npm package kubernetes-models is not installed" \
        "(scripts/deps.sh --test installs it where npm is)"
elif ! (cd "$SRC/tests/k8s" && node -e 'import("kubernetes-models/v1/Secret").then(() => 0)') 2>"$TMP/node.err"; then
    echo "SKIP (part): no schema validation: kubernetes-models does not load with this node ($(node --version)): $(tail -1 "$TMP/node.err")"
else
    (cd "$SRC/tests/k8s" && node validate.mjs "$TMP/objects.json") >"$TMP/schema.out" \
        || { cat "$TMP/schema.out"; fail "a manifest does not match its Kubernetes schema"; }
    cat "$TMP/schema.out"
    python3 - "$TMP/objects.json" "$TMP/bad.json" <<'PY'
import json, sys
objs = json.load(open(sys.argv[1]))
for o in objs:
    if o["object"]["kind"] == "Service":
        o["object"]["spec"]["ports"][0]["port"] = "five thousand"
json.dump(objs, open(sys.argv[2], "w"))
PY
    (cd "$SRC/tests/k8s" && node validate.mjs "$TMP/bad.json") >"$TMP/bad.out" && fail "a bad port passed the schema"
    assert_contains "$TMP/bad.out" "INVALID coordinator.yaml: Service"
    pass "every object matches its Kubernetes schema (kubernetes-models, offline); a bad one does not"
fi
