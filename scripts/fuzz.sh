#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang in build-fuzz/ and runs
# each for FUZZ_SECONDS (default 60) over a scratch copy of its seed corpus;
# new inputs and crash files stay under build-fuzz/, never in the repo.
# Exits non-zero when any target crashed, leaked or timed out, printing the
# path of the input that did it. Not part of `make test`.
#
#   FUZZ_SECONDS=120 bash scripts/fuzz.sh                # every target
#   FUZZ_TARGETS="sql_lexer_fuzzer" bash scripts/fuzz.sh  # some of them
#   build-fuzz/tests/fuzz/sql_lexer_fuzzer CRASH_FILE    # replay one input
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
JOBS="${JOBS:-2}"
BUILD_DIR=build-fuzz
WORK_DIR="$BUILD_DIR/fuzz-work"

# The largest input worth trying per target, near the real thing's size.
declare -A MAX_LEN=(
  [migration_file_fuzzer]=16384  # a migration file
  [sql_lexer_fuzzer]=8192        # one section's SQL
  [lint_fuzzer]=8192             # a migration file, through PostgreSQL's parser
  [target_spec_fuzzer]=128       # `upgrade <target>`
  [config_fuzzer]=4096           # schemagate.yaml
  [kubeconfig_fuzzer]=8192       # a kubeconfig with inline certificates
  [watch_decoder_fuzzer]=16384   # a few watch events
  [termination_fuzzer]=4096      # kubelet caps termination messages at 4 KiB
)
read -r -a TARGETS <<<"${FUZZ_TARGETS:-migration_file_fuzzer sql_lexer_fuzzer lint_fuzzer target_spec_fuzzer config_fuzzer kubeconfig_fuzzer watch_decoder_fuzzer termination_fuzzer}"
for t in "${TARGETS[@]}"; do
  if [ -z "${MAX_LEN[$t]:-}" ]; then
    echo "fuzz: unknown target '$t' (known: ${!MAX_LEN[*]})" >&2
    exit 2
  fi
done

# clang and libFuzzer's runtime (in compiler-rt's dev package), on Debian 12.
bash scripts/install-deps.sh clang libclang-rt-14-dev

nice -n 10 cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DSCHEMAGATE_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
nice -n 10 cmake --build "$BUILD_DIR" -j"$JOBS" --target "${TARGETS[@]}"

root="$(pwd)"
failed=0
printf '\n%-22s %12s %8s  %s\n' target executions corpus result
for t in "${TARGETS[@]}"; do
  corpus="$root/$WORK_DIR/corpus/$t"
  crashes="$root/$WORK_DIR/crashes/$t"
  run_dir="$root/$WORK_DIR/run/$t"  # files a kubeconfig names resolve here
  log="$root/$WORK_DIR/$t.log"
  rm -rf "$corpus" "$crashes" "$run_dir"
  mkdir -p "$corpus" "$crashes" "$run_dir"
  if [ -d tests/fuzz/corpus/"$t" ]; then cp tests/fuzz/corpus/"$t"/* "$corpus"/; fi
  # Targets that read whole migration files start from the bundled ones
  # rather than copies that drift; lint also from the generated file for
  # every lint rule.
  if [ "$t" = migration_file_fuzzer ] || [ "$t" = lint_fuzzer ]; then
    cp migrations/versions/*.sql "$corpus"/
  fi
  if [ "$t" = lint_fuzzer ]; then
    python3 bench/lint_corpus.py "$run_dir/rules" >/dev/null
    cp "$run_dir"/rules/migrations/versions/*.sql "$corpus"/
  fi
  rc=0
  (cd "$run_dir" && nice -n 10 "$root/$BUILD_DIR/tests/fuzz/$t" \
    -max_total_time="$FUZZ_SECONDS" -max_len="${MAX_LEN[$t]}" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" </dev/null >"$log" 2>&1) || rc=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  if [ -z "$execs" ]; then  # a crash ends the run before the final stats
    execs="$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)"
  fi
  size="$(find "$corpus" -type f | wc -l)"
  if [ "$rc" -eq 0 ]; then
    result=ok
  else
    failed=1
    kind="$(grep -m 1 -o -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer): [a-z -]*[a-z]|runtime error: .*|FUZZ_CHECK failed: .*' "$log" || true)"
    artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
    result="CRASHED (${kind:-exit $rc}): ${artifact:-no input written} (log: $log)"
  fi
  printf '%-22s %12s %8s  %s\n' "$t" "${execs:-?}" "$size" "$result"
done
exit "$failed"
