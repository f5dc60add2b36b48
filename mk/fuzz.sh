#!/bin/sh
# Runs every Go fuzz target in the repository (func Fuzz* in a _test.go
# file) for FUZZTIME each, one after the other, and prints the executions
# each one made. A target that finds a failure leaves the input under its
# package's testdata/fuzz/<Target>/ (go test does that): commit it, it is a
# regression test from then on. Exit status: 1 if any target failed.
#
#   sh mk/fuzz.sh [FUZZTIME]      e.g. sh mk/fuzz.sh 10m; default 10s
#   FUZZ_MATCH=Framer sh mk/fuzz.sh   only targets whose name matches
set -u
GO=${GO:-go}
FUZZTIME=${1:-${FUZZTIME:-10s}}
MATCH=${FUZZ_MATCH:-.}
cd "$(dirname "$0")/.." || exit 1
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# "dir target" pairs, sorted, from the sources (go test -list would build
# every package first).
targets=$(grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . 2>/dev/null |
	sed -E 's#^\./(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#' |
	grep -E " .*${MATCH}" | sort -u)
if [ -z "$targets" ]; then
	echo "fuzz: no target matches $MATCH"
	exit 1
fi
n=$(echo "$targets" | wc -l)
echo "fuzz: $n targets, $FUZZTIME each"

failed=0
summary=""
while read -r dir name; do
	out="$log/$name.out"
	printf '%-40s ' "./$dir $name"
	# -parallel 1: the machine is shared; one worker per target is enough
	# to compare runs, and the executions below are that worker's.
	if $GO test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -parallel 1 "./$dir" >"$out" 2>&1; then
		status=ok
	else
		status=FAIL
		failed=1
	fi
	execs=$(grep -Eo 'execs: [0-9]+' "$out" | tail -1 | grep -Eo '[0-9]+')
	# Before fuzzing proper, go test replays the corpus for coverage; a
	# FUZZTIME shorter than that replay makes no new executions.
	[ -n "$execs" ] || execs="0(baseline:$(grep -Eo 'baseline coverage: [0-9]+/[0-9]+' "$out" | tail -1 | cut -d' ' -f3))"
	echo "$status execs=${execs:-?}"
	summary="$summary$(printf '%-30s %-45s %-5s %s' "$name" "./$dir" "$status" "${execs:-?}")
"
	if [ "$status" = FAIL ]; then
		tail -30 "$out" | sed 's/^/    /'
	fi
done <<EOT
$targets
EOT

echo
echo "fuzz summary (FUZZTIME=$FUZZTIME per target; execs as go test reports them)"
printf '%-30s %-45s %-5s %s\n' target package status execs
printf '%s' "$summary"
exit $failed
