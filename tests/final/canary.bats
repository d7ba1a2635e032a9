#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Run by tests/run last, on the debug kernel: the detectors are live and the
# lab's log scan catches what they report.  tests/canary/shikumi_canary.c,
# built for the running kernel, is loaded once per planted bug; each
# must produce its report, and scripts/klog-scan must fail on that part of
# the log.  The bugs are planted between "shikumi: planted bugs on" and
# "... off" lines, which the lab's own whole-log scan skips.  lockdep turns
# itself off after any report that taints the kernel (KASAN's too), so its
# bug comes first, and this file runs after everything else.

load ../common

setup_file() {
	# scripts/kbuild built it on the host with the modules, for this kernel;
	# built here only if not (a compile under TCG takes minutes)
	CANARY=$SHIKUMI_ROOT/build/kmod/$(uname -r)/canary
	if [[ $(modinfo -F vermagic "$CANARY/shikumi_canary.ko" 2>/dev/null) != "$(uname -r) "* ]]; then
		CANARY=$BATS_FILE_TMPDIR/canary
		cp -r "$SHIKUMI_ROOT/tests/canary" "$CANARY"
		make -s -C "/lib/modules/$(uname -r)/build" M="$CANARY" modules >&2
	fi
	export CANARY
	echo "# canary: $CANARY/shikumi_canary.ko" >&3
	# how full lockdep's tables got over the suite (it gives up when one is)
	awk '/lock-classes|direct dependencies|dependency chain|stack-trace entries|debug_locks/ {
		gsub(/ +/, " "); sub(/^ /, ""); printf "%s%s", sep, $0; sep = "; "
	} END { print "" }' /proc/lockdep_stats | sed 's/^/# lockdep: /' >&3
}

plant() { # BUG PATTERN: load the canary with bug=BUG; the log must show PATTERN
	local log seg
	common_setup
	if [[ $1 == lockdep ]] && ! grep -qE '^ *debug_locks: +1$' /proc/lockdep_stats; then
		echo "lockdep was off before the planted bug; what turned it off:"
		dmesg | grep -B 5 -A 20 -E 'turning off the locking correctness validator|possible circular|possible recursive|inconsistent lock state' |
			head -n 80
		return 1
	fi
	echo "shikumi: planted bugs on" >/dev/kmsg
	run insmod "$CANARY/shikumi_canary.ko" bug="$1"
	if [[ $1 == leak ]]; then
		# loaded, so that the backtrace can name the function
		[ "$status" -eq 0 ]
		kmemleak_report >"$BATS_TEST_TMPDIR/leaks"
		rmmod shikumi_canary
	else
		[ "$status" -ne 0 ]
	fi
	! module_loaded shikumi_canary
	echo "shikumi: planted bugs off" >/dev/kmsg
	log=$(klog_since_mark | grep -v 'shikumi: planted bugs o')
	echo "$log"
	grep -qE "$2" <<<"$log"
	# the scan every test ends with fails on it; a leak is judged from
	# kmemleak's report (kmemleak_report), which the same scan reads
	seg=$log
	[[ $1 != leak ]] || seg=$(<"$BATS_TEST_TMPDIR/leaks")
	! "$SHIKUMI_ROOT/scripts/klog-scan" - <<<"$seg" 2>/dev/null
	echo "# $1: the log shows '$(grep -m1 -oE "$2" <<<"$log")', and klog-scan fails on it" >&3
}

@test "canary: lockdep reports two locks taken in both orders" {
	plant lockdep 'possible circular locking dependency'
}

@test "canary: KASAN reports an out-of-bounds read" {
	plant oob 'BUG: KASAN: slab-out-of-bounds'
}

@test "canary: KASAN reports a use after free" {
	plant uaf 'BUG: KASAN: (slab-)?use-after-free'
}

@test "canary: kmemleak reports a leaked object, with the leaking function" {
	[[ -w /sys/kernel/debug/kmemleak ]] || skip "no kmemleak"
	plant leak 'suspected memory leak'
	grep -q canary_leak "$BATS_TEST_TMPDIR/leaks"
	# set it aside, so it does not count against anything later
	echo clear >/sys/kernel/debug/kmemleak
}

@test "canary: DEBUG_ATOMIC_SLEEP reports a GFP_KERNEL allocation under a spinlock" {
	plant sleep 'BUG: sleeping function called from invalid context'
}

@test "canary: UBSAN reports an array index out of bounds" {
	plant ubsan 'UBSAN: array-index-out-of-bounds'
}

@test "canary: DEBUG_OBJECTS reports an armed timer being freed" {
	plant odebug 'ODEBUG: free active'
}

