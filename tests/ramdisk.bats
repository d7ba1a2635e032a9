#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# shikumi_ramdisk: a blk-mq disk that holds data (fio's crc32c verify),
# carries partitions and ext4 (fsck), takes O_DIRECT, frees the pages that
# discard and write-zeroes cover, and leaves the stock elevators usable.

load common

DISK=/dev/shikumi-ram0
SYS=/sys/block/shikumi-ram0

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	mnt=
}

teardown() {
	if [[ -n $mnt ]]; then
		umount "$mnt" 2>/dev/null || true
	fi
	common_teardown
}

fresh_ramdisk() {
	reload_module shikumi_ramdisk "$@"
	udevadm settle 2>/dev/null || true
	[ -b "$DISK" ]
}

pages() {
	cat "$SYS/shikumi/pages"
}

# Free memory in KiB as the page allocator sees it: the buddy lists plus
# the per-CPU lists, which MemFree leaves out.
free_kb() {
	awk '/^ *pages free/ { n += $3 } /^ *count:/ { n += $2 } END { print n * 4 }' /proc/zoneinfo
}

@test "ramdisk: a block device of the size asked for, non-rotational, pages on first write" {
	fresh_ramdisk nr_disks=2 size_mb=64
	[ -b /dev/shikumi-ram1 ]
	[ "$(blockdev --getsize64 "$DISK")" -eq $((64 << 20)) ]
	[ "$(cat "$SYS/queue/rotational")" = 0 ]
	[ "$(pages)" -eq 0 ]
	dd if=/dev/zero of="$DISK" bs=4k count=3 seek=10 oflag=direct status=none
	[ "$(pages)" -eq 3 ]
	major=$(awk '$2 == "shikumi-ram" { print $1 }' /proc/devices)
	[ "$(stat -c %t "$DISK" | xargs -I{} printf '%d' 0x{})" -eq "$major" ]
}

@test "ramdisk: out-of-range parameters refuse the load" {
	shikumi unload ramdisk 2>/dev/null || true
	for p in size_mb=0 size_mb=65537 nr_disks=0 nr_disks=17 queue_depth=0 \
		nr_hw_queues=65; do
		run shikumi load ramdisk "$p"
		[ "$status" -eq 1 ]
		! module_loaded shikumi_ramdisk
	done
}

@test "ramdisk: hardware queues, one per possible CPU or as asked; reads on each CPU land on the queue its cpu_list names" {
	local possible n q want
	possible=$(awk -F, '{ for (i = 1; i <= NF; i++) { split($i, r, "-"); n += (r[2] == "" ? 1 : r[2] - r[1] + 1) } } END { print n }' \
		/sys/devices/system/cpu/possible)
	# 3: blk-mq makes no more queues than CPUs
	for n in 0 1 3; do
		fresh_ramdisk size_mb=16 nr_hw_queues=$n
		want=$((n && n < possible ? n : possible))
		# the kernel's map is checked, and each CPU's reads counted
		run shikumi-rdqueues "$DISK" --queues $want
		echo "$output"
		[ "$status" -eq 0 ]
		echo "# nr_hw_queues=$n: ${lines[-1]}" >&3
		# the CLI shows the kernel's map and the driver's counts
		run shikumi blk info -d shikumi-ram0 --json
		[ "$status" -eq 0 ]
		[ "$(jq '.disks[0].hw_queues | length' <<<"$output")" -eq $want ]
		for q in $(seq 0 $(($(jq '.disks[0].hw_queues | length' <<<"$output") - 1))); do
			[ "$(jq -r ".disks[0].hw_queues[$q].cpus" <<<"$output")" = "$(cat "$SYS/mq/$q/cpu_list")" ]
			[ "$(jq ".disks[0].hw_queues[$q].served" <<<"$output")" -eq \
				"$(awk -v q=$q '$1 == q { print $3 }' /sys/kernel/debug/shikumi/shikumi-ram0/queues)" ]
		done
	done
	# at run time, as null_blk's submit_queues: blk-mq maps the CPUs again
	for n in 1 0; do
		echo $n >"$SYS/shikumi/nr_hw_queues"
		want=$((n ? n : possible))
		[ "$(cat "$SYS/shikumi/nr_hw_queues")" -eq $want ]
		run shikumi-rdqueues "$DISK" --queues $want
		echo "$output"
		[ "$status" -eq 0 ]
		echo "# nr_hw_queues $n at run time: ${lines[-1]}" >&3
	done
	for bad in 65 -1 x; do
		run bash -c "echo $bad >$SYS/shikumi/nr_hw_queues"
		[ "$status" -ne 0 ]
		[[ $output == *"Invalid argument"* ]]
	done
	run as_user sh -c "echo 1 >$SYS/shikumi/nr_hw_queues"
	[ "$status" -ne 0 ]
	[[ $output == *"Permission denied"* ]]
	[ "$(cat "$SYS/shikumi/nr_hw_queues")" -eq "$possible" ]
}

@test "ramdisk: the trace is a ring per hardware queue, merged: each request once, numbered in completion order; drops counted and shown as gaps in seq" {
	# one reader per CPU at once, each on its own queue and ring
	fresh_ramdisk size_mb=16
	run shikumi-rdqueues "$DISK" --trace
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# ${lines[-1]}" >&3
	# 32 records shared by the rings: each reader fills its own, then drops
	fresh_ramdisk size_mb=16 trace_entries=32
	run shikumi-rdqueues "$DISK" --trace --reads 40
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# ${lines[-1]}" >&3
	[[ ${lines[-1]} =~ \ ([1-9][0-9]*)\ dropped ]]
}

@test "ramdisk: fio verify=crc32c, 4 jobs, buffered and O_DIRECT" {
	fresh_ramdisk size_mb=64
	for direct in 0 1; do
		out=$BATS_TEST_TMPDIR/fio-$direct.json
		run fio --name=verify --filename="$DISK" --direct=$direct \
			--rw=randwrite --bsrange=4k-64k --size=12M --numjobs=4 \
			--offset_increment=16M --iodepth=8 --ioengine=libaio \
			--verify=crc32c --verify_fatal=1 --verify_state_save=0 \
			--do_verify=1 --group_reporting \
			--output-format=json --output="$out"
		[ "$status" -eq 0 ]
		# fio may print a notice before its JSON
		sed -i -n '/^{/,$p' "$out"
		[ "$(jq '.jobs[0].error' "$out")" -eq 0 ]
		# every byte written was read back and checked
		[ "$(jq '.jobs[0].write.io_bytes' "$out")" -eq $((48 << 20)) ]
		[ "$(jq '.jobs[0].read.io_bytes' "$out")" -eq $((48 << 20)) ]
	done
}

@test "ramdisk: partitions, mkfs.ext4, mount, write, fsck clean" {
	fresh_ramdisk size_mb=64
	printf 'label: dos\n,32M,L\n,,L\n' | sfdisk -q "$DISK"
	udevadm settle 2>/dev/null || true
	[ -b "${DISK}p1" ] && [ -b "${DISK}p2" ]
	mkfs.ext4 -q -F "${DISK}p1"
	mnt=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$mnt"
	mount "${DISK}p1" "$mnt"
	head -c 8M /dev/urandom >"$mnt/data"
	sum=$(sha256sum <"$mnt/data")
	umount "$mnt"
	fsck.ext4 -fn "${DISK}p1"
	mount "${DISK}p1" "$mnt"
	echo 3 >/proc/sys/vm/drop_caches
	[ "$(sha256sum <"$mnt/data")" = "$sum" ]
	umount "$mnt"
	mnt=
}

@test "ramdisk: the book's raw edit: find a file's bytes with strings, change them with dd" {
	fresh_ramdisk size_mb=32
	mkfs.ext4 -q -F "$DISK"
	mnt=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$mnt"
	mount "$DISK" "$mnt"
	echo "shikumi-original-text" >"$mnt/testfile"
	umount "$mnt"
	# the text's own offset: strings gives the start of the printable run,
	# which may begin with a printable byte of the block before
	off=$(strings -t d "$DISK" | awk -v t=shikumi-original-text '
		(i = index($0, t)) { s = $0; sub(/^ *[0-9]+ /, "", s); print $1 + index(s, t) - 1; exit }')
	[ -n "$off" ]
	[ "$(dd if="$DISK" bs=1 skip="$off" count=21 status=none)" = shikumi-original-text ]
	# "shikumi-" is 8 bytes: overwrite the word after it, in place
	printf 'modified' | dd of="$DISK" bs=1 seek=$((off + 8)) conv=notrunc status=none
	mount "$DISK" "$mnt"
	[ "$(cat "$mnt/testfile")" = "shikumi-modified-text" ]
	umount "$mnt"
	mnt=
}

@test "ramdisk: discard and write-zeroes free the pages they cover, reads give zeroes" {
	fresh_ramdisk size_mb=64
	# let the pages of earlier disks (freed after an RCU grace period)
	# and the page cache settle before reading the kernel's free memory
	sync
	echo 3 >/proc/sys/vm/drop_caches
	sleep 1
	free0=$(free_kb)
	dd if=/dev/urandom of="$DISK" bs=1M count=48 oflag=direct status=none
	[ "$(pages)" -eq $((48 * 256)) ]
	free1=$(free_kb)
	# independent of our counter: the kernel's free memory fell by ~48 MiB
	echo "free: $free0 KiB before the writes, $free1 KiB after" >&2
	[ $((free0 - free1)) -ge $((40 * 1024)) ]
	blkdiscard -o 0 -l $((16 << 20)) "$DISK"
	[ "$(pages)" -eq $((32 * 256)) ]
	blkdiscard -z -o $((16 << 20)) -l $((16 << 20)) "$DISK"
	[ "$(pages)" -eq $((16 * 256)) ]
	# an 8 KiB discard frees exactly its two pages
	blkdiscard -o $((32 << 20)) -l 8192 "$DISK"
	[ "$(pages)" -eq $((16 * 256 - 2)) ]
	cmp -n $(((32 << 20) + 8192)) "$DISK" /dev/zero
	# write-zeroes of part of a page zeroes that part and keeps the page
	off=$((40 << 20))
	dd if="$DISK" of="$BATS_TEST_TMPDIR/before" bs=4096 skip=$((off / 4096)) count=1 iflag=direct status=none
	blkdiscard -z -o $((off + 1024)) -l 1024 "$DISK"
	[ "$(pages)" -eq $((16 * 256 - 2)) ]
	dd if="$DISK" of="$BATS_TEST_TMPDIR/after" bs=4096 skip=$((off / 4096)) count=1 iflag=direct status=none
	cmp -n 1024 "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	cmp -i 1024 -n 1024 "$BATS_TEST_TMPDIR/after" /dev/zero
	cmp -i 2048 -n 2048 "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	# and the memory came back (after what cmp and dd cached is dropped)
	echo 3 >/proc/sys/vm/drop_caches
	sleep 1
	free2=$(free_kb)
	echo "free: $free2 KiB after the discards" >&2
	[ $((free2 - free1)) -ge $((24 * 1024)) ]
}

@test "ramdisk: the stock elevators stay selectable" {
	fresh_ramdisk size_mb=16
	modprobe bfq 2>/dev/null || true
	modprobe kyber-iosched 2>/dev/null || true
	for s in none mq-deadline bfq kyber; do
		grep -qw "$s" "$SYS/queue/scheduler" || continue
		echo "$s" >"$SYS/queue/scheduler"
		grep -q "\[$s\]" "$SYS/queue/scheduler"
		dd if=/dev/urandom of="$DISK" bs=64k count=16 oflag=direct status=none
		dd if="$DISK" of=/dev/null bs=64k count=16 iflag=direct status=none
	done
	grep -q '\[kyber\]\|\[bfq\]\|\[mq-deadline\]' "$SYS/queue/scheduler"
}

@test "ramdisk: unload is refused while mounted, safe after; twice" {
	fresh_ramdisk size_mb=16
	mkfs.ext4 -q -F "$DISK"
	mnt=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$mnt"
	mount "$DISK" "$mnt"
	run shikumi unload ramdisk
	[ "$status" -eq 1 ]
	[[ $output == *"in use"* ]]
	umount "$mnt"
	mnt=
	for round in 1 2; do
		shikumi unload ramdisk
		! module_loaded shikumi_ramdisk
		shikumi load ramdisk size_mb=16
		[ -b "$DISK" ]
	done
	shikumi unload ramdisk
}

@test "ramdisk: a trace reader stalled in a fault on its buffer holds up no reset, and dies on SIGKILL" {
	local f dbg=/sys/kernel/debug/shikumi/shikumi-ram0
	fresh_ramdisk
	for f in trace trace_raw; do
		# records to read, so that the reader sleeps in the fault
		dd if=/dev/zero of="$DISK" bs=4k count=16 oflag=direct conv=nocreat 2>/dev/null
		run shikumi-stall "$dbg/$f" "$SYS/shikumi/reset" 1
		echo "$f: $output"
		[ "$status" -eq 0 ]
		[[ $output != skip:* ]] || skip "${output#skip: }"
		[ "$output" = ok ]
	done
}

@test "ramdisk: the trace names each request's submitter and flags, as ftrace's block_bio_queue and block_rq_issue do" {
	local vm=/proc/sys/vm expire writeback
	fresh_ramdisk size_mb=96
	expire=$(<"$vm/dirty_expire_centisecs")
	writeback=$(<"$vm/dirty_writeback_centisecs")
	run shikumi-rdorigin shikumi-ram0
	# the helper puts them back itself; this is for a helper killed early
	echo "$expire" >"$vm/dirty_expire_centisecs"
	echo "$writeback" >"$vm/dirty_writeback_centisecs"
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# ${output##*$'\n'}" >&3
	# the text trace says the same: a direct write by dd, sync
	dd if=/dev/zero of="$DISK" bs=64k count=1 oflag=direct conv=nocreat 2>/dev/null
	run cat /sys/kernel/debug/shikumi/shikumi-ram0/trace
	echo "$output"
	[[ ${lines[0]} == *" merged pid flags comm" ]]
	grep -qE ' write 0 65536 .* [1-9][0-9]* sync(,[a-z]+)* dd$' <<<"$output"
}
