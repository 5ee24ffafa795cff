#!/bin/sh
# Builds the user programs and an fs.img (README + every program) with our mkfs.
# usage: mkimg.sh [OUT.img]   (default /tmp/user-fs.img)
set -e
here=$(cd "$(dirname "$0")/../.." && pwd)   # guest-kernel
out=${1:-/tmp/user-fs.img}
(cd "$here" && cargo build --release -p user -q)
(cd "$here/.." && cargo build -q -p mkfs)
bins=$(cd "$here/user/src/bin" && ls | sed 's/\.rs$//')
set --
for b in $bins; do set -- "$@" "$here/target/riscv64imac-unknown-none-elf/release/$b"; done
tmp=$(mktemp -d); cp "$here/../README.md" "$tmp/README"
"$here/../target/debug/mkfs" "$out" "$tmp/README" "$@" >/dev/null
rm -r "$tmp"
echo "$out"
