#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Seeded random fuzzing of every module's user-space entry points with
# build/bin/shikumi-fuzz (tests/helpers/fuzz.c): device nodes, sysfs,
# debugfs, ioctls, mmap, module parameters.  The fuzzer fails on any
# errno an entry point should not return, any kernel-internal errno, a
# read or write returning more than asked, or a malformed text file; the
# log scan in common.bash fails on any kernel report.
#
#   SHIKUMI_FUZZ_SEED=S	replay a run (the seed is printed in the TAP stream)
#   SHIKUMI_FUZZ_CALLS=N	calls per module (default: 100000 on the debug
#			kernel, 10000 elsewhere)
#
# On the debug kernel (CONFIG_FAULT_INJECTION) 10% of the calls also get an
# allocation failure injected through /proc/thread-self/fail-nth.

load common

# fuzz MODULE: load it (defaults), fuzz it, print the seed and summary
fuzz() {
	local name=$1 seed=${SHIKUMI_FUZZ_SEED:-} calls=${SHIKUMI_FUZZ_CALLS:-} args=()
	local start

	module_loaded "shikumi_$name" || shikumi load "$name"
	if [[ -z $seed ]]; then
		seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
	fi
	if debug_kernel; then
		calls=${calls:-100000}
		# vmalloc's pages fail too: the fuzzer judges errnos, and
		# klog-scan drops the allocation-failure warnings in between
		if fault_injection_begin highmem; then
			args=(--fail-nth 10)
		fi
	else
		calls=${calls:-10000}
	fi
	echo "# $name: seed $seed, $calls calls ${args[*]}" >&3
	start=$SECONDS
	run shikumi-fuzz "$name" --calls "$calls" --seed "$seed" "${args[@]}"
	fault_injection_end
	echo "# $(grep '^fuzz ' <<<"$output" || echo "fuzz $name: no summary") ($((SECONDS - start)) s)" >&3
	echo "# $name: $(grep '^slowest call' <<<"$output" || echo "no slowest call")" >&3
	if ((status != 0)); then
		echo "$output" | tail -n 20 >&2
		echo "replay: SHIKUMI_FUZZ_SEED=$seed SHIKUMI_FUZZ_CALLS=$calls" >&2
		return 1
	fi
	module_loaded "shikumi_$name"
}

@test "fuzz: chrdev" {
	local b

	fuzz chrdev
	# still a FIFO: what goes in comes out
	dd if=/dev/shikumi-chr0 of=/dev/null bs=1M count=16 iflag=nonblock 2>/dev/null || true
	echo fuzz-ok | timeout 5 dd of=/dev/shikumi-chr0 status=none
	b=$(timeout 5 dd if=/dev/shikumi-chr0 bs=4096 count=1 iflag=nonblock status=none)
	[[ $b == fuzz-ok ]]
	shikumi unload chrdev
	! module_loaded shikumi_chrdev
	shikumi load chrdev
}

@test "fuzz: ramdisk" {
	local dev=/dev/shikumi-ram0

	fuzz ramdisk
	# still a disk: a block written reads back
	echo ram >/sys/block/shikumi-ram0/shikumi/model
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/blk"
	dd if="$BATS_TEST_TMPDIR/blk" of=$dev bs=4096 seek=3 count=1 oflag=direct status=none
	cmp <(dd if=$dev bs=4096 skip=3 count=1 iflag=direct status=none) "$BATS_TEST_TMPDIR/blk"
	grep -q '^completed ' /sys/kernel/debug/shikumi/shikumi-ram0/stats
	shikumi unload ramdisk
	! module_loaded shikumi_ramdisk
	shikumi load ramdisk
}

@test "fuzz: ptdump" {
	local out

	fuzz ptdump
	out=$(cat /sys/kernel/debug/shikumi/ptdump/dump)
	[[ -n $out ]]
	grep -q '^open_files 0$' /sys/kernel/debug/shikumi/ptdump/status
	shikumi unload ptdump
	! module_loaded shikumi_ptdump
	shikumi load ptdump
}

@test "fuzz: cstrace" {
	local d=/sys/kernel/debug/shikumi/cstrace

	fuzz cstrace
	[[ $(<$d/enable) == 0 ]]
	echo none >$d/filter_pid
	echo none >$d/filter_tgid
	echo all >$d/filter_cpu
	echo 1 >$d/enable
	nap 0.2
	echo 0 >$d/enable
	timeout 10 head -c 100000 $d/trace_pipe | grep -q sched_switch
	grep -q '^reader 0$' $d/stats
	shikumi unload cstrace
	! module_loaded shikumi_cstrace
	shikumi load cstrace
}
