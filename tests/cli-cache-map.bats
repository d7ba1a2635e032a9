#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# shikumi cache demo mmap and buffer: the demos' claims against oracles of
# their own: both processes' /proc/PID/pagemap and /proc/kpageflags
# (tests/helpers/mapshare.c), fincore(1), the disk's /sys/block/*/stat,
# /proc/meminfo and the pid the test started.

load common

DISK=/dev/shikumi-ram0
SYS=/sys/block/shikumi-ram0

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	module_loaded shikumi_pgcache || shikumi load shikumi_pgcache
	module_loaded shikumi_ptdump || shikumi load shikumi_ptdump
	reload_module shikumi_ramdisk size_mb=64
	udevadm settle 2>/dev/null || true
	mnt=$BATS_TEST_TMPDIR/mnt
	ext4_quiet "$DISK" "$mnt"
}

teardown() {
	umount "$mnt" 2>/dev/null || true
	common_teardown
}

# disk_stat: the disk's read ios, read sectors, write ios, write sectors
disk_stat() {
	local r rs w ws
	read -r r _ rs _ w _ ws _ <"$SYS/stat"
	echo "$r $rs $w $ws"
}

# slack: kB by which a difference of two readings of a vmstat counter may
# be off: each CPU may hold back up to its threshold in pages, at each
# reading ("vm stats threshold" in /proc/zoneinfo)
slack() {
	awk -v n="$(nproc)" '/stats threshold/ { if ($NF > m) m = $NF } END { print 8 * m * n }' \
		/proc/zoneinfo
}

@test "cache demo mmap: one PFN in both page tables, as pagemap says; the store dirties one PTE and the page, sends nothing; msync writes from the demo's pid and cleans" {
	read -r _ _ w0 ws0 < <(disk_stat)
	shikumi cache demo mmap --dir "$mnt" --size 4 --keep --json >"$BATS_TEST_TMPDIR/out" &
	pid=$!
	wait "$pid"
	read -r _ _ w1 ws1 < <(disk_stat)
	out=$(<"$BATS_TEST_TMPDIR/out")
	jq -c 'del(.steps[].mapping.processes[]?.pfns)' <<<"$out"
	[ "$(jq .pid <<<"$out")" -eq "$pid" ]
	f=$(jq -r '.dir + "/shikumi-cache-demo." + (.pid | tostring)' <<<"$out")
	sl=$(slack)
	rt=$(jq '.steps[] | select(.step == "map") | .mapping.retouched' <<<"$out")
	[[ $rt -eq 0 ]] || echo "# the kernel unmapped the file's pages between touch and look: touched again $rt time(s)" >&3
	# mapped and read by both: the same 1024 PFNs, each page mapped twice,
	# counted once in Mapped; nothing read from the disk (it was cached)
	jq -e --argjson sl "$sl" '.steps[] | select(.step == "map") |
		.mapping.same_pfn == 1024 and .mapping.view_mapcount == 2048 and
		.mapping.view_mapped == 1024 and .view.dirty == 0 and .requests.reads == 0 and
		([.mapping.processes[] | .ptes == 1024 and .dirty == 0] | all) and
		.outside.mapped_kb_delta >= 4096 - $sl' <<<"$out"
	# the store: the demo's PTEs dirty, the child's not, the pages dirty,
	# no data written (jbd2 may commit the inode's times)
	jq -e '.steps[] | select(.step == "store") |
		.mapping.processes[0].dirty == 1024 and .mapping.processes[0].writable == 1024 and
		.mapping.processes[1].dirty == 0 and .mapping.same_pfn == 1024 and
		.view.dirty == 1024 and
		([.requests.senders[] | select(.op == "write" and (.comm | startswith("jbd2/") | not))] |
			length) == 0' <<<"$out"
	# msync: written by the demo's pid, sync; pages and PTEs clean, and
	# the demo's PTEs write-protected again
	jq -e --argjson pid "$pid" '.steps[] | select(.step == "msync") |
		.view.dirty == 0 and .view.writeback == 0 and .mapping.same_pfn == 1024 and
		([.mapping.processes[] | .ptes == 1024 and .dirty == 0 and .writable == 0] | all) and
		([.requests.senders[] | select(.op == "write" and .pid == $pid and
			(.flags | index("sync")))] | map(.bytes) | add) >= 4194304' <<<"$out"
	jq -e '.steps[] | select(.step == "unmap") | .mapping == null and .view.cached == 1024 and
		.view.dirty == 0' <<<"$out"
	[ $(((ws1 - ws0) * 512)) -ge "$(jq '[.steps[].requests.write_bytes] | add' <<<"$out")" ]
	[ $((w1 - w0)) -ge "$(jq '[.steps[].requests.writes] | add' <<<"$out")" ]
	# the oracle: two processes of its own map the kept file; pagemap gives
	# the PFNs the demo's page tables held, kpageflags the dirty bit
	[ "$(fincore --bytes --noheadings --output PAGES "$f")" -eq 1024 ]
	run shikumi-mapshare "$f" "$BATS_TEST_TMPDIR/pfns"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *$'pages 1024\npresent 1024\nsame 1024\nmapped 1024\ndirty_before 0\ndirty_stored 1024\ndirty_synced 0'* ]]
	for p in 0 1; do
		jq -r --argjson p "$p" '.steps[] | select(.step == "msync") | .mapping.processes[$p].pfns[]' \
			<<<"$out" | cmp - "$BATS_TEST_TMPDIR/pfns"
	done
	rm "$f"
}

@test "cache demo mmap: the text report; without shikumi_ptdump, a dir not on a shikumi disk, non-root: clear errors" {
	run shikumi cache demo mmap --dir "$mnt" --size 1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"the mappings: PTEs"*"msync(MS_SYNC)"* ]]
	[ -z "$(ls "$mnt" | grep shikumi-cache-demo || true)" ]
	run shikumi cache demo mmap --dir /proc
	[ "$status" -eq 1 ]
	[[ $output == *"not on a block device"* ]]
	run shikumi cache demo mmap --dir "$mnt" --size 0
	[ "$status" -eq 2 ]
	run as_user "$SHIKUMI_ROOT/build/bin/shikumi" cache demo mmap --dir "$mnt"
	[ "$status" -eq 1 ]
	[[ $output == *"needs root"* ]]
	shikumi unload shikumi_ptdump
	run shikumi cache demo mmap --dir "$mnt" --size 1
	shikumi load shikumi_ptdump
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"shikumi load shikumi_ptdump"* ]]
}

# buffers_kb: meminfo's Buffers
buffers_kb() {
	awk '$1 == "Buffers:" { print $2 }' /proc/meminfo
}

@test "cache demo buffer: reading the device fills its cache, Buffers by as much; walking the tree reads metadata, REQ_META, from the demo's pid; the disk's stat agrees" {
	read -r r0 rs0 _ < <(disk_stat)
	shikumi cache demo buffer --dir "$mnt" --size 4 --files 400 --keep --json \
		>"$BATS_TEST_TMPDIR/out" &
	pid=$!
	wait "$pid"
	read -r r1 rs1 _ < <(disk_stat)
	out=$(<"$BATS_TEST_TMPDIR/out")
	echo "$out"
	[ "$(jq .pid <<<"$out")" -eq "$pid" ]
	sl=$(slack)
	# every read the disk served during the demo is in one of its steps
	[ "$(jq '[.steps[].requests.reads] | add' <<<"$out")" -eq $((r1 - r0)) ]
	[ "$(jq '[.steps[].requests.read_bytes] | add' <<<"$out")" -eq $(((rs1 - rs0) * 512)) ]
	# the device's first 4 MiB, all cached, nothing read past them (the
	# reads go out through the readahead code, flagged so, but only for
	# the pages asked for); Buffers grew by what the device's cache gained
	jq -e --argjson pid "$pid" --argjson sl "$sl" '
		(.steps | map(.step == "read_device") | index(true)) as $i |
		.steps[$i] as $s | .steps[$i - 1].device as $p |
		($s.device.cached - $p.cached) as $gain |
		$s.device.read_range_cached == 1024 and $gain > 900 and
		$s.device.cached - 1024 == $p.cached - $p.read_range_cached and
		($s.outside.buffers_kb_delta - 4 * $gain | fabs) <= $sl and
		$s.requests.read_bytes <= 4194304 and
		$s.requests.read_bytes == $s.outside.disk_read_sectors * 512 and
		([$s.requests.senders[] | select(.op == "read") | .pid == $pid] | all)' <<<"$out"
	# the walk: 400 files in 8 directories (and the tree's own) found; the
	# device's cache grows, Buffers by as much; metadata reads, sent by
	# the demo with the meta flag
	jq -e --argjson pid "$pid" --argjson sl "$sl" '
		(.steps | map(.step == "walk_tree") | index(true)) as $i |
		.steps[$i] as $s | ($s.device.cached - .steps[$i - 1].device.cached) as $gain |
		$s.device.files_found == 400 and $s.device.dirs_found == 9 and
		$gain > 0 and ($s.outside.buffers_kb_delta - 4 * $gain | fabs) <= $sl and
		$s.device.meta_reads > 0 and
		([$s.requests.senders[] | select(.op == "read" and .pid == $pid and
			(.flags | index("meta")))] | map(.requests) | add) == $s.device.meta_reads' <<<"$out"
	# by the test's own hand: drop, stat the kept tree again: meminfo's
	# Buffers grows, the disk reads
	tree=$(jq -r '.dir + "/shikumi-cache-demo-buffer." + (.pid | tostring)' <<<"$out")
	[ "$(find "$tree" -type f | wc -l)" -eq 400 ]
	echo 3 >/proc/sys/vm/drop_caches
	read -r r0 _ < <(disk_stat)
	b0=$(buffers_kb)
	ls -lR "$tree" >/dev/null
	b1=$(buffers_kb)
	read -r r1 _ < <(disk_stat)
	echo "Buffers $b0 -> $b1 kB, reads $r0 -> $r1"
	[ "$b1" -gt "$b0" ]
	[ "$r1" -gt "$r0" ]
	rm -r "$tree"
}

@test "cache demo buffer: the text report, the tree removed; bad --files, non-root: clear errors" {
	run shikumi cache demo buffer --dir "$mnt" --size 1 --files 20
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"the device's own cache"*"walk the tree"* ]]
	[ -z "$(ls "$mnt" | grep shikumi-cache-demo || true)" ]
	run shikumi cache demo buffer --dir "$mnt" --files 0
	[ "$status" -eq 2 ]
	[[ $output == *"--files"* ]]
	run shikumi cache demo buffer --dir "$mnt" --size 100
	[ "$status" -eq 1 ]
	[[ $output == *"fewer than --size"* ]]
	[ -z "$(ls "$mnt" | grep shikumi-cache-demo || true)" ]
	run as_user "$SHIKUMI_ROOT/build/bin/shikumi" cache demo buffer --dir "$mnt"
	[ "$status" -eq 1 ]
	[[ $output == *"needs root"* ]]
}
