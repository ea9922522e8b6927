#!/usr/bin/env bash
# Compares `shoal create` with `mktorrent -t 2` on the same 1 GiB file (page cache warm),
# three runs each, and prints the medians and their ratio. Same piece size (256 KiB) for both.
# Usage: Benchmarks/create-vs-mktorrent.sh [SIZE_MIB]
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

swift build -c release --product shoal >/dev/null
shoal=$(swift build -c release --show-bin-path)/shoal
command -v mktorrent >/dev/null || { echo "mktorrent is not installed (apt-get install mktorrent)"; exit 1; }

head -c $((size_mib << 20)) /dev/urandom > "$work/content.bin"
cat "$work/content.bin" > /dev/null   # warm the page cache for both tools

seconds() {  # prints the wall-clock seconds a command takes
  local start end
  start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
}
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }

shoal_runs=(); mk_runs=()
for run in 1 2 3; do
  rm -f "$work"/*.torrent
  shoal_runs+=("$(seconds "$shoal" create "$work/content.bin" -t http://127.0.0.1:6969/announce --piece-size 262144 -o "$work/s.torrent")")
  mk_runs+=("$(seconds mktorrent -t 2 -l 18 -a http://127.0.0.1:6969/announce -o "$work/m.torrent" "$work/content.bin")")
done
shoal_hash=$("$shoal" info "$work/s.torrent" | awk '/Hash:/ {print $2}')
mk_hash=$("$shoal" info "$work/m.torrent" | awk '/Hash:/ {print $2}')

s=$(median "${shoal_runs[@]}"); m=$(median "${mk_runs[@]}")
printf 'content: %d MiB, piece size 256 KiB, %d cores\n' "$size_mib" "$(nproc)"
printf 'shoal create     : median %.3f s  (%.0f MiB/s)  runs: %s\n' "$s" "$(awk -v a="$size_mib" -v b="$s" 'BEGIN { print a / b }')" "${shoal_runs[*]}"
printf 'mktorrent -t 2   : median %.3f s  (%.0f MiB/s)  runs: %s\n' "$m" "$(awk -v a="$size_mib" -v b="$m" 'BEGIN { print a / b }')" "${mk_runs[*]}"
printf 'speed ratio (mktorrent time / shoal time): %.2f\n' "$(awk -v a="$m" -v b="$s" 'BEGIN { print a / b }')"
[ "$shoal_hash" = "$mk_hash" ] && echo "info-hashes match: $shoal_hash" || { echo "info-hashes differ: $shoal_hash vs $mk_hash"; exit 1; }
