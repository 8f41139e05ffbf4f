#!/usr/bin/env bash
# make fuzz: runs every fuzz target for FUZZTIME (default 60s) each, one
# after the other, and prints the executions and new inputs of each. The
# committed seeds (testdata/fuzz) run in every `make test`; this explores
# beyond them. A failure leaves its input under the package's testdata/fuzz
# for `go test` to replay.
#
#   FUZZTIME=5m bash scripts/fuzz.sh        # longer
#   FUZZ_ONLY=FuzzVerify bash scripts/fuzz.sh
#
# -fuzzminimizetime is short on purpose: minimizing a new input re-runs the
# target many times and, with inputs as large as a reveal (~10 KB), the
# default 60 s of minimizing stalls the run (FuzzVerify did 35 executions
# in a minute with it, ~1,000 a second without).
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-60s}
ONLY=${FUZZ_ONLY:-}
status=0
while read -r pkg target; do
	[[ -z $ONLY || $target == "$ONLY" ]] || continue
	printf '== %s %s (%s)\n' "$pkg" "$target" "$FUZZTIME"
	out=$($GO test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 5s -parallel 1 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^fuzz: elapsed' | tail -n 1
	if [[ $rc -ne 0 ]]; then
		printf '%s\n' "$out" | tail -n 30
		status=1
	fi
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r f; do
	grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed "s|^func ||; s|^|./$(dirname "${f#./}") |"
done)
exit $status
