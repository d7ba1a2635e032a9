#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# shikumi_ramdisk's volatile write cache and power cuts (issue 18): what a
# flush and FUA make durable, what a cut loses, torn cuts replayed by their
# seed, I/O while the power is off, ext4's fsync in ftrace's block events,
# ext4 under repeated torn cuts (journal replay, fsck, checksums), and who
# may cut the power.  Most checks run in one helper, shikumi-rdcache.

load common

DISK=shikumi-ram0
DEV=/dev/$DISK
CTL=/sys/block/$DISK/shikumi

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	mnt=
}

teardown() {
	if [[ -n $mnt ]]; then
		umount "$mnt" 2>/dev/null || true
	fi
	if [[ -e $CTL/power ]]; then
		echo on >"$CTL/power" || true
	fi
	common_teardown
}

fresh_ramdisk() {
	reload_module shikumi_ramdisk "$@"
	[ -b "$DEV" ]
}

@test "cache: off by default and write through; on: write back with FUA; plain and torn cuts, replayed by their seed; EIO while off; destage" {
	fresh_ramdisk size_mb=64
	[ "$(cat "$CTL/write_cache")" = 0 ]
	[ "$(cat "$CTL/write_cache_kb")" = 16384 ]
	[ "$(cat "$CTL/power")" = on ]
	run shikumi-rdcache raw "$DISK"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^ok' <<<"$output")" -eq 4 ]
	grep '^ok 3' <<<"$output" | sed 's/^/# /' >&3
	# the trace holds the cuts' runs: powercut records, torn and dropped
	run shikumi blk trace -d "$DISK" --json
	[ "$status" -eq 0 ]
	[[ $output == *'"op":"powercut"'* || $output == *'"op": "powercut"'* ]]
	[[ $output == *'"dropped"'* && $output == *'"torn"'* ]]
}

@test "cache: the CLI shows and sets it, cuts (plain, torn with a seed) and powers on" {
	fresh_ramdisk size_mb=16
	run shikumi blk cache "$DISK"
	[ "$status" -eq 0 ]
	[[ $output == *"write cache off"*"write through"* ]]
	run shikumi blk cache "$DEV" on --size 2048 --json
	[ "$status" -eq 0 ]
	[ "$(jq -r '.write_cache, .write_cache_kb, .queue_write_cache, .queue_fua' <<<"$output" | tr '\n' ' ')" = "true 2048 write back true " ]
	dd if=/dev/urandom of="$DEV" bs=4k count=4 oflag=direct status=none
	run shikumi blk powercut "$DISK" --torn --seed 77 --json
	[ "$status" -eq 0 ]
	[ "$(jq -r '.seed, .non_durable_sectors, .kept + .dropped, .power' <<<"$output" | tr '\n' ' ')" = "77 32 32 off " ]
	run shikumi blk powercut "$DISK"
	[ "$status" -eq 1 ]
	[[ $output == *"off already"* ]]
	run dd if="$DEV" of=/dev/null bs=4k count=1 iflag=direct status=none
	[ "$status" -ne 0 ]
	[[ $output == *"Input/output error"* ]]
	run shikumi blk poweron "$DISK"
	[ "$status" -eq 0 ]
	dd if="$DEV" of=/dev/null bs=4k count=1 iflag=direct status=none
	run shikumi blk powercut "$DISK" --torn
	[ "$status" -eq 0 ]
	[[ $output == *"torn (seed "*"0 non-durable sectors"* ]]
	shikumi blk poweron "$DISK"
	# bad input: a seed that is no number, a seed without --torn, no disk
	run shikumi blk powercut "$DISK" --torn --seed 12x
	[ "$status" -eq 2 ]
	[[ $output == *"bad seed '12x'"* ]]
	run shikumi blk powercut "$DISK" --seed 1
	[ "$status" -eq 2 ]
	run shikumi blk cache shikumi-ram9
	[ "$status" -eq 1 ]
	[[ $output == *"not a shikumi RAM disk"* ]]
	run shikumi blk cache "$DISK" off
	[ "$status" -eq 0 ]
	[[ $output == *"write cache off"* ]]
}

@test "cache: unload while the power is off, and while a cut is in progress, is safe" {
	fresh_ramdisk size_mb=64
	echo 1 >"$CTL/write_cache"
	dd if=/dev/zero of="$DEV" bs=1M count=8 oflag=direct status=none
	echo off >"$CTL/power"
	shikumi unload ramdisk
	fresh_ramdisk size_mb=64
	echo 1 >"$CTL/write_cache"
	dd if=/dev/zero of="$DEV" bs=1M count=15 oflag=direct status=none
	echo "off torn" >"$CTL/power" &
	shikumi unload ramdisk || { wait; shikumi unload ramdisk; }
	wait || true
	! module_loaded shikumi_ramdisk
}

@test "cache: ext4's fsync sends flushes and a FUA write (ftrace's block events), and the disk counts the same" {
	fresh_ramdisk size_mb=64
	echo 1 >"$CTL/write_cache"
	mnt=$BATS_TEST_TMPDIR/mnt
	ext4_quiet "$DEV" "$mnt"
	run shikumi-rdcache ext4 "$DISK" "$mnt"
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# ${lines[-1]}" >&3
}

@test "cache: 20 torn cuts of ext4 under a write load: journal replay, fsck clean, fsynced files intact" {
	fresh_ramdisk size_mb=64
	echo 1 >"$CTL/write_cache"
	mnt=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$mnt"
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$DEV"
	run shikumi-rdcache loop "$DISK" "$mnt" 20
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# ${lines[-1]}" >&3
	mnt=
}

@test "cache: nobody may turn it on or cut the power; nor root without CAP_SYS_ADMIN; the CLI says why" {
	fresh_ramdisk size_mb=16
	run as_user sh -c "echo 1 >$CTL/write_cache"
	[ "$status" -ne 0 ]
	[[ $output == *"Permission denied"* ]]
	run as_user sh -c "echo off >$CTL/power"
	[ "$status" -ne 0 ]
	[[ $output == *"Permission denied"* ]]
	# root without CAP_SYS_ADMIN: the module's own check (bash, whose
	# echo says why a write failed; dash's says "I/O error")
	run setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin bash -c "echo off >$CTL/power"
	[ "$status" -ne 0 ]
	[[ $output == *"Operation not permitted"* ]]
	run setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin bash -c "echo 1 >$CTL/write_cache"
	[ "$status" -ne 0 ]
	[[ $output == *"Operation not permitted"* ]]
	[ "$(cat "$CTL/power")" = on ]
	[ "$(cat "$CTL/write_cache")" = 0 ]
	run as_user shikumi blk cache "$DISK" on
	[ "$status" -eq 1 ]
	[[ $output == *"needs root"* ]]
	run as_user shikumi blk powercut "$DISK"
	[ "$status" -eq 1 ]
	[[ $output == *"needs root"* ]]
	run as_user shikumi blk poweron "$DISK"
	[ "$status" -eq 1 ]
	[[ $output == *"needs root"* ]]
	[ "$(cat "$CTL/power")" = on ]
}
