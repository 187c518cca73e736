#!/usr/bin/env bash
# Prints "N passed, N failed" (", N skipped" when any) from the TRX files of a test run, and exits
# non-zero when a test failed, when no test ran, or when fewer result files exist than test projects
# (a test host that crashed writes none).
set -euo pipefail
results=${1:?usage: test-summary.sh RESULTS_DIR [EXPECTED_PROJECTS]}
expected=${2:-1}

shopt -s nullglob
files=("$results"/*.trx)
passed=0 failed=0 skipped=0 total=0
count() { grep -o "$1=\"[0-9]*\"" <<<"$2" | head -n 1 | grep -o '[0-9]*' || echo 0; }
for file in "${files[@]}"; do
  counters=$(grep -o '<Counters [^>]*>' "$file")
  t=$(count total "$counters")
  p=$(count passed "$counters")
  f=$(( $(count failed "$counters") + $(count error "$counters") + $(count timeout "$counters") + $(count aborted "$counters") ))
  s=$(count notExecuted "$counters")
  total=$((total + t)) passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done

status=0
if (( ${#files[@]} < expected )); then
  echo "test-summary: ${#files[@]} result file(s) for $expected test project(s); a test host did not report" >&2
  status=1
fi
if (( total == 0 )); then
  echo "test-summary: no test ran" >&2
  status=1
fi
if (( failed > 0 )); then
  status=1
  # The failures again, at the end where a truncated CI log still shows them.
  dotnet run "$(dirname "$0")/failed-tests.cs" -- "${files[@]}" || true
fi

line="$passed passed, $failed failed"
(( skipped == 0 )) || line="$line, $skipped skipped"
echo "$line"
exit $status
