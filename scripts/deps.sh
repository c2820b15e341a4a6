#!/usr/bin/env bash
# Installs the Debian packages gt needs to build, test and run (§11). Installs only what is
# missing; needs root (or sudo) the first time. For the tests: python3-prometheus-client parses
# metrics.prom, systemd has systemd-analyze (the unit is verified), dpkg-dev has dpkg-shlibdeps
# (the .deb's library dependencies), btrfs-progs has mkfs.btrfs (a town on a real btrfs, design
# §5.1). For scripts/fuzz.sh: clang and libclang-rt-14-dev (libFuzzer),
# llvm (llvm-symbolizer, for readable stacks).
set -euo pipefail

packages=(g++ cmake ninja-build pkg-config libboost-dev nlohmann-json3-dev libspdlog-dev libcli11-dev libre2-dev
          libgtest-dev libgmock-dev libbenchmark-dev tmux perl procps tzdata
          python3 python3-prometheus-client systemd dpkg-dev clang libclang-rt-14-dev llvm
          btrfs-progs less)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null; then
  as_root=(sudo)
else
  echo "error: missing packages (${missing[*]}) and not root; run as root or install them" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
