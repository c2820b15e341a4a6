#!/usr/bin/env bash
# Builds the .deb from a build directory with CPack and checks it: the files it holds, that it
# depends on tmux, and that the packaged binary runs (--version, the bash completion).
# Usage: deb_test.sh <build dir> <version>
set -euo pipefail

build=$1
version=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/gt-deb-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 ||
    { cat "$work/cpack.log" >&2; fail "cpack failed"; }
debs=("$work"/out/gt_*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || fail "expected one gt_*.deb, got: ${debs[*]}"
deb=${debs[0]}

contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/gt ./usr/share/bash-completion/completions/gt \
    ./usr/share/doc/gt/copyright ./usr/share/doc/gt/README.md \
    ./usr/share/doc/gt/examples/gt-town.service ./usr/share/doc/gt/examples/gt.gt-town.plist; do
    grep -qE " ${path//./\\.}\$" <<<"$contents" || fail "$path is not in the package"
done

depends=$(dpkg-deb -f "$deb" Depends)
grep -qE '(^|, )tmux( |,|$)' <<<"$depends" || fail "Depends does not name tmux: $depends"
grep -q 'libspdlog' <<<"$depends" || fail "Depends lacks the shared libraries: $depends"

root="$work/root"
dpkg-deb -x "$deb" "$root"
out=$("$root/usr/bin/gt" --version) || fail "gt --version failed"
[[ $out == "gt $version (commit "*")" ]] || fail "gt --version said: $out"

bash --norc --noprofile -c "source <('$root/usr/bin/gt' completion bash) && complete -p gt" \
    >/dev/null || fail "the completion script does not load"
cmp -s <("$root/usr/bin/gt" completion bash) "$root/usr/share/bash-completion/completions/gt" ||
    fail "the packaged completion differs from the binary's"

echo "ok: $(basename "$deb"), Depends: $depends"
