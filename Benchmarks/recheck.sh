#!/usr/bin/env bash
# Recheck speed: Shoal verifying a file already on disk (in the page cache) against its
# torrent, next to `sha1sum` reading and hashing the same file, in the same run; then the same
# for a v2-only torrent of the file (SHA-256 hash trees, BEP 52) next to `sha256sum`.
#
# usage: Benchmarks/recheck.sh SHOAL_BINARY [GIB]   (default 4 GiB; needs that much free disk)
set -euo pipefail
shoal=$(realpath "$1")
gib=${2:-4}
work=$(mktemp -d /tmp/shoal-recheck-XXXXXX)
trap 'rm -rf "$work"' EXIT

# Pseudo-random content, quickly: a 64 MiB random block repeated (hashes still see every byte).
head -c $((64 << 20)) /dev/urandom > "$work/block"
mkdir -p "$work/data"
for _ in $(seq 1 $((gib * 16))); do cat "$work/block"; done > "$work/data/big.bin"
rm "$work/block"
"$shoal" create "$work/data/big.bin" -o "$work/big.torrent" --piece-size 1048576 > /dev/null
"$shoal" create "$work/data/big.bin" -o "$work/big-v2.torrent" --piece-size 1048576 --v2 > /dev/null
cat "$work/data/big.bin" > /dev/null   # into the page cache

seconds() { local start end; start=$(date +%s.%N); "$@" > /dev/null 2>&1; end=$(date +%s.%N); echo "$end - $start" | bc; }
best() { local a b c; a=$(seconds "$@"); b=$(seconds "$@"); c=$(seconds "$@"); printf '%s\n%s\n%s\n' "$a" "$b" "$c" | sort -n | head -1; }

sha=$(best sha1sum "$work/data/big.bin")
torrent="$work/big.torrent"
run_shoal() {
  rm -rf "$work/state"
  "$shoal" --headless --bind 127.0.0.1 --port 0 --download-dir "$work/data" --state-dir "$work/state" \
    --exit-when-done --interval 0.05 "$torrent"
}
shoal_time=$(best run_shoal)
# The timed runs must have verified every piece, not stopped early.
pieces=$(( (gib << 30) / 1048576 ))
run_shoal 2>&1 | grep -q "completed: big.bin ($pieces/$pieces pieces verified)" || { echo "shoal did not verify every piece" >&2; exit 1; }
sha256=$(best sha256sum "$work/data/big.bin")
torrent="$work/big-v2.torrent"
v2_time=$(best run_shoal)
run_shoal 2>&1 | grep -q "completed: big.bin ($pieces/$pieces pieces verified)" || { echo "shoal did not verify every v2 piece" >&2; exit 1; }
mib=$((gib * 1024))
printf 'recheck of %d GiB in the page cache (best of 3, %s cores)\n' "$gib" "$(nproc)"
printf '  sha1sum : %6.2f s  %7.0f MiB/s\n' "$sha" "$(echo "$mib / $sha" | bc -l)"
printf '  shoal   : %6.2f s  %7.0f MiB/s  (start to exit: check, then seed, then --exit-when-done)\n' "$shoal_time" "$(echo "$mib / $shoal_time" | bc -l)"
printf '  ratio   : %.2fx sha1sum\n' "$(echo "$sha / $shoal_time" | bc -l)"
printf '  v2: sha256sum %6.2f s  %7.0f MiB/s; shoal (SHA-256 hash trees) %6.2f s  %7.0f MiB/s: %.2fx sha256sum\n' \
  "$sha256" "$(echo "$mib / $sha256" | bc -l)" "$v2_time" "$(echo "$mib / $v2_time" | bc -l)" "$(echo "$sha256 / $v2_time" | bc -l)"
