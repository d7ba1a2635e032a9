#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Everything at once, for SHIKUMI_STRESS_SECS (120 s on the debug kernel,
# 30 s elsewhere):
# - fio, 8 jobs at queue depth 16, writing and verifying shikumi-ram0 over
#   and over, while another loop switches its model, policy and queue depth;
# - dumps of the page tables of processes that fork, munmap and exit;
# - shikumi_cstrace enabled and disabled, with a reader, under hackbench;
# - a chrdev writer and reader;
# - rmmod of every module, again and again: refused while a module is in
#   use, and when it succeeds the module is loaded again.
# At the end fio reads back and verifies the data of its last pass, written
# before all of that stopped.

load common

RAM=/dev/shikumi-ram0
SYS=/sys/block/shikumi-ram0/shikumi
CS=/sys/kernel/debug/shikumi/cstrace
DUMP=/sys/kernel/debug/shikumi/ptdump/dump

setup() {
	common_setup
	if [[ -n ${SHIKUMI_STRESS_SECS:-} ]]; then
		SECS=$SHIKUMI_STRESS_SECS
	elif debug_kernel; then
		SECS=120
	else
		SECS=30
	fi
	PIDS=()
}

teardown() {
	kill "${PIDS[@]}" 2>/dev/null || true
	pkill -f 'shikumi-pttest churn' 2>/dev/null || true
	busy_stop
	wait 2>/dev/null || true
	[[ -w $CS/enable ]] && echo 0 >"$CS/enable"
	common_teardown
}

# the fio job of one pass: 8 jobs, each on its own 4 MiB of the disk
fio_pass() { # extra fio options...
	fio --name=stress --filename=$RAM --numjobs=8 --size=4M \
		--offset_increment=4M --rw=randwrite --bsrange=4k-64k \
		--ioengine=libaio --iodepth=16 --direct=1 --verify=crc32c \
		--verify_fatal=1 --verify_state_save=0 --randrepeat=1 --group_reporting \
		--output-format=terse "$@"
}

@test "stress: fio verify on the ramdisk, switches, ptdumps, the tracer, hackbench and rmmod, all at once" {
	local end out=$BATS_TEST_TMPDIR
	reload_module shikumi_ramdisk size_mb=64
	for m in shikumi_chrdev shikumi_ptdump shikumi_cstrace; do
		module_loaded "$m" || shikumi load "$m"
	done
	end=$(($(date +%s) + SECS))
	export end out

	# fio, holding the disk open throughout so its data stays
	(
		exec 7<"$RAM"
		n=0
		while (($(date +%s) < end)); do
			fio_pass >/dev/null 2>"$out/fio.err" || { echo fail >"$out/fio.fail"; break; }
			n=$((n + 1))
		done
		echo "$n" >"$out/fio.n"
	) 3>&- &
	PIDS+=($!)

	# model, policy and queue depth switches
	(
		models=(ram ssd hdd) policies=(fifo sstf clook) n=0
		while (($(date +%s) < end)); do
			echo "${models[RANDOM % 3]}" >"$SYS/model" &&
			echo "${policies[RANDOM % 3]}" >"$SYS/policy" &&
			echo $((1 + RANDOM % 64)) >"$SYS/queue_depth" ||
				{ echo fail >"$out/switch.fail"; break; }
			n=$((n + 1))
			nap 0.$((RANDOM % 5))
		done
		echo "$n" >"$out/switch.n"
	) 3>&- &
	PIDS+=($!)

	# page-table dumps of processes that fork, munmap and exit
	shikumi-pttest churn "$SECS" >/dev/null 3>&- &
	PIDS+=($!)
	(
		ok=0 err=0
		while (($(date +%s) < end)); do
			for p in $(pgrep -f 'shikumi-pttest churn'); do
				if { printf 'pid=%s view=full format=text' "$p" >&6 &&
					cat <&6 >/dev/null; } 2>/dev/null 6<>"$DUMP"; then
					ok=$((ok + 1))
				else
					err=$((err + 1))
				fi
			done
		done
		echo "$ok $err" >"$out/dump.n"
	) 3>&- &
	PIDS+=($!)

	# the tracer, on and off under hackbench, with a reader
	busy_start
	(
		n=0
		while (($(date +%s) < end)); do
			if echo 1 >"$CS/enable" 2>/dev/null; then
				timeout 2 cat "$CS/trace_pipe" >/dev/null 2>&1 || true
				echo 0 >"$CS/enable" 2>/dev/null && n=$((n + 1))
			fi
			nap 0.$((RANDOM % 3))
		done
		echo "$n" >"$out/trace.n"
	) 3>&- &
	PIDS+=($!)

	# the character device, written and read
	(
		n=0
		while (($(date +%s) < end)); do
			if [[ -c /dev/shikumi-chr0 ]]; then
				# rmmod may take the node at any moment: never create it
				printf x | dd of=/dev/shikumi-chr0 conv=nocreat \
					status=none 2>/dev/null &&
				timeout 5 head -c 1 /dev/shikumi-chr0 >/dev/null 2>&1 &&
				n=$((n + 1))
			fi
		done
		echo "$n" >"$out/chr.n"
	) 3>&- &
	PIDS+=($!)

	# rmmod throughout; what goes comes back
	local refused=0 removed=0 ramgone=0 m
	local mods=(shikumi_ramdisk shikumi_chrdev shikumi_ptdump shikumi_cstrace)
	while (($(date +%s) < end)); do
		m=${mods[RANDOM % 4]}
		if rmmod "$m" 2>/dev/null; then
			removed=$((removed + 1))
			[[ $m != shikumi_ramdisk ]] || ramgone=1
			nap 0.$((RANDOM % 3))
			shikumi load "$m"
		else
			refused=$((refused + 1))
		fi
		nap 0.$((RANDOM % 2))
	done

	# hackbench and the churn never end by themselves; the loops do
	pkill -f 'shikumi-pttest churn' 2>/dev/null || true
	busy_stop
	wait "${PIDS[@]}" 2>/dev/null || true
	PIDS=()
	[[ -w $CS/enable ]] && echo 0 >"$CS/enable"

	cat "$out/fio.err" 2>/dev/null || true
	[ ! -e "$out/fio.fail" ]
	[ ! -e "$out/switch.fail" ]
	[ "$ramgone" -eq 0 ]
	read -r dumps dumperr <"$out/dump.n"
	echo "# stress: $SECS s: $(<"$out/fio.n") fio passes of 8 jobs verified," \
		"$(<"$out/switch.n") model/policy/depth switches, $dumps whole ptdumps" \
		"($dumperr of exited processes), $(<"$out/trace.n") tracer on/off cycles," \
		"$(<"$out/chr.n") chrdev round trips, $removed rmmods done and" \
		"$refused refused" >&3
	[ "$(<"$out/fio.n")" -ge 1 ]
	[ "$dumps" -ge 1 ]
	[ "$(<"$out/trace.n")" -ge 1 ]

	# what the last pass wrote is still there, after all of it
	echo ram >"$SYS/model"
	fio_pass --verify_only >/dev/null
}
