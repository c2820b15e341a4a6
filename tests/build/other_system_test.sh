#!/usr/bin/env bash
# gt builds only on Linux (README "Platforms"): configuring for another system stops at once with
# a message that says so, not with compile errors. Usage: other_system_test.sh SOURCE_DIR
set -euo pipefail
src=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for system in Darwin FreeBSD; do
  if out=$(cmake -S "$src" -B "$dir/$system" -G Ninja -DCMAKE_SYSTEM_NAME="$system" 2>&1); then
    echo "error: configuring for $system succeeded" >&2
    exit 1
  fi
  if ! grep -q "gt builds and runs on Linux only" <<<"$out" || ! grep -q "this is $system" <<<"$out"; then
    echo "error: configuring for $system failed without saying why:" >&2
    echo "$out" >&2
    exit 1
  fi
done
echo "ok: Darwin and FreeBSD refused with the message"
