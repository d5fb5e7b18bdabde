#!/usr/bin/env bash
# Runs every libFuzzer target of a PETL_FUZZ build for a fixed time each and fails on any finding.
#   tests/fuzz/run.sh [BUILD_DIR]        (default: build-fuzz; build it first, see tests/fuzz/README.md)
#   PETL_FUZZ_SECONDS=20                 time per target
#   PETL_DATA_DIR=../shared/data         where the extra seeds listed in tests/fuzz/shared_seeds.txt live
# Each target fuzz_NAME starts from its committed seeds tests/fuzz/seeds/NAME/ plus those shared-data
# files; new inputs go to a scratch corpus, never into the repository. A crash, sanitizer report,
# timeout or out-of-memory leaves its input in BUILD_DIR/fuzz-findings/NAME/ and fails the run.
set -uo pipefail
cd "$(dirname "$0")/../.."
build_dir=${1:-build-fuzz}
seconds=${PETL_FUZZ_SECONDS:-20}
data_dir=${PETL_DATA_DIR:-../shared/data}
shopt -s nullglob
targets=("$build_dir"/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz_* executables in $build_dir (configure with -DPETL_FUZZ=ON and build target petl_fuzz)" >&2
  exit 2
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
summary=""
for exe in "${targets[@]}"; do
  [ -x "$exe" ] && [ -f "$exe" ] || continue
  name=${exe##*/fuzz_}
  seeds=tests/fuzz/seeds/$name
  if [ ! -d "$seeds" ]; then
    echo "fuzz_$name: no seed corpus $seeds" >&2
    summary+="fuzz_$name: FAILED (no seed corpus $seeds)"$'\n'
    failed=1
    continue
  fi
  corpus=$scratch/$name/corpus
  shared=$scratch/$name/shared
  findings=$build_dir/fuzz-findings/$name
  mkdir -p "$corpus" "$shared" "$findings"
  shared_count=0
  if [ -f tests/fuzz/shared_seeds.txt ]; then
    while read -r target path; do
      [ "$target" = "$name" ] || continue
      if [ -f "$data_dir/$path" ]; then
        cp "$data_dir/$path" "$shared/$(echo "$path" | tr / _)"
        shared_count=$((shared_count + 1))
      fi
    done < <(grep -v '^\s*\(#\|$\)' tests/fuzz/shared_seeds.txt)
  fi
  log=$scratch/$name/log
  echo "fuzz_$name: ${seconds}s from $(ls "$seeds" | wc -l) committed seeds + $shared_count shared-data files"
  PETL_DATA_DIR=$data_dir "$exe" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" "$seeds" "$shared" > "$log" 2>&1
  status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ $status -eq 0 ]; then
    summary+="fuzz_$name: ok, ${runs:-?} runs, no findings"$'\n'
  else
    failed=1
    echo "---- fuzz_$name exited with $status; the end of its log:"
    tail -n 60 "$log"
    summary+="fuzz_$name: FINDING (exit $status), input saved in $findings/"$'\n'
  fi
done
echo "---- fuzz summary"
printf '%s' "$summary"
if [ $failed -ne 0 ]; then
  echo "fuzz: FAILED"
  exit 1
fi
echo "fuzz: all targets ran with no findings"
