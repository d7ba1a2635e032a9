#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# tests/host/runner.bats runs this file with bats and with tests/runner
# and compares the TAP: each test here is a case of bats's semantics.

load helper

setup_file() {
	export FILE_VAR=from-setup-file
	echo x >"$BATS_FILE_TMPDIR/shared"
}

setup() {
	SETUP_RAN=1
}

teardown() {
	if [[ ${BATS_TEST_DESCRIPTION} == "a failing teardown fails a passing test" ]]; then
		false
		echo "teardown goes on after a failure: no errexit" >&2
		return 3
	fi
}

@test "passes: setup ran, setup_file's exports and file dir are seen" {
	[[ $SETUP_RAN == 1 ]]
	[[ $FILE_VAR == from-setup-file ]]
	[[ -f $BATS_FILE_TMPDIR/shared ]]
	[[ -d $BATS_TEST_TMPDIR ]]
	helper_ok
}

@test "fails in the middle under errexit" {
	echo "some output"
	false
	echo "never here"
}

@test "fails in a helper of another file" {
	helper_fails
}

@test "fails on its last command" {
	[[ 1 -eq 2 ]]
}

@test "run: output, status and lines without empty ones" {
	run bash -c 'echo one; echo; echo two >&2; exit 3'
	[[ $status -eq 3 ]]
	[[ $output == $'one\n\ntwo' ]]
	[[ ${#lines[@]} -eq 2 && ${lines[1]} == two ]]
	run true
	[[ $status -eq 0 && -z $output ]]
}

@test "run: errexit holds again after run" {
	run false
	false
	echo "never here"
}

@test "skip with a reason" {
	skip "the reason"
	false
}

@test "skip without one" {
	skip
}

@test "fd 3 reaches the TAP stream" {
	echo "# a comment from the test" >&3
}

@test "a failing teardown fails a passing test" {
	true
}

@test "a condition's failure is no error, as in bash" {
	if false; then echo no; fi
	false || true
	! true
	echo ok
}

@test "a variable set in one test is not seen in the next (1)" {
	LEAK=1
}

@test "a variable set in one test is not seen in the next (2)" {
	[[ -z ${LEAK:-} ]]
}
