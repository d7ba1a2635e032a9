#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# shikumi blk: the CLI of shikumi_ramdisk, checked against sysfs, the
# disk's /sys/block/*/stat and the files it writes (JSON, SVG, raw trace).

load common

DISK=/dev/shikumi-ram0
SYS=/sys/block/shikumi-ram0
CTL=$SYS/shikumi

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	reload_module shikumi_ramdisk size_mb=32
	udevadm settle 2>/dev/null || true
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
}

teardown() {
	common_teardown
}

@test "shikumi blk: info and stats, in text and JSON, agree with the kernel's counters" {
	shikumi blk stats --reset >/dev/null
	r0=$(awk '{ print $1 }' "$SYS/stat")
	dd if="$DISK" of=/dev/null bs=4k count=50 iflag=direct status=none
	run shikumi blk stats --json
	[ "$status" -eq 0 ]
	[ "$(jq '.ops.read.count' <<<"$output")" -eq $(($(awk '{ print $1 }' "$SYS/stat") - r0)) ]
	[ "$(jq '.ops.read.bytes' <<<"$output")" -eq $((50 * 4096)) ]
	[ "$(jq '.submitted - .completed' <<<"$output")" -eq 0 ]
	[ "$(jq '.ops.read.lat_hist | add' <<<"$output")" -eq 50 ]
	run shikumi blk stats
	[ "$status" -eq 0 ]
	[[ $output == *"model ram"* ]]
	run shikumi blk info --json
	[ "$status" -eq 0 ]
	jq -e . <<<"$output" >/dev/null
	[[ $output == *'"shikumi-ram0"'* ]]
	run shikumi blk info
	[ "$status" -eq 0 ]
	[[ $output == *shikumi-ram0* ]]
}

@test "shikumi blk: model and policy set sysfs; bad names and values change nothing" {
	shikumi blk model hdd rpm=7200 settle_us=500
	[ "$(cat "$CTL/model")" = hdd ]
	[ "$(cat "$CTL/hdd_rpm")" = 7200 ]
	[ "$(cat "$CTL/hdd_settle_us")" = 500 ]
	[ "$(cat "$SYS/queue/rotational")" = 1 ]
	shikumi blk policy clook
	[ "$(cat "$CTL/policy")" = clook ]

	run shikumi blk policy elevator
	[ "$status" -eq 2 ]
	[[ $output == *"unknown policy"* ]]
	run shikumi blk model floppy
	[ "$status" -eq 2 ]
	[[ $output == *"unknown model"* ]]
	run shikumi blk model hdd rpm=5400 colour=blue
	[ "$status" -eq 2 ]
	# the second value is refused, so the first is put back
	run shikumi blk model hdd rpm=5400 settle_us=999999999
	[ "$status" -eq 2 ]
	[ "$(cat "$CTL/hdd_rpm")" = 7200 ]
	[ "$(cat "$CTL/hdd_settle_us")" = 500 ]
	[ "$(cat "$CTL/model")" = hdd ]
	[ "$(cat "$CTL/policy")" = clook ]

	shikumi blk model ssd
	[ "$(cat "$SYS/queue/rotational")" = 0 ]
	run shikumi blk model
	[[ $output == *ssd* ]]
}

@test "shikumi blk: trace -o writes every record once, raw; --json counts them" {
	shikumi blk model ssd
	shikumi blk trace -o /dev/null >/dev/null
	dd if="$DISK" of=/dev/null bs=4k count=40 iflag=direct status=none
	shikumi blk trace -o "$BATS_TEST_TMPDIR/raw"
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/raw")" -eq $((40 * 88)) ]
	# drained: nothing left
	run shikumi blk trace --json
	[ "$status" -eq 0 ]
	[ "$(jq '.records' <<<"$output")" -eq 0 ]
	dd if="$DISK" of=/dev/null bs=4k count=7 skip=100 iflag=direct status=none
	run shikumi blk trace --json
	[ "$(jq '.records' <<<"$output")" -eq 7 ]
	[ "$(jq '[.trace[].sector] | min' <<<"$output")" -eq 800 ]
	# each names dd, which submitted it, with a pid
	[ "$(jq -r '[.trace[] | "\(.comm) \(.pid > 0)"] | unique | join(",")' <<<"$output")" = "dd true" ]
	# the text table too, the name last
	dd if="$DISK" of=/dev/null bs=4k count=1 iflag=direct status=none
	shikumi blk trace >"$BATS_TEST_TMPDIR/table"
	cat "$BATS_TEST_TMPDIR/table"
	head -n 1 "$BATS_TEST_TMPDIR/table" | grep -qE ' PID FLAGS +COMM$'
	tail -n 1 "$BATS_TEST_TMPDIR/table" | grep -qE ' [1-9][0-9]* [a-z,-]+ +dd$'
}

@test "shikumi blk: plot runs each policy; clook and deadline travel less than fifo" {
	shikumi blk model hdd
	run shikumi blk plot -n 120 -q 16 -o "$BATS_TEST_TMPDIR/p.svg" --json
	[ "$status" -eq 0 ]
	xmllint --noout "$BATS_TEST_TMPDIR/p.svg"
	travel() { jq ".runs[] | select(.policy == \"$1\") | .head_travel" <<<"$output"; }
	[ "$(travel clook)" -lt "$(travel fifo)" ]
	[ "$(travel deadline)" -lt "$(travel fifo)" ]
	[ "$(jq '[.runs[].records] | min' <<<"$output")" -ge 120 ]
	# the policy in force before is back
	[ "$(cat "$CTL/policy")" = fifo ]
}

@test "shikumi blk: measure runs the book's matrix on one device type" {
	run shikumi blk measure --models hdd --size 4 --max-jobs 1 \
		-o "$BATS_TEST_TMPDIR/m" --json
	echo "$output" | tail -20 >&2
	[ "$status" -eq 0 ]
	[ -s "$BATS_TEST_TMPDIR/m/measure.json" ]
	xmllint --noout "$BATS_TEST_TMPDIR/m/measure.svg"
	# one fio report per run: 2 elevators x (2 read-aheads + 1 job count)
	[ "$(ls "$BATS_TEST_TMPDIR/m"/hdd-*.json | wc -l)" -eq 6 ]
	for f in "$BATS_TEST_TMPDIR/m"/hdd-*.json; do
		jq -e '.jobs[0].error == 0' "$f" >/dev/null
	done
	# the model, elevator and read-ahead are back
	[ "$(cat "$CTL/model")" = ram ]
	[ "$(cat "$SYS/queue/read_ahead_kb")" = 128 ]
}

@test "shikumi blk: unprivileged users are told they need root" {
	run as_user shikumi blk stats
	[ "$status" -eq 1 ]
	[[ $output == *root* ]]
	run as_user shikumi blk policy sstf
	[ "$status" -eq 1 ]
	[ "$(cat "$CTL/policy")" = fifo ]
}
