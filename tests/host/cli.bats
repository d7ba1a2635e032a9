#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The CLI's behaviour that needs no module, on the host: a report that
# cannot be written fails, and under --json an error reaches stdout as
# {"error": ...}.  The guest suites (tests/cli*.bats) test the rest.

setup() {
	root=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	shikumi=$root/build/bin/shikumi
	[ -x "$shikumi" ] || {
		echo "no $shikumi: make tools first" >&2
		return 1
	}
}

@test "cli: output that cannot be written (a full disk) fails with a message, not exit 0" {
	run "$shikumi" --version
	[ "$status" -eq 0 ]
	for cmd in "--version" "--help" "pt --help" "sched tunables --json" "sched tunables"; do
		# shellcheck disable=SC2086 # the words of the command
		run bash -c '"$0" "$@" >/dev/full' "$shikumi" $cmd
		echo "$cmd: $status: $output"
		[ "$status" -eq 1 ]
		[[ $output == *"cannot write the output: No space left on device"* ]]
	done
}

@test "cli: under --json an error is also a JSON object on stdout, once, with the same exit status" {
	# a pid that cannot exist (above pid_max): the CLI refuses it, or the
	# module is not there; either way an error, never a report
	run bash -c '"$0" pt dump 99999999 --json 2>/dev/null' "$shikumi"
	echo "$output"
	[ "$status" -ne 0 ]
	[ "$(jq -r 'keys | join(",")' <<<"$output")" = error ]
	[ -n "$(jq -r .error <<<"$output")" ]
	# the same message on stderr, as without --json
	run bash -c '"$0" pt dump 99999999 --json 2>&1 >/dev/null' "$shikumi"
	[[ $output == *"$(jq -r .error <<<"$(bash -c '"$0" pt dump 99999999 --json 2>/dev/null' "$shikumi")")"* ]]
	# without --json, nothing on stdout
	run bash -c '"$0" pt dump 99999999 2>/dev/null' "$shikumi"
	[ -z "$output" ]
	# --pretty implies --json
	run bash -c '"$0" blk stats --pretty 2>/dev/null' "$shikumi"
	[ "$status" -eq 1 ]
	jq -e '.error | length > 0' <<<"$output"
	[ "$(grep -c . <<<"$output")" -gt 1 ]
}
