#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# shikumi_ramdisk's service models and in-driver scheduling, checked
# against what the kernel and fio see on their own: fio's verify, the
# disk's /sys/block/*/stat, fio's own I/O log, the queue's rotational flag.

load common

DISK=/dev/shikumi-ram0
SYS=/sys/block/shikumi-ram0
CTL=$SYS/shikumi
DBG=/sys/kernel/debug/shikumi/shikumi-ram0

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	fio_pid=
}

teardown() {
	if [[ -n $fio_pid ]]; then
		kill "$fio_pid" 2>/dev/null || true
		wait "$fio_pid" 2>/dev/null || true
	fi
	common_teardown
}

fresh_ramdisk() {
	reload_module shikumi_ramdisk "$@"
	udevadm settle 2>/dev/null || true
	[ -b "$DISK" ]
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
}

stat_of() { # KEY: a value from the debugfs stats
	awk -v k="$1" '$1 == k { print $2 }' "$DBG/stats"
}

# The disk's own counters, /sys/block/X/stat: reads, read merges, read
# sectors, ..., writes (5th), write merges (6th), write sectors (7th).
disk_stat() { # FIELD (1-based)
	awk -v f="$1" '{ print $f }' "$SYS/stat"
}

# fio with JSON output in $BATS_TEST_TMPDIR/NAME.json; fails on fio's failure
run_fio() { # NAME fio-args...
	local name=$1 out=$BATS_TEST_TMPDIR/$1.json
	shift
	fio --name="$name" --filename="$DISK" --output-format=json \
		--output="$out" "$@"
	# fio may print a notice before its JSON
	sed -i -n '/^{/,$p' "$out"
	[ "$(jq '.jobs[0].error' "$out")" -eq 0 ]
}

fio_json() { # NAME JQ-EXPR
	jq -r "$2" "$BATS_TEST_TMPDIR/$1.json"
}

# Total head travel in a trace file: the sum of |sector - head|.
travel() {
	awk '!/^#/ && ($5 == "read" || $5 == "write") {
		d = $6 - $8; t += d < 0 ? -d : d } END { print t + 0 }' "$1"
}

@test "ramdisk models: the rotational flag follows the model" {
	fresh_ramdisk size_mb=16
	[ "$(cat "$CTL/model")" = ram ]
	for m in hdd ssd hdd ram; do
		echo "$m" >"$CTL/model"
		[ "$(cat "$CTL/model")" = "$m" ]
		want=0
		[ "$m" = hdd ] && want=1
		[ "$(cat "$SYS/queue/rotational")" = "$want" ]
	done
}

@test "ramdisk models: unknown names and values out of range are EINVAL and change nothing" {
	fresh_ramdisk size_mb=16
	echo hdd >"$CTL/model"
	echo clook >"$CTL/policy"
	for w in "model floppy" "model hdd2" "model ''" "policy elevator" \
		"policy cfq" "hdd_rpm 0" "hdd_rpm 99999" "hdd_rpm -1" \
		"ssd_channels 0" "ssd_channels 65" "queue_depth 0" \
		"queue_depth 100000" "hdd_media_mbps abc" "reset 0" \
		"nr_hw_queues 65" "nr_hw_queues -1"; do
		set -- $w
		# bash, not dash: dash's echo calls every write error EIO
		run bash -c "echo $2 > $CTL/$1"
		echo "$w: $status $output" >&2
		[ "$status" -ne 0 ]
		[[ $output == *"Invalid argument"* ]]
	done
	[ "$(cat "$CTL/model")" = hdd ]
	[ "$(cat "$CTL/policy")" = clook ]
	[ "$(cat "$CTL/hdd_rpm")" = 15000 ]
	[ "$(cat "$CTL/ssd_channels")" = 4 ]
	[ "$(cat "$CTL/queue_depth")" = 128 ]
	[ "$(cat "$SYS/queue/rotational")" = 1 ]
}

@test "ramdisk models: unprivileged users cannot change the disk or read its trace" {
	fresh_ramdisk size_mb=16
	run as_user sh -c "echo hdd > $CTL/model"
	[ "$status" -ne 0 ]
	[[ $output == *"Permission denied"* ]]
	run as_user sh -c "echo sstf > $CTL/policy"
	[ "$status" -ne 0 ]
	run as_user cat "$DBG/trace"
	[ "$status" -ne 0 ]
	[ "$(cat "$CTL/model")" = ram ]
	[ "$(cat "$CTL/policy")" = fifo ]
	# reading the controls is fine
	as_user cat "$CTL/model" "$CTL/hdd_rpm" >/dev/null
}

@test "ramdisk models: fio verify=crc32c, 2 jobs on 2 CPUs and 2 hardware queues, under every policy and model" {
	fresh_ramdisk size_mb=32 nr_hw_queues=2
	[ "$(ls -d "$SYS"/mq/* | wc -l)" -eq 2 ]
	awk '{ print $3 }' "$DBG/queues" >"$BATS_TEST_TMPDIR/served0"
	for m in ram ssd hdd; do
		echo "$m" >"$CTL/model"
		for p in fifo sstf clook deadline; do
			echo "$p" >"$CTL/policy"
			echo 1 >"$CTL/reset"
			run_fio "v-$m-$p" --direct=1 --ioengine=libaio --iodepth=8 \
				--rw=randwrite --bsrange=4k-64k --size=1M --numjobs=2 \
				--cpus_allowed=0,1 --cpus_allowed_policy=split \
				--offset_increment=8M --verify=crc32c --verify_fatal=1 --verify_state_save=0 \
				--do_verify=1 --group_reporting
			[ "$(fio_json "v-$m-$p" '.jobs[0].write.io_bytes')" -eq $((2 << 20)) ]
			[ "$(fio_json "v-$m-$p" '.jobs[0].read.io_bytes')" -eq $((2 << 20)) ]
			# the disk served it under this model and policy
			[ "$(stat_of model)" = "$m" ]
			[ "$(stat_of policy)" = "$p" ]
			[ "$(stat_of write.bytes)" -eq $((2 << 20)) ]
			[ "$(stat_of errors)" -eq 0 ]
		done
	done
	# one job per CPU: both hardware queues served (each 12 runs of I/O)
	awk '{ print $3 }' "$DBG/queues" | paste "$BATS_TEST_TMPDIR/served0" - |
		awk '{ d = $2 - $1; print "# queue " NR - 1 " served " d > "/dev/stderr"; if (d < 12) bad = 1 } END { exit bad }'
}

@test "ramdisk models: statistics add up, and agree with /sys/block/*/stat" {
	fresh_ramdisk size_mb=32
	echo ssd >"$CTL/model"
	echo deadline >"$CTL/policy"
	# the stock elevator merges too
	echo mq-deadline >"$SYS/queue/scheduler"
	udevadm settle 2>/dev/null || true
	echo 1 >"$CTL/reset"
	r0=$(disk_stat 1) rm0=$(disk_stat 2) w0=$(disk_stat 5) wm0=$(disk_stat 6)
	# mixed random I/O, then sequential 4K writes the block layer merges
	run_fio mix --direct=1 --ioengine=libaio --iodepth=16 --rw=randrw \
		--bsrange=4k-128k --size=8M --numjobs=2 --offset_increment=12M \
		--group_reporting
	run_fio seq --direct=0 --rw=write --bs=4k --size=4M --offset=24M \
		--end_fsync=1
	[ "$(stat_of in_driver)" -eq 0 ]
	[ "$(stat_of submitted)" -eq "$(stat_of completed)" ]
	reads=$(stat_of read.count) writes=$(stat_of write.count)
	[ "$reads" -eq $(($(disk_stat 1) - r0)) ]
	[ "$writes" -eq $(($(disk_stat 5) - w0)) ]
	[ "$(stat_of read.bytes)" -eq "$(fio_json mix '.jobs[0].read.io_bytes')" ]
	[ "$(stat_of write.bytes)" -eq \
		$(($(fio_json mix '.jobs[0].write.io_bytes') + (4 << 20))) ]
	merged=$(stat_of merged)
	echo "merged: $merged" >&2
	[ "$merged" -gt 0 ]
	[ "$merged" -eq $(($(disk_stat 2) - rm0 + $(disk_stat 6) - wm0)) ]
	# every completion is in one latency bucket
	hist=$(awk '$1 == "read.lat_hist" { for (i = 2; i <= NF; i++) n += $i; print n }' "$DBG/stats")
	[ "$hist" -eq "$reads" ]
	# and the trace holds each of them once
	grep -v '^#' "$DBG/trace" >"$BATS_TEST_TMPDIR/trace"
	[ "$(awk '$5 == "read"' "$BATS_TEST_TMPDIR/trace" | wc -l)" -eq "$reads" ]
	[ "$(stat_of trace_records)" -eq 0 ]
}

@test "ramdisk models: the trace is every request fio issued, once, with drops counted past its size" {
	# one queue, one ring: fio's requests in the order it sent them
	fresh_ramdisk size_mb=16 trace_entries=64 nr_hw_queues=1
	echo hdd >"$CTL/model"
	udevadm settle 2>/dev/null || true
	echo 1 >"$CTL/reset"
	run_fio log --direct=1 --ioengine=psync --rw=randread --bs=4k \
		--number_ios=100 --randrepeat=1 --write_iolog="$BATS_TEST_TMPDIR/iolog"
	[ "$(stat_of trace_records)" -eq 64 ]
	[ "$(stat_of trace_dropped)" -eq 36 ]
	cat "$DBG/trace" >"$BATS_TEST_TMPDIR/trace"
	[ "$(stat_of trace_records)" -eq 0 ]
	# the first 64 of fio's reads, in order (one job, one at a time)
	# version 3 of the log starts each line with a time stamp
	awk '{ for (i = 1; i < NF - 1; i++) if ($i == "read") print $(i + 1) / 512, $(i + 2) }' \
		"$BATS_TEST_TMPDIR/iolog" |
		head -64 >"$BATS_TEST_TMPDIR/want"
	awk '!/^#/ { print $6, $7 }' "$BATS_TEST_TMPDIR/trace" >"$BATS_TEST_TMPDIR/got"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	# sequence numbers from 0, no gap; times in order; the head follows
	awk '!/^#/ {
		bad = ""
		if ($1 != NR - 2) bad = "seq"
		if (!($2 <= $3 && $3 < $4)) bad = "times"
		if (NR > 2 && $8 != end) bad = "head"
		if ($9 != "hdd" || $10 != "fifo" || $11 != 0) bad = "names"
		if (bad != "") { print "bad " bad ": " $0; exit 1 }
		end = $6 + $7 / 512
	}' "$BATS_TEST_TMPDIR/trace"
	# the raw trace is read in whole records: a read smaller than one fails
	run dd if="$DBG/trace_raw" bs=32 count=1 status=none
	[ "$status" -ne 0 ]
	[[ $output == *"Invalid argument"* ]]
}

@test "ramdisk models: under a random queue, clook and deadline move the head less than fifo" {
	fresh_ramdisk size_mb=64
	echo hdd >"$CTL/model"
	udevadm settle 2>/dev/null || true
	for p in fifo sstf clook deadline; do
		echo "$p" >"$CTL/policy"
		echo 1 >"$CTL/reset"
		run_fio "q-$p" --direct=1 --ioengine=libaio --iodepth=32 \
			--rw=randread --bs=4k --number_ios=300 --randrepeat=1
		cat "$DBG/trace" >"$BATS_TEST_TMPDIR/t-$p"
		[ "$(grep -vc '^#' "$BATS_TEST_TMPDIR/t-$p")" -ge 300 ]
		t=$(travel "$BATS_TEST_TMPDIR/t-$p")
		# the trace and the statistics agree on the travel
		[ "$t" -eq "$(stat_of head_travel)" ]
		eval "travel_$p=$t"
		echo "$p: head travel $t sectors" >&2
	done
	[ "$travel_clook" -lt "$travel_fifo" ]
	[ "$travel_deadline" -lt "$travel_fifo" ]
	[ "$travel_sstf" -lt "$travel_fifo" ]
}

@test "ramdisk models: queue_depth bounds the requests the device holds" {
	fresh_ramdisk size_mb=16
	echo ssd >"$CTL/model"
	# slow enough that fio's submissions outpace completions even on the
	# debug kernel (500 us let it keep only 3 of 8 in flight there)
	echo 10000 >"$CTL/ssd_latency_us"
	udevadm settle 2>/dev/null || true
	for depth in 1 8; do
		echo "$depth" >"$CTL/queue_depth"
		echo 1 >"$CTL/reset"
		run_fio "d$depth" --direct=1 --ioengine=libaio --iodepth=32 \
			--rw=randread --bs=4k --number_ios=200
		grep -v '^#' "$DBG/trace" >"$BATS_TEST_TMPDIR/t$depth"
		# the most requests held at once: +1 at queued, -1 at completed
		held=$(awk '{ print $2, 1; print $4, -1 }' "$BATS_TEST_TMPDIR/t$depth" |
			sort -k1,1n -k2,2n | awk '{ n += $2; if (n > m) m = n } END { print m }')
		echo "depth $depth: at most $held held" >&2
		[ "$held" -le "$depth" ]
		[ "$held" -eq "$depth" ]
	done
}

@test "ramdisk models: switching model, policy and hardware queues under live I/O loses nothing" {
	fresh_ramdisk size_mb=32
	echo ssd >"$CTL/model"
	udevadm settle 2>/dev/null || true
	echo 1 >"$CTL/reset"
	fio --name=live --thread --filename="$DISK" --direct=1 --ioengine=libaio \
		--iodepth=16 --rw=randwrite --bsrange=4k-64k --size=6M --numjobs=2 \
		--offset_increment=12M --verify=crc32c --verify_fatal=1 --verify_state_save=0 \
		--do_verify=1 --group_reporting --output-format=json \
		--output="$BATS_TEST_TMPDIR/live.json" &
	fio_pid=$!
	n=0
	q=1
	while kill -0 "$fio_pid" 2>/dev/null; do
		for m in hdd ram ssd; do
			echo "$m" >"$CTL/model"
			for p in sstf clook deadline fifo; do
				echo "$p" >"$CTL/policy"
				nap 0.05
			done
			n=$((n + 1))
		done
		echo $((1 + RANDOM % 64)) >"$CTL/queue_depth"
		# and the hardware queues: 0 (per CPU), 1, 2, 3 (capped)
		echo $((q++ % 4)) >"$CTL/nr_hw_queues"
	done
	wait "$fio_pid"
	fio_pid=
	echo "$n model switches" >&2
	[ "$n" -ge 3 ]
	sed -i -n '/^{/,$p' "$BATS_TEST_TMPDIR/live.json"
	[ "$(fio_json live '.jobs[0].error')" -eq 0 ]
	[ "$(fio_json live '.jobs[0].read.io_bytes')" -eq $((12 << 20)) ]
	[ "$(stat_of in_driver)" -eq 0 ]
	[ "$(stat_of submitted)" -eq "$(stat_of completed)" ]
	[ "$(stat_of errors)" -eq 0 ]
}

@test "ramdisk models: unload right after I/O that waited in the hdd queue" {
	fresh_ramdisk size_mb=16
	echo hdd >"$CTL/model"
	for round in 1 2 3; do
		# --thread: one process, so that kill -9 stops every job
		fio --name=bg --thread --filename="$DISK" --direct=1 --ioengine=libaio \
			--iodepth=64 --rw=randread --bs=4k --runtime=30 --time_based \
			--output=/dev/null &
		fio_pid=$!
		# fio's start-up takes a second or more under TCG, longer
		# on a busy host: wait for its requests to queue up
		for i in $(seq 600); do
			[ "$(stat_of in_driver)" -gt 1 ] && break
			nap 0.1
		done
		[ "$(stat_of in_driver)" -gt 1 ]
		kill -9 "$fio_pid"
		wait "$fio_pid" 2>/dev/null || true
		fio_pid=
		# the last reference to the disk goes with fio's last AIO,
		# through the kernel's delayed fput
		for i in $(seq 600); do
			shikumi unload ramdisk 2>/dev/null && break
			nap 0.1
		done
		! module_loaded shikumi_ramdisk
		fresh_ramdisk size_mb=16
		echo hdd >"$CTL/model"
	done
}
