#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) under libFuzzer for SECONDS each, starting from the
# committed corpora in Fuzz/Corpus. A crash stops the script with status 1 and leaves the input
# in Fuzz/crashes/.
#
# usage: Scripts/fuzz.sh [SECONDS] [TARGET ...]
# targets: bencode metainfo magnet peerwire announce udp-client udp-server krpc extensions mse utp
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(bencode metainfo magnet peerwire announce udp-client udp-server krpc extensions mse utp)
fi

# A build of its own: libFuzzer and AddressSanitizer instrument everything it compiles.
swift build -c release --product shoal-fuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DSHOAL_LIBFUZZER 2>&1 | grep -E "error|warning: |Compiling shoal|Build" || true
binary=.build-fuzz/release/shoal-fuzz
[ -x "$binary" ] || { echo "fuzz build failed" >&2; exit 1; }
mkdir -p Fuzz/crashes

status=0
for target in "${targets[@]}"; do
  scratch=$(mktemp -d)  # inputs libFuzzer finds go here; the committed corpus is only read
  log=$(mktemp)
  if SHOAL_FUZZ_TARGET=$target "$binary" "$scratch" "Fuzz/Corpus/$target" -max_total_time="$seconds" \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="Fuzz/crashes/$target-" >"$log" 2>&1; then
    runs=$(grep -o "stat::number_of_executed_units: *[0-9]*" "$log" | grep -o "[0-9]*$" || echo "?")
    echo "$target: $runs executions in ${seconds}s, no crash"
  else
    echo "$target: CRASH (input saved in Fuzz/crashes/)"
    tail -n 30 "$log"
    status=1
  fi
  rm -rf "$scratch" "$log"
done
exit $status
