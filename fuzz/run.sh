#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, in $FUZZ_BUILD_DIR) and runs each for a
# bounded time: `make fuzz` (FUZZ_SECONDS each) and `make fuzz-smoke` (about
# 10 s each, part of `make test`). Two targets run at a time (FUZZ_JOBS).
#
#   fuzz/run.sh SECONDS [TARGET...]     all targets when none is named
#
# Each target starts from its seed corpus in fuzz/corpus/<target>/ and keeps
# what it finds in $FUZZ_BUILD_DIR/corpus/<target>/ (the repository's seeds
# are never written). A crash, sanitiser report, leak, timeout or failed
# property check fails the run; the input is saved as
# $FUZZ_BUILD_DIR/artifacts/<target>/crash-* (copy it to fuzz/corpus/<target>/
# as regress-<what>.bin once fixed).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
jobs="${FUZZ_JOBS:-2}"

if [ "${1:-}" = "--one" ]; then
  seconds="$2"
  target="$3"
  mkdir -p "$build/corpus/$target" "$build/artifacts/$target" "$build/logs"
  log="$build/logs/$target.log"
  # sofia-sip's SDP parser can allocate without bound (fuzz/sdp_offer.cpp):
  # the limits make such an input a reported failure instead of an OOM kill.
  # Every input runs in well under a second; the generous timeout is for this
  # shared machine, where a stall of 73 s once failed two healthy targets.
  if "$build/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=120 \
      -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$target/" \
      "$build/corpus/$target" "$root/fuzz/corpus/$target" >"$log" 2>&1; then
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    echo "fuzz: $target ok (${seconds} s, ${runs:-?} runs)"
  else
    echo "fuzz: $target FAILED, see $log and $build/artifacts/$target/:" >&2
    grep -E 'ERROR|fuzz check failed|SUMMARY|Test unit written' "$log" | head -20 >&2 || true
    exit 1
  fi
  exit 0
fi

seconds="${1:?usage: fuzz/run.sh SECONDS [TARGET...]}"
shift
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(ls "$root/fuzz/corpus")
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCALLREC_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
cmake --build "$build" -j"$jobs" --target "${build_targets[@]}"

printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash "$0" --one "$seconds" {}
