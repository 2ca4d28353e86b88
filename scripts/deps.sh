#!/usr/bin/env bash
# Install the Debian packages Troupe needs, if any are missing.
#   scripts/deps.sh            build and runtime dependencies
#   scripts/deps.sh --test     plus what the full test suite uses
# As root it runs apt-get; otherwise it says what to install and exits 1.
set -euo pipefail

packages=(build-essential cmake pkg-config libzmq3-dev libczmq-dev libprotobuf-c-dev
          protobuf-c-compiler liblmdb-dev libcurl4-openssl-dev libcmocka-dev libjansson-dev
          libinih-dev libsodium-dev libssl-dev libmicrohttpd-dev libcjson-dev
          libpoppler-glib-dev libzip-dev libxml2-dev libgsl-dev libjemalloc-dev)
if [[ "${1:-}" == "--test" ]]; then
    packages+=(lmdb-utils iproute2 procps curl python3 chromium clang libclang-rt-14-dev valgrind
               slurm-wlm munge python3-pytest python3-pandas python3-scipy python3-docx
               systemd nodejs podman python3-yaml)
fi

# The Kubernetes schema validator of tests/it/it_container.sh: an npm package
# pinned by tests/k8s/package-lock.json, installed where npm is (Debian 12's
# nodejs comes without it; then that test says it skipped the schemas).
npm_test_packages() {
    local dir
    dir=$(cd "$(dirname "$0")/.." && pwd)/tests/k8s
    [[ "${1:-}" == "--test" && -x /usr/bin/npm && ! -d "$dir/node_modules/kubernetes-models" ]] || return 0
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
        || echo "troupe: npm ci in tests/k8s failed; it_container will check manifests without schemas" >&2
}

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
    npm_test_packages "${1:-}"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "troupe: missing Debian packages: ${missing[*]}" >&2
    echo "troupe: run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "troupe: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
npm_test_packages "${1:-}"
