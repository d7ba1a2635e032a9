#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# tests/runner, which runs the suite in the guest, against bats itself:
# the same TAP for tests/host/sample/semantics.bats, a case of bats's
# semantics per test (errexit, run, skip, fd 3, teardown, setup_file),
# but for the timings and the failed command's line (tests/runner names
# the innermost command).

setup() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	cd "$ROOT"
}

# TAP without timings and the failed-command lines
tap() {
	sed -E 's/ in [0-9]+ms//; /^#   /d; /^# \(from function `teardown/d' "$1"
}

@test "runner: the same TAP as bats, test by test" {
	local f=tests/host/sample/semantics.bats
	run bats --tap --timing "$f"
	[ "$status" -eq 1 ]
	echo "$output" >"$BATS_TEST_TMPDIR/bats.tap"
	run tests/runner "$f"
	[ "$status" -eq 1 ]
	echo "$output" >"$BATS_TEST_TMPDIR/runner.tap"
	diff <(tap "$BATS_TEST_TMPDIR/bats.tap") <(tap "$BATS_TEST_TMPDIR/runner.tap")
	# every test timed, and the failures are the ones the file means
	[ "$(grep -cE '^(not )?ok [0-9]+ .* in [0-9]+ms' "$BATS_TEST_TMPDIR/runner.tap")" -eq 13 ]
	[ "$(grep -c '^not ok' "$BATS_TEST_TMPDIR/runner.tap")" -eq 5 ]
	grep -q '^#   `\[\[ a == b \]\]'"'"' failed$' "$BATS_TEST_TMPDIR/runner.tap"
}

@test "runner: --filter as bats's, and a passing file passes" {
	local f=tests/host/sample/semantics.bats
	run bats --tap --filter '^(skip|run: output)' "$f"
	[ "$status" -eq 0 ]
	echo "$output" >"$BATS_TEST_TMPDIR/bats.tap"
	run tests/runner --filter '^(skip|run: output)' "$f"
	[ "$status" -eq 0 ]
	echo "$output" >"$BATS_TEST_TMPDIR/runner.tap"
	diff <(tap "$BATS_TEST_TMPDIR/bats.tap") <(tap "$BATS_TEST_TMPDIR/runner.tap")
	[ "$(head -n 1 "$BATS_TEST_TMPDIR/runner.tap")" = 1..3 ]
}

@test "runner: a failing setup_file fails the file, as in bats" {
	local d=$BATS_TEST_TMPDIR
	printf '%s\n' 'setup_file() { echo "why"; false; }' \
		'@test "never runs" { true; }' >"$d/broken.bats"
	run tests/runner "$d/broken.bats"
	[ "$status" -eq 1 ]
	[[ ${lines[1]} == "not ok 1 setup_file failed" ]]
	[[ ${lines[2]} == "# why" ]]
	[[ $output != *"never runs"* ]]
}
