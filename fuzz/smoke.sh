#!/usr/bin/env bash
# A bounded smoke run of every fuzz target (cargo-fuzz, libFuzzer, nightly): RUNS executions
# each (default 20000), starting from a scratch copy of the saved corpus so fuzz/corpus stays
# as committed. Needs `cargo +nightly fuzz` (cargo install cargo-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-20000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo +nightly fuzz build -s none -a
for t in hart jit virtio_blk loader mkfs; do
  mkdir -p "$work/$t"
  cp fuzz/corpus/$t/* "$work/$t/"
  "fuzz/target/x86_64-unknown-linux-gnu/release/$t" "$work/$t" -runs="$runs" \
    -rss_limit_mb=1024 -malloc_limit_mb=256 -timeout=10 -artifact_prefix="$work/$t-" 2>&1 \
    | grep -E '^(Done|==|SUMMARY)' || true
  if ls "$work/$t-"* >/dev/null 2>&1; then
    echo "fuzz target $t found a crash: $(ls "$work/$t-"*)"; exit 1
  fi
done
