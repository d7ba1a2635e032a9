#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# shikumi cache demo: the chapter 8 demos' claims against oracles of their
# own: the disk's /sys/block/*/stat, fincore(1), /proc/meminfo sampled by
# the test, the pid the test started, and the vm sysctls, which every demo
# must leave as it found them, also when killed.

load common

DISK=/dev/shikumi-ram0
SYS=/sys/block/shikumi-ram0
EXPIRE=/proc/sys/vm/dirty_expire_centisecs
INTERVAL=/proc/sys/vm/dirty_writeback_centisecs

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	module_loaded shikumi_pgcache || shikumi load shikumi_pgcache
	reload_module shikumi_ramdisk size_mb=64
	udevadm settle 2>/dev/null || true
	mnt=$BATS_TEST_TMPDIR/mnt
	ext4_quiet "$DISK" "$mnt"
	old_expire=$(<"$EXPIRE")
	old_interval=$(<"$INTERVAL")
}

teardown() {
	echo "$old_expire" >"$EXPIRE"
	echo "$old_interval" >"$INTERVAL"
	umount "$mnt" 2>/dev/null || true
	common_teardown
}

# disk_stat: the disk's read ios, read sectors, write ios, write sectors
disk_stat() {
	local r rs w ws
	read -r r _ rs _ w _ ws _ <"$SYS/stat"
	echo "$r $rs $w $ws"
}

# the pages fincore counts as resident in FILE
resident() {
	fincore --bytes --noheadings --output PAGES "$1"
}

@test "cache demo read: the trace's reads are the disk's; the first read sends readahead, the second nothing; fincore agrees" {
	read -r r0 rs0 _ < <(disk_stat)
	run shikumi cache demo read --dir "$mnt" --size 4 --keep --json
	echo "$output"
	[ "$status" -eq 0 ]
	read -r r1 rs1 _ < <(disk_stat)
	out=$output
	f=$(jq -r '.dir + "/shikumi-cache-demo." + (.pid | tostring)' <<<"$out")
	# every read the disk served during the demo is in one of its steps
	[ "$(jq '[.steps[].requests.reads] | add' <<<"$out")" -eq $((r1 - r0)) ]
	[ "$(jq '[.steps[].requests.read_bytes] | add' <<<"$out")" -eq $(((rs1 - rs0) * 512)) ]
	jq -e '.steps[] | select(.step == "first_read") |
		.requests.read_bytes >= 4194304 and .requests.readahead > 0 and
		.view.cached == 1024 and (.requests.read_sizes | length) == .requests.reads' <<<"$out"
	jq -e '.steps[] | select(.step == "second_read") |
		.requests.reads == 0 and .view.cached == 1024' <<<"$out"
	jq -e '.steps[] | select(.step == "drop_caches_again") | .view.cached == 0' <<<"$out"
	# the file is kept, as the last drop_caches left it: nothing cached
	[ "$(resident "$f")" -eq 0 ]
	cat "$f" >/dev/null
	[ "$(resident "$f")" -eq 1024 ]
	[ "$(<"$EXPIRE")" = "$old_expire" ]
	[ "$(<"$INTERVAL")" = "$old_interval" ]
}

# max_dirty: the largest Dirty (kB) in /proc/meminfo while PID runs
max_dirty() {
	local pid=$1 k v max=0
	while kill -0 "$pid" 2>/dev/null; do
		while read -r k v _; do
			[[ $k != Dirty: ]] || { ((v <= max)) || max=$v; break; }
		done </proc/meminfo
		nap 0.05
	done
	echo "$max"
}

@test "cache demo write: meminfo's Dirty grows by the file; the flusher's kworker writes it, not sync; fsync from the demo's pid; sysctls put back" {
	echo 2999 >"$EXPIRE"
	echo 499 >"$INTERVAL"
	read -r _ _ w0 ws0 < <(disk_stat)
	# others' dirty pages, as few as can be: the demo's lowered interval
	# may write them back while its own are dirty (24 kB did, once)
	sync
	d0=$(awk '$1 == "Dirty:" { print $2 }' /proc/meminfo)
	shikumi cache demo write --dir "$mnt" --size 4 --json -o "$BATS_TEST_TMPDIR/w.svg" \
		>"$BATS_TEST_TMPDIR/out" &
	pid=$!
	peak=$(untraced max_dirty "$pid")
	wait "$pid"
	read -r _ _ w1 ws1 < <(disk_stat)
	out=$(<"$BATS_TEST_TMPDIR/out")
	echo "$out"
	[ "$(<"$EXPIRE")" = 2999 ]
	[ "$(<"$INTERVAL")" = 499 ]
	# 4 MiB dirty at once: 4096 kB more in meminfo's Dirty, less what the
	# CPUs' counters may hold back (stat_threshold pages each), and less
	# the d0 kB of others' that may have been written back meanwhile
	slack=$(awk -v n="$(nproc)" '/stat_threshold/ { if ($2 > m) m = $2 } END { print 4 * m * n }' \
		/proc/zoneinfo)
	echo "Dirty $d0 kB before, $peak kB at most, slack $slack kB"
	[ $((peak - d0)) -ge $((4096 - slack - d0)) ]
	[ "$(jq .pid <<<"$out")" -eq "$pid" ]
	jq -e '.steps[] | select(.step == "write") | .view.dirty == 1024 and .requests.writes == 0' \
		<<<"$out"
	jq -e '.sysctls.dirty_expire_centisecs == "2999" and .sysctls.dirty_writeback_centisecs == "499"' \
		<<<"$out"
	# the flusher: kworkers, not sync, the whole file at least (ext4's
	# writeback does not pass the background flag on: fs/ext4/page-io.c)
	jq -e '.steps[] | select(.step == "flusher") | .view.dirty == 0 and
		([.requests.senders[] | select(.op == "write" and (.comm | startswith("kworker/")) and
			(.flags | index("sync") | not))] | map(.bytes) | add) >= 4194304' <<<"$out"
	jq -e --argjson pid "$pid" '.steps[] | select(.step == "fsync") | .view.dirty == 0 and
		([.requests.senders[] | select(.op == "write" and .pid == $pid and
			(.flags | index("sync")))] | map(.bytes) | add) >= 4194304' <<<"$out"
	# jbd2 may commit after the demo's last look, never before
	[ $(((ws1 - ws0) * 512)) -ge "$(jq '[.steps[].requests.write_bytes] | add' <<<"$out")" ]
	[ $((w1 - w0)) -ge "$(jq '[.steps[].requests.writes] | add' <<<"$out")" ]
	grep -q '<svg' "$BATS_TEST_TMPDIR/w.svg"
	[ -z "$(ls "$mnt" | grep shikumi-cache-demo || true)" ]
}

@test "cache demo write: SIGTERM while the sysctls are lowered puts them back and removes the file" {
	echo 2998 >"$EXPIRE"
	echo 498 >"$INTERVAL"
	# 10 s expiry: time to be killed while the expiry is lowered
	shikumi cache demo write --dir "$mnt" --size 8 --expire 1000 >/dev/null 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	untraced wait_lowered
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	cat "$BATS_TEST_TMPDIR/err"
	[ "$st" -ne 0 ]
	grep -q "stopped by" "$BATS_TEST_TMPDIR/err"
	[ "$(<"$EXPIRE")" = 2998 ]
	[ "$(<"$INTERVAL")" = 498 ]
	[ -z "$(ls "$mnt" | grep shikumi-cache-demo || true)" ]
}

# wait_lowered: until the demo has lowered dirty_expire_centisecs (30 s at most)
wait_lowered() {
	local i
	for ((i = 0; i < 3000; i++)); do
		[[ $(<"$EXPIRE") != 2998 ]] && return 0
		nap 0.01
	done
	return 1
}

@test "cache demo direct: O_DIRECT writes reach the disk from the demo's pid, sync; fincore finds no page" {
	read -r _ _ w0 ws0 < <(disk_stat)
	run shikumi cache demo direct --dir "$mnt" --size 4 --keep --json
	echo "$output"
	[ "$status" -eq 0 ]
	read -r _ _ w1 ws1 < <(disk_stat)
	out=$output
	pid=$(jq .pid <<<"$out")
	f=$(jq -r '.dir + "/shikumi-cache-demo." + (.pid | tostring)' <<<"$out")
	[ "$(resident "$f")" -eq 0 ]
	[ $(((ws1 - ws0) * 512)) -ge 4194304 ]
	[ $(((ws1 - ws0) * 512)) -ge "$(jq '[.steps[].requests.write_bytes] | add' <<<"$out")" ]
	jq -e --argjson pid "$pid" '.steps[] | select(.step == "direct_write") |
		.view.cached == 0 and .view.dirty == 0 and
		([.requests.senders[] | select(.op == "write" and .pid == $pid and
			(.flags | index("sync")))] | map(.bytes) | add) >= 4194304' <<<"$out"
	jq -e --argjson pid "$pid" '.steps[] | select(.step == "direct_read") |
		.view.cached == 0 and .requests.readahead == 0 and
		([.requests.senders[] | select(.op == "read" and .pid == $pid)] | map(.bytes) | add) >= 4194304' \
		<<<"$out"
	rm "$f"
	run shikumi cache demo direct --dir "$mnt" --size 1
	[ "$status" -eq 0 ]
	[[ $output == *"inside:"*"O_DIRECT write"*"remove the file"* ]]
}

@test "cache demo: a dir not on a shikumi disk, a missing dir, no --dir, non-root: clear errors" {
	run shikumi cache demo read --dir /proc --json
	[ "$status" -eq 1 ]
	[[ $output == *"not on a block device"*"shikumi load ramdisk"* ]]
	run shikumi cache demo write --dir "$mnt/nonexistent"
	[ "$status" -eq 1 ]
	[[ $output == *"No such file or directory"* ]]
	run shikumi cache demo direct
	[ "$status" -eq 2 ]
	[[ $output == *"--dir"* ]]
	run as_user "$SHIKUMI_ROOT/build/bin/shikumi" cache demo write --dir "$mnt"
	[ "$status" -eq 1 ]
	[[ $output == *"needs root"* ]]
	[ "$(<"$EXPIRE")" = "$old_expire" ]
	[ "$(<"$INTERVAL")" = "$old_interval" ]
}
