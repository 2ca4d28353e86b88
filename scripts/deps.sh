#!/usr/bin/env bash
# Install the Debian packages Troupe needs, if any are missing.
#   scripts/deps.sh            build and runtime dependencies
#   scripts/deps.sh --test     plus what the full test suite uses
# As root it runs apt-get; otherwise it says what to install and exits 1.
set -euo pipefail

packages=(build-essential cmake pkg-config libzmq3-dev libczmq-dev libprotobuf-c-dev
          protobuf-c-compiler liblmdb-dev libcurl4-openssl-dev libcmocka-dev libjansson-dev
          libinih-dev libsodium-dev libssl-dev libmicrohttpd-dev
          libpoppler-glib-dev libzip-dev libxml2-dev libgsl-dev)
if [[ "${1:-}" == "--test" ]]; then
    packages+=(lmdb-utils iproute2 procps curl python3 chromium clang libclang-rt-14-dev valgrind
               slurm-wlm munge python3-pytest python3-pandas python3-scipy python3-docx
               systemd)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "troupe: missing Debian packages: ${missing[*]}" >&2
    echo "troupe: run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "troupe: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
