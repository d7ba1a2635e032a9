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

@test "check: one lane starts longest first; ten jobs are searched too; every job once" {
	run order 1 6.1 pti:6.12 debug:a debug:b 6.1 6.12 7.x
	[ "$output" = "debug:a debug:b 6.1 7.x 6.12 pti:6.12 " ]
	run order 2 "" j1 j2 j3 j4 j5 j6 j7 j8 j9 6.1
	[ "$output" = "j1 j2 j3 j4 j5 j6 j7 j8 j9 6.1 " ]
}

@test "check: nine jobs with halves of the kernels' suites: the order that ends soonest, as every order played out says" {
	# longest first ends at 2424 s; every one of the 9! orders played
	# (in Python, outside this code) says 2349 s at best, first in this one
	run order 2 "" "debug:b 1303" "debug:a 1109" "6.1:2 425" "6.1:1 420" \
		"6.12:1 356" "6.12:2 356" "7.x:1 345" "7.x:2 345" "pti:7.x 19"
	[ "$status" -eq 0 ]
	[ "$output" = "debug:b debug:a 6.1:2 6.12:1 6.1:1 7.x:1 6.12:2 7.x:2 pti:7.x " ]
	# halves never timed: half of their kernel's time each
	run order 2 "" 6.1:1 6.1:2 7.x
	[ "$output" = "7.x 6.1:1 6.1:2 " ]
}

# halves K: half_files's two halves of kernel K, and their costs
halves() {
	local DKMS_ON=${2:-}
	# shellcheck source=../../scripts/check-jobs.bash
	source "$root/scripts/check-jobs.bash"
	half_files "$1" 1 >"$BATS_TEST_TMPDIR/h1"
	half_files "$1" 2 >"$BATS_TEST_TMPDIR/h2"
	echo "$(half_files "$1" 1 cost) $(half_files "$1" 2 cost)"
}

@test "check: a kernel's suite in two halves, balanced by the files' last times; DKMS's build with its file" {
	local all
	all=$(cd "$root" && ls tests/*.bats)
	# never timed: no cost, and every file in one half or the other
	run halves 6.1
	[ "$output" = " " ]
	[ "$(sort "$BATS_TEST_TMPDIR"/h[12])" = "$all" ]
	[ -z "$(comm -12 "$BATS_TEST_TMPDIR/h1" "$BATS_TEST_TMPDIR/h2")" ]
	# timed: the heavy files apart, each half the boot's 15 s more
	for f in $all; do
		echo "6.1 ${f#tests/} 10"
	done >"$state/check-file-times"
	echo "6.1 ramdisk.bats 300" >>"$state/check-file-times"
	echo "6.1 stress.bats 290" >>"$state/check-file-times"
	echo "7.x stress.bats 900" >>"$state/check-file-times"
	n=$(wc -l <<<"$all")
	run halves 6.1
	[ "$(sort "$BATS_TEST_TMPDIR"/h[12])" = "$all" ]
	grep -qx tests/ramdisk.bats "$BATS_TEST_TMPDIR/h1"
	grep -qx tests/stress.bats "$BATS_TEST_TMPDIR/h2"
	read -r c1 c2 <<<"$output"
	[ $((c1 + c2)) -eq $(((n - 2) * 10 + 300 + 290 + 30)) ]
	[ $((c1 - c2)) -le 10 ] && [ $((c2 - c1)) -le 10 ]
	# the in-guest DKMS build (201 s, remembered) counts with install.bats
	run halves 6.1 6.1
	read -r d1 d2 <<<"$output"
	[ $((d1 + d2)) -eq $((c1 + c2 + 201)) ]
	grep -qx tests/install.bats "$BATS_TEST_TMPDIR/h1" && h=1 || h=2
	[ "$(grep -c install.bats "$BATS_TEST_TMPDIR/h$h")" -eq 1 ]
}

@test "check: each file's time is remembered per kernel, the DKMS build apart, the other half's kept" {
	# shellcheck source=../../scripts/check-jobs.bash
	source "$root/scripts/check-jobs.bash"
	mkdir -p "$BATS_TEST_TMPDIR/build/test-results"
	local root=$BATS_TEST_TMPDIR
	printf '%s\n' "6.1 a.bats 5" "6.1 b.bats 7" "7.x a.bats 9" >"$state/check-file-times"
	printf '%s\n' "a.bats 11" "install.bats 250" >"$root/build/test-results/6.1-1.files"
	remember_file_times 6.1:1 200
	run sort "$state/check-file-times"
	[ "$output" = "$(printf '%s\n' "6.1 a.bats 11" "6.1 b.bats 7" "6.1 install.bats 50" "7.x a.bats 9")" ]
	# the debug kernel's parts and the PTI boot are not halves of a suite
	printf '%s\n' "c.bats 3" >"$root/build/test-results/debug-a.files"
	remember_file_times debug:a 0
	! grep -q '^debug' "$state/check-file-times"
}
