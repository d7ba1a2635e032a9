#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Load and unload each module many times while the machine is busy: 50
# cycles each on the debug kernel, 5 elsewhere (SHIKUMI_CYCLES overrides).
# hackbench runs throughout.  In every cycle the module is loaded, put to
# work by a user that holds it open, unloaded while in use (which must be
# refused, or succeed safely), then unloaded for real; after each unload
# nothing of it may remain: /sys/module, /dev, sysfs and debugfs entries.
# tests/helpers/cycles.c says what each module's cycle does.

load common

setup() {
	common_setup
	if [[ -n ${SHIKUMI_CYCLES:-} ]]; then
		CYCLES=$SHIKUMI_CYCLES
	elif debug_kernel; then
		CYCLES=50
	else
		CYCLES=5
	fi
	busy_start
}

teardown() {
	busy_stop
	common_teardown
}

# cycles NAME: from shikumi_NAME unloaded, run its cycles, report how long
# they took and load the module back.  build/bin/shikumi-cycles
# (tests/helpers/cycles.c) runs them, insmod and rmmod's way, with its
# users forked rather than exec'd: in the shell, a cycle on the debug
# kernel cost 3-6 s, most of it in a dozen fork+execs.
cycles() {
	shikumi unload "shikumi_$1" 2>/dev/null || true
	run shikumi-cycles "$1" \
		"$SHIKUMI_ROOT/build/kmod/$(uname -r)/modules/$1/shikumi_$1.ko" "$CYCLES"
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# ${lines[-1]}" >&3
	shikumi load "shikumi_$1"
}

@test "cycles: shikumi_chrdev, with a blocked reader and a writer" {
	cycles chrdev
}

@test "cycles: shikumi_ramdisk, with I/O on it and its policy and model switching" {
	cycles ramdisk
}

@test "cycles: shikumi_ptdump, unloaded during dumps, which end with an error or complete" {
	cycles ptdump
}

@test "cycles: shikumi_cstrace, tracing hackbench with a reader, unloaded while on" {
	cycles cstrace
}

@test "cycles: shikumi_pgcache, unloaded during views of a file's cache, which end or complete" {
	cycles pgcache
}

# /sys/kernel/debug/shikumi is shared, owned by none (include/shikumi/debugfs.h):
# the four modules that have files in it, in and out at once, each finding
# its files in it whenever loaded, and the directory gone with the last
# (tests/helpers/dbgroot.c)
@test "cycles: ptdump, cstrace, ramdisk and pgcache at once share /sys/kernel/debug/shikumi, which goes with the last" {
	local m kos=()
	for m in ptdump cstrace ramdisk pgcache; do
		shikumi unload "shikumi_$m" 2>/dev/null || true
		kos+=("$SHIKUMI_ROOT/build/kmod/$(uname -r)/modules/$m/shikumi_$m.ko")
	done
	run shikumi-dbgroot 20 "${kos[@]}"
	echo "$output"
	for m in ptdump cstrace ramdisk pgcache; do
		shikumi load "shikumi_$m"
	done
	[ "$status" -eq 0 ]
	echo "# ${lines[-1]}" >&3
	[ -d /sys/kernel/debug/shikumi/ptdump ]
}
