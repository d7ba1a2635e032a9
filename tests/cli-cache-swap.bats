#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# shikumi cache demo swap: the demo's slots against /proc/PID/pagemap, read
# while the demo is stopped after its page-out (tests/helpers/swapcheck.c),
# its counts against /proc/vmstat's pswpout and pswpin over the run, its
# own cross-checks (every page's slot in the trace's writes, and in its
# reads after the touch), and /proc/swaps as the demo found it.

load common

DISK=/dev/shikumi-ram0

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	module_loaded shikumi_ptdump || shikumi load shikumi_ptdump
	reload_module shikumi_ramdisk size_mb=64
	SHIKUMI_SWAP_ON=1	# common_teardown: swapoff if still on, unload
	for _ in $(seq 100); do
		[[ -b $DISK ]] && break
		nap 0.1
	done
}

teardown() {
	common_teardown
}

@test "shikumi cache demo swap: each page's slot as pagemap shows it, in the trace's writes and reads, pswpout/pswpin" {
	pm=$BATS_TEST_TMPDIR/pagemap
	js=$BATS_TEST_TMPDIR/demo.json
	run shikumi-swapcheck "$pm" "$js" -- shikumi cache demo swap --dev "$DISK" --size 4 \
		--pause --json -o "$BATS_TEST_TMPDIR/swap.svg"
	echo "$output"
	read -r _ status_ _ stopped _ swapped _ pswpout _ pswpin <<<"${lines[-1]}"
	[ "$status_" -eq 0 ]
	summary=$(jq -r '.steps[] | "# \(.label): present \(.ptes.present) swap \(.ptes.swap), writes \(.requests.writes) reads \(.requests.reads), check \(.check.kind) \(.check.matched)/\(.check.pages) stray \(.check.stray_slots) same \(.check.same_slot_as_pageout), majflt \(.outside.ru_majflt_delta) minflt \(.outside.ru_minflt_delta), pswpout \(.outside.pswpout_delta) pswpin \(.outside.pswpin_delta) SwapCached \(.outside.swap_cached_kb) kB, calls \(.madv_pageout_calls)"' "$js")
	echo "$summary"
	echo "$summary" >&3
	[ "$stopped" -eq 1 ]
	# pagemap: every page a swap entry of the demo's type, in its slot
	[ "$swapped" -eq 1024 ]
	[ "$(jq -r '.slots_pageout[]' "$js")" = "$(<"$pm")" ]
	[[ $(</proc/swaps) != *"$DISK "* ]]
	# the demo's own checks against the trace, in one jq: the names of
	# the claims that do not hold
	failed=$(jq -r --argjson n 1024 'def step(k): .steps[] | select(.step == k);
		[["pages", .pages == $n], ["made_swap", .made_swap == true],
		 ["pageout", (step("pageout") | .ptes.swap == $n and .check.matched == $n and
			.check.unmatched == 0 and .check.stray_slots == 0 and
			.requests.slots_written == $n and .requests.swap_flag == .requests.writes and
			.outside.pswpout_delta >= $n)],
		 # the first page-out left the pages in the swap cache: no read
		 ["swapcache", (step("swapcache") | .ptes.present == $n and .requests.reads == 0 and
			.outside.ru_majflt_delta == 0 and .pages_intact == $n)],
		 # clean copies of their slots: dropped without a write, same slots
		 ["pageout_again", (step("pageout_again") | .ptes.swap == $n and
			.requests.writes == 0 and .check.same_slot_as_pageout == $n and
			.outside.pswpout_delta == 0)],
		 ["swapin", (step("swapin") | .ptes.present == $n and .check.matched == $n and
			.check.unmatched == 0 and .check.stray_slots == 0 and
			.check.same_slot_as_pageout == $n and .outside.ru_majflt_delta >= 1 and
			.outside.ru_majflt_delta <= $n and .pages_intact == $n and
			.outside.pswpin_delta >= $n)]]
		| map(select(.[1] | not) | .[0]) | join(" ")' "$js")
	[ "$(jq '[.steps[].requests.trace_dropped] | add' "$js")" -eq 0 ]
	[ -z "$failed" ]
	# vmstat over the whole run: at least every page out and in once
	[ "$pswpout" -ge 1024 ]
	[ "$pswpin" -ge 1024 ]
	[[ $(<"$BATS_TEST_TMPDIR/swap.svg") == *"<svg"* ]]
}

@test "shikumi cache demo swap: not a block device, no --dev, not root, a disk with a file system" {
	run shikumi cache demo swap --dev /dev/null
	[ "$status" -eq 1 ]
	[[ $output == *"not a block device"* ]]
	run shikumi cache demo swap
	[ "$status" -eq 2 ]
	[[ $output == *"--dev"* ]]
	run as_user "$SHIKUMI_ROOT/build/bin/shikumi" cache demo swap --dev "$DISK"
	[ "$status" -eq 1 ]
	[[ $output == *"needs root"* ]]
	[[ $(</proc/swaps) != *"$DISK "* ]]
	# a file system on the disk is never overwritten
	mkfs.ext4 -q -F "$DISK"
	run shikumi cache demo swap --dev "$DISK" --size 1
	[ "$status" -eq 1 ]
	[[ $output == *"holds data"*"mkswap $DISK"* ]]
	[[ $(</proc/swaps) != *"$DISK "* ]]
	fsck.ext4 -fn "$DISK"
}

@test "shikumi cache demo swap: on a disk that is swap already, as text, which it leaves on" {
	mkswap "$DISK" >/dev/null
	swapon "$DISK"
	run shikumi cache demo swap --dev "$DISK" --size 1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"swap area $DISK (type "[0-9]")"* ]]
	[[ $output == *"the first page-out put 256 of 256 pages in slots "* ]]
	[[ $output == *"touch: swap-in"* ]]
	[[ $(</proc/swaps) == *"$DISK "* ]]
}

@test "shikumi cache demo swap: SIGTERM while paused after the page-out: the swap area it made is swapped off" {
	err=$BATS_TEST_TMPDIR/err
	shikumi cache demo swap --dev "$DISK" --size 1 --pause 2>"$err" &
	pid=$!
	# up to 120 s: the page-out comes first, and a TCG guest may be slow
	for _ in $(seq 1200); do
		read -r _ _ state _ <"/proc/$pid/stat"
		[[ $state == T ]] && break
		nap 0.1
	done
	[[ $state == T ]]
	[[ $(</proc/swaps) == *"$DISK "* ]]
	kill -TERM "$pid"
	kill -CONT "$pid"
	st=0
	wait "$pid" || st=$?
	cat "$err"
	[ "$st" -eq 1 ]
	[[ $(<"$err") == *"stopped by"* ]]
	[[ $(</proc/swaps) != *"$DISK "* ]]
}

@test "shikumi cache demo swap: a trace too small for the swap-in's reads: the records dropped are counted, the unread slots unmatched" {
	reload_module shikumi_ramdisk size_mb=64 trace_entries=16
	for _ in $(seq 100); do
		[[ -b $DISK ]] && break
		nap 0.1
	done
	run shikumi cache demo swap --dev "$DISK" --size 1 --json
	echo "$output"
	[ "$status" -eq 0 ]
	# 256 pages come back in dozens of reads; the trace keeps 16
	dropped=$(jq '.steps[] | select(.step == "swapin") | .requests.trace_dropped' <<<"$output")
	unmatched=$(jq '.steps[] | select(.step == "swapin") | .check.unmatched' <<<"$output")
	echo "# swap-in with 16 trace entries: $dropped records dropped, $unmatched pages unmatched" >&3
	[ "$dropped" -gt 0 ]
	[ "$unmatched" -gt 0 ]
	# the disk's own count of reads covers what the trace missed
	[ "$(jq '.steps[] | select(.step == "swapin") | .requests.reads + .requests.trace_dropped' <<<"$output")" -ge 17 ]
	run shikumi cache demo swap --dev "$DISK" --size 1
	[[ $output == *"had no room for "*" records in step 'touch: swap-in'"* ]]
}
