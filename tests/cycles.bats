#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Load and unload each module many times while the machine is busy: 50
# cycles each on the debug kernel, 5 elsewhere (SHIKUMI_CYCLES overrides).
# hackbench runs throughout.  In every cycle the module is loaded, put to
# work by a user that holds it open, unloaded while in use (which must be
# refused, or succeed safely), then unloaded for real; after each unload
# nothing of it may remain: /sys/module, /dev, sysfs and debugfs entries.

load common

RAM=/dev/shikumi-ram0

setup() {
	common_setup
	if [[ -n ${SHIKUMI_CYCLES:-} ]]; then
		CYCLES=$SHIKUMI_CYCLES
	elif debug_kernel; then
		CYCLES=50
	else
		CYCLES=5
	fi
	USERS=()
	GROUPS_=()
	busy_start
}

teardown() {
	stop_users
	busy_stop
	wait 2>/dev/null || true
	common_teardown
}

# insmod and rmmod, not the CLI: the cycles are about the module
ko() { echo "$SHIKUMI_ROOT/build/kmod/$(uname -r)/modules/$1/shikumi_$1.ko"; }

gone() { # MODULE PATH...: the module and every PATH (glob) are gone
	local m=$1 p
	shift
	! module_loaded "$m" || { echo "$m is still loaded"; return 1; }
	for p in "$@"; do
		if compgen -G "$p" >/dev/null; then
			echo "$p is left after unloading $m:"
			compgen -G "$p" | xargs ls -ld
			return 1
		fi
	done
}

# PATH: until one of the users has PATH open (60 s at most).  Their open
# files are compared with PATH by the shell itself (-ef: the same device
# and inode), where fuser(1) would scan every process, in each round of a
# loop that runs hundreds of times on the debug kernel.
wait_open() {
	local i p f
	for ((i = 0; i < 1200; i++)); do
		for p in "${USERS[@]}"; do
			for f in /proc/"$p"/fd/*; do
				[[ $f -ef $1 ]] && return 0
			done
		done
		nap 0.05
	done
	echo "no user opened $1"
	return 1
}

busy_unload() { # MODULE: unloading it while in use fails with EBUSY
	run rmmod "$1"
	[ "$status" -ne 0 ]
	[[ $output == *"in use"* ]] || { echo "rmmod said: $output"; return 1; }
	module_loaded "$1"
}

group_user() { # COMMAND...: run it in a process group of its own, a user
	setsid "$@" 3>&- &
	USERS+=($!)
	GROUPS_+=($!)
}

# A user that forks is stopped as a whole group, and only once every
# member is gone may the module go: a child left running could open the
# device, or after rmmod create a file where its node was.
stop_users() {
	local g i
	for g in "${GROUPS_[@]}"; do
		kill -KILL -- "-$g" 2>/dev/null || true
	done
	[[ ${#USERS[@]} -eq 0 ]] || kill "${USERS[@]}" 2>/dev/null || true
	[[ ${#USERS[@]} -eq 0 ]] || wait "${USERS[@]}" 2>/dev/null || true
	for g in "${GROUPS_[@]}"; do
		# kill -0 to the group succeeds while any member is left
		for ((i = 0; i < 200; i++)); do
			kill -0 -- "-$g" 2>/dev/null || break
			nap 0.05
		done
	done
	USERS=()
	GROUPS_=()
}

# cycles NAME: from shikumi_NAME unloaded, run NAME_cycles, report how
# long it took and load the module back.  The cycles run untraced
# (tests/common.bash): bats's trace of every command would cost more than
# the cycle under TCG.  A failure in one is reported at this call, with
# what gone, wait_open and busy_unload printed.
cycles() {
	local start
	start=$(date +%s)
	shikumi unload "shikumi_$1" 2>/dev/null || true
	untraced "$1_cycles"
	echo "# shikumi_$1: $CYCLES load/unload cycles under hackbench, $(($(date +%s) - start)) s" >&3
	shikumi load "shikumi_$1"
}

chrdev_cycles() {
	local i dev=/dev/shikumi-chr0 k
	k=$(ko chrdev)
	for ((i = 1; i <= CYCLES; i++)); do
		insmod "$k" nr_devices=$((1 + i % 4))
		cat "$dev" >/dev/null 3>&- &
		USERS+=($!)
		head -c 100000 /dev/zero >"/dev/shikumi-chr$((i % (1 + i % 4)))" 3>&- &
		USERS+=($!)
		wait_open "$dev"
		busy_unload shikumi_chrdev
		stop_users
		rmmod shikumi_chrdev
		gone shikumi_chrdev '/dev/shikumi-chr*' /sys/class/shikumi-chr
	done
}

@test "cycles: shikumi_chrdev, with a blocked reader and a writer" {
	cycles chrdev
}

ramdisk_cycles() {
	local i sys=/sys/block/shikumi-ram0/shikumi k
	local models=(ram ssd hdd) policies=(fifo sstf clook)
	k=$(ko ramdisk)
	for ((i = 1; i <= CYCLES; i++)); do
		insmod "$k" nr_disks=$((1 + i % 2)) size_mb=16
		echo "${models[i % 3]}" >"$sys/model"
		echo "${policies[i % 3]}" >"$sys/policy"
		# one holds the disk open, one writes and reads it
		sleep 1000 <"$RAM" 3>&- &
		USERS+=($!)
		group_user bash -c 'while :; do
			dd if=/dev/urandom of="$1" bs=64k count=4 oflag=direct conv=nocreat
			dd if="$1" of=/dev/null bs=64k count=4 iflag=direct
		done 2>/dev/null' - "$RAM"
		wait_open "$RAM"
		busy_unload shikumi_ramdisk
		stop_users
		rmmod shikumi_ramdisk
		gone shikumi_ramdisk '/dev/shikumi-ram*' '/sys/block/shikumi-ram*' \
			'/sys/kernel/debug/shikumi/shikumi-ram*'
	done
}

@test "cycles: shikumi_ramdisk, with I/O on it and its policy and model switching" {
	cycles ramdisk
}

ptdump_cycles() {
	local i k
	k=$(ko ptdump)
	for ((i = 1; i <= CYCLES; i++)); do
		insmod "$k"
		(while shikumi pt dump $$ >/dev/null 2>&1; do :; done) 3>&- &
		USERS+=($!)
		nap 0.$((i % 5))
		# an open dump holds the module; between two it may go
		rmmod shikumi_ptdump 2>/dev/null || true
		stop_users
		if module_loaded shikumi_ptdump; then
			rmmod shikumi_ptdump
		fi
		gone shikumi_ptdump /sys/kernel/debug/shikumi/ptdump
	done
}

@test "cycles: shikumi_ptdump, unloaded during dumps, which end with an error or complete" {
	cycles ptdump
}

cstrace_cycles() {
	local i d=/sys/kernel/debug/shikumi/cstrace k
	k=$(ko cstrace)
	for ((i = 1; i <= CYCLES; i++)); do
		insmod "$k"
		echo 1 >"$d/enable"
		cat "$d/trace_raw" >/dev/null 3>&- &
		USERS+=($!)
		wait_open "$d/trace_raw"
		busy_unload shikumi_cstrace
		stop_users
		# no reader: unloading with tracing on is allowed every other time
		((i % 2)) || echo 0 >"$d/enable"
		rmmod shikumi_cstrace
		gone shikumi_cstrace "$d"
	done
}

@test "cycles: shikumi_cstrace, tracing hackbench with a reader, unloaded while on" {
	cycles cstrace
}
