#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Fault injection, on the debug kernel (skipped where the kernel has none):
# failslab and fail_page_alloc fail chosen allocations of the calling task
# through /proc/thread-self/fail-nth, as syzkaller does.
# - Load: the allocations a module's load makes fail one at a time: each of
#   the last half (at least 300), where the module's init and the kernel's
#   registration of it are, and every 4th of the rest, the loader copying
#   the image; SHIKUMI_FAULT_ALL=1 fails each one.  Each failed load must
#   return a proper errno and leave nothing (sysfs, /dev, debugfs,
#   /sys/module), and each load that survives must unload.
# - I/O: O_DIRECT writes and reads of shikumi_ramdisk with their Nth
#   allocation failed, on every service model: errors, never wrong or lost
#   data; a write whose GFP_NOWAIT allocation in ->queue_rq() failed is
#   deferred to the driver's work item (counted in its stats) and must
#   read back whole; then fio verifies the disk still works.
#   While chrdev's and the ramdisk's load, a thread opens their first
#   device: no open may succeed during a load that then fails, for the
#   kernel frees the module of a failed init whatever user space holds.
# - kmemleak: nothing leaked by any of it.
# build/bin/shikumi-faultload (tests/helpers/faultload.c) does the calls.

load common

MODS=(shikumi_chrdev shikumi_ramdisk shikumi_ptdump shikumi_cstrace shikumi_pgcache)

setup() {
	common_setup
	fault_injection_available ||
		skip "this kernel has no fault injection (scripts/lab --debug has)"
	KO=$SHIKUMI_ROOT/build/kmod/$(uname -r)/modules
}

unload_all() {
	local m
	for m in "${MODS[@]}"; do
		if module_loaded "$m"; then
			shikumi unload "$m"
		fi
	done
}

fault_load() { # MODULE [PARAMS [shikumi-faultload OPTIONS...]]
	local name=$1 params=${2:-}
	shift $(($# < 2 ? $# : 2))
	unload_all
	fault_injection_begin
	run shikumi-faultload load "$KO/$name/shikumi_$name.ko" "$params" \
		${SHIKUMI_FAULT_ALL:+--all} "$@"
	fault_injection_end
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# ${lines[-1]}" >&3
	# a load of its own still works, and unloads
	shikumi load "shikumi_$name"
	shikumi unload "shikumi_$name"
}

@test "fault: each allocation of shikumi_chrdev's load fails in turn, and every failed load cleans up" {
	# and nobody can open the first device while the second may still fail
	fault_load chrdev nr_devices=2 --open /dev/shikumi-chr0
}

@test "fault: each allocation of shikumi_ramdisk's load fails in turn, and every failed load cleans up" {
	fault_load ramdisk "nr_disks=1 size_mb=16"
}

@test "fault: nobody can open the first disk of shikumi_ramdisk while the load may still fail" {
	# the last 80 allocations of a 2-disk load: the second disk's
	# add_disk(), when the first is already in /dev
	fault_load ramdisk "nr_disks=2 size_mb=16" --last 80 --open /dev/shikumi-ram0
}

@test "fault: each allocation of shikumi_ptdump's load fails in turn, and every failed load cleans up" {
	fault_load ptdump
}

@test "fault: each allocation of shikumi_cstrace's load fails in turn, and every failed load cleans up" {
	fault_load cstrace
}

@test "fault: each allocation of shikumi_pgcache's load fails in turn, and every failed load cleans up" {
	fault_load pgcache
}

@test "fault: ramdisk I/O with its allocations failing returns errors and loses nothing, on every model" {
	local model sys=/sys/block/shikumi-ram0/shikumi
	reload_module shikumi_ramdisk size_mb=16
	for model in ram ssd hdd; do
		echo "$model" >"$sys/model"
		fault_injection_begin
		run shikumi-faultload io /dev/shikumi-ram0 200
		fault_injection_end
		echo "$output"
		[ "$status" -eq 0 ]
		echo "# $model: ${lines[-1]}" >&3
	done
	# the disk still holds data: fio writes and verifies it
	echo ram >"$sys/model"
	fio --name=after --filename=/dev/shikumi-ram0 --rw=randwrite --bs=4k \
		--size=8M --direct=1 --ioengine=psync --verify=crc32c \
		--verify_fatal=1 --verify_state_save=0 --output-format=terse >/dev/null
}

@test "fault: ramdisk I/O with the write cache on: the undo log's allocations failing give errors, never wrong or lost data" {
	local sys=/sys/block/shikumi-ram0/shikumi
	reload_module shikumi_ramdisk size_mb=16
	echo 1 >"$sys/write_cache"
	fault_injection_begin
	run shikumi-faultload io /dev/shikumi-ram0 200
	fault_injection_end
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# cache on: ${lines[-1]}" >&3
	grep -q '^cache_log_pages [1-9]' /sys/kernel/debug/shikumi/shikumi-ram0/stats
	echo 0 >"$sys/write_cache"
}

@test "fault: ramdisk RWF_NOWAIT writes whose allocations fail get EAGAIN, never EIO" {
	reload_module shikumi_ramdisk size_mb=16
	fault_injection_begin
	run shikumi-faultload io /dev/shikumi-ram0 100 --nowait
	fault_injection_end
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# ${lines[-1]}" >&3
}

@test "fault: kmemleak finds no leak after the injected failures" {
	[[ -w /sys/kernel/debug/kmemleak ]] || skip "no kmemleak"
	local leaks
	unload_all
	leaks=$(kmemleak_report 2>"$BATS_TEST_TMPDIR/known")
	echo "$leaks"
	[ -z "$leaks" ]
	echo "# kmemleak: no leak of shikumi's; $(cat "$BATS_TEST_TMPDIR/known")" >&3
	for m in "${MODS[@]}"; do
		shikumi load "$m"
	done
}
