#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan, in build-fuzz/) and
# runs each for SECONDS, one after the other, on a corpus seeded from the
# project's fixtures and outputs (make_seeds.py) plus the committed
# regression inputs (fuzz/regressions/<harness>/).
#
#   bash fuzz/run.sh [SECONDS_PER_HARNESS] [HARNESS...]     (default 60 s, all)
#
# Environment: FUZZ_BUILD_DIR (default <source>/build-fuzz), FUZZ_JOBS
# (ninja jobs, default 2), FUZZ_EXPORTERS (an `exporters` binary for seeds
# from exports; default <source>/build/tools/exporters when built).
# Exit status 1 when a harness found a crash, a leak, a timeout or an
# out-of-memory input; the input is saved under
# $FUZZ_BUILD_DIR/fuzz/artifacts/<harness>/ and its path printed.
set -euo pipefail

seconds=${1:-60}
shift || true
src=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$src/build-fuzz}
all=(fuzz_safetensors fuzz_model_config fuzz_zip fuzz_png fuzz_mlpackage fuzz_mlmodel fuzz_tflite
     fuzz_tflite_metadata fuzz_plugin_manifest)
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=("${all[@]}")

if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$build" "$src" -Dfuzz=true -Dtests=false \
    -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
fi
start=$(date +%s)
ninja -C "$build" -j"${FUZZ_JOBS:-2}" "${harnesses[@]/#/fuzz/}" | tail -1
echo "fuzz: build took $(( $(date +%s) - start )) s"

exe=${FUZZ_EXPORTERS:-$src/build/tools/exporters}
seeds=$build/fuzz/seeds
seed_args=("$seeds" --shared "$src/../shared")
[ -x "$exe" ] && seed_args+=(--exporters "$exe" --plugins "$(dirname "$(dirname "$exe")")/plugins")
python3 "$src/fuzz/make_seeds.py" "${seed_args[@]}" >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
printf '%-22s %10s %8s %8s %8s  %s\n' harness execs seconds cpu_s corpus result
for h in "${harnesses[@]}"; do
  corpus=$build/fuzz/corpus/$h
  artifacts=$build/fuzz/artifacts/$h/
  log=$build/fuzz/logs/$h.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")" "$seeds/$h"
  dirs=("$corpus" "$seeds/$h")
  [ -d "$src/fuzz/regressions/$h" ] && dirs+=("$src/fuzz/regressions/$h")
  set +e
  TIMEFORMAT='%U %S'
  { time "$build/fuzz/$h" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
      -max_len=262144 -print_final_stats=1 -artifact_prefix="$artifacts" "${dirs[@]}" >"$log" 2>&1; } 2>"$log.cpu"
  rc=$?
  set -e
  cpu=$(awk '{printf "%.0f", $1 + $2}' "$log.cpu")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  result=ok
  if [ $rc -ne 0 ]; then
    result="FAILED (exit $rc): $(grep -m1 -E 'ERROR: |runtime error|SUMMARY' "$log" || true) input: $(ls -t "$artifacts" | head -1)"
    failed+=("$h")
  fi
  printf '%-22s %10s %8s %8s %8s  %s\n' "$h" "${execs:-?}" "${secs:-$seconds}" "${cpu:-?}" "$(ls "$corpus" | wc -l)" "$result"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} harness(es) failed: ${failed[*]} (logs in $build/fuzz/logs/)"
  exit 1
fi
echo "fuzz: all ${#harnesses[@]} harnesses ran ${seconds} s without a finding"
