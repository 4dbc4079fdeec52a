#!/usr/bin/env bash
# docs/lint.md's table of schemagate's and squawk's rules stays whole, and
# the real squawk agrees with it: every rule id of `schemagate lint
# --list-rules` and every squawk 2.66 rule has a row; on the rule corpus
# (bench/lint_corpus.py) every squawk finding has one of its schemagate
# counterparts on the same line, unless the table gives that squawk rule none
# or bench/lint_vs_squawk.py lists the statement as a known difference (and
# each listed difference still occurs). squawk must be 2.66.0, as
# scripts/install-squawk.sh (part of make deps) installs it.
set -uo pipefail
bin=${SCHEMAGATE_BIN:?}; src=${SCHEMAGATE_SOURCE_DIR:?}
pass=0; fail=0

squawk=${SCHEMAGATE_SQUAWK:-$(command -v squawk || true)}
if [ -z "$squawk" ]; then
  tools=${SCHEMAGATE_TOOLS:-/usr/local/lib/schemagate-tools}
  squawk=$(find "$tools"/squawk-2.66.0/node_modules/@squawk-cli -path '*/bin/squawk' -type f 2>/dev/null | head -n 1 || true)
fi
if [ -z "$squawk" ] || [ ! -x "$squawk" ]; then
  echo "FAIL: squawk is not installed${squawk:+ at $squawk}: run scripts/install-squawk.sh (make deps does), or set SCHEMAGATE_SQUAWK"
  echo "0 passed, 1 failed"
  exit 1
fi

out=$(python3 "$src/bench/lint_vs_squawk.py" --check --squawk "$squawk" "$bin" 2>&1)
status=$?
echo "$out"
pass=$(grep -c '^ok: ' <<<"$out")
fail=$(grep -c '^FAIL: ' <<<"$out")
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then
  echo "FAIL: bench/lint_vs_squawk.py --check exited $status"
  fail=1
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
