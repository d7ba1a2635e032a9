#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# scripts/check-jobs.bash's plan, on the host: the order in which the
# guests start, from the times the last run remembered.

setup() {
	root=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	state=$BATS_TEST_TMPDIR
	files=()
	printf '%s\n' "debug:a 1223" "dkms 201" "6.1 715" "debug:b 1027" \
		"7.x 617" "6.12 576" "pti 20" >"$state/check-times"
}

# order LANES DKMS_ON JOB...: the order longest_first gives, on one line
order() {
	local jobs=$1 DKMS_ON=$2
	shift 2
	# shellcheck source=../../scripts/check-jobs.bash
	source "$root/scripts/check-jobs.bash"
	printf '%s\n' "$@" | longest_first | tr '\n' ' '
}

@test "check: the guests start in the order that ends soonest on two lanes, not merely longest first" {
	# longest first: debug:a 1223 | 6.12 777 (with DKMS), then debug:b,
	# 6.1, 7.x each to the lane free first: 2421 s.  This order: 2250 s
	# (debug:a, debug:b | 6.12, 6.1, 7.x, pti).
	run order 2 6.12 pti:7.x debug:a debug:b 6.1 6.12 7.x
	[ "$status" -eq 0 ]
	[ "$output" = "debug:a 6.12 6.1 debug:b 7.x pti:7.x " ]
}

@test "check: one lane, or more than 8 jobs, start longest first; every job once" {
	run order 1 6.1 pti:6.12 debug:a debug:b 6.1 6.12 7.x
	[ "$output" = "debug:a debug:b 6.1 7.x 6.12 pti:6.12 " ]
	run order 2 "" j1 j2 j3 j4 j5 j6 j7 j8 j9 6.1
	[ "$output" = "j1 j2 j3 j4 j5 j6 j7 j8 j9 6.1 " ]
}
